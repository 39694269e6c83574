// Starts the real portal server (`odc-portal serve`, the built bundle) as a child process
// on a loopback port with its own data dir, and talks to it over real HTTP.
// The store under test: `ODC_TEST_STORE=postgres` runs every portal of the suite on a fresh
// database of a private PostgreSQL cluster (test/support/postgres.ts), SQLite otherwise, so the
// same tests hold for both stores (SPEC §11).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { after } from 'node:test';
import { testCluster } from './postgres';

export const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin/odc-portal.js');
let built = false;

/** Builds dist/server.js once per test process, so a test file also runs on its own. */
export function ensureServerBuilt(): void {
  if (built) return;
  execFileSync(process.execPath, [path.join(ROOT, 'scripts/build.mjs'), 'server'], { cwd: ROOT, stdio: 'ignore' });
  built = true;
}

export type StoreKind = 'sqlite' | 'postgres';
export const STORE: StoreKind = process.env.ODC_TEST_STORE === 'postgres' ? 'postgres' : 'sqlite';

/**
 * A PostgreSQL portal's database and master key, by its data dir (a restart finds them again).
 * The key is null when the test gave its own PORTAL_MASTER_KEY at the first start: then the
 * test decides which key (or none) each later start gets, as with SQLite's environment source.
 */
const pgStores = new Map<string, { url: string; masterKey: string | null }>();

/** The environment that points a portal (or a CLI command) with this data dir at its store. */
export async function storeEnv(dataDir: string, env: Record<string, string | undefined> = {}): Promise<Record<string, string>> {
  if (STORE !== 'postgres') return {};
  const key = path.resolve(dataDir);
  let pg = pgStores.get(key);
  if (!pg) {
    const cluster = await testCluster();
    pg = { url: await cluster.createDatabase('portal'), masterKey: env.PORTAL_MASTER_KEY ? null : randomBytes(32).toString('base64') };
    pgStores.set(key, pg);
  }
  return pgEnv(pg);
}

function pgEnv(pg: { url: string; masterKey: string | null }): Record<string, string> {
  return { PORTAL_DATABASE_URL: pg.url, ...(pg.masterKey ? { PORTAL_MASTER_KEY: pg.masterKey } : {}) };
}

/** storeEnv for a data dir whose store exists already (sync: for runCli). */
function knownStoreEnv(args: string[]): Record<string, string> {
  if (STORE !== 'postgres') return {};
  const i = args.indexOf('--data-dir');
  const pg = i >= 0 ? pgStores.get(path.resolve(args[i + 1]!)) : undefined;
  return pg ? pgEnv(pg) : {};
}

/** A PostgreSQL portal's database and master key (for tests that look into the store). */
export function pgStoreOf(dataDir: string): { url: string; masterKey: string | null } {
  const pg = pgStores.get(path.resolve(dataDir));
  if (!pg) throw new Error(`no PostgreSQL store for ${dataDir}`);
  return pg;
}

/** Makes `dataDir` a portal on this database and key (a copy of another's store). */
export function registerPgStore(dataDir: string, pg: { url: string; masterKey: string | null }): void {
  pgStores.set(path.resolve(dataDir), pg);
}

export function tempDir(prefix = 'odc-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  text: string;
  body: T;
}

export interface Portal {
  url: string;
  dataDir: string;
  /** The admin token printed at first start (undefined after a restart on an existing store). */
  adminToken: string;
  proc: ChildProcess;
  /** Everything the server printed (stdout and stderr), for canary searches. */
  output(): string;
  api<T = any>(method: string, route: string, opts?: { token?: string | null; body?: unknown; raw?: string | Buffer; headers?: Record<string, string> }): Promise<ApiResponse<T>>;
  stop(): Promise<void>;
  kill9(): Promise<void>;
}

export interface StartOptions {
  dataDir?: string;
  env?: Record<string, string | undefined>;
  args?: string[];
  /** Re-use the admin token of an earlier start on the same data dir. */
  adminToken?: string;
  /** The embedded store whatever the suite's store (the source of `odc-portal migrate`). */
  sqlite?: boolean;
}

export function cliEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  return { ...process.env, PORTAL_KEYCHAIN: 'off', PORTAL_MASTER_KEY: undefined, PORTAL_LOG_LEVEL: 'info', ...extra };
}

/** Runs an `odc-portal` command to completion. */
export function runCli(args: string[], env: Record<string, string | undefined> = {}, cwd = ROOT): { code: number; stdout: string; stderr: string } {
  ensureServerBuilt();
  try {
    const stdout = execFileSync(process.execPath, [BIN, ...args], { cwd, env: cliEnv({ ...knownStoreEnv(args), ...env }), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { code: 0, stdout, stderr: '' };
  } catch (err) {
    const e = err as { status: number; stdout: string; stderr: string };
    return { code: e.status ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** Spawns `odc-portal serve` on 127.0.0.1 port 0 and collects everything it prints. */
async function spawnServe(opts: StartOptions): Promise<{ proc: ChildProcess; dataDir: string; output: () => string }> {
  ensureServerBuilt();
  const dataDir = opts.dataDir ?? path.join(tempDir(), 'data');
  const store = opts.sqlite ? {} : await storeEnv(dataDir, opts.env);
  const proc = spawn(process.execPath, [BIN, 'serve', '--data-dir', dataDir, '--host', '127.0.0.1', '--port', '0', ...(opts.args ?? [])], {
    cwd: ROOT,
    env: cliEnv({ ...store, ...opts.env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  return { proc, dataDir, output: () => out };
}

export async function startPortal(opts: StartOptions = {}): Promise<Portal> {
  const { proc, dataDir, output } = await spawnServe(opts);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      // A server that hangs at start must not outlive the test (its pipes would keep the test process alive).
      proc.kill('SIGKILL');
      reject(new Error(`server did not start in 20 s:\n${output()}`));
    }, 20_000);
    const check = () => {
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output());
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    proc.stdout!.on('data', check);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${output()}`));
    });
  });
  const printed = /^\s+(odcp_[A-Za-z0-9_-]+)$/m.exec(output())?.[1];
  const adminToken = printed ?? opts.adminToken ?? '';
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const portal: Portal = {
    url,
    dataDir,
    adminToken,
    proc,
    output,
    async api(method, route, o = {}) {
      const headers: Record<string, string> = { ...(o.headers ?? {}) };
      const token = o.token === undefined ? portal.adminToken : o.token;
      if (token) headers.authorization = `Bearer ${token}`;
      let body: string | Uint8Array<ArrayBuffer> | undefined;
      if (o.raw !== undefined) body = typeof o.raw === 'string' ? o.raw : Uint8Array.from(o.raw);
      else if (o.body !== undefined) {
        body = JSON.stringify(o.body);
        headers['content-type'] ??= 'application/json';
      }
      const res = await fetch(`${url}${route.startsWith('/api/') ? '' : '/api/v1'}${route}`, { method, headers, body });
      const text = await res.text();
      let parsed: unknown = undefined;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      return { status: res.status, headers: res.headers, text, body: parsed as any };
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await exited;
    },
    async kill9() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
  };
  return portal;
}

/** Every file under a directory, recursively (for canary searches). */
export function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(full));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

/** The encodings a leaked value could hide in. */
export function canaryForms(canary: string): string[] {
  const forms = new Set([
    canary,
    Buffer.from(canary).toString('base64'),
    Buffer.from(canary).toString('base64url'),
    Buffer.from(canary).toString('hex'),
    encodeURIComponent(canary),
    JSON.stringify(canary).slice(1, -1),
    canary.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;'),
  ]);
  return [...forms].filter((f) => f.length >= 8);
}

export function containsCanary(haystack: string | Buffer, canary: string): string | null {
  const text = typeof haystack === 'string' ? haystack : haystack.toString('latin1');
  for (const form of canaryForms(canary)) if (text.includes(form)) return form;
  return null;
}

export const SAMPLE_DEFINITIONS = {
  app: { key: 'orders', name: 'Orders' },
  settings: [
    { name: 'PaymentApiKey', type: 'Text', description: 'Key for the payment gateway', isSecret: true },
    { name: 'MaxRetries', type: 'Integer', defaultValue: '3' },
    { name: 'Greeting', type: 'Text', defaultValue: 'hello' },
  ],
};

/**
 * Like `portal.api`, but sent from another loopback source address (127.0.0.x; Linux routes
 * all of 127/8 to lo), so the server's failed-authentication limiter sees a different client.
 * Lets a test make many failed sign-ins without blocking the client the other tests use.
 */
export function apiFrom<T = any>(
  portal: Pick<Portal, 'url' | 'adminToken'>,
  localAddress: string,
  method: string,
  route: string,
  opts: { token?: string | null; body?: unknown; headers?: Record<string, string> } = {},
): Promise<ApiResponse<T>> {
  const target = new URL(`${portal.url}${route.startsWith('/api/') ? '' : '/api/v1'}${route}`);
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  const token = opts.token === undefined ? portal.adminToken : opts.token;
  if (token) headers.authorization = `Bearer ${token}`;
  const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  if (payload !== undefined) {
    headers['content-type'] ??= 'application/json';
    headers['content-length'] = String(Buffer.byteLength(payload));
  }
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: target.hostname, port: Number(target.port), path: target.pathname + target.search, method, headers, localAddress, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const h = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(', ') : v);
          let body: unknown = undefined;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            body = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: h, text, body: body as T });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** A recognisable secret value that no fixture or code path would produce on its own. */
export function newCanary(label = 'CANARY'): string {
  return `${label}-${randomBytes(12).toString('hex')}`;
}

/** Removes a test's temp directory (the parent of a portal's data dir when it was created by startPortal). */
/**
 * Portals started by one test file, stopped (and their temp dirs removed) after it: `start` as
 * startPortal, `stop` for one stopped on purpose, `removeAfter` for a dir the file made itself.
 * A portal started on an existing dataDir leaves that dir to whoever made it.
 */
export function portalsForThisFile(): { start(opts?: StartOptions): Promise<Portal>; stop(p: Portal): Promise<void>; removeAfter(dir: string): void } {
  const running: Portal[] = [];
  const dirs: string[] = [];
  after(async () => {
    for (const p of running) await p.stop();
    for (const dir of dirs) removeDir(dir);
  });
  return {
    async start(opts: StartOptions = {}) {
      const p = await startPortal(opts);
      running.push(p);
      if (!opts.dataDir) dirs.push(path.dirname(p.dataDir));
      return p;
    },
    async stop(p: Portal) {
      await p.stop();
      running.splice(running.indexOf(p), 1);
    },
    removeAfter: (dir: string) => void dirs.push(dir),
  };
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

// ---- helpers for the server tests (publish, values, encryption, keys, errors, restart) ----

/** A definitions document for `key` (a fresh app per test keeps tests independent). */
export function defsFor(key: string, settings: unknown[], name = `App ${key}`): { app: { key: string; name: string }; settings: unknown[] } {
  return { app: { key, name }, settings };
}

/** Creates a runtime token for exactly one app and one stage (SPEC §6) with the admin token. */
export async function createRuntimeToken(portal: Pick<Portal, 'api'>, app: string, stage: string): Promise<string> {
  const res = await portal.api<{ id: string; token: string }>('POST', '/tokens', { body: { name: `runtime ${app}/${stage}`, role: 'runtime', apps: [app], stages: [stage] } });
  if (res.status !== 201) throw new Error(`could not create a runtime token (${res.status}): ${res.text}`);
  return res.body.token;
}

/** The store's files that could hold a value: the database, its WAL and a rollback journal (missing ones are skipped). */
export function storeFiles(dataDir: string): Array<{ file: string; bytes: Buffer }> {
  return ['portal.db', 'portal.db-wal', 'portal.db-journal', 'portal.db-shm']
    .map((f) => path.join(dataDir, f))
    .filter((f) => fs.existsSync(f))
    .map((file) => ({ file, bytes: fs.readFileSync(file) }));
}

/** Starts `odc-portal serve` expecting it to refuse to start; resolves with its exit code and output. */
export async function startExpectingFailure(opts: StartOptions = {}, timeoutMs = 20_000): Promise<{ code: number | null; output: string }> {
  const { proc, output } = await spawnServe(opts);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`the server was expected to refuse to start but was still running after ${timeoutMs} ms:\n${output()}`));
    }, timeoutMs);
    proc.stdout!.on('data', () => {
      if (/listening on http/.test(output())) {
        clearTimeout(timer);
        proc.kill('SIGKILL');
        reject(new Error(`the server was expected to refuse to start but it listens:\n${output()}`));
      }
    });
    proc.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output: output() });
    });
  });
}

/** Asserts an RFC 9457 problem response with this status, a title and a detail (SPEC §8). */
export function assertProblem(res: ApiResponse, status: number): { status: number; title: string; detail: string; [k: string]: unknown } {
  const where = `${res.status} ${res.text.slice(0, 500)}`;
  if (res.status !== status) throw new Error(`expected status ${status}, got ${where}`);
  const type = res.headers.get('content-type') ?? '';
  if (!/^application\/problem\+json\b/.test(type)) throw new Error(`expected Content-Type application/problem+json, got "${type}" (${where})`);
  const body = res.body as { status?: unknown; title?: unknown; detail?: unknown } | undefined;
  if (!body || body.status !== status) throw new Error(`problem body's status is not ${status}: ${where}`);
  if (typeof body.title !== 'string' || body.title.trim() === '') throw new Error(`problem body has no title: ${where}`);
  if (typeof body.detail !== 'string' || body.detail.trim() === '') throw new Error(`problem body has no detail: ${where}`);
  return body as { status: number; title: string; detail: string };
}

/**
 * `runCli` without blocking the test's event loop. Prefer it when the test also talks HTTP:
 * while `runCli` blocks, the server may close an idle keep-alive connection unnoticed, and the
 * next `api()` call then fails with "other side closed".
 */
export function runCliAsync(args: string[], env: Record<string, string | undefined> = {}, cwd = ROOT): Promise<{ code: number; stdout: string; stderr: string }> {
  ensureServerBuilt();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: cliEnv({ ...knownStoreEnv(args), ...env }), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
  });
}

/**
 * Polls until `check` holds, failing after `ms` with `what`: for what becomes true shortly after
 * an answer (a log line written, a file flushed), instead of a fixed sleep that either wastes
 * time or, on a slow machine, checks too early and passes without checking.
 */
export async function pollUntil(what: string, check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
