// `npm run bench` (scripts/bench.mjs builds, then runs this with tsx): every performance measure,
// printed as a table and written to bench-results/latest.json. Not part of npm test.
//
// usage: npm run bench -- [--only=runtime,scale,history,publish,compare,webview,extension,code,keychain,postgres] [--quick]
//          [--rounds=N] [--seconds=S] [--connections=C] [--big-values=N] [--no-log-off]
//          [--profile=DIR] [--keep] [--strict]
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { measureCodeInEditor, measureCredentialScan } from './code';
import { EXTENSION_GOAL_TEXT, measureExtension } from './extension';
import { measureCompare } from './compare';
import { measureHistory } from './history';
import { measureKeychainFallback } from './keychain';
import { measurePostgres } from './postgres';
import { measurePublish } from './publish';
import { notMeasured, type Row } from './lib/result';
import { measureRuntimeRead, measureScale } from './runtime';
import { log, ROOT } from './lib/util';
import { measureWebview } from './webview';

const MEASURES = ['runtime', 'scale', 'history', 'publish', 'compare', 'webview', 'extension', 'code', 'keychain', 'postgres'] as const;
type Measure = (typeof MEASURES)[number];

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    seconds: { type: 'string' },
    connections: { type: 'string' },
    'big-values': { type: 'string' },
    'no-log-off': { type: 'boolean', default: false },
    profile: { type: 'string' },
    keep: { type: 'boolean', default: false },
    strict: { type: 'boolean', default: false },
  },
});

const num = (v: string | undefined, d: number) => (v === undefined ? d : Number(v));
const quick = values.quick!;
const only = (values.only?.split(',').map((s) => s.trim()).filter(Boolean) ?? [...MEASURES]) as Measure[];
for (const m of only) if (!MEASURES.includes(m)) throw new Error(`unknown measure "${m}"; the measures are ${MEASURES.join(', ')}`);
const profileDir = values.profile ? path.resolve(values.profile) : undefined;
if (profileDir) fs.mkdirSync(profileDir, { recursive: true });
const load = {
  rounds: num(values.rounds, quick ? 2 : 5),
  seconds: num(values.seconds, quick ? 2 : 4),
  // The portal's JIT needs a few seconds of load to settle (the bare baseline much less).
  warmup: quick ? 1 : 4,
  connections: num(values.connections, 10),
  keep: values.keep,
};
const serverProfile = (name: string) => (profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.join(profileDir, name)}`] : undefined);
const buildFailed = new Set((process.env.BENCH_BUILD_FAILED ?? '').split(',').filter(Boolean));

async function guarded(id: string, measure: string, goal: string, fn: () => Promise<Row[]>): Promise<Row[]> {
  try {
    return await fn();
  } catch (e) {
    log(`${id} failed: ${(e as Error).stack ?? e}`);
    return [{ ...notMeasured(id, measure, goal, `error: ${(e as Error).message.split('\n')[0]}`), data: { error: String((e as Error).stack ?? e) } }];
  }
}

function gitState(): { commit: string; dirty: boolean } | null {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain'], { cwd: ROOT, encoding: 'utf8' }).trim() !== '';
    return { commit, dirty };
  } catch {
    return null;
  }
}

function table(rows: Row[]): string {
  const head = ['measure', 'subject', 'baseline', 'ratio', 'goal', 'pass/miss'];
  const cells = rows.map((r) => [r.measure, r.subject, r.baseline, r.ratio, r.goal, r.status]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => `| ${c.map((x, i) => x.padEnd(widths[i]!)).join(' | ')} |`;
  const notes = rows.filter((r) => r.note).map((r) => `- ${r.measure}: ${r.note}`);
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line), '', ...notes].join('\n');
}

async function main() {
  const startedAt = new Date();
  const loadBefore = os.loadavg();
  log(`measures: ${only.join(', ')}${quick ? ' (quick)' : ''}; load average ${loadBefore.map((x) => x.toFixed(2)).join(' ')} on ${os.cpus().length} CPUs`);
  const rows: Row[] = [];
  const want = (m: Measure) => only.includes(m);

  if (want('runtime')) {
    log('run-time read vs bare Express');
    rows.push(
      ...(await guarded('runtime-read', 'run-time read of a 100-setting app (20 secrets), req/s', '>= 0.85x', () =>
        measureRuntimeRead({ ...load, logOff: !values['no-log-off'], nodeArgs: serverProfile('runtime-read') }),
      )),
    );
  }
  if (want('scale')) {
    const big = num(values['big-values'], 1_000_000);
    log(`run-time read with ${big} stored values vs 1,000`);
    rows.push(
      ...(await guarded('scale-read', `run-time read with ${big.toLocaleString('en-US')} stored values, req/s`, '>= 0.9x', () =>
        measureScale({ ...load, bigValues: big, smallValues: 1000, nodeArgs: serverProfile('scale-read') }),
      )),
    );
  }
  if (want('history')) {
    const big = num(values['big-values'], 1_000_000);
    log(`run-time read with history kept for ${big} values vs the same store without`);
    rows.push(
      ...(await guarded('history-read', `run-time read with history kept for ${big.toLocaleString('en-US')} values, req/s`, '>= 0.9x', () =>
        measureHistory({ ...load, values: big, nodeArgs: serverProfile('history-read') }),
      )),
    );
  }
  if (want('publish')) {
    log('publish of 5,000 settings vs a raw transaction; republish unchanged');
    rows.push(
      ...(await guarded('publish', 'publish of 5,000 settings, plan + apply', '<= 3x', () =>
        measurePublish({ settings: 5000, rounds: quick ? 3 : 5, republishRuns: quick ? 5 : 9, nodeArgs: serverProfile('publish'), keep: values.keep }),
      )),
    );
  }
  if (want('compare')) {
    log('compare of 2 stages x 5,000 settings vs one stage read');
    rows.push(...(await guarded('compare', 'compare of 2 stages x 5,000 settings', '<= 2x', () => measureCompare({ settings: 5000, rounds: quick ? 5 : 15, nodeArgs: serverProfile('compare') }))));
  }
  if (want('webview')) {
    log('Stage Values webview, first render of 2,000 settings in Chromium');
    const measure = 'stage editor with 2,000 settings, first render in Chromium';
    rows.push(
      ...(buildFailed.has('webview')
        ? [notMeasured('webview-render', measure, '<= 300 ms', 'the webview bundle did not build (node scripts/build.mjs webview)')]
        : await guarded('webview-render', measure, '<= 300 ms', () => measureWebview({ settings: 2000, runs: quick ? 1 : 3 }))),
    );
  }
  if (want('extension')) {
    log('extension activation in the real extension host (code-server), against a minimal extension and a 1-setting file');
    const measure = 'extension activation and Settings tree, 2,000 settings';
    rows.push(
      ...(buildFailed.has('extension')
        ? [notMeasured('extension-activation', measure, EXTENSION_GOAL_TEXT, 'the extension did not build (node scripts/build.mjs extension)')]
        : await guarded('extension-activation', measure, EXTENSION_GOAL_TEXT, () => measureExtension({ settings: 2000, rounds: quick ? 1 : 3, timeoutMs: 240_000, keep: values.keep, profileDir }))),
    );
  }

  if (want('code')) {
    log('settings in code: credential scan vs a plain regex pass; completion and hover vs the built-in JSON hover (code-server)');
    rows.push(...(await guarded('code-credential-scan', 'credential scan of a 5,000-line file', '<= 2x', async () => [measureCredentialScan(quick ? 10 : 30)])));
    rows.push(
      ...(buildFailed.has('extension')
        ? [notMeasured('code-completion-hover', 'completion and hover in a 5,000-line file', '<= 1.5x', 'the extension did not build')]
        : await guarded('code-completion-hover', 'completion and hover in a 5,000-line file', '<= 1.5x', () => measureCodeInEditor({ settings: 2000, rounds: quick ? 10 : 30, timeoutMs: 240_000, keep: values.keep }))),
    );
  }

  if (want('keychain')) {
    log('server start and stop with a keychain that never answers');
    rows.push(
      ...(await guarded('keychain-start', 'server start with a keychain that never answers', '<= 15 s', () => measureKeychainFallback({ runs: quick ? 1 : 3, keep: values.keep }))),
    );
  }

  if (want('postgres')) {
    log('PostgreSQL: run-time read vs SQLite, publish of 5,000 settings vs a raw pg transaction, cross-instance freshness');
    rows.push(...(await guarded('pg', 'PostgreSQL measures', '-', () => measurePostgres({ ...load, quick }))));
  }

  const text = table(rows);
  const loadAfter = os.loadavg();
  process.stdout.write(`\n${text}\n\nload average ${loadBefore[0]!.toFixed(1)} before, ${loadAfter[0]!.toFixed(1)} after, on ${os.cpus().length} CPUs: absolute times grow with it; ratios are taken in interleaved rounds\n`);
  const result = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    git: gitState(),
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    loadAverage: { before: loadBefore, after: loadAfter },
    options: { only, quick, ...load, bigValues: num(values['big-values'], 1_000_000), profileDir: profileDir ?? null },
    rows,
  };
  const outDir = path.join(ROOT, 'bench-results');
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, 'latest.json'), JSON.stringify(result, null, 2) + '\n');
  process.stdout.write(`\nwrote ${path.relative(ROOT, path.join(outDir, 'latest.json'))}${profileDir ? `; CPU profiles in ${profileDir}` : ''}\n`);
  const errored = rows.some((r) => r.status === 'not measured' && r.note?.startsWith('not measured: error'));
  const missed = rows.some((r) => r.status === 'miss');
  process.exitCode = errored || (values.strict && missed) ? 1 : 0;
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
