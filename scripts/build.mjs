// One esbuild script, a target per bundle. Type-checking is separate (npm run typecheck).
// usage: node scripts/build.mjs [--watch] [target...]   targets: extension webview server tests schema
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const watch = args.includes('--watch');
const wanted = args.filter((a) => !a.startsWith('--'));
const production = process.env.NODE_ENV === 'production';

const node = { platform: 'node', target: 'node20', format: 'cjs', bundle: true, sourcemap: true, logLevel: 'warning', absWorkingDir: root };

/** Test files for the extension host, bundled into one file that mocha runs. */
function vscodeTestEntries() {
  const dir = path.join(root, 'test/vscode');
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.ts')).map((f) => `test/vscode/${f}`) : [];
}

const targets = {
  extension: { ...node, entryPoints: ['extension/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'], minify: production },
  server: { ...node, entryPoints: ['server/main.ts'], outfile: 'dist/server.js', external: ['better-sqlite3', 'keytar'] },
  webview: {
    platform: 'browser', target: 'es2022', format: 'iife', bundle: true, sourcemap: true, logLevel: 'warning', absWorkingDir: root,
    entryPoints: ['webview/main.ts'], outfile: 'dist/webview/main.js', minify: production,
  },
  tests: { ...node, entryPoints: vscodeTestEntries(), outdir: 'dist/test/vscode', external: ['vscode', 'mocha', 'playwright-core'] },
};

const selected = (wanted.length ? wanted : Object.keys(targets)).filter((t) => {
  const entries = targets[t]?.entryPoints ?? [];
  if (!targets[t]) throw new Error(`unknown target ${t}`);
  return entries.length > 0 && entries.every((e) => fs.existsSync(path.join(root, e)));
});

for (const name of selected) {
  if (watch) await (await esbuild.context(targets[name])).watch();
  else await esbuild.build(targets[name]);
}
if (!watch) console.log(`built: ${selected.join(', ')}`);
