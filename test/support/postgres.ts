// A private PostgreSQL 15 cluster for the tests (SPEC §11): initdb in a temp dir, a free
// loopback port, one database per portal, removed when the test process exits. No mock
// database anywhere. initdb refuses to run as root, so the cluster belongs to `postgres`.
// `ODC_TEST_POSTGRES_URL` (a superuser URL of a running server) skips the private cluster.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';

export const PG_BIN = process.env.ODC_TEST_POSTGRES_BIN ?? '/usr/lib/postgresql/15/bin';
const USER = 'odc';

export interface PgCluster {
  /** The cluster's base URL (superuser `odc`, database `postgres`). */
  url: string;
  port: number;
  /** The cluster's data directory (heap and WAL files), or null for an outside server. */
  dataDir: string | null;
  /** A fresh database (empty, or a copy of `template`, which nobody may be connected to); its URL. */
  createDatabase(prefix?: string, template?: string): Promise<string>;
  /** `pg_ctl stop -m immediate`: a crash (private cluster only). */
  crash(): void;
  /** Starts the cluster again after crash() or stop(). */
  start(): void;
  /** Stops the cluster and removes its directory. */
  remove(): void;
}

function asPostgres(): string[] {
  return process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--'] : [];
}

function run(cmd: string[], opts: { quiet?: boolean } = {}): void {
  const [file, ...args] = [...asPostgres(), ...cmd];
  execFileSync(file!, args, { stdio: opts.quiet === false ? 'inherit' : ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Whether the server binaries are here (the setup script installs Debian's `postgresql` otherwise). */
export function postgresAvailable(): boolean {
  return !!process.env.ODC_TEST_POSTGRES_URL || fs.existsSync(path.join(PG_BIN, 'initdb'));
}

let shared: Promise<PgCluster> | null = null;

/** The test process's cluster, started on first use and removed at exit. */
export function testCluster(): Promise<PgCluster> {
  shared ??= process.env.ODC_TEST_POSTGRES_URL ? Promise.resolve(outsideCluster(process.env.ODC_TEST_POSTGRES_URL)) : startCluster();
  return shared;
}

function outsideCluster(url: string): PgCluster {
  const cluster: PgCluster = {
    url,
    port: Number(new URL(url).port || 5432),
    dataDir: null,
    createDatabase: (prefix, template) => createDatabase(cluster.url, prefix, template),
    crash: () => {
      throw new Error('ODC_TEST_POSTGRES_URL: an outside server cannot be crashed by the tests');
    },
    start: () => {},
    remove: () => {},
  };
  return cluster;
}

async function createDatabase(baseUrl: string, prefix = 'odc', template?: string): Promise<string> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const client = new Client({ connectionString: baseUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ''}`);
  } finally {
    await client.end();
  }
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Starts a private cluster: initdb (about 2.5 s), then pg_ctl start on a free loopback port. */
export async function startCluster(): Promise<PgCluster> {
  if (!fs.existsSync(path.join(PG_BIN, 'initdb'))) {
    throw new Error(`PostgreSQL's server binaries are missing in ${PG_BIN}: run scripts/setup-test-deps.sh (installs Debian's postgresql)`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'odc-pg-'));
  fs.chmodSync(dir, 0o700);
  if (process.getuid?.() === 0) execFileSync('chown', ['postgres:postgres', dir]);
  const dataDir = path.join(dir, 'data');
  const port = await freePort();
  run([path.join(PG_BIN, 'initdb'), '-D', dataDir, '-A', 'trust', '-U', USER, '--no-sync', '-E', 'UTF8', '--locale=C']);
  // fsync off: a test cluster need not survive an OS crash; a crash of the server process
  // (pg_ctl stop -m immediate) still loses no committed transaction (synchronous_commit stays on).
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=200`;
  const start = () => run([path.join(PG_BIN, 'pg_ctl'), '-D', dataDir, '-o', options, '-l', path.join(dir, 'log'), '-w', '-t', '30', 'start']);
  start();
  let removed = false;
  const remove = () => {
    if (removed) return;
    removed = true;
    try {
      run([path.join(PG_BIN, 'pg_ctl'), '-D', dataDir, '-m', 'immediate', 'stop']);
    } catch {
      // already stopped
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', remove);
  // A test process killed outright does not run its exit hooks: a detached watchdog removes
  // the cluster once this process is gone, so no server outlives the test run.
  const watchdog = spawn(
    process.execPath,
    [
      '-e',
      `const {execFileSync}=require('child_process');const fs=require('fs');const [ppid,bin,data,dir,...pre]=process.argv.slice(1);
       const t=setInterval(()=>{try{process.kill(Number(ppid),0)}catch{clearInterval(t);
       try{const c=[...pre,bin+'/pg_ctl','-D',data,'-m','immediate','stop'];execFileSync(c[0],c.slice(1),{stdio:'ignore'})}catch{}
       fs.rmSync(dir,{recursive:true,force:true})}},1000);`,
      String(process.pid),
      PG_BIN,
      dataDir,
      dir,
      ...asPostgres(),
    ],
    { detached: true, stdio: 'ignore' },
  );
  watchdog.unref();
  process.once('exit', () => {
    try {
      watchdog.kill();
    } catch {
      // gone
    }
  });
  const url = `postgres://${USER}@127.0.0.1:${port}/postgres`;
  return {
    url,
    port,
    dataDir,
    createDatabase: (prefix, template) => createDatabase(url, prefix, template),
    crash: () => run([path.join(PG_BIN, 'pg_ctl'), '-D', dataDir, '-m', 'immediate', 'stop']),
    start,
    remove,
  };
}
