// One esbuild script, a target per bundle. Type-checking is separate (npm run typecheck).
// usage: node scripts/build.mjs [--watch] [target...]   targets: extension webview server tests schema
import * as esbuild from 'esbuild';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const watch = args.includes('--watch');
const wanted = args.filter((a) => !a.startsWith('--'));
const production = process.env.NODE_ENV === 'production';

const node = { platform: 'node', target: 'node20', format: 'cjs', bundle: true, sourcemap: true, logLevel: 'warning', absWorkingDir: root };

/** Test files for the extension host (test/vscode: one folder; test/vscode-multiroot: a multi-root workspace), each bundled into dist/<same path>.js for mocha. */
function vscodeTestEntries() {
  return ['test/vscode', 'test/vscode-multiroot'].flatMap((d) => {
    const dir = path.join(root, d);
    return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.ts')).map((f) => `${d}/${f}`) : [];
  });
}

const targets = {
  // Minified always: the extension host parses this file on every activation (sourcemap stays external).
  extension: { ...node, entryPoints: ['extension/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'], minify: true, plugins: [zodEnglishOnly()] },
  server: { ...node, entryPoints: ['server/main.ts'], outfile: 'dist/server.js', external: ['better-sqlite3', 'keytar'] },
  webview: {
    platform: 'browser', target: 'es2022', format: 'iife', bundle: true, sourcemap: true, logLevel: 'warning', absWorkingDir: root,
    entryPoints: ['webview/main.ts'], outfile: 'dist/webview/main.js', minify: production, after: copyCodicons,
  },
  // The portal's own web page (server/web/pages.ts serves it): the Stage Values editor of webview/
  // with a browser host (portal/). Content-hashed names, listed in dist/portal/manifest.json.
  portal: {
    platform: 'browser', target: 'es2022', format: 'iife', bundle: true, sourcemap: false, logLevel: 'warning', absWorkingDir: root,
    entryPoints: ['portal/portal.ts'], outdir: 'dist/portal', entryNames: '[name]-[hash]', assetNames: '[name]-[hash]', minify: true, metafile: true,
    plugins: [zodEnglishOnly()], before: cleanPortal, after: writePortalManifest,
  },
  tests: { ...node, entryPoints: vscodeTestEntries(), outbase: 'test', outdir: 'dist/test', external: ['vscode', 'mocha', 'playwright-core'] },
  // schemas/odc-app.schema.json from common/definitions.ts (zod -> JSON Schema). Not built by default:
  // the file is committed and a unit test says when it is stale. Run: node scripts/build.mjs schema
  schema: { ...node, entryPoints: ['scripts/definitions-schema.ts'], write: false, sourcemap: false, explicit: true, after: writeSchema },
};
// jsonc-parser's "main" is a UMD build whose inner require() calls esbuild cannot follow; take its ES module build.
for (const t of [targets.extension, targets.tests]) t.mainFields = ['module', 'main'];

// zod's `z` namespace re-exports every locale (z.locales, ~265 KB minified) though only English, which zod
// configures itself from locales/en.js, is ever used here. For the extension bundle (parsed on every
// activation), locales/index.js keeps English only.
function zodEnglishOnly() {
  return {
    name: 'zod-english-only',
    setup(build) {
      build.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, () => ({ contents: 'export { default as en } from "./en.js";\n', loader: 'js' }));
    },
  };
}

// The codicons stylesheet and font, next to main.js/main.css (the webview may load only dist/webview).
function copyCodicons() {
  for (const f of ['codicon.css', 'codicon.ttf']) fs.copyFileSync(path.join(root, 'node_modules/@vscode/codicons/dist', f), path.join(root, 'dist/webview', f));
}

function cleanPortal() {
  fs.rmSync(path.join(root, 'dist/portal'), { recursive: true, force: true });
}

// manifest.json: logical name -> hashed file. The codicons stylesheet is copied apart (not bundled):
// vscode-elements finds it by its <link id> and loads it into its shadow roots; its font keeps a hashed name too.
function writePortalManifest(result) {
  const out = path.join(root, 'dist/portal');
  const manifest = {};
  for (const [file, meta] of Object.entries(result.metafile.outputs)) {
    if (meta.entryPoint === 'portal/portal.ts') manifest['portal.js'] = path.basename(file);
    else if (file.endsWith('.css') && path.basename(file).startsWith('portal-')) manifest['portal.css'] = path.basename(file);
  }
  const hash = (buf) => createHash('sha256').update(buf).digest('base64url').slice(0, 12).replace(/[-_]/g, 'x');
  const codicons = path.join(root, 'node_modules/@vscode/codicons/dist');
  const font = fs.readFileSync(path.join(codicons, 'codicon.ttf'));
  const fontName = `codicon-${hash(font)}.ttf`;
  fs.writeFileSync(path.join(out, fontName), font);
  const css = fs.readFileSync(path.join(codicons, 'codicon.css'), 'utf8').replace(/url\("?\.?\/?codicon\.ttf[^")]*"?\)/g, `url("${fontName}")`);
  const cssName = `codicon-${hash(css)}.css`;
  fs.writeFileSync(path.join(out, cssName), css);
  manifest['codicon.css'] = cssName;
  fs.writeFileSync(path.join(out, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
}

async function writeSchema(result) {
  const mod = { exports: {} };
  new Function('module', 'exports', 'require', result.outputFiles[0].text)(mod, mod.exports, (await import('node:module')).createRequire(import.meta.url));
  const out = path.join(root, 'schemas/odc-app.schema.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, mod.exports.definitionsJsonSchemaText());
}

const selected = (wanted.length ? wanted : Object.keys(targets).filter((t) => !targets[t].explicit)).filter((t) => {
  const entries = targets[t]?.entryPoints ?? [];
  if (!targets[t]) throw new Error(`unknown target ${t}`);
  return entries.length > 0 && entries.every((e) => fs.existsSync(path.join(root, e)));
});

for (const name of selected) {
  const { explicit, after, before, ...options } = targets[name];
  if (watch) await (await esbuild.context(options)).watch();
  else {
    before?.();
    const result = await esbuild.build(options);
    await after?.(result);
  }
}
if (!watch) console.log(`built: ${selected.join(', ')}`);
