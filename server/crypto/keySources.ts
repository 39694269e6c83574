// Where the master key comes from (SPEC §5), in order: PORTAL_MASTER_KEY, the OS
// keychain through keytar (only after a write-and-read-back probe, since a locked
// keyring answers null silently), then a key file in the data dir (mode 0600).
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KEY_BYTES, masterKeyId, newKey } from './envelope';

export type KeySourceKind = 'environment' | 'keychain' | 'file';

export interface MasterKeySource {
  kind: KeySourceKind;
  /** Human description for the start-up line; never the key. */
  describe: string;
  load(): Promise<Buffer | null>;
  /**
   * Stores a new key as "pending" before a rotation commits. Pending keys are named by their
   * key id (masterKeyId), so two rotations never overwrite each other's pending key, and only
   * the one the store committed to is ever promoted.
   */
  stagePending(key: Buffer): Promise<void>;
  /**
   * Makes the pending key with this id current, after the rotation committed. Idempotent: if
   * another process (a server starting meanwhile) promoted it already, there is nothing to do.
   */
  promotePending(id: string): Promise<void>;
  /** The pending key with this id (the store's committed key id), or null. */
  loadPending(id: string): Promise<Buffer | null>;
  /** Removes the pending key with this id (a rotation that did not commit). */
  discardPending(id: string): Promise<void>;
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

export class EnvironmentKeySource implements MasterKeySource {
  readonly kind = 'environment';
  readonly describe = 'environment variable PORTAL_MASTER_KEY';
  constructor(private readonly env: NodeJS.ProcessEnv) {}
  async load() {
    return decodeKey(this.env.PORTAL_MASTER_KEY ?? '', 'PORTAL_MASTER_KEY');
  }
  /** The operator's new key (PORTAL_NEW_MASTER_KEY), if any. */
  operatorKey(): Buffer | null {
    const next = this.env.PORTAL_NEW_MASTER_KEY;
    return next ? decodeKey(next, 'PORTAL_NEW_MASTER_KEY') : null;
  }
  async loadPending(id: string) {
    const next = this.operatorKey();
    return next && masterKeyId(next) === id ? next : null;
  }
  async stagePending() {
    // The operator supplies the new key in PORTAL_NEW_MASTER_KEY and swaps the variable afterwards.
  }
  async promotePending() {}
  async discardPending() {}
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
  private pendingFile(id: string) {
    return `${this.file}.next-${id}`;
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
  async loadPending(id: string) {
    return this.read(this.pendingFile(id));
  }
  async save(key: Buffer) {
    this.write(this.file, key);
  }
  async stagePending(key: Buffer) {
    this.write(this.pendingFile(masterKeyId(key)), key);
  }
  async promotePending(id: string) {
    try {
      fs.renameSync(this.pendingFile(id), this.file);
    } catch (err) {
      // Already promoted by another process (rename is atomic: exactly one of them moved it).
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      const current = this.read(this.file);
      if (!current || masterKeyId(current) !== id) throw new KeySourceError(`no pending key file with the committed key id (${this.pendingFile(id)})`);
    }
  }
  async discardPending(id: string) {
    fs.rmSync(this.pendingFile(id), { force: true });
  }
  /**
   * Removes pending key files other than `keepId`'s: left by rotations killed before their
   * commit. Call only while holding the rotation lock (no other rotation can be mid-way).
   */
  discardStalePending(keepId: string) {
    const dir = path.dirname(this.file);
    const prefix = `${path.basename(this.file)}.next`;
    for (const name of fs.readdirSync(dir)) {
      if (name.startsWith(prefix) && name !== path.basename(this.pendingFile(keepId))) fs.rmSync(path.join(dir, name), { force: true });
    }
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
  private pendingAccount(id: string) {
    return `${this.account}:next:${id}`;
  }
  async loadPending(id: string) {
    const text = await this.keytar.getPassword(KEYCHAIN_SERVICE, this.pendingAccount(id));
    return text ? decodeKey(text, 'the pending keychain entry') : null;
  }
  async save(key: Buffer) {
    await this.keytar.setPassword(KEYCHAIN_SERVICE, this.account, key.toString('base64'));
  }
  async stagePending(key: Buffer) {
    await this.keytar.setPassword(KEYCHAIN_SERVICE, this.pendingAccount(masterKeyId(key)), key.toString('base64'));
  }
  async promotePending(id: string) {
    const next = await this.loadPending(id);
    if (!next) {
      // Promoted already by another process: the current entry holds this very key.
      const current = await this.load();
      if (current && masterKeyId(current) === id) return;
      throw new KeySourceError('no pending key with the committed key id in the keychain');
    }
    await this.save(next);
    await this.keytar.deletePassword(KEYCHAIN_SERVICE, this.pendingAccount(id));
  }
  async discardPending(id: string) {
    await this.keytar.deletePassword(KEYCHAIN_SERVICE, this.pendingAccount(id));
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
