// The processes the bench measures: the real portal server (the built bundle, `odc-portal serve`)
// and the baseline, a bare Express app in its own Node process. Both are children of the bench,
// on 127.0.0.1, port 0, and are stopped by their own pid (never by name).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT, sleep, withTimeout } from './util';

// BENCH_PORTAL_BIN measures another build of the server (e.g. an experiment in a copy of the repo).
const BIN = process.env.BENCH_PORTAL_BIN ? path.resolve(process.env.BENCH_PORTAL_BIN) : path.join(ROOT, 'bin/odc-portal.js');

export interface Proc {
  url: string;
  pid: number;
  proc: ChildProcess;
  /** stdout so far (stderr goes to a file, like a service's log). */
  stdout(): string;
  stop(): Promise<void>;
}

async function waitListening(proc: ChildProcess, out: () => string, re: RegExp, what: string, logFile?: string): Promise<string> {
  return withTimeout(
    `${what} start`,
    30_000,
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const m = re.exec(out());
        if (m) resolve(m[1]!);
      };
      proc.stdout!.on('data', check);
      proc.once('exit', (code) => {
        const tail = logFile && fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').slice(-2000) : '';
        reject(new Error(`${what} exited with ${code} before listening:\n${out()}\n${tail}`));
      });
      check();
    }),
  );
}

function stopper(proc: ChildProcess): () => Promise<void> {
  const exited = new Promise<void>((r) => (proc.exitCode !== null || proc.signalCode !== null ? r() : proc.once('exit', () => r())));
  return async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    try {
      await withTimeout('server stop', 10_000, exited);
    } catch {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await withTimeout('server kill', 5_000, exited);
    }
  };
}

export interface PortalProc extends Proc {
  dataDir: string;
  /** The admin token printed at first start, or the one passed in for a restart. */
  adminToken: string;
  masterKey: string;
  logFile: string;
}

export interface PortalOptions {
  dataDir: string;
  /** base64 of 32 bytes; the bench passes it so it can seal seeded secrets like the server does. */
  masterKey: string;
  adminToken?: string;
  /** PORTAL_LOG_LEVEL; 'info' (the default) logs one line per request. */
  logLevel?: string;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeArgs?: string[];
  /** Where the server's stderr (its pino log) goes; default DATA_DIR/../server-N.log */
  logFile?: string;
  /** More environment, e.g. PORTAL_DATABASE_URL for a PostgreSQL store. */
  env?: Record<string, string>;
}

export function newMasterKey(): string {
  return randomBytes(32).toString('base64');
}

let logCounter = 0;

/** Starts `node bin/odc-portal.js serve` (dist/server.js) on a loopback port. Logs go to a file. */
export async function startPortal(o: PortalOptions): Promise<PortalProc> {
  const logFile = o.logFile ?? path.join(path.dirname(o.dataDir), `server-${process.pid}-${++logCounter}.log`);
  const fd = fs.openSync(logFile, 'a');
  const proc = spawn(process.execPath, [...(o.nodeArgs ?? []), BIN, 'serve', '--data-dir', o.dataDir, '--host', '127.0.0.1', '--port', '0'], {
    cwd: path.dirname(o.dataDir),
    env: {
      ...process.env,
      PORTAL_KEYCHAIN: 'off',
      PORTAL_MASTER_KEY: o.masterKey,
      PORTAL_NEW_MASTER_KEY: undefined,
      PORTAL_LOG_LEVEL: o.logLevel ?? 'info',
      NODE_ENV: 'production',
      ...o.env,
    },
    stdio: ['ignore', 'pipe', fd],
  });
  fs.closeSync(fd);
  let out = '';
  proc.stdout!.setEncoding('utf8');
  proc.stdout!.on('data', (d: string) => (out += d));
  const url = await waitListening(proc, () => out, /listening on (http:\/\/127\.0\.0\.1:\d+)/, 'portal server', logFile);
  const printed = /^\s+(odcp_[A-Za-z0-9_-]+)$/m.exec(out)?.[1];
  const adminToken = printed ?? o.adminToken;
  if (!adminToken) throw new Error('the server printed no admin token and none was given');
  return { url, pid: proc.pid!, proc, stdout: () => out, stop: stopper(proc), dataDir: o.dataDir, adminToken, masterKey: o.masterKey, logFile };
}

/** The baseline: bench/baseline-server.cjs, a bare Express app answering GET <route> with fixed bytes. */
export async function startBaseline(o: { bodyFile: string; contentType: string; route: string }): Promise<Proc> {
  const proc = spawn(process.execPath, [path.join(ROOT, 'bench/baseline-server.cjs'), o.bodyFile, o.contentType, o.route], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  proc.stdout!.setEncoding('utf8');
  proc.stdout!.on('data', (d: string) => (out += d));
  const url = await waitListening(proc, () => out, /baseline listening on (http:\/\/127\.0\.0\.1:\d+)/, 'baseline server');
  return { url, pid: proc.pid!, proc, stdout: () => out, stop: stopper(proc) };
}

/** JSON over HTTP with a timeout; throws on a status other than the expected ones. */
export async function api<T = any>(
  base: string,
  token: string,
  method: string,
  route: string,
  body?: unknown,
  expect: number[] = [200, 201, 204],
): Promise<{ status: number; body: T; ms: number; headers: Headers }> {
  const t0 = performance.now();
  const res = await fetch(`${base}/api/v1${route}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(120_000),
  });
  const text = await res.text();
  const ms = performance.now() - t0;
  if (!expect.includes(res.status)) throw new Error(`${method} ${route}: ${res.status} ${text.slice(0, 500)}`);
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T, ms, headers: res.headers };
}

export { sleep };
