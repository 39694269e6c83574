// `npm run bench`: the performance measures (bench/main.ts, run with tsx), not part of npm test.
// Builds what it measures first: the server bundle, and the webview and extension bundles when
// their sources exist. A bundle that fails to build is reported "not measured", never measured stale.
// usage: npm run bench -- [--only=runtime,scale,publish,webview,extension,keychain] [--quick] [--profile=DIR] ...
//        (see bench/main.ts and the README's Performance section)
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const onlyArg = args.find((a) => a.startsWith('--only='));
const only = onlyArg ? onlyArg.slice('--only='.length).split(',') : null;
const wants = (m) => !only || only.includes(m);

const builds = [
  ['server', 'server/main.ts', wants('runtime') || wants('scale') || wants('publish') || wants('keychain') || wants('postgres')],
  ['webview', 'webview/main.ts', wants('webview')],
  ['extension', 'extension/extension.ts', wants('extension')],
];
const failed = [];
for (const [target, entry, wanted] of builds) {
  if (!wanted || !fs.existsSync(path.join(root, entry))) continue;
  const r = spawnSync(process.execPath, [path.join(root, 'scripts/build.mjs'), target], { cwd: root, stdio: 'inherit', timeout: 180_000 });
  if (r.status !== 0) {
    console.error(`bench: the ${target} bundle did not build`);
    if (target === 'server') process.exit(1);
    failed.push(target);
  }
}

const tsx = path.join(root, 'node_modules/.bin/tsx');
const child = spawn(tsx, [path.join(root, 'bench/main.ts'), ...args], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, BENCH_BUILD_FAILED: failed.join(',') },
});
// Ctrl-C reaches the child through the terminal; the bench stops its own servers.
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
