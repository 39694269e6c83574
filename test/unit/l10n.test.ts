// Issue 17 item 3: every user-visible string the extension shows at run time goes through
// vscode.l10n.t (or, in modules that must stay free of 'vscode', extension/l10n.ts's l10n.t, which
// activate() binds to vscode.l10n.t), so a translation can be added without code changes. English
// only for now: VS Code shows the literal itself for English, so no bundle file ships (README).
//
// The checker reads each file's syntax tree. A string literal or template is unbundled when it
// is not the message of an l10n.t call and either
//  - sits where VS Code shows it: an argument of show*Message (buttons included), of a markdown
//    string (hovers, tooltips), a Diagnostic or CodeAction, an Error's message (commands show it
//    in a notification), a title/prompt/placeHolder/label/description/
//    detail/tooltip/message/text/... property (quick picks, input boxes, progress, tree items,
//    status bar, diagnostics), or an argument filled into an l10n.t message; there any word counts;
//  - or reads as prose anywhere else (two words), which catches maps and helpers whose result is
//    shown later (hover text, plan summaries, JSON syntax messages).
// Not checked: log lines (the output channel stays English for support), imports, type literals,
// comparisons, and text of a markup literal's tags. A literal that is prose but not UI (code the
// extension inserts, a product name) carries `l10n-ignore: <why>` in a comment on its line or on a
// comment line just above. The manifest's strings are checked in manifest.test.ts.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';
import { english, t, useTranslator } from '../../extension/l10n';
import { checkServerUrl } from '../../extension/services/serverUrl';

const root = path.resolve(import.meta.dirname, '../..');

const allFiles = fs
  .readdirSync(path.join(root, 'extension'), { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.ts'))
  .map((f) => path.posix.join('extension', f.split(path.sep).join('/')))
  .sort();

const L10N_T = /^(?:vscode\.)?l10n\.t$/;
const LOG_CALL = /(?:^|\.)(?:log|logger|console)(?:\.(?:trace|debug|info|warn|error|appendLine))?$/;
const UI_CALL = /(?:^|\.)(?:show(?:Information|Warning|Error)Message|appendMarkdown|appendText)$/;
const UI_CLASS = /(?:^|\.)(?:MarkdownString|Diagnostic|CodeAction|TreeItem)$/;
const UI_KEYS = new Set(['title', 'prompt', 'placeHolder', 'placeholder', 'label', 'description', 'detail', 'tooltip', 'message', 'text', 'confirmLabel', 'openLabel', 'saveLabel']);
const PASS_THROUGH = new Set([ts.SyntaxKind.PlusToken, ts.SyntaxKind.QuestionQuestionToken, ts.SyntaxKind.BarBarToken]);
const COMPARISON = new Set([ts.SyntaxKind.EqualsEqualsEqualsToken, ts.SyntaxKind.ExclamationEqualsEqualsToken, ts.SyntaxKind.EqualsEqualsToken, ts.SyntaxKind.ExclamationEqualsToken]);

type Literal = ts.StringLiteral | ts.NoSubstitutionTemplateLiteral | ts.TemplateExpression;
const textOf = (n: Literal): string =>
  ts.isTemplateExpression(n) ? n.head.text + n.templateSpans.map((s) => '${…}' + s.literal.text).join('') : n.text;
/** What a reader sees: no ${…} holes, codicons, markup tags, markdown emphasis, URLs or identifier-like tokens (odcp_…, a.b, UPPER_CASE). */
const visible = (s: string) =>
  s
    .replace(/\$\{…\}|\$\([\w~-]+\)|\b[a-z]+:\/\/\S*/g, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/(?<!\w)(_|\*\*?)([^_*]+)\1(?!\w)/g, '$2')
    .replace(/\w+(?:[_.-]\w+)*[_.]\w+|\w+_|\w*\d\w*/g, ' ');
const anyWord = (s: string) => /[A-Za-z]{2,}/.test(visible(s));
const prose = (s: string) => /[A-Za-z]{2,}[,:;]?\s+[A-Za-z]/.test(visible(s));

/** file:line "string" for each unbundled user-visible literal in one file (path relative to the repo). */
export function unbundled(file: string): string[] {
  const text = fs.readFileSync(path.join(root, file), 'utf8');
  const lines = text.split('\n');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found: string[] = [];

  const check = (lit: Literal) => {
    const line = sf.getLineAndCharacterOfPosition(lit.getStart(sf)).line;
    if (/l10n-ignore:/.test(lines[line] ?? '') || /^\s*\/\/.*l10n-ignore:/.test(lines[line - 1] ?? '')) return;
    const report = (why: string) => found.push(`${file}:${line + 1} ${why} ${JSON.stringify(textOf(lit).slice(0, 60))}`);
    // Climb through the expressions that pass the text on unchanged or into a larger text.
    let at: ts.Node = lit;
    for (;;) {
      const p = at.parent;
      if (ts.isParenthesizedExpression(p) || ts.isAsExpression(p) || ts.isNonNullExpression(p)) at = p;
      else if (ts.isConditionalExpression(p) && p.condition !== at) at = p;
      else if (ts.isBinaryExpression(p) && PASS_THROUGH.has(p.operatorToken.kind)) at = p;
      else if (ts.isTemplateSpan(p)) at = p.parent;
      else break;
    }
    const p = at.parent;
    let ui = false;
    if ((ts.isCallExpression(p) || ts.isNewExpression(p)) && p.arguments?.includes(at as ts.Expression)) {
      const callee = p.expression.getText(sf).replace(/\?\./g, '.');
      const index = p.arguments.indexOf(at as ts.Expression);
      if (ts.isCallExpression(p) && L10N_T.test(callee)) {
        // The message must be one literal with {n} placeholders: a translator sees it whole.
        if (index === 0) return void (at === lit && ts.isTemplateExpression(lit) ? report('message built at run time') : at !== lit ? report('message assembled from pieces') : undefined);
        ui = true;
      } else if (ts.isCallExpression(p) && LOG_CALL.test(callee)) return;
      else if (ts.isCallExpression(p) ? UI_CALL.test(callee) : UI_CLASS.test(callee)) ui = true;
      // An Error's message is prose; its other arguments are codes ('refused', 'timeout').
      else if (ts.isNewExpression(p) && /Error$/.test(callee) && prose(textOf(lit))) return void report('error message');
    } else if (ts.isPropertyAssignment(p)) {
      if (p.name === at) return;
      ui = UI_KEYS.has(p.name.getText(sf).replace(/['"]/g, ''));
    } else if (ts.isBinaryExpression(p) && p.right === at && p.operatorToken.kind === ts.SyntaxKind.EqualsToken) {
      ui = ts.isPropertyAccessExpression(p.left) && UI_KEYS.has(p.left.name.text);
    } else if (ts.isBinaryExpression(p) && COMPARISON.has(p.operatorToken.kind)) return;
    // An input box's validateInput returns the message shown under the box.
    else if (ts.isArrowFunction(p) && p.body === at && ts.isPropertyAssignment(p.parent) && p.parent.name.getText(sf) === 'validateInput') ui = true;
    else if (ts.isImportDeclaration(p) || ts.isExportDeclaration(p) || ts.isLiteralTypeNode(p) || ts.isExternalModuleReference(p) || ts.isCaseClause(p) || ts.isElementAccessExpression(p)) return;
    if (ui ? anyWord(textOf(lit)) : prose(textOf(lit))) report(ui ? 'shown' : 'prose');
  };

  const visit = (n: ts.Node): void => {
    if (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n) || ts.isTemplateExpression(n)) check(n);
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return found;
}

test('the checker finds unbundled strings and accepts bundled ones', () => {
  const dir = fs.mkdtempSync(path.join(root, 'extension', '.l10n-probe-'));
  try {
    const probe = path.join(dir, 'probe.ts');
    const lines = [
      /* 1 */ "vscode.window.showErrorMessage('Cannot reach the portal');",
      /* 2 */ "vscode.window.showErrorMessage(vscode.l10n.t('Cannot reach {0}', url), vscode.l10n.t('Try Again'));",
      /* 3 */ "showInputBox({ title: `Sign in to ${url}`, placeHolder: 'odcp_…' });",
      /* 4 */ "void vscode.window.showWarningMessage(vscode.l10n.t('Delete {0}?', name), { modal: true }, 'Delete');",
      /* 5 */ "throw new PortalError('timeout', `The portal at ${url} did not answer`);",
      /* 6 */ "await vscode.window.withProgress({ location, title: l10n.t('Publishing {0}', app) }, (p) => { p.report({ message: 'writing the revision…' }); });",
      /* 7 */ "item.tooltip = s.isSecret ? 'Is Secret: uncheck it' : l10n.t('Is Secret: check it');",
      /* 8 */ "const words = { removed: 'the setting is removed', id: 'not-signed-in' };",
      /* 9 */ "log.info(`published ${app}`); this.deps.log?.warn('Stage Values: ignoring a backup id');",
      /* 10 */ "vscode.l10n.t(`Published ${app}`); vscode.l10n.t('{0} value(s)', n > 1 ? 'many values' : '');",
      /* 11 */ "edit.insert(uri, pos, 'import os\\n'); // l10n-ignore: Python code inserted into the user's file",
      /* 12 */ "const html = `<main><p class=\"loading\">Loading stage values…</p><title>${title}</title></main>`;",
      /* 13 */ "items.push({ label: '$(account) Sign In', description: ' · secret' }); if (e.name === 'Not Signed In') {}",
      /* 14 */ "vscode.l10n.t('Publish ' + app);",
      /* 15 */ "md.appendMarkdown(`App ${name}, ${file}`); new vscode.Diagnostic(range, `Unknown ${v}`, severity);",
      /* 16 */ "showInputBox({ validateInput: (v) => (v === '' ? 'required' : undefined) });",
      /* 17 */ "new vscode.MarkdownString(d ? escape(d) : '_No description._'); x.title = 'odcSettings.serverUrl';",
    ];
    fs.writeFileSync(probe, lines.join('\n') + '\n');
    const rel = path.relative(root, probe).split(path.sep).join('/');
    assert.deepEqual(unbundled(rel).map((s) => s.replace(/^.*?:(\d+) /, '$1 ')).sort(), [
      '1 shown "Cannot reach the portal"',
      '10 message built at run time "Published ${…}"',
      '10 shown "many values"',
      '12 prose "<main><p class=\\"loading\\">Loading stage values…</p><title>${…"',
      '13 shown " · secret"',
      '13 shown "$(account) Sign In"',
      '14 message assembled from pieces "Publish "',
      '15 shown "App ${…}, ${…}"',
      '15 shown "Unknown ${…}"',
      '16 shown "required"',
      '17 shown "_No description._"',
      '3 shown "Sign in to ${…}"',
      '4 shown "Delete"',
      '5 error message "The portal at ${…} did not answer"',
      '6 shown "writing the revision…"',
      '7 shown "Is Secret: uncheck it"',
      '8 prose "the setting is removed"',
    ]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('every file in extension/ shows no string without l10n.t', () => {
  assert.ok(allFiles.length > 40, `extension files found (${allFiles.length})`);
  assert.deepEqual(allFiles.flatMap(unbundled), []);
});

test('l10n.t formats English as vscode.l10n.t does, and the bound translator reaches modules without vscode', () => {
  assert.equal(english('Cannot reach {0} ({1})', 'http://127.0.0.1:4650', 404), 'Cannot reach http://127.0.0.1:4650 (404)');
  assert.equal(english('{0} keeps {name} and {2}', 'x'), 'x keeps {name} and {2}');
  assert.equal(english('no arguments: {0} stays'), 'no arguments: {0} stays');
  assert.equal(english('{0} is not re-read', '{1}', 'y'), '{1} is not re-read');
  // A pseudo-translation shows that a module which cannot import 'vscode' still routes its text
  // through whatever activate() bound (there: vscode.l10n.t).
  const restore = useTranslator((message, ...args) => `⟦${english(message, ...args)}⟧`);
  try {
    assert.equal(t('Signed in'), '⟦Signed in⟧');
    const refused = checkServerUrl('ftp://127.0.0.1:4650', false);
    assert.ok(!refused.ok && /^⟦.*⟧$/.test(refused.message), `pseudo-translated: ${JSON.stringify(refused)}`);
  } finally {
    restore();
  }
  const plain = checkServerUrl('ftp://127.0.0.1:4650', false);
  assert.ok(!plain.ok && plain.message === 'The portal URL must start with http:// or https://');
});
