// Opening the store with its master key, shared by `serve` and the admin commands.
import * as fs from 'node:fs';
import * as path from 'node:path';
import pino, { type Logger } from 'pino';
import type { Stage } from '../common/api';
import { masterKeyId } from './crypto/envelope';
import { decodeKey, KeySourceError, resolveMasterKey, type MasterKeySource, type ResolvedMasterKey } from './crypto/keySources';
import { MasterKeyMismatchError } from './services/errors';
import type { AuditActor } from './audit/chain';
import { Portal } from './services/portal';
import { SqliteStorage } from './store/sqlite/sqliteStorage';
import { PgStorage } from './store/postgres/pgStorage';
import { prettyStderr, type LogFormat } from './logFormat';

export const DEFAULT_STAGES = 'development:Development,qa:QA,production:Production';

export function parseStages(text: string): Stage[] {
  const stages = text.split(',').map((part) => {
    const [key, ...rest] = part.trim().split(':');
    const name = rest.join(':').trim() || key!;
    if (!key || !/^[a-z][a-z0-9-]{0,31}$/.test(key)) throw new Error(`invalid stage "${part}": use key:Name with a key of a-z, 0-9 and "-"`);
    return { key, name };
  });
  if (new Set(stages.map((s) => s.key)).size !== stages.length) throw new Error('stage keys must be unique');
  return stages;
}

export function packageVersion(): string {
  let dir = __dirname;
  for (let i = 0; i < 5; i++) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'odc-settings' && pkg.version) return pkg.version;
    }
    dir = path.dirname(dir);
  }
  return '0.0.0';
}

/** Logs go to stderr so a command's stdout stays clean. Redaction is a second line of defence. */
export function createLogger(level = process.env.PORTAL_LOG_LEVEL ?? 'info', format: LogFormat = 'json'): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      redact: { paths: ['*.authorization', '*.token', '*.value', '*.secret', '*.password', '*.key', 'headers', 'body'], censor: '[redacted]' },
    },
    format === 'pretty' ? prettyStderr(process.stderr.isTTY === true && !process.env.NO_COLOR) : pino.destination({ fd: 2, sync: true }),
  );
}

export interface OpenedStore {
  portal: Portal;
  masterKey: Buffer;
  source: MasterKeySource;
}

export interface OpenStoreOptions {
  dataDir: string;
  stages: Stage[];
  env: NodeJS.ProcessEnv;
  logger: Logger;
  create: boolean;
  /** PostgreSQL instead of the embedded store (--database-url, PORTAL_DATABASE_URL). */
  databaseUrl?: string;
  /** Listen to the change feed (serve; a one-shot command does not cache). */
  listen?: boolean;
  /** Create the first admin token when the store has none (serve); given the token once. */
  firstAdmin?: { actor: AuditActor; onCreated: (token: string) => Promise<void> | void };
}

export async function openStore(opts: OpenStoreOptions): Promise<OpenedStore> {
  if (opts.databaseUrl) return openPostgresStore({ ...opts, databaseUrl: opts.databaseUrl });
  const dataDir = path.resolve(opts.dataDir);
  const dbFile = path.join(dataDir, 'portal.db');
  const exists = fs.existsSync(dbFile);
  if (!exists && !opts.create) throw new Error(`no store in ${dataDir}; start the server once with: odc-portal serve --data-dir ${opts.dataDir}`);
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const log = { info: (m: string) => opts.logger.info(m), warn: (m: string) => opts.logger.warn(m) };
  // Opening reads the key file, then the store's committed key id, then the keys: a rotation run
  // by another process can commit (and promote its key file) in between. The store is then under
  // a key this process did not read: read both again rather than refuse a key that was right.
  for (let attempt = 1; ; attempt++) {
    const resolved = await resolveMasterKey({ dataDir, env: opts.env, log, allowCreate: !exists });
    const storage = new SqliteStorage(dbFile, log);
    let committedId: string | null = null;
    try {
      committedId = await storage.meta('master_key_id');
      return await openWithKey(opts, dbFile, storage, resolved, committedId);
    } catch (err) {
      const moved = err instanceof MasterKeyMismatchError && attempt < 5 && (await keyMovedSince(storage, resolved, committedId).catch(() => false));
      await storage.close();
      if (!moved) throw err;
      await new Promise((r) => setTimeout(r, 25 * attempt));
    }
  }
}

/** Whether a rotation committed, or promoted its key file, since this attempt read both (a wrong key moves neither). */
async function keyMovedSince(storage: SqliteStorage, resolved: ResolvedMasterKey, committedId: string | null): Promise<boolean> {
  const onDisk = await resolved.source.load();
  return (await storage.meta('master_key_id')) !== committedId || !onDisk?.equals(resolved.key);
}

async function openWithKey(opts: OpenStoreOptions, dbFile: string, storage: SqliteStorage, resolved: ResolvedMasterKey, committedId: string | null): Promise<OpenedStore> {
  let masterKey = resolved.key;
  // A rotation that committed but did not promote its new key (crash in between) is finished
  // here: only the pending key whose id the store committed to is used and promoted (SPEC §5).
  const pending = committedId !== null && committedId !== masterKeyId(masterKey) ? await resolved.source.loadPending(committedId) : null;
  const portal = await Portal.open({ storage, masterKey, alternateMasterKey: pending ?? undefined, stages: opts.stages, firstAdmin: opts.firstAdmin, historyVersions: envInt(opts.env, 'PORTAL_HISTORY_VERSIONS', 20) });
  if (portal.usedAlternateKey) {
    masterKey = pending!;
    if (resolved.source.kind === 'environment') opts.logger.warn('the store is under PORTAL_NEW_MASTER_KEY: move it to PORTAL_MASTER_KEY');
    else {
      await resolved.source.promotePending(committedId!);
      opts.logger.warn('finished an interrupted key rotation: the new master key is now current');
    }
  }
  // Owner-only, the WAL and its index included: SQLite created them (on a first start) with the
  // process umask, before this chmod, and the WAL holds values and ciphertexts like the database.
  for (const file of [dbFile, `${dbFile}-wal`, `${dbFile}-shm`]) if (fs.existsSync(file)) fs.chmodSync(file, 0o600);
  opts.logger.info(`master key source: ${resolved.source.describe}${resolved.created ? ' (created)' : ''}`);
  await warnUnconfiguredStages(portal, opts.logger);
  return { portal, masterKey, source: resolved.source };
}

/** SPEC §3: values in a stage that is no longer configured are kept (and deleted by publishes); say so at start. */
async function warnUnconfiguredStages(portal: Portal, logger: Logger): Promise<void> {
  const configured = new Set(portal.stages.map((s) => s.key));
  const orphaned = (await portal.storage.storedStages()).filter((p) => !configured.has(p.stage)).map((p) => `${p.app}/${p.stage}`);
  if (orphaned.length === 0) return;
  logger.warn(
    `the store holds values in stages that are not configured: ${orphaned.slice(0, 20).join(', ')}${orphaned.length > 20 ? ', ...' : ''}; they are not served, and publishes still delete them as planned (add the stage to --stages to edit them)`,
  );
}

function envInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new KeySourceError(`${name} must be a positive whole number`);
  return n;
}

/** A URL for logs: the password never. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(a database URL that does not parse)';
  }
}

/**
 * The PostgreSQL store (SPEC §11). Every instance needs the same PORTAL_MASTER_KEY: the keychain
 * and key file sources belong to the embedded store, whose data dir is one machine's.
 */
async function openPostgresStore(opts: OpenStoreOptions & { databaseUrl: string }): Promise<OpenedStore> {
  const env = opts.env;
  if (!env.PORTAL_MASTER_KEY) {
    throw new KeySourceError(
      'no master key found: with a database URL, set PORTAL_MASTER_KEY (32 bytes, base64; the same on every instance). odc-portal migrate prints the key of a moved embedded store.',
    );
  }
  const log = { info: (m: string) => opts.logger.info(m), warn: (m: string) => opts.logger.warn(m) };
  const resolved = await resolveMasterKey({ dataDir: opts.dataDir, env, log, allowCreate: false });
  const pending = env.PORTAL_NEW_MASTER_KEY ? decodeKey(env.PORTAL_NEW_MASTER_KEY, 'PORTAL_NEW_MASTER_KEY') : null;
  if (opts.firstAdmin) fs.mkdirSync(path.resolve(opts.dataDir), { recursive: true, mode: 0o700 });
  const storage = new PgStorage({
    url: opts.databaseUrl,
    logger: opts.logger,
    poolMax: envInt(env, 'PORTAL_DB_POOL_MAX', 10),
    connectTimeoutMs: envInt(env, 'PORTAL_DB_CONNECT_TIMEOUT_MS', 2_000),
    queryTimeoutMs: envInt(env, 'PORTAL_DB_QUERY_TIMEOUT_MS', 5_000),
    noFeed: !opts.listen,
    create: opts.create,
  });
  let portal: Portal;
  try {
    portal = await Portal.open({ storage, masterKey: resolved.key, alternateMasterKey: pending ?? undefined, stages: opts.stages, firstAdmin: opts.firstAdmin, historyVersions: envInt(env, 'PORTAL_HISTORY_VERSIONS', 20) });
    if (opts.listen) await storage.listen();
  } catch (err) {
    await storage.close().catch(() => {});
    throw err;
  }
  if (portal.usedAlternateKey) opts.logger.warn('the store is under PORTAL_NEW_MASTER_KEY: move it to PORTAL_MASTER_KEY');
  await warnUnconfiguredStages(portal, opts.logger);
  opts.logger.info(`store: PostgreSQL at ${redactUrl(opts.databaseUrl)}; master key source: ${resolved.source.describe}`);
  return { portal, masterKey: portal.usedAlternateKey ? pending! : resolved.key, source: resolved.source };
}
