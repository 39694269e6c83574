// The store under a test portal, for the tests that look into it or change it behind the
// server's back (tampering, forced failures, canary hunts): the same calls for both stores.
// SQLite: the data dir's portal.db. PostgreSQL: the portal's database (tables in the odc_portal
// schema, under the names SQLite uses) and the cluster's data directory (heap and WAL files).
import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { filesUnder, pgStoreOf, registerPgStore, STORE, storeFiles } from './portal';
import { testCluster } from './postgres';

export interface StoreDb {
  /** Rows of a query; parameters as `?` in both stores. */
  all<T = Record<string, unknown>>(sql: string, ...params: unknown[]): Promise<T[]>;
  /** A statement; the number of rows it changed. */
  run(sql: string, ...params: unknown[]): Promise<number>;
  /** A table's column names. */
  columns(table: string): Promise<string[]>;
  /** Makes every insert into `table` fail (a forced write failure). */
  failInserts(table: string): Promise<void>;
  close(): Promise<void>;
}

function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

export async function openStoreDb(dataDir: string, opts: { readonly?: boolean } = {}): Promise<StoreDb> {
  if (STORE === 'sqlite') {
    const db = new Database(path.join(dataDir, 'portal.db'), { readonly: !!opts.readonly, fileMustExist: true });
    return {
      all: async <T>(sql: string, ...params: unknown[]) => db.prepare(sql).all(...params) as T[],
      run: async (sql, ...params) => db.prepare(sql).run(...params).changes,
      columns: async (table) => (db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>).map((c) => c.name),
      failInserts: async (table) => {
        db.exec(`CREATE TRIGGER fail_${table} BEFORE INSERT ON ${table} BEGIN SELECT RAISE(ABORT, 'forced'); END`);
      },
      close: async () => {
        db.close();
      },
    };
  }
  const client = new Client({ connectionString: pgStoreOf(dataDir).url, options: '-c search_path=odc_portal' });
  await client.connect();
  return {
    all: async <T>(sql: string, ...params: unknown[]) => (await client.query(numbered(sql), params)).rows as T[],
    run: async (sql, ...params) => (await client.query(numbered(sql), params)).rowCount ?? 0,
    columns: async (table) =>
      (
        await client.query<{ name: string }>(
          "SELECT column_name AS name FROM information_schema.columns WHERE table_schema = 'odc_portal' AND table_name = $1 ORDER BY ordinal_position",
          [table],
        )
      ).rows.map((r) => r.name),
    failInserts: async (table) => {
      await client.query(`CREATE FUNCTION fail_${table}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'forced'; END $$`);
      await client.query(`CREATE TRIGGER fail_${table} BEFORE INSERT ON ${table} FOR EACH ROW EXECUTE FUNCTION fail_${table}()`);
    },
    close: () => client.end(),
  };
}

export async function withStoreDb<T>(dataDir: string, fn: (db: StoreDb) => Promise<T>, opts: { readonly?: boolean } = {}): Promise<T> {
  const db = await openStoreDb(dataDir, opts);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

/** Copies a stopped portal's store (and data dir) to `toDir`, a portal of its own. */
export async function copyStore(fromDir: string, toDir: string): Promise<void> {
  fs.cpSync(fromDir, toDir, { recursive: true });
  if (STORE === 'sqlite') return;
  const from = pgStoreOf(fromDir);
  const cluster = await testCluster();
  const url = await cluster.createDatabase('copy', new URL(from.url).pathname.slice(1));
  registerPgStore(toDir, { url, masterKey: from.masterKey });
}

/**
 * Every file that holds the store's data at rest, with its bytes: SQLite's database, WAL and
 * journal; PostgreSQL's heap and WAL files (the whole cluster's, after a CHECKPOINT so the heap
 * files hold what the shared buffers held).
 */
export async function storeFilesAtRest(dataDir: string): Promise<Array<{ file: string; bytes: Buffer }>> {
  if (STORE === 'sqlite') return storeFiles(dataDir);
  const cluster = await testCluster();
  if (!cluster.dataDir) throw new Error('ODC_TEST_POSTGRES_URL: the files of an outside server cannot be searched');
  const client = new Client({ connectionString: pgStoreOf(dataDir).url });
  await client.connect();
  try {
    await client.query('CHECKPOINT');
  } finally {
    await client.end();
  }
  return [...filesUnder(path.join(cluster.dataDir, 'base')), ...filesUnder(path.join(cluster.dataDir, 'global')), ...filesUnder(path.join(cluster.dataDir, 'pg_wal'))].map((file) => ({
    file,
    bytes: fs.readFileSync(file),
  }));
}
