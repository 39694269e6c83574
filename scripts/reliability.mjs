// `npm run test:reliability`: the reliability suite (test/reliability) at full size, then a
// summary table of its figures. `npm test` runs the same files at reduced size.
//   node scripts/reliability.mjs [--reduced] [--seed N] [--markdown]
// Sizes can be overridden: RELIABILITY_BAD_REQUESTS, RELIABILITY_KILLS,
// RELIABILITY_LOAD_CONNECTIONS, RELIABILITY_LOAD_SECONDS, RELIABILITY_ROTATION_ROUNDS,
// RELIABILITY_FLOOD_ADDRESSES, RELIABILITY_FLOOD_SECONDS. Loopback only.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const reduced = args.includes('--reduced');
const seedAt = args.indexOf('--seed');
// One seed for every part of the run (printed, so a failure reproduces with --seed).
const seed = seedAt >= 0 ? args[seedAt + 1] : (process.env.RELIABILITY_SEED ?? String(Math.floor(Math.random() * 2 ** 32)));
if (!/^\d+$/.test(seed ?? '')) {
  console.error('--seed needs a non-negative integer');
  process.exit(2);
}
const testDir = path.join(root, 'test/reliability');
const files = fs.readdirSync(testDir).filter((f) => f.endsWith('.test.ts')).sort().map((f) => path.join('test/reliability', f));
const reportFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'odc-reliability-')), 'figures.jsonl');
const env = {
  ...process.env,
  FORCE_COLOR: '0',
  RELIABILITY_FULL: reduced ? '0' : '1',
  RELIABILITY_REPORT: reportFile,
  RELIABILITY_SEED: seed,
};

const started = Date.now();
const loadBefore = os.loadavg()[0];
const { code, out } = await new Promise((resolve) => {
  const child = spawn(path.join(root, 'node_modules/.bin/tsx'), ['--test', '--test-concurrency=1', '--test-reporter=tap', ...files], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
    process.stdout.write(d);
  });
  child.stderr.on('data', (d) => process.stderr.write(d));
  // Bounded: the full run takes minutes; an hour means something hangs.
  const guard = setTimeout(() => child.kill('SIGKILL'), 60 * 60_000);
  child.on('close', (code) => {
    clearTimeout(guard);
    resolve({ code: code ?? 1, out });
  });
});
const minutes = ((Date.now() - started) / 60_000).toFixed(1);

// ---- the summary table ----
const results = new Map();
for (const m of out.matchAll(/^(not ok|ok) \d+ - (.*)$/gm)) results.set(m[2], m[1] === 'ok');
const partResult = (part) => {
  const key =
    {
      '1. bad input': 'bad input',
      '2. crashes': 'crashes',
      '3. load': 'load',
      '4. canary hunt': 'canary hunt',
      '5. concurrent rotations': 'concurrent rotations',
      '6. failing-client flood': 'failing-client flood',
      '7. kill -9 of instances (PostgreSQL)': '7. kill -9',
      '8. database outage (PostgreSQL)': '8. database stopped',
      '9. canary hunt (PostgreSQL)': '9. canary hunt',
    }[part] ?? part;
  for (const [name, ok] of results) if (name.startsWith(key)) return ok ? 'PASS' : 'FAIL';
  return '?';
};
const lines = fs.existsSync(reportFile) ? fs.readFileSync(reportFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
fs.rmSync(path.dirname(reportFile), { recursive: true, force: true });

const rows = [['part', 'figure', 'value']];
for (const { part, figures } of [...lines].sort((a, b) => a.part.localeCompare(b.part))) {
  let first = true;
  for (const [k, v] of Object.entries(figures)) {
    rows.push([first ? `${part} (${partResult(part)})` : '', k, String(v)]);
    first = false;
  }
}
const cell = (s, w) => s + ' '.repeat(Math.max(0, w - s.length));
const width = (i) => Math.min(i === 2 ? 110 : 60, Math.max(...rows.map((r) => r[i].length)));
const widths = [0, 1, 2].map(width);
const fit = (s, w) => (s.length > w ? `${s.slice(0, w - 1)}…` : s);
const markdown = args.includes('--markdown');
console.log(`\nReliability summary: ${reduced ? 'reduced' : 'full'} run, seed ${seed} (reproduce: node scripts/reliability.mjs --seed ${seed}), ${minutes} min, node ${process.version}, ${os.cpus().length} cores, load average ${loadBefore.toFixed(1)} at start`);
for (const [i, r] of rows.entries()) {
  const values = markdown ? r : r.map((s, j) => fit(s, widths[j]));
  console.log(`| ${values.map((s, j) => (markdown ? s : cell(s, widths[j]))).join(' | ')} |`);
  if (i === 0) console.log(`|${widths.map((w, j) => '-'.repeat((markdown ? 3 : w) + 2)).join('|')}|`);
}
const failed = [...results.values()].filter((ok) => !ok).length;
console.log(`\n${results.size - failed} of ${results.size} reliability tests passed${code !== 0 && failed === 0 ? ' (the test runner itself failed)' : ''}`);
process.exit(code === 0 ? 0 : 1);
