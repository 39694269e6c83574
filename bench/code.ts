// Settings in code (issue 16, item 9):
// - completion and hover on a 5,000-line TypeScript file in an app with 2,000 settings, in the REAL
//   extension host, against VS Code's built-in JSON hover in the same host and run (<= 1.5x);
// - the hard-coded credential scan of a 5,000-line file (tokenizer + detector) against a plain
//   regex pass (quoted strings found by one regex, each tested with the known formats; <= 2x).
import { spawn } from 'node:child_process';
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findCredentials } from '../extension/code/codeCredentials';
import { scanSource } from '../extension/code/scanner';
import { definitions } from './lib/fixtures';
import { fmt, notMeasured, type Row } from './lib/result';
import { log, ROOT, tempDir } from './lib/util';

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** A 5,000-line TypeScript module: functions reading settings, comments, strings, templates, regexes. */
export function bigSource(lines: number, settings: number): string {
  const out: string[] = ["import { createHash } from 'node:crypto';", ''];
  for (let i = 0; out.length < lines - 2; i++) {
    const n = i % settings;
    out.push(
      `// Handler ${i}: reads SETTING_${n}_NAME; process.env.NOT_IN_COMMENT is not a read`,
      `export function handler${i}(input: { id: string; count: number }): string {`,
      `  const value = process.env.SETTING_${n}_NAME ?? 'fallback-${i}';`,
      `  const other = process.env['SETTING_${(n + 7) % settings}_NAME'];`,
      `  const re = /^[a-z]+\\/${i}$/i;`,
      `  const label = \`item \${input.id} of \${input.count} (\${process.env.NODE_ENV})\`;`,
      `  const digest = createHash('sha256').update(label + value + (other ?? '')).digest('hex');`,
      `  return re.test(input.id) ? digest : 'request ${'0'.repeat(8)}-0000-4000-8000-${String(i).padStart(12, '0')}';`,
      '}',
      '',
    );
  }
  out.push('export const last = process.env.', '');
  return out.slice(0, lines).join('\n');
}

const QUOTED = /(['"`])((?:\\.|(?!\1)[^\\\n])*)\1/g;

/** The credential scan against one plain regex pass (the well-known formats joined), in interleaved rounds. */
export function measureCredentialScan(rounds: number): Row {
  const text = bigSource(5000, 2000);
  // The baseline: what a plain scanner does, one global regex of the known formats over the text.
  const plain = /\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255}|glpat-[A-Za-z0-9_-]{20,}|(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}|xox[abposr]-[A-Za-z0-9-]{10,}|(?:AKIA|ASIA)[A-Z0-9]{16}|AIza[A-Za-z0-9_-]{35}|sk-(?:proj-)?[A-Za-z0-9_-]{20,}|npm_[A-Za-z0-9]{36}|SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}|eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})|-----BEGIN [A-Z0-9 ]{2,40}-----/g;
  const ours: number[] = [];
  const base: number[] = [];
  let found = 0;
  // Both sides warm up alike: a few rounds left the more complex scan still partly unoptimised by the JIT.
  const WARMUP = 30;
  for (let r = 0; r < rounds + WARMUP; r++) {
    const a = performance.now();
    found = findCredentials(scanSource(text, 'js').strings, []).length;
    const b = performance.now();
    // The same detection without syntax awareness: a regex finds the quoted strings, each is tested.
    let plainFound = 0;
    for (const m of text.matchAll(QUOTED)) {
      plain.lastIndex = 0;
      if (plain.test(m[2]!)) plainFound++;
    }
    const c = performance.now();
    if (r >= WARMUP) {
      ours.push(b - a);
      base.push(c - b);
    }
    if (plainFound < 0) throw new Error('unreachable');
  }
  const o = median(ours);
  const p = median(base);
  const ratio = o / p;
  return {
    id: 'code-credential-scan',
    measure: 'credential scan of a 5,000-line file',
    subject: fmt.ms(o),
    baseline: `plain regex pass: ${fmt.ms(p)}`,
    ratio: fmt.x(ratio),
    goal: '<= 2x',
    status: ratio <= 2 ? 'pass' : 'miss',
    note: `baseline: one regex pass that finds quoted strings and tests each with the known formats (no syntax awareness); ours: the scan the editor runs (comments, strings, templates, regexes skipped; env reads; names strings are assigned to) + detector, on ${text.length.toLocaleString('en-US')} characters, medians of ${rounds} interleaved rounds; ${found} findings (expected 0)`,
    data: { ours, base, chars: text.length, found },
  };
}

export async function measureCodeInEditor(o: { settings: number; timeoutMs: number; rounds: number; keep?: boolean }): Promise<Row[]> {
  const id = 'code-completion-hover';
  const measure = `completion and hover in a 5,000-line file, ${o.settings.toLocaleString('en-US')} settings`;
  const goal = '<= 1.5x';
  const codeServer = path.resolve(process.env.CODE_SERVER_DIR || path.join(ROOT, '.vscode-test/code-server'));
  if (!fs.existsSync(path.join(ROOT, 'dist/extension.js'))) return [notMeasured(id, measure, goal, 'dist/extension.js is not built (node scripts/build.mjs extension)')];
  if (!fs.existsSync(path.join(codeServer, 'node/bin/node'))) return [notMeasured(id, measure, goal, `code-server is not installed in ${codeServer}`)];
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { publisher: string; name: string };
  const dir = tempDir('odc-bench-code-');
  try {
    const entry = path.join(dir, 'tests/index.js');
    await esbuild.build({ entryPoints: [path.join(ROOT, 'bench/codeHost/index.ts')], outfile: entry, bundle: true, platform: 'node', target: 'node20', format: 'cjs', external: ['vscode'], logLevel: 'warning' });
    const folder = path.join(dir, 'workspace');
    fs.mkdirSync(path.join(folder, 'src'), { recursive: true });
    // Setting names whose variables are SETTING_<n>_NAME, as the source reads them.
    const defs = definitions('bench', o.settings, 10) as { settings: Array<{ name: string }> };
    defs.settings.forEach((s, i) => (s.name = `Setting${i}Name`));
    fs.writeFileSync(path.join(folder, 'odc-app.json'), JSON.stringify(defs, null, 2) + '\n');
    fs.writeFileSync(path.join(folder, 'src/big.ts'), bigSource(5000, o.settings));

    const out = path.join(dir, 'result.json');
    const child = spawn(process.execPath, [path.join(ROOT, 'scripts/run-vscode-tests.mjs'), ROOT, entry, folder], {
      cwd: ROOT,
      env: { ...process.env, ODC_BENCH_OUT: out, ODC_BENCH_ROUNDS: String(o.rounds), ODC_BENCH_EXTENSION_ID: `${pkg.publisher}.${pkg.name}`, TEST_TIMEOUT_MS: String(o.timeoutMs) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGTERM'), o.timeoutMs + 60_000);
      child.once('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    if (!fs.existsSync(out)) return [notMeasured(id, measure, goal, `the extension-host run produced no result (exit ${code}): ${output.trim().split('\n').slice(-5).join(' | ')}`)];
    const r = JSON.parse(fs.readFileSync(out, 'utf8')) as { completion?: number[]; hover?: number[]; ownCompletion?: number[]; ownHover?: number[]; jsonHover?: number[]; error?: string; vscode?: string; completionItems?: number; jsonHoverCount?: number; hoverCount?: number; typescriptActive?: boolean; lines?: number };
    if (r.error) return [notMeasured(id, measure, goal, `in the extension host: ${r.error.split('\n')[0]}`)];
    if (!r.jsonHoverCount) return [notMeasured(id, measure, goal, 'the built-in JSON hover answered nothing (no baseline)')];
    const j = median(r.jsonHover!);
    const c = median(r.ownCompletion!);
    const h = median(r.ownHover!);
    const all = { completion: median(r.completion!), hover: median(r.hover!) };
    log(`  ours: completion ${c.toFixed(1)} ms, hover ${h.toFixed(1)} ms; all providers through the command (TypeScript's included): completion ${all.completion.toFixed(1)} ms, hover ${all.hover.toFixed(1)} ms; built-in JSON hover ${j.toFixed(1)} ms (VS Code ${r.vscode}, ${r.completionItems} items, ${r.lines} lines)`);
    const row = (which: 'completion' | 'hover', v: number): Row => ({
      id: `${id}-${which}`,
      measure: `${which} in a 5,000-line file, ${o.settings.toLocaleString('en-US')} settings`,
      subject: fmt.ms(v),
      baseline: `built-in JSON hover: ${fmt.ms(j)}`,
      ratio: fmt.x(v / j),
      goal,
      status: v / j <= 1.5 ? 'pass' : 'miss',
      note:
        `ours: our ${which} provider called in code-server's extension host (VS Code ${r.vscode}) through the extension's API, after an edit so the file is scanned again` +
        `${which === 'completion' ? ` (${r.completionItems} items; descriptions resolved on demand)` : ''}; baseline: vscode.executeHoverProvider on odc-app.json (JSON language server, with the command's round trip, which ours does not pay); ` +
        `medians of ${r.ownCompletion!.length} interleaved rounds. For scale: the editor's whole ${which} request in the TypeScript file, VS Code's TypeScript extension included, took ${fmt.ms(all[which])}`,
      data: { samples: which === 'completion' ? r.ownCompletion : r.ownHover, baseline: r.jsonHover, allProviders: which === 'completion' ? r.completion : r.hover },
    });
    return [row('completion', c), row('hover', h)];
  } finally {
    if (!o.keep) fs.rmSync(dir, { recursive: true, force: true });
  }
}
