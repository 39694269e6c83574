// Starts the real portal server (`odc-portal serve`, the built bundle) as a child process
// on a loopback port with its own data dir, and talks to it over real HTTP.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin/odc-portal.js');
let built = false;

/** Builds dist/server.js once per test process, so a test file also runs on its own. */
export function ensureServerBuilt(): void {
  if (built) return;
  execFileSync(process.execPath, [path.join(ROOT, 'scripts/build.mjs'), 'server'], { cwd: ROOT, stdio: 'ignore' });
  built = true;
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
}

export function cliEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  return { ...process.env, PORTAL_KEYCHAIN: 'off', PORTAL_MASTER_KEY: undefined, PORTAL_LOG_LEVEL: 'info', ...extra };
}

/** Runs an `odc-portal` command to completion. */
export function runCli(args: string[], env: Record<string, string | undefined> = {}, cwd = ROOT): { code: number; stdout: string; stderr: string } {
  ensureServerBuilt();
  try {
    const stdout = execFileSync(process.execPath, [BIN, ...args], { cwd, env: cliEnv(env), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { code: 0, stdout, stderr: '' };
  } catch (err) {
    const e = err as { status: number; stdout: string; stderr: string };
    return { code: e.status ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

export async function startPortal(opts: StartOptions = {}): Promise<Portal> {
  ensureServerBuilt();
  const dataDir = opts.dataDir ?? path.join(tempDir(), 'data');
  const proc = spawn(process.execPath, [BIN, 'serve', '--data-dir', dataDir, '--host', '127.0.0.1', '--port', '0', ...(opts.args ?? [])], {
    cwd: ROOT,
    env: cliEnv(opts.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 20 s:\n${out}`)), 20_000);
    const check = () => {
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    proc.stdout!.on('data', check);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${out}`));
    });
  });
  const printed = /^\s+(odcp_[A-Za-z0-9_-]+)$/m.exec(out)?.[1];
  const adminToken = printed ?? opts.adminToken ?? '';
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const portal: Portal = {
    url,
    dataDir,
    adminToken,
    proc,
    output: () => out,
    async api(method, route, o = {}) {
      const headers: Record<string, string> = { ...(o.headers ?? {}) };
      const token = o.token === undefined ? adminToken : o.token;
      if (token) headers.authorization = `Bearer ${token}`;
      let body: string | Buffer | undefined;
      if (o.raw !== undefined) body = o.raw;
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
