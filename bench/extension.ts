// Extension activation and the Settings tree, measured in the REAL VS Code extension host
// (code-server, via scripts/run-vscode-tests.mjs) by bench/vscode/index.ts. Three ratios, each
// against a baseline measured in the same run:
// - activate() with a 2,000-setting file vs with a 1-setting file (alternating host runs, medians);
// - activate() with 2,000 settings vs a minimal extension's activate() in the same host and run
//   (bench/vscode/baseline, installed next to ours);
// - the tree filled with 2,000 settings vs JSON.parse + validate of that file in the same host.
import { spawn } from 'node:child_process';
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { definitions } from './lib/fixtures';
import { fmt, notMeasured, type Row } from './lib/result';
import { log, ROOT, round, tempDir } from './lib/util';

export const EXTENSION_GOALS = { vsOneSetting: 1.2, vsMinimal: 2, treeVsParse: 1.5 } as const;
export const EXTENSION_GOAL_TEXT = `<= ${EXTENSION_GOALS.vsOneSetting}x, <= ${EXTENSION_GOALS.vsMinimal}x; tree <= ${EXTENSION_GOALS.treeVsParse}x`;

interface HostRun {
  activateMs?: number;
  baselineActivateMs?: number;
  baselineWasActive?: boolean;
  treeMs?: number;
  treeItemsMs?: number;
  parseValidateMs?: number[];
  settings?: number;
  wasActive?: boolean;
  warmGetChildrenMs?: number[];
  error?: string;
  vscode?: string;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export async function measureExtension(o: { settings: number; rounds?: number; timeoutMs: number; keep?: boolean; profileDir?: string }): Promise<Row[]> {
  const rounds = Math.max(1, o.rounds ?? 1);
  const n = o.settings.toLocaleString('en-US');
  const rowsIfNot = (reason: string): Row[] => [
    notMeasured('extension-activation', `extension activate(), ${n} settings vs 1; vs a minimal extension`, `<= ${EXTENSION_GOALS.vsOneSetting}x, <= ${EXTENSION_GOALS.vsMinimal}x`, reason),
    notMeasured('extension-tree', `Settings tree of ${n} settings filled vs JSON.parse + validate`, `<= ${EXTENSION_GOALS.treeVsParse}x`, reason),
  ];
  const codeServer = path.resolve(process.env.CODE_SERVER_DIR || path.join(ROOT, '.vscode-test/code-server'));
  const need: Array<[string, string]> = [
    ['extension/extension.ts', 'the extension is not in the repo yet'],
    ['extension/testApi.ts', 'the extension exposes no test API (extension/testApi.ts) to read its tree'],
    ['scripts/run-vscode-tests.mjs', 'the extension-host runner scripts/run-vscode-tests.mjs is not in the repo yet'],
    ['test/harness/vscode-web.mjs', 'the code-server harness test/harness/vscode-web.mjs is not in the repo yet'],
    ['dist/extension.js', 'dist/extension.js is not built (node scripts/build.mjs extension)'],
  ];
  for (const [file, reason] of need) if (!fs.existsSync(path.join(ROOT, file))) return rowsIfNot(reason);
  if (!fs.existsSync(path.join(codeServer, 'node/bin/node'))) return rowsIfNot(`code-server is not installed in ${codeServer} (bash scripts/setup-code-server.sh)`);
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { publisher: string; name: string };
  const baselinePkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'bench/vscode/baseline/package.json'), 'utf8')) as { publisher: string; name: string; version: string };

  const dir = tempDir('odc-bench-vscode-');
  try {
    // The bench's extension-host entry, bundled like the project's own extension tests.
    const entry = path.join(dir, 'tests/index.js');
    await esbuild.build({ entryPoints: [path.join(ROOT, 'bench/vscode/index.ts')], outfile: entry, bundle: true, platform: 'node', target: 'node20', format: 'cjs', external: ['vscode'], logLevel: 'warning' });

    /** One cold host: a workspace with `settings` settings, the baseline extension installed. */
    const hostRun = async (settings: number, label: string): Promise<HostRun> => {
      const runDir = path.join(dir, label);
      // The workspace: the settings in a file the workspaceContains event does not match, so
      // activate() below is the first, cold activation.
      const folder = path.join(runDir, 'workspace');
      fs.mkdirSync(path.join(folder, '.vscode'), { recursive: true });
      const file = 'bench.odc-app.json';
      fs.writeFileSync(path.join(folder, '.vscode/settings.json'), JSON.stringify({ 'odcSettings.definitionsFile': file }, null, 2));
      fs.writeFileSync(path.join(folder, file), JSON.stringify(definitions('bench', settings, Math.min(10, settings)), null, 2) + '\n');
      const extensionsDir = path.join(runDir, 'extensions');
      fs.mkdirSync(extensionsDir, { recursive: true });
      for (const name of ['baseline', 'warmup']) {
        const p = JSON.parse(fs.readFileSync(path.join(ROOT, 'bench/vscode', name, 'package.json'), 'utf8')) as { publisher: string; name: string; version: string };
        fs.symlinkSync(path.join(ROOT, 'bench/vscode', name), path.join(extensionsDir, `${p.publisher}.${p.name}-${p.version}`), 'dir');
      }
      const out = path.join(runDir, 'result.json');
      const started = Date.now();
      const child = spawn(process.execPath, [path.join(ROOT, 'scripts/run-vscode-tests.mjs'), ROOT, entry, folder], {
        cwd: ROOT,
        env: {
          ...process.env,
          ...(o.profileDir && settings === o.settings ? { ODC_BENCH_PROFILE: path.join(o.profileDir, `extension-activation-${label}.cpuprofile`) } : {}),
          ODC_BENCH_OUT: out,
          ODC_BENCH_SETTINGS: String(settings),
          ODC_BENCH_EXTENSION_ID: `${pkg.publisher}.${pkg.name}`,
          ODC_BENCH_BASELINE_ID: `${baselinePkg.publisher}.${baselinePkg.name}`,
          ODC_BENCH_WARMUP_ID: `${baselinePkg.publisher}.odc-bench-warmup`,
          ODC_TEST_EXTENSIONS_DIR: extensionsDir,
          TEST_TIMEOUT_MS: String(o.timeoutMs),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout!.on('data', (d) => (output += d));
      child.stderr!.on('data', (d) => (output += d));
      const code = await new Promise<number | null>((resolve) => {
        // The runner has its own timeout; this one is the backstop. SIGTERM lets it stop code-server's group.
        const timer = setTimeout(() => child.kill('SIGTERM'), o.timeoutMs + 60_000);
        child.once('exit', (c) => {
          clearTimeout(timer);
          resolve(c);
        });
      });
      if (!fs.existsSync(out)) return { error: `the extension-host run produced no result (exit ${code}): ${output.trim().split('\n').slice(-5).join(' | ')}` };
      const r = JSON.parse(fs.readFileSync(out, 'utf8')) as HostRun;
      if (r.wasActive || r.baselineWasActive) r.error = 'an extension was already active before its timed activate() (not a cold activation)';
      log(
        `  ${label}: exit ${code} after ${Math.round((Date.now() - started) / 1000)} s; minimal ${round(r.baselineActivateMs ?? NaN, 1)} ms, ours ${round(r.activateMs ?? NaN, 1)} ms, ` +
          `tree ${round(r.treeMs ?? NaN, 1)} ms, parse+validate ${round(median(r.parseValidateMs ?? [NaN]), 1)} ms${r.error ? ` (${r.error})` : ''}`,
      );
      return r;
    };

    // Alternate the two workspaces so machine load falls on both alike.
    const big: HostRun[] = [];
    const one: HostRun[] = [];
    for (let i = 0; i < rounds; i++) {
      big.push(await hostRun(o.settings, `r${i + 1}-${o.settings}`));
      one.push(await hostRun(1, `r${i + 1}-1`));
    }
    const failed = [...big, ...one].find((r) => r.error);
    if (failed) return rowsIfNot(`in the extension host: ${failed.error}`);

    const ours = median(big.map((r) => r.activateMs!));
    const oursOne = median(one.map((r) => r.activateMs!));
    const minimal = median(big.map((r) => r.baselineActivateMs!));
    const tree = median(big.map((r) => r.treeMs!));
    const parse = median(big.map((r) => median(r.parseValidateMs!)));
    const vsOne = ours / oursOne;
    const vsMinimal = ours / minimal;
    const treeRatio = tree / parse;
    const vscodeVersion = big[0]!.vscode;
    const roundsNote = rounds > 1 ? `medians of ${rounds} alternating host runs each` : 'one host run each (--quick)';
    return [
      {
        id: 'extension-activation',
        measure: `extension activate(), ${n} settings vs 1; vs a minimal extension`,
        subject: `${fmt.ms(ours)}`,
        baseline: `1 setting: ${fmt.ms(oursOne)}; minimal extension: ${fmt.ms(minimal)}`,
        ratio: `${fmt.x(vsOne)}; ${fmt.x(vsMinimal)}`,
        goal: `<= ${EXTENSION_GOALS.vsOneSetting}x, <= ${EXTENSION_GOALS.vsMinimal}x`,
        status: vsOne <= EXTENSION_GOALS.vsOneSetting && vsMinimal <= EXTENSION_GOALS.vsMinimal ? 'pass' : 'miss',
        note: `cold activate() in code-server's extension host (VS Code ${vscodeVersion}); a warm-up extension activated first (untimed), then the minimal extension (one command), then ours, in the same host; ${roundsNote}; ${n} vs 1: ${vsOne <= EXTENSION_GOALS.vsOneSetting ? 'pass' : 'miss'}, vs minimal: ${vsMinimal <= EXTENSION_GOALS.vsMinimal ? 'pass' : 'miss'}`,
        data: { big, one },
      },
      {
        id: 'extension-tree',
        measure: `Settings tree of ${n} settings filled vs JSON.parse + validate`,
        subject: fmt.ms(tree),
        baseline: `JSON.parse + validate, same file and host: ${fmt.ms(parse)}`,
        ratio: fmt.x(treeRatio),
        goal: `<= ${EXTENSION_GOALS.treeVsParse}x`,
        status: treeRatio <= EXTENSION_GOALS.treeVsParse ? 'pass' : 'miss',
        note: `tree = activate() resolved -> getChildren returns all ${n} settings (the file is read and parsed in the background); baseline = median of 5 JSON.parse + definitionProblems of the same text in the same host; then ${fmt.ms(median(big.map((r) => r.treeItemsMs ?? NaN)))} for the ${n} TreeItems; ${roundsNote}`,
      },
    ];
  } finally {
    if (!o.keep) fs.rmSync(dir, { recursive: true, force: true });
  }
}
