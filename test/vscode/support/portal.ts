// The real portal server for extension-host tests: `node bin/odc-portal.js serve` on a loopback
// port 0 with its own data dir (PORTAL_KEYCHAIN=off, so the host's keychain is never touched),
// its URL and first-start admin token read from its stdout. The extension host runs on
// code-server's Node 24, but the server's native module (better-sqlite3) is built for the
// project's Node, so the server is started with the first other `node` on PATH (or ODC_TEST_NODE).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface TestPortal {
  url: string;
  adminToken: string;
  dataDir: string;
  output(): string;
  api<T = unknown>(method: string, route: string, body?: unknown, token?: string): Promise<{ status: number; body: T }>;
  stop(): Promise<void>;
}

/** The project's Node: ODC_TEST_NODE, else the first `node` on PATH that is not the extension host's own. */
export function projectNode(): string {
  if (process.env.ODC_TEST_NODE) return process.env.ODC_TEST_NODE;
  const own = fs.realpathSync(process.execPath);
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, 'node');
    try {
      if (fs.statSync(candidate).isFile() && fs.realpathSync(candidate) !== own) return candidate;
    } catch {
      // not here
    }
  }
  return process.execPath;
}

export async function startPortal(root: string): Promise<TestPortal> {
  const node = projectNode();
  if (!fs.existsSync(path.join(root, 'dist/server.js'))) {
    execFileSync(node, [path.join(root, 'scripts/build.mjs'), 'server'], { cwd: root, stdio: 'ignore' });
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'odc-vscode-portal-'));
  const env: NodeJS.ProcessEnv = { ...process.env, PORTAL_KEYCHAIN: 'off', PORTAL_LOG_LEVEL: 'warn' };
  delete env.PORTAL_MASTER_KEY;
  delete env.ELECTRON_RUN_AS_NODE;
  const proc: ChildProcess = spawn(node, [path.join(root, 'bin/odc-portal.js'), 'serve', '--data-dir', dataDir, '--host', '127.0.0.1', '--port', '0'], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`portal did not start in 20 s:\n${out}`)), 20_000);
    proc.stdout!.on('data', () => {
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`portal exited before listening (node ${node}):\n${out}`));
    });
  });
  const adminToken = /^\s+(odcp_[A-Za-z0-9_-]+)$/m.exec(out)?.[1];
  if (!adminToken) throw new Error(`no admin token in the portal's first-start output:\n${out}`);
  return {
    url,
    adminToken,
    dataDir,
    output: () => out,
    async api<T>(method: string, route: string, body?: unknown, token = adminToken) {
      const res = await fetch(`${url}/api/v1${route}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await exited;
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
