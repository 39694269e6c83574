// The stores the reliability parts run against (issue 13 item 11): the embedded SQLite store and
// the PostgreSQL store on the test process's private cluster (test/support/postgres.ts), whatever
// ODC_TEST_STORE says. One `StoreUnderTest` per portal: how to start it and how to look into its
// store behind the server's back (logical dump, audit rows, integrity), the same calls for both.
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import * as path from 'node:path';
import { startPortal, type Portal, type StartOptions } from '../support/portal';
import { postgresAvailable, testCluster } from '../support/postgres';
import { auditRows, dumpStore, integrityCheck, withReadOnlyDb, type AuditRowLite } from './lib';

export type StoreKind = 'sqlite' | 'postgres';

/**
 * Both stores, always: a machine without PostgreSQL's server binaries fails the PostgreSQL parts
 * with the setup hint (npm test's setup installs them) rather than skipping them silently.
 */
export const STORES: readonly StoreKind[] = ['sqlite', 'postgres'];

export interface StoreUnderTest {
  kind: StoreKind;
  /** Starts (or restarts) a portal on this store with this data dir. */
  start(opts?: Omit<StartOptions, 'dataDir' | 'sqlite'>): Promise<Portal>;
  /** Every table's rows but the audit's (and the audit's bookkeeping in meta), sorted, binary as hex. */
  dump(): Promise<Record<string, unknown[]>>;
  /** The audit records after `afterId`, in order. */
  auditRows(afterId?: number): Promise<AuditRowLite[]>;
  maxAuditId(): Promise<number>;
  /** Rows of a query on the store (`?` parameters on both stores; PostgreSQL's search_path is the portal's schema). */
  query<T = Record<string, unknown>>(sql: string, ...params: unknown[]): Promise<T[]>;
  /** 'ok', or what the store's own consistency check found (SQLite integrity_check; PostgreSQL amcheck over every index, heap included). */
  integrity(): Promise<string>;
  /** What a CLI command on this store needs in its environment. */
  env(): Record<string, string>;
}

/** Fails unless the portal says it runs on `kind` (so a mix-up of environments cannot pass unnoticed). */
export async function assertOnStore(portal: Portal, kind: StoreKind): Promise<void> {
  const health = await portal.api<{ store?: string }>('GET', '/health', { token: null });
  if (health.body?.store !== kind) throw new Error(`the portal runs on ${String(health.body?.store)}, not ${kind}: ${health.text}`);
}

export async function storeUnderTest(kind: StoreKind, dataDir: string): Promise<StoreUnderTest> {
  if (kind === 'sqlite') {
    const file = path.join(dataDir, 'portal.db');
    return {
      kind,
      start: async (opts = {}) => {
        const portal = await startPortal({ ...opts, dataDir, sqlite: true });
        await assertOnStore(portal, kind);
        return portal;
      },
      dump: async () => dumpStore(file),
      auditRows: async (afterId = 0) => auditRows(file, afterId),
      maxAuditId: async () => withReadOnlyDb(file, (db) => (db.prepare('SELECT coalesce(max(id), 0) AS n FROM audit').get() as { n: number }).n),
      query: async <T>(sql: string, ...params: unknown[]) => withReadOnlyDb(file, (db) => db.prepare(sql).all(...params) as T[]),
      integrity: async () => integrityCheck(file),
      env: () => ({}),
    };
  }
  if (!postgresAvailable()) throw new Error('PostgreSQL server binaries are missing: run scripts/setup-test-deps.sh');
  const cluster = await testCluster();
  const url = await cluster.createDatabase('rel');
  // The key source of a fleet (SPEC §11): PORTAL_MASTER_KEY, the same for every start.
  const env = { PORTAL_DATABASE_URL: url, PORTAL_MASTER_KEY: randomBytes(32).toString('base64') };
  const query = async <T>(sql: string, ...params: unknown[]): Promise<T[]> => {
    const client = new Client({ connectionString: url, options: '-c search_path=odc_portal' });
    await client.connect();
    try {
      let n = 0;
      return (await client.query(sql.replace(/\?/g, () => `$${++n}`), params)).rows as T[];
    } finally {
      await client.end();
    }
  };
  return {
    kind,
    // `sqlite: true` only keeps startPortal from choosing a store by ODC_TEST_STORE: env names this one.
    start: async (opts = {}) => {
      const portal = await startPortal({ ...opts, dataDir, sqlite: true, env: { ...env, ...opts.env } });
      await assertOnStore(portal, kind);
      return portal;
    },
    dump: async () => {
      const tables = await query<{ name: string }>("SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'odc_portal' ORDER BY table_name");
      const out: Record<string, unknown[]> = {};
      out['~schema'] = await query(
        "SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns WHERE table_schema = 'odc_portal' ORDER BY table_name, column_name",
      );
      for (const { name } of tables) {
        // `changes` counts committed transactions for the instances' caches (a refusal's audit
        // record commits too): bookkeeping that moves with the audit, like meta's audit_* keys.
        if (name === 'audit' || name === 'changes') continue;
        const cols = (await query<{ c: string }>("SELECT column_name AS c FROM information_schema.columns WHERE table_schema = 'odc_portal' AND table_name = ? ORDER BY ordinal_position", name)).map(
          (r) => `"${r.c}"`,
        );
        const rows = await query<Record<string, unknown>>(`SELECT * FROM "${name}" ORDER BY ${cols.join(', ')}`);
        const kept = name === 'meta' ? rows.filter((r) => !String(r.key).startsWith('audit_')) : rows;
        out[name] = kept.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Buffer.isBuffer(v) ? `x'${v.toString('hex')}'` : v])));
      }
      return out;
    },
    auditRows: async (afterId = 0) =>
      (await query<AuditRowLite & { id: string | number }>('SELECT id, action, outcome, app, stage, setting, revision, version, detail FROM audit WHERE id > ? ORDER BY id', afterId)).map((r) => ({
        ...r,
        id: Number(r.id),
      })),
    maxAuditId: async () => Number((await query<{ n: string }>('SELECT coalesce(max(id), 0) AS n FROM audit'))[0]!.n),
    query,
    integrity: async () => {
      // amcheck: every B-tree index of the portal's schema checked against its heap.
      const client = new Client({ connectionString: url });
      await client.connect();
      try {
        await client.query('CREATE EXTENSION IF NOT EXISTS amcheck');
        const indexes = await client.query<{ oid: number; name: string }>(
          "SELECT c.oid, c.relname AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_am a ON a.oid = c.relam WHERE n.nspname = 'odc_portal' AND a.amname = 'btree'",
        );
        const problems: string[] = [];
        for (const ix of indexes.rows) {
          try {
            await client.query('SELECT bt_index_check($1, true)', [ix.oid]);
          } catch (err) {
            problems.push(`${ix.name}: ${(err as Error).message}`);
          }
        }
        if (indexes.rows.length === 0) problems.push('no index found in odc_portal');
        return problems.length ? problems.join('; ') : 'ok';
      } finally {
        await client.end();
      }
    },
    env: () => ({ ...env }),
  };
}
