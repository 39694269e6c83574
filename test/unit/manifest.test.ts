// The marketplace manifest (issue 17 item 4) and its strings (item 3): package.json read as the
// marketplace and VS Code read it, and `vsce package` run for real, which must print no warning.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';

const root = path.resolve(import.meta.dirname, '../..');
const read = (f: string) => fs.readFileSync(path.join(root, f), 'utf8');

interface Manifest {
  name: string;
  publisher: string;
  displayName: string;
  description: string;
  icon?: string;
  categories?: string[];
  keywords?: string[];
  homepage?: string;
  repository?: { url?: string };
  bugs?: { url?: string };
  capabilities?: { untrustedWorkspaces?: { supported: unknown; description?: string; restrictedConfigurations?: string[] } };
  contributes: {
    commands: Array<{ command: string; title: string; category?: string }>;
    configuration: { properties: Record<string, unknown> };
    walkthroughs?: Array<{ id: string; title: string; description: string; steps: Array<{ id: string; title: string; description: string; media: { markdown?: string; svg?: string; image?: string; altText?: string }; completionEvents?: string[] }> }>;
  };
}
const pkg = JSON.parse(read('package.json')) as Manifest;
const nls = JSON.parse(read('package.nls.json')) as Record<string, string>;
const resolve = (s: string) => s.replace(/^%(.+)%$/, (_, k: string) => nls[k] ?? s);

// VS Code's marketplace categories (vsce refuses others).
const CATEGORIES = ['AI', 'Azure', 'Chat', 'Data Science', 'Debuggers', 'Education', 'Extension Packs', 'Formatters', 'Keymaps', 'Language Packs', 'Linters', 'Machine Learning', 'Notebooks', 'Programming Languages', 'SCM Providers', 'Snippets', 'Testing', 'Themes', 'Visualization', 'Other'];

test('the icon is a 128x128 PNG', () => {
  assert.ok(pkg.icon, 'package.json names an icon');
  const png = fs.readFileSync(path.join(root, pkg.icon));
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
  assert.equal(png.subarray(12, 16).toString('latin1'), 'IHDR');
  assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [128, 128]);
});

test('categories fit (marketplace names, not only "Other"); keywords, repository, bugs and homepage are set', () => {
  assert.ok(pkg.categories?.length);
  for (const c of pkg.categories) assert.ok(CATEGORIES.includes(c), `"${c}" is a marketplace category`);
  assert.ok(pkg.categories.some((c) => c !== 'Other'), 'not only "Other"');
  assert.ok((pkg.keywords?.length ?? 0) >= 3 && (pkg.keywords?.length ?? 0) <= 30, '3 to 30 keywords');
  for (const url of [pkg.repository?.url, pkg.bugs?.url, pkg.homepage]) assert.match(url ?? '', /^https:\/\//);
});

test('CHANGELOG.md exists and has an entry per release; README images exist and at least one screenshot is shown', () => {
  const changelog = read('CHANGELOG.md');
  assert.match(changelog, /^## \[Unreleased\]/m);
  assert.match(changelog, /^## \[0\.1\.0\]/m);
  const readme = read('README.md');
  const images = [...readme.matchAll(/!\[([^\]]*)\]\(([^)\s]+)\)/g)].map((m) => ({ alt: m[1]!, src: m[2]! }));
  assert.ok(images.some((i) => /screenshots\//.test(i.src)), 'README shows a screenshot');
  for (const i of images) {
    assert.ok(i.alt.trim().length > 0, `${i.src} has alt text`);
    assert.ok(!/^https?:/.test(i.src), `${i.src} is in the repository (vsce makes it absolute from "repository")`);
    assert.ok(!i.src.endsWith('.svg'), `${i.src}: the marketplace refuses SVG images in the README`);
    assert.ok(fs.existsSync(path.join(root, i.src)), `${i.src} exists`);
  }
});

test('Restricted Mode: limited support, the portal URL and definitions file restricted (and contributed)', () => {
  const trust = pkg.capabilities?.untrustedWorkspaces;
  assert.equal(trust?.supported, 'limited');
  assert.ok(resolve(trust?.description ?? '').length > 0, 'says what is limited');
  assert.ok(trust?.restrictedConfigurations?.includes('odcSettings.serverUrl'));
  for (const c of trust?.restrictedConfigurations ?? []) assert.ok(c in pkg.contributes.configuration.properties, `${c} is a contributed setting`);
});

test('the walkthrough: each step has its media and completes on a context key the extension sets, or a contributed command', () => {
  const walk = pkg.contributes.walkthroughs?.[0];
  assert.ok(walk, 'a walkthrough is contributed');
  assert.equal(walk.steps.length, 6);
  const constants = read('extension/constants.ts');
  const sources = fs.readdirSync(path.join(root, 'extension'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => read(path.join('extension', f))).join('\n');
  const contributed = new Set(pkg.contributes.commands.map((c) => c.command));
  const progress = read('extension/walkthroughProgress.ts');
  // welcome.markStepComplete takes "<publisher>.<name>#<walkthrough id>#<step id>".
  assert.match(progress, new RegExp(`WALKTHROUGH_ID = '${walk.id.replace(/\./g, '\\.')}'`));
  assert.match(progress, new RegExp(`EXTENSION_ID = '${`${pkg.publisher}.${pkg.name}`.replace(/\./g, '\\.')}'`));
  for (const step of walk.steps) {
    const media = step.media.markdown ?? step.media.svg ?? step.media.image;
    assert.ok(media && fs.existsSync(path.join(root, media)), `${step.id}: media ${media} exists`);
    assert.ok(step.completionEvents?.length, `${step.id} completes by an event, not by being opened`);
    for (const ev of step.completionEvents) {
      const [kind, arg] = ev.split(/:(.*)/s) as [string, string];
      if (kind === 'onContext') {
        const name = new RegExp(`(\\w+): '${arg.replace(/\./g, '\\.')}'`).exec(constants)?.[1];
        assert.ok(name, `${ev}: the key is in extension/constants.ts`);
        assert.match(sources, new RegExp(`('setContext', |setWalkthroughContext\\()CONTEXT\\.${name}\\b`), `${ev}: the extension sets it`);
        // VS Code misses a key already true when its walkthrough service starts: the key also ticks this step off.
        assert.match(progress, new RegExp(`\\[CONTEXT\\.${name}\\]: '${step.id}'`), `${ev}: ticks off step ${step.id} (extension/walkthroughProgress.ts)`);
      } else {
        assert.equal(kind, 'onCommand', `${step.id}: ${ev}`);
        assert.ok(contributed.has(arg), `${ev}: a contributed command`);
        assert.match(sources, new RegExp(`completeWalkthroughStep\\('${step.id}'\\)`), `${ev}: the command ticks off step ${step.id}`);
      }
    }
    for (const link of resolve(step.description).matchAll(/\(command:([\w.-]+)\)/g)) {
      const id = link[1]!;
      assert.ok(contributed.has(id) || id.startsWith('workbench.') || id === 'odcSettings.settings.focus', `${step.id} links ${id}`);
    }
  }
});

test('every user-visible manifest string comes from package.nls.json, and every key there is used', () => {
  const text = read('package.json');
  const used = new Set([...text.matchAll(/"%([^"%]+)%"/g)].map((m) => m[1]!));
  assert.deepEqual([...used].filter((k) => !(k in nls)), [], 'keys missing from package.nls.json');
  assert.deepEqual(Object.keys(nls).filter((k) => !used.has(k)), [], 'unused keys in package.nls.json');
  const literal: string[] = [];
  const visit = (node: unknown, where: string) => {
    if (Array.isArray(node)) node.forEach((n, i) => visit(n, `${where}[${i}]`));
    else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) {
        const shown = ['title', 'name', 'description', 'markdownDescription', 'contents', 'contextualTitle', 'category', 'displayName', 'altText', 'enumDescriptions', 'markdownEnumDescriptions', 'deprecationMessage', 'label'].includes(k);
        if (shown && typeof v === 'string' && !/^%.+%$/.test(v)) literal.push(`${where}.${k}`);
        else visit(v, `${where}.${k}`);
      }
    }
  };
  visit({ displayName: pkg.displayName, description: pkg.description, capabilities: pkg.capabilities, contributes: pkg.contributes }, 'package.json');
  assert.deepEqual(literal, [], 'put these strings in package.nls.json');
});

test('vsce package succeeds and prints no warning', { timeout: 180_000 }, () => {
  if (!fs.existsSync(path.join(root, 'dist/extension.js')) || !fs.existsSync(path.join(root, 'dist/webview/main.js'))) {
    const built = spawnSync(process.execPath, ['scripts/build.mjs', 'extension', 'webview'], { cwd: root, encoding: 'utf8' });
    assert.equal(built.status, 0, built.stderr);
  }
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'odc-vsix-'));
  try {
    // stdin closed: a warning that asks "continue? [y/N]" fails instead of waiting.
    const res = spawnSync(path.join(root, 'node_modules/.bin/vsce'), ['package', '--no-dependencies', '--out', path.join(out, 'odc-settings.vsix')], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
    });
    const output = `${res.stdout}\n${res.stderr}`;
    assert.equal(res.status, 0, output);
    assert.doesNotMatch(output, /WARNING|WARN\b|Aborted/i, output);
    assert.ok(fs.statSync(path.join(out, 'odc-settings.vsix')).size > 0);
    for (const f of ['extension/package.nls.json', 'extension/changelog.md', 'extension/media/icon.png', 'extension/media/walkthrough/']) assert.match(output, new RegExp(f.split('/').pop()!.replace('.', '\\.'), 'i'), `${f} is packaged`);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
