// The store on PostgreSQL (npm `pg`), for any number of stateless instances on one database
// (SPEC §11). Concurrency lives in the database, never in process memory:
// - an app's changes run under a transaction-scoped advisory lock on the app (exclusive for a
//   publish, so baseRevision is checked under it; shared for value writes);
// - value writes are conditional on the version they were based on (and the stage's rows are
//   locked while a batch is checked);
// - audit appends are serialised by a transaction-scoped advisory lock: one chain;
// - key rotations and token revocations by advisory locks too; schema creation at start by a
//   session advisory lock.
// Every committed change moves a counter and announces it (NOTIFY) to the other instances'
// change feeds (changeFeed.ts), which drop their caches.
import { Pool, type PoolClient, type QueryResultRow } from 'pg';
import type { Logger } from 'pino';
import { InvalidError, StoreUnavailableError } from '../../services/errors';
import type {
  AppHeadRow,
  AppSummaryRow,
  AuditFilter,
  AuditRow,
  HistoryRow,
  KeyPurpose,
  Storage,
  StorageReads,
  StorageTx,
  TokenRow,
  ValueRow,
  ValueWrite,
  WrappedKeyRow,
} from '../storage';
import { ChangeFeed, CHANGES_CHANNEL } from './changeFeed';
import { PG_MIGRATIONS, PG_SCHEMA } from './schema';

export interface PgStorageOptions {
  url: string;
  logger: Logger;
  /** Connections in the pool (PORTAL_DB_POOL_MAX, default 10). */
  poolMax?: number;
  /** Connecting, or waiting for a free pooled connection (PORTAL_DB_CONNECT_TIMEOUT_MS, default 2000). */
  connectTimeoutMs?: number;
  /** One statement (PORTAL_DB_QUERY_TIMEOUT_MS, default 5000): no request hangs on the database. */
  queryTimeoutMs?: number;
  /** How often the change feed checks the counter (missed notifications, a dead connection). */
  feedCheckMs?: number;
  /** Do not listen for changes (one-shot CLI commands). */
  noFeed?: boolean;
  /** Create the schema when the database has none (serve); otherwise such a database is refused. */
  create?: boolean;
}

export class NoStoreError extends Error {}

/** `odc-portal migrate` into a database that has portal tables already. */
export class TargetNotEmptyError extends Error {}

// Advisory lock keys: (namespace, id) pairs, apart from anything else that uses the database.
const LOCKS = 0x0dc0;
const SCHEMA_LOCK = 1;
const AUDIT_LOCK = 2;
const KEYS_LOCK = 3;
const TOKENS_LOCK = 4;
const APP_LOCKS = 0x0dc1;

/** Whether an error means the database cannot be reached or answer now (a 503, not a 500). */
export function isUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' ? e.message : '';
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN'].includes(code)) return true;
  // Class 08: connection exceptions; 57P01-03: shutdown, crash, starting up; 53300: too many
  // connections; 57014: a statement cancelled by statement_timeout; 55P03: a lock not available.
  if (/^08/.test(code) || ['57P01', '57P02', '57P03', '53300', '57014', '55P03'].includes(code)) return true;
  return /Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|Connection ended|not queryable/i.test(message);
}

function unavailable(err: unknown): StoreUnavailableError {
  const e = err as { code?: string };
  return new StoreUnavailableError(`the database cannot be reached right now${e?.code ? ` (${e.code})` : ''}; try again in a few seconds`);
}

interface Queryable {
  query<R extends QueryResultRow>(sql: string, params?: unknown[]): Promise<{ rows: R[]; rowCount: number | null }>;
}

interface RawValue {
  stage: string;
  name: string;
  version: number;
  sealed: Buffer | null;
  fingerprint: Buffer | null;
  updated_at: string;
  updated_by: string | null;
}

const toValue = (r: RawValue): ValueRow => ({
  stage: r.stage,
  name: r.name,
  version: r.version,
  plain: null,
  sealed: r.sealed,
  fingerprint: r.fingerprint ?? null,
  updatedAt: r.updated_at,
  updatedBy: r.updated_by,
});

interface RawHistory extends RawValue {
  action: HistoryRow['action'];
  is_secret: boolean;
}

const toHistory = (r: RawHistory): HistoryRow => ({
  stage: r.stage,
  name: r.name,
  version: r.version,
  action: r.action,
  isSecret: r.is_secret,
  plain: null,
  sealed: r.sealed,
  fingerprint: r.fingerprint,
  at: r.updated_at,
  by: r.updated_by,
});

const AUDIT_COLUMNS = `id::float8 AS id, at, token_id AS "tokenId", token_name AS "tokenName", client, action, outcome, app, stage, setting, revision, version, detail, mac`;
const TOKEN_COLUMNS = `id, name, role, apps, stages, created_at AS "createdAt", revoked_at AS "revokedAt"`;
const HEAD_COLUMNS = `a.key, a.name, a.revision, a.published_at AS "publishedAt", a.published_by AS "publishedBy", r.definitions`;
const HEAD_FROM = `apps a JOIN revisions r ON r.app_key = a.key AND r.revision = a.revision`;

class PgReads implements StorageReads {
  constructor(protected readonly db: Queryable) {}

  async q<R extends QueryResultRow>(sql: string, params: unknown[] = []): Promise<{ rows: R[]; rowCount: number }> {
    try {
      const res = await this.db.query<R>(sql, params);
      return { rows: res.rows, rowCount: res.rowCount ?? 0 };
    } catch (err) {
      // 22021: PostgreSQL's text holds no NUL character (SQLite's does), so a name or key with
      // one (`/apps/orders%00`) is bad input, never a 500 (found by the bad-input part).
      if ((err as { code?: unknown }).code === '22021') throw new InvalidError('a name, key or text with a NUL character (U+0000) is not accepted');
      throw isUnavailable(err) ? unavailable(err) : err;
    }
  }

  async meta(key: string) {
    return (await this.q<{ value: string }>('SELECT value FROM meta WHERE key = $1', [key])).rows[0]?.value ?? null;
  }
  async wrappedKeys() {
    return (await this.q<WrappedKeyRow>('SELECT id, purpose, wrapped FROM wrapped_keys ORDER BY id')).rows;
  }
  async listApps() {
    return (await this.q<AppSummaryRow>('SELECT key, name, revision, published_at AS "publishedAt" FROM apps ORDER BY key')).rows;
  }
  async appHead(app: string) {
    return (await this.q<AppHeadRow>(`SELECT ${HEAD_COLUMNS} FROM ${HEAD_FROM} WHERE a.key = $1`, [app])).rows[0] ?? null;
  }
  async stageSnapshot(app: string, stage: string) {
    return this.stagesSnapshot(app, [stage]);
  }
  async stagesSnapshot(app: string, stages: string[]) {
    // One statement, so one snapshot: the head and the values of one commit.
    const res = await this.q<AppHeadRow & { vals: Array<Omit<RawValue, 'sealed' | 'fingerprint'> & { sealed: string | null; fingerprint: string | null }> }>(
      `SELECT ${HEAD_COLUMNS},
         COALESCE((SELECT json_agg(json_build_object('stage', v.stage, 'name', v.name, 'version', v.version,
           'sealed', encode(v.sealed, 'base64'), 'fingerprint', encode(v.fingerprint, 'base64'), 'updated_at', v.updated_at, 'updated_by', v.updated_by))
           FROM stage_values v WHERE v.app_key = a.key AND v.stage = ANY($2::text[])), '[]'::json) AS vals
       FROM ${HEAD_FROM} WHERE a.key = $1`,
      [app, stages],
    );
    const row = res.rows[0];
    if (!row) return { head: null, values: [] };
    const { vals, ...head } = row;
    const bytes = (b64: string | null) => (b64 === null ? null : Buffer.from(b64, 'base64'));
    return { head, values: vals.map((v) => toValue({ ...v, sealed: bytes(v.sealed), fingerprint: bytes(v.fingerprint) })) };
  }
  async history(app: string, stage: string, name: string) {
    return (await this.q<RawHistory>('SELECT * FROM value_history WHERE app_key = $1 AND stage = $2 AND name = $3 ORDER BY version DESC', [app, stage, name])).rows.map(toHistory);
  }
  async tokenByHash(hash: string) {
    return (await this.q<TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM tokens WHERE hash = $1 AND revoked_at IS NULL`, [hash])).rows[0] ?? null;
  }
  async listTokens() {
    return (await this.q<TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM tokens ORDER BY created_at, id`)).rows;
  }
  async storedStages() {
    return (await this.q<{ app: string; stage: string }>('SELECT DISTINCT app_key AS app, stage FROM stage_values WHERE sealed IS NOT NULL ORDER BY 1, 2')).rows;
  }
  async countTokens() {
    return (await this.q<{ n: number }>('SELECT count(*)::int AS n FROM tokens')).rows[0]!.n;
  }
  async listAudit(opts: AuditFilter) {
    const where: string[] = [];
    const args: unknown[] = [];
    if (opts.stages !== undefined) {
      // A stage-scoped reader sees the app's events of its stages and those of no stage (publishes).
      args.push(opts.stages);
      where.push(`(stage IS NULL OR stage = ANY($${args.length}::text[]))`);
    }
    if (opts.app !== undefined) {
      args.push(opts.app);
      where.push(`app = $${args.length}`);
    }
    if (opts.before !== undefined) {
      args.push(opts.before);
      where.push(`id < $${args.length}`);
    }
    args.push(opts.limit);
    const sql = `SELECT ${AUDIT_COLUMNS} FROM audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY audit.id DESC LIMIT $${args.length}`;
    return (await this.q<AuditRow>(sql, args)).rows;
  }
  async *auditRows(): AsyncIterable<AuditRow> {
    let after = 0;
    for (;;) {
      const page = (await this.q<AuditRow>(`SELECT ${AUDIT_COLUMNS} FROM audit WHERE id > $1 ORDER BY audit.id LIMIT 1000`, [after])).rows;
      for (const row of page) yield row;
      if (page.length < 1000) return;
      after = page[page.length - 1]!.id;
    }
  }
}

export class PgTx extends PgReads implements StorageTx {
  /**
   * Inserts rows as they are (`odc-portal migrate` copying a store), many per statement.
   * Table and column names come from the code, never from input.
   */
  async insertRows(table: string, columns: string[], rows: unknown[][]): Promise<void> {
    // PostgreSQL takes at most 65,535 parameters per statement.
    const perStatement = Math.max(1, Math.floor(60_000 / columns.length));
    for (let i = 0; i < rows.length; i += perStatement) {
      const slice = rows.slice(i, i + perStatement);
      const params: unknown[] = [];
      const tuples = slice.map((row) => `(${row.map((v) => `$${params.push(v)}`).join(', ')})`);
      await this.q(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${tuples.join(', ')}`, params);
    }
  }

  async setMeta(key: string, value: string) {
    await this.q('INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [key, value]);
  }
  async lockKeys() {
    await this.q('SELECT pg_advisory_xact_lock($1, $2)', [LOCKS, KEYS_LOCK]);
  }
  async insertWrappedKey(purpose: KeyPurpose, at: string, wrap: (id: number) => Buffer) {
    const id = (await this.q<{ id: number }>(`SELECT nextval(pg_get_serial_sequence('wrapped_keys', 'id'))::int AS id`)).rows[0]!.id;
    await this.q('INSERT INTO wrapped_keys (id, purpose, wrapped, created_at) VALUES ($1, $2, $3, $4)', [id, purpose, wrap(id), at]);
    return id;
  }
  async updateWrappedKey(id: number, wrapped: Buffer) {
    await this.q('UPDATE wrapped_keys SET wrapped = $1 WHERE id = $2', [wrapped, id]);
  }
  async lockApp(app: string, mode: 'exclusive' | 'shared') {
    // An advisory lock, not a row lock: it also covers an app that has no row yet (its first publish).
    await this.q(`SELECT ${mode === 'exclusive' ? 'pg_advisory_xact_lock' : 'pg_advisory_xact_lock_shared'}($1, hashtext($2))`, [APP_LOCKS, app]);
    return this.appHead(app);
  }
  async upsertApp(row: { key: string; name: string; revision: number; publishedAt: string; publishedBy: string | null }) {
    await this.q(
      `INSERT INTO apps (key, name, revision, published_at, published_by) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (key) DO UPDATE SET name = excluded.name, revision = excluded.revision,
         published_at = excluded.published_at, published_by = excluded.published_by`,
      [row.key, row.name, row.revision, row.publishedAt, row.publishedBy],
    );
  }
  async insertRevision(row: { app: string; revision: number; definitions: string | Buffer; publishedAt: string; publishedBy: string | null }) {
    if (typeof row.definitions === 'string') throw new Error('the PostgreSQL store keeps definitions sealed only');
    await this.q('INSERT INTO revisions (app_key, revision, definitions, published_at, published_by) VALUES ($1, $2, $3, $4, $5)', [
      row.app,
      row.revision,
      row.definitions,
      row.publishedAt,
      row.publishedBy,
    ]);
  }
  async heldValues(app: string, names: string[], stages: string[] | null) {
    if (names.length === 0) return [];
    const res = stages
      ? await this.q<RawValue>('SELECT * FROM stage_values WHERE app_key = $1 AND stage = ANY($2::text[]) AND name = ANY($3::text[]) AND sealed IS NOT NULL', [app, stages, names])
      : await this.q<RawValue>('SELECT * FROM stage_values WHERE app_key = $1 AND name = ANY($2::text[]) AND sealed IS NOT NULL', [app, names]);
    return res.rows.map(toValue);
  }
  async revisionsBefore(app: string, revision: number) {
    return (await this.q<{ revision: number; definitions: Buffer }>('SELECT revision, definitions FROM revisions WHERE app_key = $1 AND revision < $2 ORDER BY revision', [app, revision])).rows;
  }
  async updateRevision(app: string, revision: number, definitions: string | Buffer) {
    if (typeof definitions === 'string') throw new Error('the PostgreSQL store keeps definitions sealed only');
    await this.q('UPDATE revisions SET definitions = $1 WHERE app_key = $2 AND revision = $3', [definitions, app, revision]);
  }
  async stageValues(app: string, stage: string) {
    // Locked in name order (two batches never wait on each other in a cycle).
    return (await this.q<RawValue>('SELECT * FROM stage_values WHERE app_key = $1 AND stage = $2 ORDER BY name FOR UPDATE', [app, stage])).rows.map(toValue);
  }
  /** One INSERT for the new pairs and one UPDATE for the rest (a round trip each, not one per value). */
  async writeValues(writes: ValueWrite[]) {
    if (writes.some((w) => w.plain !== null)) throw new Error('the PostgreSQL store keeps values sealed only');
    const key = (app: string, stage: string, name: string) => `${app}\u0000${stage}\u0000${name}`;
    const won = new Set<string>();
    const inserts = writes.filter((w) => w.baseVersion === 0);
    const updates = writes.filter((w) => w.baseVersion !== 0);
    if (inserts.length > 0) {
      const res = await this.q<{ app_key: string; stage: string; name: string }>(
        `INSERT INTO stage_values (app_key, stage, name, version, sealed, fingerprint, updated_at, updated_by)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::bytea[], $6::bytea[], $7::text[], $8::text[])
         ON CONFLICT (app_key, stage, name) DO NOTHING RETURNING app_key, stage, name`,
        [inserts.map((w) => w.app), inserts.map((w) => w.stage), inserts.map((w) => w.name), inserts.map((w) => w.version), inserts.map((w) => w.sealed), inserts.map((w) => w.fingerprint), inserts.map((w) => w.at), inserts.map((w) => w.by)],
      );
      for (const r of res.rows) won.add(key(r.app_key, r.stage, r.name));
    }
    if (updates.length > 0) {
      const res = await this.q<{ app_key: string; stage: string; name: string }>(
        `UPDATE stage_values v SET version = u.version, sealed = u.sealed, fingerprint = u.fingerprint, updated_at = u.at, updated_by = u.by
         FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::int[], $6::bytea[], $7::bytea[], $8::text[], $9::text[]) AS u(app, stage, name, base, version, sealed, fingerprint, at, by)
         WHERE v.app_key = u.app AND v.stage = u.stage AND v.name = u.name AND v.version = u.base
         RETURNING v.app_key, v.stage, v.name`,
        [updates.map((w) => w.app), updates.map((w) => w.stage), updates.map((w) => w.name), updates.map((w) => w.baseVersion), updates.map((w) => w.version), updates.map((w) => w.sealed), updates.map((w) => w.fingerprint), updates.map((w) => w.at), updates.map((w) => w.by)],
      );
      for (const r of res.rows) won.add(key(r.app_key, r.stage, r.name));
    }
    return writes.filter((w) => !won.has(key(w.app, w.stage, w.name))).map((w) => w.name);
  }
  async deleteValues(app: string, pairs: Array<{ stage: string; name: string }>, at: string, by: string | null) {
    if (pairs.length === 0) return 0;
    await this.q(
      `DELETE FROM value_history h USING unnest($2::text[], $3::text[]) AS d(stage, name)
       WHERE h.app_key = $1 AND h.stage = d.stage AND h.name = d.name`,
      [app, pairs.map((p) => p.stage), pairs.map((p) => p.name)],
    );
    const res = await this.q(
      `UPDATE stage_values v SET sealed = NULL, fingerprint = NULL, version = v.version + 1, updated_at = $1, updated_by = $2
       FROM unnest($4::text[], $5::text[]) AS d(stage, name)
       WHERE v.app_key = $3 AND v.stage = d.stage AND v.name = d.name`,
      [at, by, app, pairs.map((p) => p.stage), pairs.map((p) => p.name)],
    );
    return res.rowCount;
  }
  async setFingerprint(app: string, stage: string, name: string, version: number, fingerprint: Buffer) {
    await this.q('UPDATE stage_values SET fingerprint = $1 WHERE app_key = $2 AND stage = $3 AND name = $4 AND version = $5', [fingerprint, app, stage, name, version]);
  }
  async insertHistories(app: string, rows: HistoryRow[]) {
    if (rows.length === 0) return;
    if (rows.some((h) => h.plain !== null)) throw new Error('the PostgreSQL store keeps values sealed only');
    await this.q(
      `INSERT INTO value_history (app_key, stage, name, version, action, is_secret, sealed, fingerprint, updated_at, updated_by)
       SELECT $1, * FROM unnest($2::text[], $3::text[], $4::int[], $5::text[], $6::boolean[], $7::bytea[], $8::bytea[], $9::text[], $10::text[])`,
      [app, rows.map((h) => h.stage), rows.map((h) => h.name), rows.map((h) => h.version), rows.map((h) => h.action), rows.map((h) => h.isSecret), rows.map((h) => h.sealed), rows.map((h) => h.fingerprint), rows.map((h) => h.at), rows.map((h) => h.by)],
    );
  }
  async pruneHistories(app: string, pairs: Array<{ stage: string; name: string; upTo: number }>) {
    if (pairs.length === 0) return 0;
    await this.q(
      `DELETE FROM value_history h USING unnest($2::text[], $3::text[], $4::int[]) AS p(stage, name, up_to)
       WHERE h.app_key = $1 AND h.stage = p.stage AND h.name = p.name AND h.version <= p.up_to`,
      [app, pairs.map((p) => p.stage), pairs.map((p) => p.name), pairs.map((p) => p.upTo)],
    );
    // No clear-text value is ever stored here.
    return 0;
  }
  async deleteSettingHistory(app: string, names: string[]) {
    if (names.length === 0) return 0;
    return (await this.q('DELETE FROM value_history WHERE app_key = $1 AND name = ANY($2::text[])', [app, names])).rowCount;
  }
  async insertToken(row: TokenRow & { hash: string }) {
    await this.q('INSERT INTO tokens (id, name, role, apps, stages, hash, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [
      row.id,
      row.name,
      row.role,
      row.apps,
      row.stages,
      row.hash,
      row.createdAt,
      row.revokedAt,
    ]);
  }
  async tokenForUpdate(id: string) {
    // Revocations one at a time: two of the last two admin tokens cannot both pass the rule.
    await this.q('SELECT pg_advisory_xact_lock($1, $2)', [LOCKS, TOKENS_LOCK]);
    return (await this.q<TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM tokens WHERE id = $1 FOR UPDATE`, [id])).rows[0] ?? null;
  }
  async lockActiveAdmins() {
    return (await this.q<{ n: number }>("SELECT count(*)::int AS n FROM tokens WHERE role = 'admin' AND revoked_at IS NULL")).rows[0]!.n;
  }
  async revokeToken(id: string, at: string) {
    await this.q('UPDATE tokens SET revoked_at = $1 WHERE id = $2', [at, id]);
  }
  async lockAuditHead() {
    // Held until commit: the next append's statement sees this one's record (one chain, no forks).
    await this.q('SELECT pg_advisory_xact_lock($1, $2)', [LOCKS, AUDIT_LOCK]);
    return (await this.q<{ id: number; mac: string }>('SELECT id::float8 AS id, mac FROM audit ORDER BY audit.id DESC LIMIT 1')).rows[0] ?? null;
  }
  async insertAudits(rows: AuditRow[]) {
    if (rows.length === 0) return;
    await this.q(
      `INSERT INTO audit (id, at, token_id, token_name, client, action, outcome, app, stage, setting, revision, version, detail, mac)
       SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::int[], $12::int[], $13::text[], $14::text[])`,
      [rows.map((r) => r.id), rows.map((r) => r.at), rows.map((r) => r.tokenId), rows.map((r) => r.tokenName), rows.map((r) => r.client), rows.map((r) => r.action), rows.map((r) => r.outcome), rows.map((r) => r.app), rows.map((r) => r.stage), rows.map((r) => r.setting), rows.map((r) => r.revision), rows.map((r) => r.version), rows.map((r) => r.detail), rows.map((r) => r.mac)],
    );
  }
}

export class PgStorage extends PgReads implements Storage {
  readonly kind = 'postgres' as const;
  readonly sealsEverything = true;
  readonly pool: Pool;
  private readonly feed: ChangeFeed | null;
  private commits = 0;
  private readonly logger: Logger;
  private readonly create: boolean;

  constructor(opts: PgStorageOptions) {
    const queryTimeout = opts.queryTimeoutMs ?? 5_000;
    const pool = new Pool({
      connectionString: opts.url,
      max: opts.poolMax ?? 10,
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 2_000,
      // Bounds on both sides: the server cancels a statement, the client stops waiting for one.
      statement_timeout: queryTimeout,
      query_timeout: queryTimeout + 1_000,
      idle_in_transaction_session_timeout: 30_000,
      application_name: 'odc-portal',
      options: `-c search_path=${PG_SCHEMA}`,
      keepAlive: true,
    });
    super(pool);
    this.pool = pool;
    this.logger = opts.logger;
    this.create = opts.create ?? false;
    // An idle pooled connection that the database drops (a restart) must not crash the process.
    pool.on('error', (err) => this.logger.warn({ err: { code: (err as { code?: string }).code, message: err.message } }, 'a pooled database connection failed'));
    // A connection that fails while checked out (the database stops mid-transaction) emits
    // 'error' on its client, where the pool listens only while it is idle: unheard, that
    // would crash the process. The query in flight fails on its own and answers 503.
    pool.on('connect', (client) => client.on('error', () => {}));
    this.feed = opts.noFeed ? null : new ChangeFeed({ url: opts.url, logger: opts.logger, checkMs: opts.feedCheckMs ?? 500, connectTimeoutMs: opts.connectTimeoutMs ?? 2_000 });
  }

  private async client(): Promise<PoolClient> {
    try {
      return await this.pool.connect();
    } catch (err) {
      throw isUnavailable(err) ? unavailable(err) : err;
    }
  }

  async transaction<T>(fn: (tx: StorageTx) => Promise<T>, opts: { changes?: boolean } = {}): Promise<T> {
    const result = await this.inTransaction(async (tx) => {
      const result = await fn(tx);
      // Last, after the audit lock: announces the change to every instance at commit.
      if (opts.changes) {
        const counter = (await tx.q<{ counter: string }>('UPDATE changes SET counter = counter + 1 WHERE id = 1 RETURNING counter::text')).rows[0]!.counter;
        await tx.q('SELECT pg_notify($1, $2)', [CHANGES_CHANNEL, counter]);
      }
      return result;
    });
    if (opts.changes) this.commits++;
    return result;
  }

  /** BEGIN, `body`, COMMIT on a pooled connection; ROLLBACK on any failure. */
  private async inTransaction<T>(body: (tx: PgTx) => Promise<T>): Promise<T> {
    const client = await this.client();
    const tx = new PgTx(client);
    let broken: unknown;
    try {
      await tx.q('BEGIN');
      const result = await body(tx);
      await tx.q('COMMIT');
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackErr) {
        broken = rollbackErr;
      }
      throw err;
    } finally {
      // A connection that failed mid-transaction is dropped, not handed to the next request.
      client.release(broken instanceof Error ? broken : undefined);
    }
  }

  async startup<T>(fn: (created: boolean) => Promise<T>): Promise<T> {
    const client = await this.client();
    const session = new PgTx(client);
    let broken: Error | undefined;
    try {
      // Session-level, on its own connection: instances started together create the schema, the
      // keys and the first admin token one after the other; the later ones find them made.
      await session.q('SELECT pg_advisory_lock($1, $2)', [LOCKS, SCHEMA_LOCK]);
      const exists = (await session.q<{ t: string | null }>(`SELECT to_regclass('${PG_SCHEMA}.schema_version')::text AS t`)).rows[0]!.t !== null;
      if (!exists && !this.create) throw new NoStoreError('this database has no portal store yet; start odc-portal serve with this database URL once (or migrate an embedded store into it)');
      const version = exists ? (await session.q<{ version: number }>('SELECT version FROM schema_version')).rows[0]!.version : 0;
      if (!exists) await session.q(`CREATE SCHEMA IF NOT EXISTS ${PG_SCHEMA}`);
      for (let v = version; v < PG_MIGRATIONS.length; v++) {
        await session.q('BEGIN');
        await session.q(PG_MIGRATIONS[v]!);
        await session.q('UPDATE schema_version SET version = $1', [v + 1]);
        await session.q('COMMIT');
      }
      const result = await fn(!exists);
      await session.q('SELECT pg_advisory_unlock($1, $2)', [LOCKS, SCHEMA_LOCK]);
      return result;
    } catch (err) {
      // Closing the session releases its lock.
      broken = err instanceof Error ? err : new Error(String(err));
      throw err;
    } finally {
      client.release(broken);
    }
  }

  /**
   * Creates the schema in a database that has no portal tables and fills it, in one
   * transaction (`odc-portal migrate`): all of it or nothing, so a failed copy leaves the
   * database as it was. Under the schema lock, so an instance starting meanwhile waits and then
   * finds the filled store; a database with portal tables is refused (TargetNotEmptyError).
   */
  async createAndFill<T>(fn: (tx: PgTx) => Promise<T>): Promise<T> {
    return this.inTransaction(async (tx) => {
      await tx.q('SELECT pg_advisory_xact_lock($1, $2)', [LOCKS, SCHEMA_LOCK]);
      const tables = (await tx.q<{ n: number }>('SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1', [PG_SCHEMA])).rows[0]!.n;
      if (tables > 0) throw new TargetNotEmptyError(`the target database already has portal tables (schema ${PG_SCHEMA}); migrate only into a database without them`);
      await tx.q(`CREATE SCHEMA IF NOT EXISTS ${PG_SCHEMA}`);
      for (const [v, sql] of PG_MIGRATIONS.entries()) {
        await tx.q(sql);
        await tx.q('UPDATE schema_version SET version = $1', [v + 1]);
      }
      return fn(tx);
    });
  }

  /** Starts the change feed; resolves once it listens (or after its first failure). */
  async listen(): Promise<void> {
    await this.feed?.start();
  }

  cacheEpoch(): string | null {
    if (!this.feed) return null;
    const generation = this.feed.generation();
    return generation === null ? null : `${generation}:${this.commits}`;
  }

  /** Whether the change feed is connected (caches in use). */
  feedConnected(): boolean {
    return this.feed?.generation() != null;
  }

  scrubDeleted(): void {
    // Nothing to scrub: no clear-text value is ever written to the database (SPEC §11).
  }

  async ping(): Promise<void> {
    await this.q('SELECT 1');
  }

  async close(): Promise<void> {
    await this.feed?.stop();
    await this.pool.end();
  }
}
