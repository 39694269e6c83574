// The `odc-portal` command line as a person meets it (SPEC §10, issue 17): --help for every
// command lists each option with its environment variable; bad usage exits 2; log lines are
// readable on a terminal and JSON lines otherwise, while the banner and the admin-token notice
// stay on stdout; and the stage list, data dir, host and port come from flags or environment.
import { spawn, type ChildProcess } from 'node:child_process';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cliEnv, ensureServerBuilt, removeDir, ROOT, startPortal, tempDir, type Portal } from '../support/portal';

const BIN = path.join(ROOT, 'bin/odc-portal.js');

/** Options of each command and the environment variable each one reads (none: undefined). */
const STORE_OPTIONS = { 'data-dir': 'PORTAL_DATA_DIR', 'database-url': 'PORTAL_DATABASE_URL', stages: 'PORTAL_STAGES', 'log-format': 'PORTAL_LOG_FORMAT', help: undefined };
const OPTIONS: Record<string, Record<string, string | undefined>> = {
  serve: { host: 'PORTAL_HOST', port: 'PORTAL_PORT', 'trust-proxy': 'PORTAL_TRUST_PROXY', ...STORE_OPTIONS },
  'token create': { name: undefined, role: undefined, app: undefined, stage: undefined, ...STORE_OPTIONS },
  'token list': STORE_OPTIONS,
  'token revoke': STORE_OPTIONS,
  'rotate-key': STORE_OPTIONS,
  'audit verify': STORE_OPTIONS,
  run: { app: undefined, stage: undefined, server: 'ODC_PORTAL_URL', prefix: undefined, help: undefined },
  'values import': { app: undefined, stage: undefined, prefix: undefined, server: 'ODC_SERVER', yes: undefined, help: undefined },
};
/** Settings read only from the environment, per command. */
const KEY_ENV = ['PORTAL_MASTER_KEY', 'PORTAL_KEYCHAIN', 'PORTAL_LOG_LEVEL', 'PORTAL_DB_POOL_MAX', 'PORTAL_DB_CONNECT_TIMEOUT_MS', 'PORTAL_DB_QUERY_TIMEOUT_MS'];
const ENV_ONLY: Record<string, string[]> = {
  serve: KEY_ENV,
  'token create': KEY_ENV,
  'token list': KEY_ENV,
  'token revoke': KEY_ENV,
  'rotate-key': [...KEY_ENV, 'PORTAL_NEW_MASTER_KEY'],
  'audit verify': KEY_ENV,
  run: ['ODC_RUNTIME_TOKEN'],
  'values import': ['ODC_TOKEN'],
};

/** The `--option` lines of one command's block in a help text: option name -> the rest of the line. */
function optionLines(block: string): Map<string, string> {
  const lines = new Map<string, string>();
  for (const m of block.matchAll(/^\s+--([a-z-]+)\b(.*)$/gm)) lines.set(m[1]!, m[2]!);
  return lines;
}

/** One command's block in the full help: from its "odc-portal <verb>" line to the next blank line. */
function blockOf(help: string, verb: string): string {
  const start = help.indexOf(`odc-portal ${verb} `);
  assert.ok(start >= 0, `the help has no block for ${verb}:\n${help}`);
  const end = help.indexOf('\n\n', start);
  return help.slice(start, end < 0 ? undefined : end);
}

function assertListsEveryOption(block: string, verb: string) {
  const lines = optionLines(block);
  assert.deepEqual([...lines.keys()].sort(), Object.keys(OPTIONS[verb]!).sort(), `${verb}: the options listed`);
  for (const [option, env] of Object.entries(OPTIONS[verb]!)) {
    const line = lines.get(option)!;
    if (env) assert.match(line, new RegExp(`\\[env ${env}\\]`), `${verb} --${option} names ${env}`);
    else assert.doesNotMatch(line, /\[env /, `${verb} --${option} reads no variable`);
    if (option !== 'help') assert.ok(line.trim().length > 10, `${verb} --${option} is explained`);
  }
  for (const env of ENV_ONLY[verb]!) assert.match(block, new RegExp(`^\\s+${env}\\b`, 'm'), `${verb}: the environment section names ${env}`);
}

/** A server started by hand (not through startPortal), for the flag/environment cases. */
interface Served {
  proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  stop(): Promise<void>;
}

function serve(args: string[], env: Record<string, string | undefined>, cwd: string): Served {
  ensureServerBuilt();
  // None of the settings under test comes from the test's own environment.
  const clean = { PORTAL_DATABASE_URL: undefined, PORTAL_DATA_DIR: undefined, PORTAL_HOST: undefined, PORTAL_PORT: undefined, PORTAL_STAGES: undefined, PORTAL_LOG_FORMAT: undefined };
  const proc = spawn(process.execPath, [BIN, 'serve', ...args], { cwd, env: cliEnv({ ...clean, ...env }), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await exited;
    },
  };
}

/** Polls until `read()` matches, or fails after `ms` with what was read. */
async function waitFor(read: () => string, re: RegExp, ms = 20_000): Promise<RegExpExecArray> {
  const until = Date.now() + ms;
  for (;;) {
    const m = re.exec(read());
    if (m) return m;
    if (Date.now() > until) throw new Error(`timed out waiting for ${re}:\n${read()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A port nobody listens on right now (the kernel's pick, released for the server to take). */
async function freePort(host: string): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function getJson(url: string, token?: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, body: await res.json().catch(() => undefined) };
}

/** Runs a command that should end on its own; one still running after `ms` is killed and fails the test. */
async function cli(args: string[], env: Record<string, string | undefined> = {}, ms = 20_000): Promise<{ code: number; stdout: string; stderr: string }> {
  ensureServerBuilt();
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, ms);
  const code = await new Promise<number>((resolve) => child.on('close', (c, signal) => resolve(c ?? (signal ? 128 : 1))));
  clearTimeout(timer);
  if (timedOut) assert.fail(`odc-portal ${args.join(' ')} was still running after ${ms} ms:\n${stdout}${stderr}`);
  return { code, stdout, stderr };
}

const adminTokenOf = (stdout: string) => /^\s+(odcp_[A-Za-z0-9_-]+)$/m.exec(stdout)?.[1];

describe('odc-portal --help', () => {
  test('the general help lists every command with every option and its environment variable, and the exit codes', async () => {
    for (const args of [['--help'], ['-h'], ['help']]) {
      const res = await cli(args);
      assert.equal(res.code, 0, res.stderr);
      assert.equal(res.stderr, '', 'help goes to stdout');
      for (const verb of Object.keys(OPTIONS)) assertListsEveryOption(blockOf(res.stdout, verb), verb);
      assert.match(res.stdout, /--version/);
      assert.match(res.stdout, /Exit codes: 0 .*; 1 .*; 2 bad usage/);
    }
  });

  test('each command has its own --help, listing every option with its environment variable', async () => {
    const verbs = Object.keys(OPTIONS);
    const results = await Promise.all(verbs.map((verb) => cli([...verb.split(' '), '--help'])));
    for (const [i, verb] of verbs.entries()) {
      const res = results[i]!;
      assert.equal(res.code, 0, `${verb} --help: ${res.stderr}`);
      assert.ok(res.stdout.startsWith(`odc-portal ${verb} `), `${verb} --help shows that command:\n${res.stdout}`);
      assertListsEveryOption(blockOf(res.stdout, verb), verb);
      assert.match(res.stdout, /Exit codes:/);
    }
    // The groups list their subcommands.
    const token = await cli(['token', '--help']);
    assert.equal(token.code, 0);
    for (const verb of ['token create', 'token list', 'token revoke']) assertListsEveryOption(blockOf(token.stdout, verb), verb);
  });

  test('the README documents the exit codes the help names', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const section = /^#+ .*[Ee]xit codes[\s\S]*?(?=^#+ )/m.exec(readme)?.[0];
    assert.ok(section, 'README has an "Exit codes" section');
    for (const code of ['0', '1', '2', '127', '128']) assert.match(section, new RegExp(`\\b${code}\\b`), `README names exit code ${code}`);
  });
});

describe('odc-portal bad usage exits 2 with a message on stderr', () => {
  let work: string;
  before(() => {
    work = tempDir('odc-cli-usage-');
  });
  after(() => removeDir(work));

  const cases: Array<{ label: string; args: string[]; env?: Record<string, string>; says: RegExp }> = [
    { label: 'no command', args: [], says: /usage: odc-portal <command>/ },
    { label: 'an unknown command', args: ['serv'], says: /unknown command "serv".*--help/ },
    { label: 'an unknown option', args: ['serve', '--prot', '1'], says: /--prot.*serve --help/ },
    { label: 'token without a subcommand', args: ['token'], says: /token needs a subcommand/ },
    { label: 'a port out of range', args: ['serve', '--port', '70000'], says: /--port .*0-65535.*70000/ },
    { label: 'a port that is no number', args: ['serve', '--port', '80x'], says: /--port .*"80x"/ },
    { label: 'PORTAL_PORT out of range', args: ['serve'], env: { PORTAL_PORT: '-1' }, says: /PORTAL_PORT.*"-1"/ },
    { label: 'a bad stage list', args: ['serve', '--stages', 'dev:Dev,Bad Key:X'], says: /--stages .*"Bad Key:X"/ },
    { label: 'duplicate stage keys in PORTAL_STAGES', args: ['serve'], env: { PORTAL_STAGES: 'a:A,a:B' }, says: /PORTAL_STAGES.*unique/ },
    { label: 'an unknown log format', args: ['serve', '--log-format', 'xml'], says: /--log-format .*pretty or json.*"xml"/ },
    { label: 'an unknown PORTAL_LOG_FORMAT', args: ['token', 'list'], env: { PORTAL_LOG_FORMAT: 'yaml' }, says: /PORTAL_LOG_FORMAT.*"yaml"/ },
    { label: 'token create without a role', args: ['token', 'create', '--name', 'x'], says: /--name and --role/ },
    { label: 'run without a command', args: ['run', '--app', 'a', '--stage', 's'], says: /run needs a command after --/ },
  ];
  for (const c of cases) {
    test(c.label, async () => {
      const dataDir = path.join(work, c.label.replace(/\W+/g, '-'));
      // --data-dir last, so a bad option earlier is what is refused; nothing may be created.
      // (Port 0 for a serve that wrongly starts: it is then killed and fails, rather than taking 4650.)
      const extra = c.args[0] === 'serve' ? ['--data-dir', dataDir, ...(c.args.includes('--port') || c.env?.PORTAL_PORT ? [] : ['--port', '0'])] : c.args[0] === 'token' && c.args.length > 1 ? ['--data-dir', dataDir] : [];
      const res = await cli([...c.args, ...extra], { PORTAL_DATA_DIR: undefined, PORTAL_STAGES: undefined, PORTAL_PORT: undefined, PORTAL_LOG_FORMAT: undefined, ...c.env });
      assert.equal(res.code, 2, `${c.label}: exit ${res.code}\n${res.stdout}${res.stderr}`);
      assert.match(res.stderr, c.says, c.label);
      assert.doesNotMatch(res.stdout, /listening on/);
      assert.equal(fs.existsSync(path.join(dataDir, 'portal.db')), false, `${c.label}: a store was created`);
    });
  }
});

describe('odc-portal logs', () => {
  let work: string;
  before(() => {
    work = tempDir('odc-cli-logs-');
  });
  after(() => removeDir(work));

  /** Starts a server, makes one request, stops it; returns what it printed on each stream. */
  async function serveOnce(args: string[], env: Record<string, string | undefined> = {}) {
    const dataDir = path.join(work, `data-${Math.random().toString(36).slice(2)}`);
    const s = serve(['--data-dir', dataDir, '--port', '0', ...args], env, work);
    try {
      const [, url] = await waitFor(s.stdout, /listening on (http:\/\/127\.0\.0\.1:\d+)/);
      const token = adminTokenOf(s.stdout());
      assert.ok(token, 'the first start prints an admin token on stdout');
      assert.equal((await getJson(`${url}/api/v1/apps`, token)).status, 200);
      await waitFor(s.stderr, /\/api\/v1\/apps/);
    } finally {
      await s.stop();
    }
    return { stdout: s.stdout(), stderr: s.stderr(), token: adminTokenOf(s.stdout())! };
  }

  function assertBannerOnStdout(out: { stdout: string; stderr: string; token: string }) {
    assert.match(out.stdout, /First start: an admin token was created/);
    assert.match(out.stdout, /odc-portal listening on http:\/\/127\.0\.0\.1:\d+/);
    assert.doesNotMatch(out.stderr, /listening on|admin token was created/, 'the banner is not a log line');
    assert.ok(!out.stderr.includes(out.token), 'the admin token is in no log line');
  }

  test('not on a terminal: one JSON object per stderr line, the banner and token notice on stdout', async () => {
    const out = await serveOnce([]);
    assertBannerOnStdout(out);
    const lines = out.stderr.trim().split('\n');
    assert.ok(lines.length >= 2, out.stderr);
    const records = lines.map((l) => JSON.parse(l) as { level: number; msg: string; time: number; status?: number; path?: string });
    for (const r of records) assert.ok(typeof r.level === 'number' && typeof r.msg === 'string' && typeof r.time === 'number', JSON.stringify(r));
    assert.ok(records.some((r) => /master key source/.test(r.msg)));
    assert.ok(records.some((r) => r.msg === 'request' && r.path === '/api/v1/apps' && r.status === 200));
  });

  // "12:00:01.234 INFO  request method=GET path=/api/v1/apps status=200 ..."
  const PRETTY = /^\d\d:\d\d:\d\d\.\d{3} (TRACE|DEBUG|INFO |WARN |ERROR|FATAL) \S/;

  for (const [label, args, env] of [
    ['--log-format pretty', ['--log-format', 'pretty'], {}],
    ['PORTAL_LOG_FORMAT=pretty', [], { PORTAL_LOG_FORMAT: 'pretty' }],
  ] as const) {
    test(`${label}: one readable line per event on stderr, the banner still on stdout`, async () => {
      const out = await serveOnce([...args], { ...env });
      assertBannerOnStdout(out);
      const lines = out.stderr.trim().split('\n');
      for (const line of lines) {
        assert.match(line, PRETTY, `a pretty line: ${line}`);
        assert.doesNotMatch(line, /^\{/, 'not JSON');
      }
      assert.ok(lines.some((l) => / INFO  master key source: /.test(l)), out.stderr);
      assert.ok(lines.some((l) => / INFO  request .*method=GET path=\/api\/v1\/apps status=200\b/.test(l)), out.stderr);
      assert.doesNotMatch(out.stderr, /\bpid=|hostname=/, 'process noise left out');
    });
  }

  test('--log-format json beats PORTAL_LOG_FORMAT=pretty', async () => {
    const out = await serveOnce(['--log-format', 'json'], { PORTAL_LOG_FORMAT: 'pretty' });
    for (const line of out.stderr.trim().split('\n')) assert.doesNotThrow(() => JSON.parse(line), line);
  });

  test('on a terminal the default is pretty; the other commands log the same way', async () => {
    // A pseudo-terminal from util-linux `script`, so stderr.isTTY is true as in a person's shell.
    const dataDir = path.join(work, 'tty');
    const first = await serveOnce(['--data-dir', dataDir]);
    assert.ok(first.token);
    const command = [process.execPath, BIN, 'audit', 'verify', '--data-dir', dataDir].map((a) => `'${a}'`).join(' ');
    const res = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn('script', ['-qec', command, '/dev/null'], {
        cwd: work,
        env: cliEnv({ PORTAL_LOG_LEVEL: 'info', PORTAL_LOG_FORMAT: undefined, NO_COLOR: '1', TERM: 'dumb' }),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      child.on('close', (code) => resolve({ code, out }));
    });
    assert.equal(res.code, 0, res.out);
    const lines = res.out.replace(/\r/g, '').trim().split('\n');
    assert.ok(lines.some((l) => PRETTY.test(l) && /master key source/.test(l)), `a pretty log line on the terminal:\n${res.out}`);
    assert.ok(!lines.some((l) => l.startsWith('{')), `no JSON on the terminal:\n${res.out}`);
    assert.ok(lines.some((l) => /^audit chain ok: \d+ events$/.test(l)), res.out);
  });
});

describe('odc-portal serve: stages, data dir, host and port from flags or environment', () => {
  let work: string;
  const started: Served[] = [];
  before(() => {
    work = tempDir('odc-cli-config-');
  });
  after(async () => {
    for (const s of started) await s.stop();
    removeDir(work);
  });

  async function start(args: string[], env: Record<string, string | undefined> = {}, cwd = work) {
    const s = serve(args, env, cwd);
    started.push(s);
    const m = await waitFor(s.stdout, /listening on (http:\/\/([\d.]+):(\d+)) \(data: (.*)\)/);
    return { s, url: m[1]!, host: m[2]!, port: Number(m[3]), dataDir: m[4]!, token: adminTokenOf(s.stdout())! };
  }

  test('by default the stages are development, qa and production, in that order', async () => {
    const portal: Portal = await startPortal({ dataDir: path.join(work, 'default-stages') });
    try {
      const res = await portal.api('GET', '/stages');
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body.stages, [
        { key: 'development', name: 'Development' },
        { key: 'qa', name: 'QA' },
        { key: 'production', name: 'Production' },
      ]);
    } finally {
      await portal.stop();
    }
  });

  const CUSTOM = [
    { key: 'dev', name: 'Dev' },
    { key: 'staging', name: 'Staging Area' },
    { key: 'live', name: 'Live' },
  ];
  const CUSTOM_TEXT = 'dev:Dev,staging:Staging Area,live:Live';

  for (const [label, args, env] of [
    ['--stages', ['--stages', CUSTOM_TEXT], {}],
    ['PORTAL_STAGES', [], { PORTAL_STAGES: CUSTOM_TEXT }],
    ['--stages over PORTAL_STAGES', ['--stages', CUSTOM_TEXT], { PORTAL_STAGES: 'a:A,b:B' }],
  ] as const) {
    test(`${label} sets the stages, in the given order; values live in those stages only`, async () => {
      const dataDir = path.join(work, `stages-${label.replace(/\W+/g, '-')}`);
      const { url, token, s } = await start(['--data-dir', dataDir, '--port', '0', ...args], { ...env });
      const api = (method: string, route: string, body?: unknown) =>
        fetch(`${url}/api/v1${route}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      assert.deepEqual(((await (await api('GET', '/stages')).json()) as { stages: unknown }).stages, CUSTOM);
      const defs = { app: { key: 'orders', name: 'Orders' }, settings: [{ name: 'MaxRetries', type: 'Integer', defaultValue: '3' }] };
      assert.equal((await api('POST', '/apps/orders/publish', { definitions: defs })).status, 200);
      const set = await api('PATCH', '/apps/orders/stages/staging/settings', { changes: [{ name: 'MaxRetries', value: '5', baseVersion: 0 }] });
      assert.equal(set.status, 200, await set.text());
      const staging = (await (await api('GET', '/apps/orders/stages/staging/settings')).json()) as { settings: Array<{ value: string | null }> };
      assert.equal(staging.settings[0]?.value, '5');
      for (const stage of ['qa', 'development', 'a']) assert.equal((await api('GET', `/apps/orders/stages/${stage}/settings`)).status, 404, stage);
      // A runtime token can be made for a configured stage only.
      const runtime = (stage: string) => api('POST', '/tokens', { name: `orders ${stage}`, role: 'runtime', apps: ['orders'], stages: [stage] });
      assert.equal((await runtime('live')).status, 201);
      assert.equal((await runtime('production')).status, 422);
      await s.stop();
    });
  }

  test('PORTAL_DATA_DIR, PORTAL_HOST and PORTAL_PORT place the store and the listener', async () => {
    const cwd = path.join(work, 'cwd-env');
    fs.mkdirSync(cwd);
    const dataDir = path.join(work, 'env-data');
    const port = await freePort('127.0.0.3');
    const { url, host, port: listening, dataDir: shown, s } = await start([], { PORTAL_DATA_DIR: dataDir, PORTAL_HOST: '127.0.0.3', PORTAL_PORT: String(port) }, cwd);
    assert.deepEqual([host, listening, shown], ['127.0.0.3', port, dataDir]);
    assert.equal((await getJson(`${url}/api/v1/health`)).status, 200);
    assert.ok(fs.existsSync(path.join(dataDir, 'portal.db')), 'the store is in PORTAL_DATA_DIR');
    assert.ok(fs.existsSync(path.join(dataDir, 'admin.token')));
    assert.equal(fs.existsSync(path.join(cwd, 'data')), false, 'nothing in the default ./data');
    await s.stop();
  });

  test('flags beat the environment: --data-dir, --host and --port', async () => {
    const dataDir = path.join(work, 'flag-data');
    const envDir = path.join(work, 'ignored-env-data');
    const port = await freePort('127.0.0.4');
    const { host, port: listening, dataDir: shown, s } = await start(['--data-dir', dataDir, '--host', '127.0.0.4', '--port', String(port)], {
      PORTAL_DATA_DIR: envDir,
      PORTAL_HOST: '127.0.0.5',
      PORTAL_PORT: '1',
    });
    assert.deepEqual([host, listening, shown], ['127.0.0.4', port, dataDir]);
    assert.ok(fs.existsSync(path.join(dataDir, 'portal.db')));
    assert.equal(fs.existsSync(envDir), false, 'PORTAL_DATA_DIR was ignored');
    await s.stop();
  });

  test('with neither, the store is ./data under the working directory', async () => {
    const cwd = path.join(work, 'cwd-default');
    fs.mkdirSync(cwd);
    const { dataDir, host, s } = await start(['--port', '0'], {}, cwd);
    assert.equal(host, '127.0.0.1');
    assert.equal(dataDir, path.join(cwd, 'data'));
    assert.ok(fs.existsSync(path.join(cwd, 'data', 'portal.db')));
    await s.stop();
  });
});
