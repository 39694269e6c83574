// How long a keychain that never answers delays the server's start and stop: `odc-portal serve`
// on a session bus that accepts connections and never says a word, against the same start with
// PORTAL_KEYCHAIN=off in the same run. (The tests check the fallback's behaviour: the key file,
// the message; the times live here, since a loaded machine makes any fixed limit flaky.)
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { fmt, type Row } from './lib/result';
import { median, nowMs, ROOT, tempDir, withTimeout } from './lib/util';

const BIN = path.join(ROOT, 'bin/odc-portal.js');

/** One start (to "listening") and stop (SIGTERM to exit) of a fresh server; times in ms. */
async function startStop(env: Record<string, string | undefined>, work: string): Promise<{ startMs: number; stopMs: number; output: string }> {
  const dataDir = fs.mkdtempSync(path.join(work, 'data-'));
  const t0 = nowMs();
  const proc = spawn(process.execPath, [BIN, 'serve', '--data-dir', dataDir, '--host', '127.0.0.1', '--port', '0'], {
    cwd: work,
    env: { ...process.env, PORTAL_MASTER_KEY: undefined, PORTAL_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout.on('data', (d) => (out += d));
  proc.stderr.on('data', (d) => (out += d));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  try {
    await withTimeout(
      'server start',
      120_000,
      new Promise<void>((resolve, reject) => {
        proc.stdout.on('data', () => /listening on http/.test(out) && resolve());
        proc.once('exit', (code) => reject(new Error(`the server exited with ${code}:\n${out}`)));
      }),
    );
    const startMs = nowMs() - t0;
    const t1 = nowMs();
    proc.kill('SIGTERM');
    await withTimeout('server stop', 60_000, exited);
    return { startMs, stopMs: nowMs() - t1, output: out };
  } finally {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  }
}

export async function measureKeychainFallback(o: { runs: number; keep?: boolean }): Promise<Row[]> {
  const work = tempDir('odc-bench-keychain-');
  const home = path.join(work, 'home');
  fs.mkdirSync(path.join(home, 'run'), { recursive: true, mode: 0o700 });
  const socketPath = path.join(home, 'run', 'silent-bus');
  const silent = net.createServer((s) => s.on('error', () => {}));
  await new Promise<void>((resolve) => silent.listen(socketPath, resolve));
  const homeEnv = {
    HOME: home,
    XDG_DATA_HOME: path.join(home, 'data'),
    XDG_CONFIG_HOME: path.join(home, 'config'),
    XDG_RUNTIME_DIR: path.join(home, 'run'),
    DISPLAY: undefined,
    WAYLAND_DISPLAY: undefined,
  };
  try {
    const base: Array<{ startMs: number; stopMs: number }> = [];
    const hung: Array<{ startMs: number; stopMs: number }> = [];
    for (let i = 0; i < o.runs; i++) {
      // Alternating, so load on the machine affects both alike.
      base.push(await startStop({ ...homeEnv, PORTAL_KEYCHAIN: 'off' }, work));
      const r = await startStop({ ...homeEnv, PORTAL_KEYCHAIN: undefined, DBUS_SESSION_BUS_ADDRESS: `unix:path=${socketPath}` }, work);
      if (!/did not answer within/.test(r.output)) throw new Error(`the silent keychain was not what the server ran into:\n${r.output}`);
      hung.push(r);
    }
    const start = median(hung.map((r) => r.startMs));
    const stop = median(hung.map((r) => r.stopMs));
    const baseStart = median(base.map((r) => r.startMs));
    const baseStop = median(base.map((r) => r.stopMs));
    return [
      {
        id: 'keychain-start',
        measure: 'server start with a keychain that never answers',
        subject: fmt.ms(start),
        baseline: `PORTAL_KEYCHAIN=off: ${fmt.ms(baseStart)}`,
        ratio: fmt.x(start / baseStart),
        goal: '<= 15 s',
        status: start <= 15_000 ? 'pass' : 'miss',
        data: { runs: o.runs, hung, base },
      },
      {
        id: 'keychain-stop',
        measure: 'server stop after that fallback',
        subject: fmt.ms(stop),
        baseline: `PORTAL_KEYCHAIN=off: ${fmt.ms(baseStop)}`,
        ratio: fmt.x(stop / baseStop),
        goal: '<= 5 s',
        status: stop <= 5_000 ? 'pass' : 'miss',
      },
    ];
  } finally {
    silent.close();
    if (!o.keep) fs.rmSync(work, { recursive: true, force: true });
  }
}
