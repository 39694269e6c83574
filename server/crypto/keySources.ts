// Where the master key comes from (SPEC §5), in order: PORTAL_MASTER_KEY, the OS
// keychain through keytar (only after a write-and-read-back probe, since a locked
// keyring answers null silently), then a key file in the data dir (mode 0600).
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KEY_BYTES, newKey } from './envelope';

export type KeySourceKind = 'environment' | 'keychain' | 'file';

export interface MasterKeySource {
  kind: KeySourceKind;
  /** Human description for the start-up line; never the key. */
  describe: string;
  load(): Promise<Buffer | null>;
  /** Stores a new key as "pending" before a rotation commits. */
  stagePending(key: Buffer): Promise<void>;
  /** Makes the pending key current, after the rotation committed. */
  promotePending(): Promise<void>;
  loadPending(): Promise<Buffer | null>;
  save(key: Buffer): Promise<void>;
}

export interface KeyLog {
  info(msg: string): void;
  warn(msg: string): void;
}

export class KeySourceError extends Error {}

export function decodeKey(text: string, what: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== KEY_BYTES || key.toString('base64') !== text.trim()) {
    throw new KeySourceError(`${what} must be ${KEY_BYTES} bytes encoded as base64 (generate one with: openssl rand -base64 32)`);
  }
  return key;
}

class EnvironmentKeySource implements MasterKeySource {
  readonly kind = 'environment';
  readonly describe = 'environment variable PORTAL_MASTER_KEY';
  constructor(private readonly env: NodeJS.ProcessEnv) {}
  async load() {
    return decodeKey(this.env.PORTAL_MASTER_KEY ?? '', 'PORTAL_MASTER_KEY');
  }
  async loadPending() {
    const next = this.env.PORTAL_NEW_MASTER_KEY;
    return next ? decodeKey(next, 'PORTAL_NEW_MASTER_KEY') : null;
  }
  async stagePending() {
    // The operator supplies the new key in PORTAL_NEW_MASTER_KEY and swaps the variable afterwards.
  }
  async promotePending() {}
  async save() {
    throw new KeySourceError('the environment key source cannot store a key; set PORTAL_MASTER_KEY yourself');
  }
}

export class FileKeySource implements MasterKeySource {
  readonly kind = 'file';
  readonly describe: string;
  constructor(private readonly file: string) {
    this.describe = `key file ${file}`;
  }
  private get pendingFile() {
    return `${this.file}.next`;
  }
  private read(file: string): Buffer | null {
    if (!fs.existsSync(file)) return null;
    const mode = fs.statSync(file).mode & 0o777;
    if (mode & 0o077) throw new KeySourceError(`${file} is readable by others (mode ${mode.toString(8)}); run: chmod 600 ${file}`);
    return decodeKey(fs.readFileSync(file, 'utf8'), file);
  }
  private write(file: string, key: Buffer) {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
    fs.writeFileSync(tmp, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
    fs.renameSync(tmp, file);
  }
  async load() {
    return this.read(this.file);
  }
  async loadPending() {
    return this.read(this.pendingFile);
  }
  async save(key: Buffer) {
    this.write(this.file, key);
  }
  async stagePending(key: Buffer) {
    this.write(this.pendingFile, key);
  }
  async promotePending() {
    fs.renameSync(this.pendingFile, this.file);
  }
}

interface Keytar {
  getPassword(service: string, account: string): Promise<string | null>;
  setPassword(service: string, account: string, password: string): Promise<void>;
  deletePassword(service: string, account: string): Promise<boolean>;
}

/**
 * How long one keychain call may take. A secret service that never answers (a D-Bus peer
 * that accepts and stays silent, a keyring waiting on an unlock prompt nobody sees) would
 * otherwise hang the server at start for good: keytar/libsecret have no deadline of their own.
 */
export const KEYCHAIN_TIMEOUT_MS = 5_000;

function deadline<T>(call: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new KeySourceError(`no answer within ${ms / 1000} s to a ${what}`)), ms);
  });
  return Promise.race([call, late]).finally(() => clearTimeout(timer));
}

/** keytar with a deadline on every call. */
function withDeadline(keytar: Keytar, ms: number): Keytar {
  return {
    getPassword: (service, account) => deadline(keytar.getPassword(service, account), ms, 'keychain read'),
    setPassword: (service, account, password) => deadline(keytar.setPassword(service, account, password), ms, 'keychain write'),
    deletePassword: (service, account) => deadline(keytar.deletePassword(service, account), ms, 'keychain delete'),
  };
}

const KEYCHAIN_SERVICE = 'odc-portal';

export class KeychainKeySource implements MasterKeySource {
  readonly kind = 'keychain';
  readonly describe: string;
  readonly account: string;
  constructor(private readonly keytar: Keytar, dataDir: string) {
    // One entry per data dir, so two stores on one machine never share a key by accident.
    this.account = `master-key:${path.resolve(dataDir)}`;
    this.describe = `OS keychain (service "${KEYCHAIN_SERVICE}", account "${this.account}")`;
  }
  async load() {
    const text = await this.keytar.getPassword(KEYCHAIN_SERVICE, this.account);
    return text ? decodeKey(text, 'the keychain entry') : null;
  }
  async loadPending() {
    const text = await this.keytar.getPassword(KEYCHAIN_SERVICE, `${this.account}:next`);
    return text ? decodeKey(text, 'the pending keychain entry') : null;
  }
  async save(key: Buffer) {
    await this.keytar.setPassword(KEYCHAIN_SERVICE, this.account, key.toString('base64'));
  }
  async stagePending(key: Buffer) {
    await this.keytar.setPassword(KEYCHAIN_SERVICE, `${this.account}:next`, key.toString('base64'));
  }
  async promotePending() {
    const next = await this.loadPending();
    if (!next) throw new KeySourceError('no pending key in the keychain');
    await this.save(next);
    await this.keytar.deletePassword(KEYCHAIN_SERVICE, `${this.account}:next`);
  }
}

type ProbeResult = { kind: 'ok' } | { kind: 'mismatch' } | { kind: 'error'; message: string } | { kind: 'timeout' };

/**
 * The write-and-read-back probe, run in a child process. A keytar call cannot be cancelled:
 * one stuck on a secret service that never answers would hang this process at start, and
 * again at exit (libuv waits for the thread it occupies). A child can be killed.
 */
function probeInChild(modulePath: string, timeoutMs: number): Promise<ProbeResult> {
  const script = `
    const k = require(${JSON.stringify(modulePath)}); const m = k.default || k;
    const v = require('node:crypto').randomBytes(16).toString('hex'); const s = ${JSON.stringify(KEYCHAIN_SERVICE)};
    (async () => { await m.setPassword(s, 'probe', v); const b = await m.getPassword(s, 'probe'); await m.deletePassword(s, 'probe'); return b === v ? 'ok' : 'mismatch'; })()
      .then((r) => process.stdout.write(r), (e) => process.stdout.write('error:' + String((e && e.message) || e).split('\\n')[0]));`;
  return new Promise((resolve) => {
    execFile(process.execPath, ['-e', script], { timeout: timeoutMs, killSignal: 'SIGKILL', encoding: 'utf8', windowsHide: true }, (err, stdout) => {
      if (err && (err as { killed?: boolean }).killed) return resolve({ kind: 'timeout' });
      if (stdout === 'ok' || stdout === 'mismatch') return resolve({ kind: stdout });
      if (stdout.startsWith('error:')) return resolve({ kind: 'error', message: stdout.slice(6) });
      resolve({ kind: 'error', message: err ? err.message.split('\n')[0]! : 'the probe gave no answer' });
    });
  });
}

/** Loads keytar if installed and proves the keychain stores and returns a value. */
export async function probeKeychain(log: KeyLog, timeoutMs = KEYCHAIN_TIMEOUT_MS): Promise<Keytar | null> {
  let keytar: Keytar;
  let modulePath: string;
  try {
    const req = createRequire(__filename);
    modulePath = req.resolve('keytar');
    const mod = req(modulePath) as Keytar & { default?: Keytar };
    keytar = withDeadline(mod.default ?? mod, timeoutMs);
  } catch (err) {
    log.warn(`OS keychain unavailable (keytar not installed: ${(err as Error).message.split('\n')[0]}); falling back to the key file`);
    return null;
  }
  const probe = await probeInChild(modulePath, timeoutMs);
  switch (probe.kind) {
    case 'ok':
      return keytar;
    case 'mismatch':
      log.warn('OS keychain did not return what was written (locked keyring?); falling back to the key file');
      return null;
    case 'timeout':
      log.warn(`OS keychain did not answer within ${timeoutMs / 1000} s (a locked keyring waiting for an unlock prompt, or a secret service that does not respond); falling back to the key file`);
      return null;
    case 'error':
      log.warn(`OS keychain unavailable (${probe.message}); falling back to the key file`);
      return null;
  }
}

export interface ResolvedMasterKey {
  key: Buffer;
  source: MasterKeySource;
  created: boolean;
}

/**
 * Picks the source and loads the key, creating one on first start (not with the
 * environment source, where the operator owns the key).
 */
export async function resolveMasterKey(opts: {
  dataDir: string;
  env: NodeJS.ProcessEnv;
  log: KeyLog;
  allowCreate: boolean;
}): Promise<ResolvedMasterKey> {
  const { dataDir, env, log } = opts;
  if (env.PORTAL_MASTER_KEY !== undefined && env.PORTAL_MASTER_KEY !== '') {
    const source = new EnvironmentKeySource(env);
    return { key: (await source.load())!, source, created: false };
  }
  const file = new FileKeySource(path.join(dataDir, 'master.key'));
  const fileKey = await file.load();
  const keychainOff = (env.PORTAL_KEYCHAIN ?? '').toLowerCase() === 'off';
  if (keychainOff) log.info('OS keychain skipped (PORTAL_KEYCHAIN=off)');
  const keytar = keychainOff ? null : await probeKeychain(log);
  if (keytar) {
    const source = new KeychainKeySource(keytar, dataDir);
    const key = await source.load();
    if (key) return { key, source, created: false };
    // A store that already lives on a key file keeps using it.
    if (!fileKey && opts.allowCreate) {
      const fresh = newKey();
      await source.save(fresh);
      const back = await source.load();
      if (back?.equals(fresh)) return { key: fresh, source, created: true };
      log.warn('OS keychain did not keep the new master key; falling back to the key file');
    }
  }
  if (fileKey) return { key: fileKey, source: file, created: false };
  if (!opts.allowCreate) throw new KeySourceError(`no master key found (looked in PORTAL_MASTER_KEY, the OS keychain and ${file.describe})`);
  const fresh = newKey();
  await file.save(fresh);
  return { key: fresh, source: file, created: true };
}
