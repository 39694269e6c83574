// `npm test`: type-check, build, then every suite in order, each against real parts
// (HTTP on loopback, SQLite files, PostgreSQL, Chromium, code-server). Prints one closing line
// "N passed, N failed, N skipped". Suites: node scripts/test.mjs [suite...] to run some.
// In CI (CI=true) every test suite must run: one with nothing to run, no passing test, or a
// test skipped because a tool "is not installed" fails the run. (Skips of tests that do not
// apply, such as PostgreSQL-only tests in the SQLite run, are counted but allowed.)
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => path.join(root, 'node_modules/.bin', name);
const globTests = (dir) => {
  const full = path.join(root, dir);
  return fs.existsSync(full) ? fs.readdirSync(full).filter((f) => f.endsWith('.test.ts')).sort().map((f) => path.join(dir, f)) : [];
};
const nodeTest = (dir, extra = []) => {
  const files = globTests(dir);
  return files.length ? [bin('tsx'), '--test', '--test-concurrency=1', ...extra, ...files] : null;
};

// A multi-root workspace in a temp dir (removed when this script exits): orders and billing, each with its
// own odc-app.json, and notes without one. test/vscode-multiroot asserts against exactly these files.
function multirootWorkspace() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'odc-multiroot-'));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  const apps = {
    orders: { app: { key: 'orders', name: 'Orders' }, settings: [{ name: 'MaxRetries', type: 'Integer', defaultValue: '3' }, { name: 'PaymentApiKey', type: 'Text', isSecret: true }] },
    billing: { app: { key: 'billing', name: 'Billing' }, settings: [{ name: 'Currency', type: 'Text', defaultValue: 'EUR' }, { name: 'InvoiceDays', type: 'Integer', defaultValue: '30' }] },
  };
  for (const name of ['orders', 'billing', 'notes']) {
    fs.mkdirSync(path.join(dir, name));
    if (apps[name]) fs.writeFileSync(path.join(dir, name, 'odc-app.json'), JSON.stringify(apps[name], null, 2) + '\n');
  }
  const file = path.join(dir, 'multiroot.code-workspace');
  fs.writeFileSync(file, JSON.stringify({ folders: [{ path: 'orders' }, { path: 'billing' }, { path: 'notes' }], settings: {} }, null, 2));
  return file;
}

const suites = {
  // Idempotent: installs only what is missing (apt packages, keytar build, code-server).
  setup: () => ['bash', 'scripts/setup-test-deps.sh'],
  typecheck: () => [bin('tsc'), '-p', 'tsconfig.json', '--noEmit'],
  'typecheck-webview': () => [bin('tsc'), '-p', 'webview/tsconfig.json', '--noEmit'],
  'typecheck-browser-tests': () => [bin('tsc'), '-p', 'tsconfig.tests-browser.json', '--noEmit'],
  'typecheck-portal': () => [bin('tsc'), '-p', 'portal/tsconfig.json', '--noEmit'],
  build: () => ['node', 'scripts/build.mjs'],
  unit: () => nodeTest('test/unit'),
  server: () => nodeTest('test/server'),
  // The same server tests against the PostgreSQL store (a private cluster per test file, SPEC §11).
  'server-postgres': () => {
    const cmd = nodeTest('test/server');
    return cmd && ['env', 'ODC_TEST_STORE=postgres', ...cmd];
  },
  webview: () => nodeTest('test/webview'),
  vscode: () => (fs.existsSync(path.join(root, 'dist/test/vscode/index.js')) ? ['node', 'scripts/run-vscode-tests.mjs', '.', 'dist/test/vscode/index.js'] : null),
  'vscode-multiroot': () =>
    fs.existsSync(path.join(root, 'dist/test/vscode-multiroot/index.js')) ? ['node', 'scripts/run-vscode-tests.mjs', '.', 'dist/test/vscode-multiroot/index.js', multirootWorkspace()] : null,
  ui: () => nodeTest('test/ui'),
  // The portal's own web UI (portal/, server/web/) in Chromium against the real server.
  web: () => nodeTest('test/web'),
  reliability: () => nodeTest('test/reliability'),
};

/** The suites that run tests (the others type-check, build or install, and count none). */
const TEST_SUITES = new Set(['unit', 'server', 'server-postgres', 'webview', 'vscode', 'vscode-multiroot', 'ui', 'web', 'reliability']);
const inCI = !!process.env.CI && !['0', 'false'].includes(process.env.CI.toLowerCase());

const only = process.argv.slice(2);
let passed = 0;
let failed = 0;
let skipped = 0;
const failures = [];

for (const [name, make] of Object.entries(suites)) {
  if (only.length && !only.includes(name)) continue;
  const cmd = make();
  if (!cmd) {
    const must = inCI && TEST_SUITES.has(name);
    console.log(`\n=== ${name}: nothing to run${must ? ' (FAILED: in CI every test suite must run)' : ''}`);
    if (must) {
      failed += 1;
      failures.push(name);
    }
    continue;
  }
  console.log(`\n=== ${name}: ${cmd.map((c) => path.relative(root, c) || c).join(' ')}`);
  const started = Date.now();
  const { code, out } = await new Promise((resolve) => {
    const child = spawn(cmd[0], cmd.slice(1), { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0' } });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      process.stdout.write(d);
    });
    child.stderr.on('data', (d) => process.stderr.write(d));
    child.on('close', (code) => resolve({ code, out }));
  });
  // Counts from node's test runner (TAP "# pass N" or spec "ℹ pass N") and mocha ("N passing").
  const count = (re) => [...out.matchAll(re)].reduce((n, m) => n + Number(m[1]), 0);
  const p = count(/^(?:# |ℹ )pass (\d+)$/gm) + count(/^\s*(\d+) passing/gm);
  // Cancelled tests (a failed before hook) did not pass either.
  let f = count(/^(?:# |ℹ )(?:fail|cancelled) (\d+)$/gm) + count(/^\s*(\d+) failing/gm);
  // node's summary counts skipped tests but not a skipped describe; its TAP line "ok N - name # SKIP"
  // marks both, so take the larger. Mocha: "N pending".
  const s = Math.max(count(/^(?:# |ℹ )skip(?:ped)? (\d+)$/gm), (out.match(/^\s*ok \d+ - .*# SKIP\b/gm) ?? []).length) + count(/^\s*(\d+) pending/gm);
  if (code !== 0 && f === 0) f = 1; // a step that failed without counting (type errors, build, crash)
  const problems = [];
  if (code !== 0) problems.push(`exit ${code}`);
  // A skip for a missing tool says so ("... is not installed"): in CI the tools are installed.
  const missingTool = [...out.matchAll(/^\s*ok \d+ - .*# SKIP (.*)$/gm)].map((m) => m[1]).filter((why) => /not installed|missing/i.test(why));
  if (inCI && TEST_SUITES.has(name) && missingTool.length) problems.push(`${missingTool.length} skipped for a missing tool (${missingTool[0]}): in CI every test must run`);
  if (inCI && TEST_SUITES.has(name) && code === 0 && p === 0) problems.push('no test passed: in CI every test suite must run');
  if (problems.length && f === 0) f = 1;
  passed += p;
  failed += f;
  skipped += s;
  if (problems.length) failures.push(name);
  const counts = TEST_SUITES.has(name) ? ` (${p} passed, ${f} failed, ${s} skipped)` : '';
  console.log(`=== ${name}: ${problems.length ? `FAILED (${problems.join('; ')})` : 'ok'} in ${((Date.now() - started) / 1000).toFixed(1)} s${counts}`);
}

if (failures.length) console.log(`\nfailed suites: ${failures.join(', ')}`);
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failures.length ? 1 : 0);
