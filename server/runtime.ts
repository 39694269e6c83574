// Opening the store with its master key, shared by `serve` and the admin commands.
import * as fs from 'node:fs';
import * as path from 'node:path';
import pino, { type Logger } from 'pino';
import type { Stage } from '../common/api';
import { resolveMasterKey, type MasterKeySource } from './crypto/keySources';
import { prettyStderr, type LogFormat } from './logFormat';
import { Store } from './store/store';

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
  store: Store;
  masterKey: Buffer;
  source: MasterKeySource;
}

export async function openStore(opts: { dataDir: string; stages: Stage[]; env: NodeJS.ProcessEnv; logger: Logger; create: boolean }): Promise<OpenedStore> {
  const dataDir = path.resolve(opts.dataDir);
  const dbFile = path.join(dataDir, 'portal.db');
  const exists = fs.existsSync(dbFile);
  if (!exists && !opts.create) throw new Error(`no store in ${dataDir}; start the server once with: odc-portal serve --data-dir ${opts.dataDir}`);
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const log = { info: (m: string) => opts.logger.info(m), warn: (m: string) => opts.logger.warn(m) };
  const resolved = await resolveMasterKey({ dataDir, env: opts.env, log, allowCreate: !exists });
  let masterKey = resolved.key;
  // A rotation that committed but did not promote its new key (crash in between) is finished here.
  const pending = await resolved.source.loadPending();
  const store = new Store({ file: dbFile, masterKey, alternateMasterKey: pending ?? undefined, stages: opts.stages });
  if (store.usedAlternateKey) {
    masterKey = pending!;
    if (resolved.source.kind === 'environment') opts.logger.warn('the store is under PORTAL_NEW_MASTER_KEY: move it to PORTAL_MASTER_KEY');
    else {
      await resolved.source.promotePending();
      opts.logger.warn('finished an interrupted key rotation: the new master key is now current');
    }
  }
  // Owner-only, the WAL and its index included: SQLite created them (on a first start) with the
  // process umask, before this chmod, and the WAL holds values and ciphertexts like the database.
  for (const file of [dbFile, `${dbFile}-wal`, `${dbFile}-shm`]) if (fs.existsSync(file)) fs.chmodSync(file, 0o600);
  opts.logger.info(`master key source: ${resolved.source.describe}${resolved.created ? ' (created)' : ''}`);
  return { store, masterKey, source: resolved.source };
}
