// Extension activation and the Settings tree with 2,000 settings, measured in the REAL VS Code
// extension host (code-server, via scripts/run-vscode-tests.mjs) by bench/vscode/index.ts.
import { spawn } from 'node:child_process';
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { definitions } from './lib/fixtures';
import { fmt, notMeasured, type Row } from './lib/result';
import { log, ROOT, round, tempDir } from './lib/util';

const ACTIVATE_GOAL_MS = 50;
const TREE_GOAL_MS = 30;

export async function measureExtension(o: { settings: number; timeoutMs: number; keep?: boolean; profileDir?: string }): Promise<Row[]> {
  const id = 'extension-activation';
  const measure = `extension activation, tree with ${o.settings.toLocaleString('en-US')} settings`;
  const goal = `<= ${ACTIVATE_GOAL_MS} ms, <= ${TREE_GOAL_MS} ms`;
  const codeServer = path.resolve(process.env.CODE_SERVER_DIR || path.join(ROOT, '.vscode-test/code-server'));
  const need: Array<[string, string]> = [
    ['extension/extension.ts', 'the extension is not in the repo yet'],
    ['extension/testApi.ts', 'the extension exposes no test API (extension/testApi.ts) to read its tree'],
    ['scripts/run-vscode-tests.mjs', 'the extension-host runner scripts/run-vscode-tests.mjs is not in the repo yet'],
    ['test/harness/vscode-web.mjs', 'the code-server harness test/harness/vscode-web.mjs is not in the repo yet'],
    ['dist/extension.js', 'dist/extension.js is not built (node scripts/build.mjs extension)'],
  ];
  for (const [file, reason] of need) if (!fs.existsSync(path.join(ROOT, file))) return [notMeasured(id, measure, goal, reason)];
  if (!fs.existsSync(path.join(codeServer, 'node/bin/node'))) return [notMeasured(id, measure, goal, `code-server is not installed in ${codeServer} (bash scripts/setup-code-server.sh)`)];
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { publisher: string; name: string };

  const dir = tempDir('odc-bench-vscode-');
  try {
    // The bench's extension-host entry, bundled like the project's own extension tests.
    const entry = path.join(dir, 'tests/index.js');
    await esbuild.build({ entryPoints: [path.join(ROOT, 'bench/vscode/index.ts')], outfile: entry, bundle: true, platform: 'node', target: 'node20', format: 'cjs', external: ['vscode'], logLevel: 'warning' });
    // The workspace: 2,000 settings in a file the workspaceContains event does not match.
    const folder = path.join(dir, 'workspace');
    fs.mkdirSync(path.join(folder, '.vscode'), { recursive: true });
    const file = 'bench.odc-app.json';
    fs.writeFileSync(path.join(folder, '.vscode/settings.json'), JSON.stringify({ 'odcSettings.definitionsFile': file }, null, 2));
    fs.writeFileSync(path.join(folder, file), JSON.stringify(definitions('bench', o.settings, 10), null, 2) + '\n');
    const out = path.join(dir, 'result.json');
    const started = Date.now();
    const child = spawn(process.execPath, [path.join(ROOT, 'scripts/run-vscode-tests.mjs'), ROOT, entry, folder], {
      cwd: ROOT,
      env: {
        ...process.env,
        ...(o.profileDir ? { ODC_BENCH_PROFILE: path.join(o.profileDir, 'extension-activation.cpuprofile') } : {}),
        ODC_BENCH_OUT: out, ODC_BENCH_SETTINGS: String(o.settings), ODC_BENCH_EXTENSION_ID: `${pkg.publisher}.${pkg.name}`, TEST_TIMEOUT_MS: String(o.timeoutMs) },
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
    log(`  extension host run: exit ${code} after ${Math.round((Date.now() - started) / 1000)} s`);
    if (!fs.existsSync(out)) return [notMeasured(id, measure, goal, `the extension-host run produced no result (exit ${code}): ${output.trim().split('\n').slice(-5).join(' | ')}`)];
    const r = JSON.parse(fs.readFileSync(out, 'utf8')) as {
      activateMs?: number;
      treeMs?: number;
      treeItemsMs?: number;
      settings?: number;
      wasActive?: boolean;
      warmGetChildrenMs?: number[];
      error?: string;
      vscode?: string;
    };
    if (r.error) return [notMeasured(id, measure, goal, `in the extension host: ${r.error}`)];
    if (r.wasActive) return [notMeasured(id, measure, goal, 'the extension was already active before the timed activate() (not a cold activation)')];
    const a = r.activateMs!;
    const t = r.treeMs!;
    log(`  activation ${round(a, 1)} ms, tree ${round(t, 1)} ms to ${r.settings} settings, TreeItems ${round(r.treeItemsMs ?? NaN, 1)} ms (VS Code ${r.vscode})`);
    return [
      {
        id,
        measure,
        subject: `activate ${fmt.ms(a)}, tree ${fmt.ms(t)}`,
        baseline: '-',
        ratio: '-',
        goal,
        status: a <= ACTIVATE_GOAL_MS && t <= TREE_GOAL_MS ? 'pass' : 'miss',
        note: `one cold activation in code-server's extension host (VS Code ${r.vscode}); tree = activate() resolved -> getChildren returns all ${r.settings} settings; then ${fmt.ms(r.treeItemsMs ?? NaN)} for their ${r.settings} TreeItems`,
        data: { ...r },
      },
    ];
  } finally {
    if (!o.keep) fs.rmSync(dir, { recursive: true, force: true });
  }
}
