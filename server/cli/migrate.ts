// `odc-portal migrate --data-dir DIR --to postgres://...` (SPEC §11): copies the embedded store in
// DIR into a PostgreSQL database that has no portal tables yet, in one transaction (all or
// nothing), under the same master key. Data keys are copied still wrapped; secrets keep their
// ciphertexts; non-secret values and definitions documents, in clear in SQLite, are sealed on
// the way (PostgreSQL keeps old row versions and WAL that nothing can scrub). The copied audit
// chain ends with one `store.migrated` event. Then the command checks the target: the chain
// verifies, every value and every definitions document decrypts.
//
// The master key is read from the source's key source and never printed unless asked for
// (--print-key: the key alone on stdout, for a pipe into a secret store); --key-out FILE writes
// it to a new 0600 file; otherwise the command says how to read it from where it already is.
//
// Each table has one copy function (TABLE_COPIES). A table of the embedded store without one
// stops the command before anything is written: a new table needs its copy written here.
import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { AuditActor } from '../audit/chain';
import { masterKeyId } from '../crypto/envelope';
import { KeychainKeySource, resolveMasterKey, type MasterKeySource } from '../crypto/keySources';
import { createLogger, redactUrl } from '../runtime';
import { AuditService } from '../services/audit';
import { MasterKeyMismatchError } from '../services/errors';
import { KeyRing } from '../services/keys';
import { PgStorage, type PgTx } from '../store/postgres/pgStorage';
import { SqliteStorage } from '../store/sqlite/sqliteStorage';

/** A mistake in how the command was called (exit 2). */
export class MigrateUsageError extends Error {}

export interface MigrateIo {
  env: NodeJS.ProcessEnv;
  /** What the command reports (stdout; stderr with --print-key, whose stdout is the key alone). */
  out: (text: string) => void;
  /** The key, with --print-key. */
  key: (text: string) => void;
  platform?: NodeJS.Platform;
}

const MIGRATE_ACTOR: AuditActor = { tokenId: null, tokenName: 'odc-portal migrate (local command line)', client: 'cli' };

/** Rows read from the embedded store inside one read transaction (one consistent snapshot). */
interface CopyContext {
  from: Database.Database;
  to: PgTx;
  keys: KeyRing;
}

type Row = Record<string, unknown>;

/** Reads `sql` from the source in pages and inserts each row, as `convert` makes it, into `table`. */
async function copyRows(ctx: CopyContext, sql: string, table: string, columns: string[], convert: (row: Row) => unknown[]): Promise<number> {
  let batch: unknown[][] = [];
  let n = 0;
  for (const row of ctx.from.prepare(sql).iterate() as IterableIterator<Row>) {
    batch.push(convert(row));
    n++;
    if (batch.length === 2_000) {
      await ctx.to.insertRows(table, columns, batch);
      batch = [];
    }
  }
  if (batch.length) await ctx.to.insertRows(table, columns, batch);
  return n;
}

const text = (v: unknown): string => String(v);
const textOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const int = (v: unknown): number => Number(v);
const intOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

async function copyMeta(ctx: CopyContext): Promise<number> {
  return copyRows(ctx, 'SELECT key, value FROM meta ORDER BY key', 'meta', ['key', 'value'], (r) => [text(r.key), text(r.value)]);
}

async function copyWrappedKeys(ctx: CopyContext): Promise<number> {
  // Still wrapped, under their ids (the wrapping binds the id): the same master key opens them.
  const n = await copyRows(ctx, 'SELECT id, purpose, wrapped, created_at FROM wrapped_keys ORDER BY id', 'wrapped_keys', ['id', 'purpose', 'wrapped', 'created_at'], (r) => [
    int(r.id),
    text(r.purpose),
    r.wrapped as Buffer,
    text(r.created_at),
  ]);
  await ctx.to.q(`SELECT setval(pg_get_serial_sequence('wrapped_keys', 'id'), GREATEST((SELECT max(id) FROM wrapped_keys), 1))`);
  return n;
}

async function copyApps(ctx: CopyContext): Promise<number> {
  return copyRows(ctx, 'SELECT key, name, revision, published_at, published_by FROM apps ORDER BY key', 'apps', ['key', 'name', 'revision', 'published_at', 'published_by'], (r) => [
    text(r.key),
    text(r.name),
    int(r.revision),
    text(r.published_at),
    textOrNull(r.published_by),
  ]);
}

async function copyRevisions(ctx: CopyContext): Promise<number> {
  // Definitions hold defaults (values): sealed, bound to (app, revision).
  return copyRows(
    ctx,
    'SELECT app_key, revision, definitions, published_at, published_by FROM revisions ORDER BY app_key, revision',
    'revisions',
    ['app_key', 'revision', 'definitions', 'published_at', 'published_by'],
    (r) => [text(r.app_key), int(r.revision), ctx.keys.sealDefinitions(text(r.app_key), int(r.revision), text(r.definitions)), text(r.published_at), textOrNull(r.published_by)],
  );
}

async function copyStageValues(ctx: CopyContext): Promise<number> {
  // A secret keeps its ciphertext (bound to app, stage, name and version, which do not change)
  // and its fingerprint; a non-secret is sealed the same way; a deleted value stays a row
  // without one (its version).
  return copyRows(
    ctx,
    'SELECT app_key, stage, name, version, plain, secret, fingerprint, updated_at, updated_by FROM stage_values ORDER BY app_key, stage, name',
    'stage_values',
    ['app_key', 'stage', 'name', 'version', 'sealed', 'fingerprint', 'updated_at', 'updated_by'],
    (r) => {
      const [app, stage, name, version] = [text(r.app_key), text(r.stage), text(r.name), int(r.version)];
      return [app, stage, name, version, sealedValue(ctx, app, stage, name, version, r), (r.fingerprint as Buffer | null) ?? null, text(r.updated_at), textOrNull(r.updated_by)];
    },
  );
}

/** A stored value as PostgreSQL keeps it: a secret's ciphertext as it is, a non-secret sealed. */
function sealedValue(ctx: CopyContext, app: string, stage: string, name: string, version: number, r: Row): Buffer | null {
  if (r.secret !== null && r.secret !== undefined) return r.secret as Buffer;
  if (r.plain !== null && r.plain !== undefined) return ctx.keys.sealValue(app, stage, name, version, text(r.plain));
  return null;
}

async function copyValueHistory(ctx: CopyContext): Promise<number> {
  // Each previous value is stored like the value it was (same binding): sealed, secret or not.
  return copyRows(
    ctx,
    'SELECT app_key, stage, name, version, action, is_secret, plain, secret, fingerprint, updated_at, updated_by FROM value_history ORDER BY app_key, stage, name, version',
    'value_history',
    ['app_key', 'stage', 'name', 'version', 'action', 'is_secret', 'sealed', 'fingerprint', 'updated_at', 'updated_by'],
    (r) => {
      const [app, stage, name, version] = [text(r.app_key), text(r.stage), text(r.name), int(r.version)];
      return [app, stage, name, version, text(r.action), int(r.is_secret) !== 0, sealedValue(ctx, app, stage, name, version, r), (r.fingerprint as Buffer | null) ?? null, text(r.updated_at), textOrNull(r.updated_by)];
    },
  );
}

async function copyTokens(ctx: CopyContext): Promise<number> {
  // Hashes only, as stored: every token keeps working, revoked ones stay revoked.
  const columns = ['id', 'name', 'role', 'apps', 'stages', 'hash', 'created_at', 'revoked_at'];
  return copyRows(ctx, `SELECT ${columns.join(', ')} FROM tokens ORDER BY id`, 'tokens', columns, (r) => [
    text(r.id),
    text(r.name),
    text(r.role),
    text(r.apps),
    text(r.stages),
    text(r.hash),
    text(r.created_at),
    textOrNull(r.revoked_at),
  ]);
}

async function copyAudit(ctx: CopyContext): Promise<number> {
  // Record for record, MACs included: the chain continues unbroken in PostgreSQL.
  const columns = ['id', 'at', 'token_id', 'token_name', 'client', 'action', 'outcome', 'app', 'stage', 'setting', 'revision', 'version', 'detail', 'mac'];
  return copyRows(ctx, `SELECT ${columns.join(', ')} FROM audit ORDER BY id`, 'audit', columns, (r) => [
    int(r.id),
    text(r.at),
    textOrNull(r.token_id),
    textOrNull(r.token_name),
    textOrNull(r.client),
    text(r.action),
    text(r.outcome),
    textOrNull(r.app),
    textOrNull(r.stage),
    textOrNull(r.setting),
    intOrNull(r.revision),
    intOrNull(r.version),
    textOrNull(r.detail),
    text(r.mac),
  ]);
}

/** Every table of the embedded store and how it is copied, in order. */
export const TABLE_COPIES: Array<[table: string, copy: (ctx: CopyContext) => Promise<number>]> = [
  ['meta', copyMeta],
  ['wrapped_keys', copyWrappedKeys],
  ['apps', copyApps],
  ['revisions', copyRevisions],
  ['stage_values', copyStageValues],
  ['value_history', copyValueHistory],
  ['tokens', copyTokens],
  ['audit', copyAudit],
];

/**
 * Tables of the embedded store left behind on purpose, and why (said in the report). Any other
 * table without a copy stops the command.
 */
export const NOT_COPIED: Record<string, string> = {
  // Browser sessions last hours at most; on the new instances people sign in again.
  web_sessions: 'web UI sessions (people sign in again)',
};

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** How the operator gives the key to the instances, without the key itself. */
function keyInstructions(source: MasterKeySource, platform: NodeJS.Platform): string {
  if (source.kind === 'environment') return 'It is the PORTAL_MASTER_KEY this command was given: give every instance the same value.';
  if (source instanceof KeychainKeySource) {
    const account = shellQuote(source.account);
    if (platform === 'darwin') return `It is in the OS keychain; read it into the instances' environment with:\n  export PORTAL_MASTER_KEY="$(security find-generic-password -s odc-portal -a ${account} -w)"`;
    if (platform === 'linux') return `It is in the OS keychain (Secret Service); read it into the instances' environment with:\n  export PORTAL_MASTER_KEY="$(secret-tool lookup service odc-portal account ${account})"`;
    return 'It is in the OS keychain (service "odc-portal", account ' + account + '); or run migrate again into an empty database with --key-out FILE.';
  }
  const file = source.describe.replace(/^key file /, '');
  return `It is in the key file ${file} (mode 0600); read it into the instances' environment with:\n  export PORTAL_MASTER_KEY="$(cat ${shellQuote(file)})"`;
}

export async function migrate(argv: string[], io: MigrateIo): Promise<void> {
  let values: { 'data-dir'?: string; to?: string; 'key-out'?: string; 'print-key'?: boolean };
  try {
    ({ values } = parseArgs({ args: argv, options: { 'data-dir': { type: 'string' }, to: { type: 'string' }, 'key-out': { type: 'string' }, 'print-key': { type: 'boolean' } } }));
  } catch (err) {
    throw new MigrateUsageError((err as Error).message);
  }
  const to = values.to;
  if (!to || !/^postgres(ql)?:\/\//.test(to)) throw new MigrateUsageError('migrate needs --to postgres://user@host/database (a database without portal tables)');
  const dataDir = path.resolve(values['data-dir'] ?? io.env.PORTAL_DATA_DIR ?? './data');
  const dbFile = path.join(dataDir, 'portal.db');
  if (!fs.existsSync(dbFile)) throw new MigrateUsageError(`no embedded store in ${dataDir} (no portal.db); give its directory with --data-dir`);
  const keyOut = values['key-out'] ? path.resolve(values['key-out']) : null;
  if (keyOut && fs.existsSync(keyOut)) throw new MigrateUsageError(`${keyOut} exists already; --key-out writes a new file only`);
  const logger = createLogger(io.env.PORTAL_LOG_LEVEL ?? 'warn');
  const log = { info: (m: string) => logger.info(m), warn: (m: string) => logger.warn(m) };

  // The source's own key source, as `serve --data-dir DIR` would find it.
  const resolved = await resolveMasterKey({ dataDir, env: { ...io.env, PORTAL_DATABASE_URL: undefined }, log, allowCreate: false });
  // Opening it upgrades an older embedded store's schema first, like a start would.
  const sqlite = new SqliteStorage(dbFile);
  let masterKey = resolved.key;
  let ring: KeyRing;
  try {
    const stored = await sqlite.meta('master_key_id');
    if (stored === null) throw new MigrateUsageError(`the embedded store in ${dataDir} has no keys yet: nothing to migrate`);
    if (stored !== masterKeyId(masterKey)) {
      // An interrupted rotation: the store may be under the pending key already.
      const pending = await resolved.source.loadPending(stored);
      if (pending && stored === masterKeyId(pending)) masterKey = pending;
      else throw new MasterKeyMismatchError(`the master key from ${resolved.source.describe} does not match the store in ${dataDir}`);
    }
    ring = await KeyRing.load(sqlite, masterKey, new Date().toISOString());
  } finally {
    await sqlite.close();
  }

  const from = new Database(dbFile, { readonly: true, fileMustExist: true });
  from.pragma('busy_timeout = 5000');
  const target = new PgStorage({ url: to, logger, noFeed: true, poolMax: 2, queryTimeoutMs: 600_000 });
  const counts: Record<string, number> = {};
  try {
    const tables = (from.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as Array<{ name: string }>).map((t) => t.name);
    const known = new Set(TABLE_COPIES.map(([t]) => t));
    const unknown = tables.filter((t) => !known.has(t) && !(t in NOT_COPIED));
    const skipped = tables.filter((t) => t in NOT_COPIED).map((t) => NOT_COPIED[t]!);
    if (unknown.length) throw new Error(`this odc-portal does not know how to copy the table(s) ${unknown.join(', ')} of the embedded store; nothing was copied`);
    const audit = new AuditService(target, ring, () => new Date().toISOString());
    // One read transaction on the source: every table from the same commit.
    from.exec('BEGIN');
    try {
      await target.createAndFill(async (tx) => {
        const ctx: CopyContext = { from, to: tx, keys: ring };
        for (const [table, copy] of TABLE_COPIES) if (tables.includes(table)) counts[table] = await copy(ctx);
        await audit.append(tx, MIGRATE_ACTOR, {
          action: 'store.migrated',
          outcome: 'ok',
          detail: { from: 'sqlite', to: 'postgres', apps: counts.apps ?? 0, values: counts.stage_values ?? 0, tokens: counts.tokens ?? 0, auditEvents: counts.audit ?? 0 },
        });
      });
    } finally {
      from.exec('COMMIT');
    }

    // The target on its own: the master key opens its keys, the chain verifies, everything decrypts.
    const targetRing = await KeyRing.load(target, masterKey, new Date().toISOString());
    const verdict = await new AuditService(target, targetRing, () => new Date().toISOString()).verify();
    if (!verdict.ok) throw new Error(`the copied audit chain does not verify in PostgreSQL (first bad event ${verdict.firstBadEvent})`);
    const sealedValues = await target.pool.query<{ app_key: string; stage: string; name: string; version: number; sealed: Buffer }>(
      'SELECT app_key, stage, name, version, sealed FROM odc_portal.stage_values WHERE sealed IS NOT NULL',
    );
    for (const v of sealedValues.rows) targetRing.openValue(v.app_key, v.stage, v.name, v.version, v.sealed);
    const history = await target.pool.query<{ app_key: string; stage: string; name: string; version: number; sealed: Buffer }>(
      'SELECT app_key, stage, name, version, sealed FROM odc_portal.value_history WHERE sealed IS NOT NULL',
    );
    for (const v of history.rows) targetRing.openValue(v.app_key, v.stage, v.name, v.version, v.sealed);
    const revisions = await target.pool.query<{ app_key: string; revision: number; definitions: Buffer }>('SELECT app_key, revision, definitions FROM odc_portal.revisions');
    for (const r of revisions.rows) JSON.parse(targetRing.openDefinitions(r.app_key, r.revision, r.definitions));

    if (keyOut) fs.writeFileSync(keyOut, masterKey.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
    if (values['print-key']) io.key(masterKey.toString('base64') + '\n');
    const where = redactUrl(to);
    io.out(
      `Copied the embedded store in ${dataDir} into PostgreSQL at ${where}:\n` +
        `  ${counts.apps ?? 0} apps, ${counts.revisions ?? 0} revisions, ${counts.stage_values ?? 0} value rows, ${counts.value_history ?? 0} previous values, ${counts.tokens ?? 0} tokens, ${counts.audit ?? 0} audit events + 1 (store.migrated)\n` +
        `  every value and definitions document is encrypted at rest there, secret or not\n` +
        (skipped.length ? `  not copied: ${skipped.join('; ')}\n` : '') +
        `Checked there: the audit chain verifies (${verdict.events} events); ${sealedValues.rows.length} values, ${history.rows.length} previous values and ${revisions.rows.length} definitions documents decrypt.\n\n` +
        `Every instance on this database needs this store's master key in PORTAL_MASTER_KEY.\n` +
        (keyOut
          ? `It was written to ${keyOut} (mode 0600); read it with:\n  export PORTAL_MASTER_KEY="$(cat ${shellQuote(keyOut)})"\nthen move it into your secret store and delete the file.\n`
          : values['print-key']
            ? 'It was printed on standard output (only there).\n'
            : `${keyInstructions(resolved.source, io.platform ?? process.platform)}\n`) +
        `\nStart the instances with: PORTAL_DATABASE_URL=${shellQuote(where)} odc-portal serve\n` +
        `Writes made to the embedded store after this copy are not in PostgreSQL: keep its server stopped.\n`,
    );
  } finally {
    from.close();
    await target.close();
  }
}
