// Settings in the app's code (SPEC §15, §16) in a real VS Code: completion, hover (never a value),
// go to definition, find references from a tree item, undefined-setting warnings with their quick
// fixes, hard-coded credentials with "Move to a secret setting", and "Import .env into Stage…",
// on TypeScript and Python fixture projects (test/fixtures/code-js, code-py) next to the orders
// definitions, against a real portal for the signed-in parts.
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ImportOutcome, MoveOutcome, ReferenceOutcome } from '../../extension/code/codeCommands';
import type { SignInOutcome } from '../../extension/commands/signIn';
import { signInFromAccountsMenu } from './support/auth';
import type { OdcSettingsApi } from '../../extension/testApi';
import type { ConfirmRequest } from '../../extension/ui/confirm';
import { startPortal, type TestPortal } from './support/portal';
import { activateExtension, closeAllEditors, extensionRoot, fixture, readDefinitions, resetDefinitions, waitFor, workspaceFolder } from './support/workspace';

/** Every file under a directory (skipping sockets and the like). */
function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return filesUnder(full);
    return e.isFile() ? [full] : [];
  });
}

const run = <T>(id: string, ...args: unknown[]) => vscode.commands.executeCommand<T>(id, ...args);
const alnum = (n: number) => [...randomBytes(n)].map((b) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'[b % 62]).join('');
const ours = (uri: vscode.Uri, code?: string) => vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'ODC Settings' && (code === undefined || d.code === code));
const labelOf = (item: vscode.CompletionItem) => (typeof item.label === 'string' ? item.label : item.label.label);
const hoverText = (hovers: vscode.Hover[]) => hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : ''))).join('\n');

suite('settings in code: completion, hover, definition, references, warnings, quick fixes, .env import', () => {
  let api: OdcSettingsApi;
  let root: string;
  let tsUri: vscode.Uri;
  let pyUri: vscode.Uri;
  let portal: TestPortal | undefined;
  const asked: ConfirmRequest[] = [];
  let restoreConfirm: vscode.Disposable;
  const created: string[] = [];

  const write = (rel: string, text: string) => {
    const file = path.join(root, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    created.push(file);
    return vscode.Uri.file(file);
  };
  const open = async (uri: vscode.Uri) => {
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);
    return doc;
  };
  const at = (doc: vscode.TextDocument, needle: string, delta = 0) => {
    const i = doc.getText().indexOf(needle);
    assert.ok(i >= 0, `"${needle}" in ${doc.uri.path}`);
    return doc.positionAt(i + delta);
  };
  const hover = async (doc: vscode.TextDocument, needle: string) => hoverText((await run<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, at(doc, needle, 2))) ?? []);
  const configure = async (key: string, value: unknown) => vscode.workspace.getConfiguration('odcSettings').update(key, value, vscode.ConfigurationTarget.Workspace);

  suiteSetup(async () => {
    api = await activateExtension();
    root = workspaceFolder().uri.fsPath;
    await resetDefinitions(api, fixture('orders/odc-app.json'));
    tsUri = write('src/config.ts', fixture('code-js/src/config.ts'));
    pyUri = write('app/settings.py', fixture('code-py/app/settings.py'));
    restoreConfirm = api.replaceConfirm(async (req) => {
      asked.push(req);
      return true;
    });
    await run('odcSettings.signOut');
  });

  suiteTeardown(async () => {
    restoreConfirm?.dispose();
    await configure('envPrefix', undefined);
    await configure('secretPatterns', undefined);
    await run('odcSettings.signOut');
    await closeAllEditors();
    for (const f of created) fs.rmSync(f, { force: true });
    for (const d of ['src', 'app']) fs.rmSync(path.join(root, d), { recursive: true, force: true });
    await portal?.stop();
  });

  test('completion offers the settings as variables after process.env. and inside os.getenv quotes, secrets marked', async () => {
    const ts = await open(tsUri);
    const end = ts.positionAt(ts.getText().lastIndexOf('process.env.') + 'process.env.'.length);
    const list = await run<vscode.CompletionList>('vscode.executeCompletionItemProvider', ts.uri, end);
    const byLabel = new Map(list.items.map((i) => [labelOf(i), i]));
    for (const v of ['PAYMENT_API_KEY', 'MAX_RETRIES', 'GREETING']) assert.ok(byLabel.has(v), `${v} offered`);
    assert.match(String(byLabel.get('PAYMENT_API_KEY')!.detail), /PaymentApiKey · Text · secret/);
    // The description comes when the suggest widget resolves the focused item; resolving through
    // the command would resolve TypeScript's hundreds of items too, so ask our provider directly.
    const token = new vscode.CancellationTokenSource().token;
    const ours = (await api.codeProviders.completion.provideCompletionItems(ts, end, token, { triggerKind: vscode.CompletionTriggerKind.TriggerCharacter, triggerCharacter: '.' })) as vscode.CompletionItem[];
    const maxRetries = ours.find((i) => labelOf(i) === 'MAX_RETRIES')!;
    assert.equal(maxRetries.documentation, undefined, 'descriptions are not sent with the list');
    const resolved = await api.codeProviders.completion.resolveCompletionItem!(maxRetries, token);
    assert.match((resolved!.documentation as vscode.MarkdownString).value, /How often a failed payment is retried/);

    const py = await open(pyUri);
    const inQuotes = at(py, 'os.getenv("")', 'os.getenv("'.length);
    const pyList = await run<vscode.CompletionList>('vscode.executeCompletionItemProvider', py.uri, inQuotes);
    assert.ok(pyList.items.some((i) => labelOf(i) === 'PAYMENT_API_KEY'), 'offered inside os.getenv("")');
    // Not in a comment.
    const comment = at(py, '# os.getenv("PAYMENT_API_KEY")', '# os.getenv("'.length);
    const none = await run<vscode.CompletionList>('vscode.executeCompletionItemProvider', py.uri, comment);
    assert.ok(!none.items.some((i) => labelOf(i) === 'PAYMENT_API_KEY' && String(i.detail ?? '').includes('PaymentApiKey')), 'no setting completion inside a comment');
  });

  test('hover shows type, description and secrecy, never a value (not even a default); signed out it says to sign in', async () => {
    const ts = await open(tsUri);
    const secret = await hover(ts, 'PAYMENT_API_KEY,');
    assert.match(secret, /PaymentApiKey/);
    assert.match(secret, /secret/);
    assert.match(secret, /Key for the payment gateway/);
    assert.match(secret, /Sign in to the portal/);
    const greeting = await hover(ts, 'GREETING,');
    assert.match(greeting, /Greeting/);
    assert.match(greeting, /not secret/);
    assert.match(greeting, /Has a default value/);
    assert.ok(!greeting.includes('hello'), 'the default value is not shown');
    const py = await open(pyUri);
    assert.match(await hover(py, 'MAX_RETRIES", "3"'), /MaxRetries.*Integer/s);
    assert.equal(await hover(ts, 'PAYMENT_API_KEY in a comment'), '', 'no hover in a comment');
  });

  test('go to definition opens the setting in odc-app.json', async () => {
    for (const [uri, needle] of [
      [tsUri, "'MAX_RETRIES'"],
      [pyUri, '"MAX_RETRIES"'],
    ] as const) {
      const doc = await open(uri);
      const defs = await run<Array<vscode.Location | vscode.LocationLink>>('vscode.executeDefinitionProvider', doc.uri, at(doc, needle, 2));
      assert.equal(defs.length, 1);
      const def = defs[0]!;
      const target = 'targetUri' in def ? def.targetUri : def.uri;
      const range = 'targetRange' in def ? def.targetRange : def.range;
      assert.equal(path.basename(target.fsPath), 'odc-app.json');
      const line = fixture('orders/odc-app.json').split('\n')[range.start.line]!;
      assert.match(line, /"name": "MaxRetries"/);
    }
  });

  test('find references from a Settings tree item lists every read in both languages, none in comments or strings', async () => {
    const [appNode] = (await api.settingsTree.getChildren()) ?? [];
    const node = ((await api.settingsTree.getChildren(appNode)) ?? []).find((n) => n.kind === 'setting' && n.name === 'PaymentApiKey');
    assert.ok(node, 'the tree has PaymentApiKey');
    const outcome = await run<ReferenceOutcome>('odcSettings.findSettingReferences', node);
    assert.equal(outcome.variable, 'PAYMENT_API_KEY');
    assert.deepEqual(
      outcome.references.map((r) => `${r.file}:${r.line + 1}`),
      ['app/settings.py:4', 'src/config.ts:3'],
    );
  });

  test('an undefined setting is a warning (a near miss without prefix, any unknown with the prefix), not PATH or NODE_ENV; quick fixes add or correct', async () => {
    const ts = await open(tsUri);
    const warnings = await waitFor(() => {
      const d = ours(ts.uri, 'undefined-setting');
      assert.equal(d.length, 1);
      return d;
    }, 'one undefined-setting warning');
    assert.equal(ts.getText(warnings[0]!.range), 'MAXRETRIES');
    assert.match(warnings[0]!.message, /did you mean MAX_RETRIES/);
    assert.deepEqual(ours(pyUri, 'undefined-setting'), [], 'HOME is not flagged');
    const actions = await run<vscode.CodeAction[]>('vscode.executeCodeActionProvider', ts.uri, warnings[0]!.range);
    const titles = actions.map((a) => a.title);
    assert.ok(titles.includes('Use MAX_RETRIES'), titles.join(', '));
    assert.ok(titles.includes('Add setting "Maxretries"…'), titles.join(', '));

    // With a prefix, a prefixed variable no setting defines is flagged; "Add setting" fixes it.
    await configure('envPrefix', 'APP_');
    const prefixed = write('src/prefixed.ts', 'export const a = process.env.APP_GREETING;\nexport const b = process.env.APP_SUPPORT_EMAIL;\nexport const c = process.env.NODE_ENV;\n');
    const doc = await open(prefixed);
    const [flagged] = await waitFor(() => {
      const d = ours(doc.uri, 'undefined-setting');
      assert.equal(d.length, 1);
      return d;
    }, 'APP_SUPPORT_EMAIL flagged');
    assert.equal(doc.getText(flagged!.range), 'APP_SUPPORT_EMAIL');
    const add = (await run<vscode.CodeAction[]>('vscode.executeCodeActionProvider', doc.uri, flagged!.range)).find((a) => a.title === 'Add setting "SupportEmail"…');
    assert.ok(add?.command, 'the Add setting quick fix');
    // The type would be asked in a picker; the test gives it as the command's argument.
    await run(add.command.command, { ...(add.command.arguments?.[0] as object), type: 'Email' });
    assert.ok(readDefinitions().settings.some((s) => s.name === 'SupportEmail' && s.type === 'Email'));
    await waitFor(() => assert.equal(ours(doc.uri, 'undefined-setting').length, 0), 'the warning clears');
    await configure('envPrefix', undefined);
    await resetDefinitions(api, fixture('orders/odc-app.json'));
  });

  test('a hard-coded credential (well-known form or team pattern) is a warning; the message never holds the value', async () => {
    const gh = 'ghp_' + alnum(36);
    const team = 'acme_' + alnum(16).toLowerCase();
    await configure('secretPatterns', ['^acme_[a-z0-9]{16}$', '([broken']);
    const uri = write('src/clients.ts', `// const old = '${'ghp_' + alnum(36)}';\nexport const github = { token: '${gh}' };\nexport const acme = '${team}';\nexport const id = '${'0'.repeat(8)}-1111-4111-8111-${'2'.repeat(12)}';\n`);
    const doc = await open(uri);
    const found = await waitFor(() => {
      const d = ours(doc.uri, 'hardcoded-credential');
      assert.equal(d.length, 2);
      return d;
    }, 'two credential warnings');
    assert.deepEqual(found.map((d) => doc.getText(d.range)).sort(), [`'${gh}'`, `'${team}'`].sort());
    for (const d of found) {
      assert.ok(!d.message.includes(gh) && !d.message.includes(team), 'no value in the message');
    }
    assert.match(found.map((d) => d.message).join('\n'), /GitHub token[\s\S]*team pattern|team pattern[\s\S]*GitHub token/);
    await configure('secretPatterns', undefined);
  });

  test('"Move to a secret setting": literal -> secret setting -> Development value set (signed in), canary gone from the file, the log and the profile', async () => {
    portal = await startPortal(extensionRoot());
    // This extension may use a portal's account once allowed (from the Accounts menu; the Sign In
    // command's first-time consent dialog cannot be clicked in extension tests).
    assert.equal((await signInFromAccountsMenu(api, portal.url, portal.adminToken)).error, undefined);
    assert.equal((await run<SignInOutcome>('odcSettings.signIn', { serverUrl: portal.url, token: portal.adminToken })).status, 'signed-in');
    const canary = 'sk_live_' + alnum(28);
    const uri = write('src/payments.ts', `import Stripe from 'stripe';\nconst stripeKey = '${canary}';\nexport const stripe = new Stripe(stripeKey);\n`);
    const doc = await open(uri);
    const [warning] = await waitFor(() => {
      const d = ours(doc.uri, 'hardcoded-credential');
      assert.equal(d.length, 1);
      return d;
    }, 'the credential warning');
    const move = (await run<vscode.CodeAction[]>('vscode.executeCodeActionProvider', doc.uri, warning!.range)).find((a) => a.title === 'Move to a secret setting');
    assert.ok(move?.command);
    asked.length = 0;
    // The name would be asked with "StripeKey" suggested; the test accepts it through the argument.
    const outcome = await run<MoveOutcome>(move.command.command, { ...(move.command.arguments?.[0] as object), name: 'StripeKey' });
    assert.deepEqual(outcome, { status: 'moved', name: 'StripeKey', variable: 'STRIPE_KEY', developmentValueSet: true });
    assert.equal(asked.length, 1);
    assert.equal(asked[0]!.kind, 'set-development-value');
    assert.match(asked[0]!.detail, /version-control history/);
    assert.match(asked[0]!.detail, /rotate/);

    const text = fs.readFileSync(uri.fsPath, 'utf8');
    assert.equal(text, "import Stripe from 'stripe';\nconst stripeKey = process.env.STRIPE_KEY;\nexport const stripe = new Stripe(stripeKey);\n");
    const setting = readDefinitions().settings.find((s) => s.name === 'StripeKey');
    assert.deepEqual(setting && [setting.type, setting.isSecret, setting.defaultValue], ['Text', true, undefined]);
    const dev = await portal.api<{ settings: Array<{ name: string; hasValue: boolean; value: string | null }> }>('GET', '/apps/orders/stages/development/settings');
    const row = dev.body.settings.find((s) => s.name === 'StripeKey');
    assert.deepEqual(row && [row.hasValue, row.value], [true, '*****']);
    const runtime = await portal.api<{ token: string }>('POST', '/tokens', { name: 'rt', role: 'runtime', apps: ['orders'], stages: ['development'] });
    const read = await portal.api<{ settings: Record<string, string | null> }>('GET', '/runtime/settings', undefined, runtime.body.token);
    assert.equal(read.body.settings.StripeKey, canary, 'the Development value is the literal');

    // Gone from the workspace and from everything VS Code keeps (logs, state, settings).
    await new Promise((r) => setTimeout(r, 1500)); // let VS Code flush its logs and state before searching them
    const userDataDir = path.resolve(api.globalStorageUri.fsPath, '../../..');
    const places = [...filesUnder(root), ...filesUnder(userDataDir)];
    assert.ok(places.some((f) => f.endsWith('.log')), 'log files are among the places searched');
    assert.deepEqual(places.filter((f) => fs.readFileSync(f).includes(canary)), []);
    assert.ok(!JSON.stringify(api.storedState()).includes(canary));
    assert.ok(!portal.output().includes(canary), 'nor in the portal log');
  });

  test('hover adds each stage\'s status when signed in (presence and when, never the value)', async () => {
    assert.ok(portal, 'the portal of the previous test');
    const canary = 'CANARY-' + alnum(16);
    const qa = await portal.api<{ settings: Array<{ name: string; version: number }> }>('GET', '/apps/orders/stages/qa/settings');
    const version = qa.body.settings.find((s) => s.name === 'Greeting')!.version;
    assert.equal((await portal.api('PATCH', '/apps/orders/stages/qa/settings', { changes: [{ name: 'Greeting', value: canary, baseVersion: version }] })).status, 200);
    const ts = await open(tsUri);
    const text = await waitFor(async () => {
      const t = await hover(ts, 'GREETING,');
      assert.match(t, /QA: has a value, changed \d{4}-\d\d-\d\d/);
      return t;
    }, 'stage status in the hover', 15_000);
    assert.match(text, /Development: no value \(uses the default\)/);
    assert.ok(!text.includes(canary), 'no value in the hover');
    assert.ok(!text.includes('hello'), 'no default in the hover');
    const secret = await hover(ts, 'PAYMENT_API_KEY,');
    assert.match(secret, /Development: \\?\*\\?\*missing\\?\*\\?\*/);
  });

  test('"Move to a secret setting" in Python adds `import os` and the environ read; signed out it sets no value', async () => {
    await run('odcSettings.signOut');
    const canary = 'ghp_' + alnum(36);
    const uri = write('app/keys.py', `"""Keys."""\nimport json\n\napi_token = "${canary}"\n`);
    const doc = await open(uri);
    const [warning] = await waitFor(() => {
      const d = ours(doc.uri, 'hardcoded-credential');
      assert.equal(d.length, 1);
      return d;
    }, 'the credential warning');
    const move = (await run<vscode.CodeAction[]>('vscode.executeCodeActionProvider', doc.uri, warning!.range)).find((a) => a.title === 'Move to a secret setting');
    const outcome = await run<MoveOutcome>(move!.command!.command, { ...(move!.command!.arguments?.[0] as object), name: 'ApiToken' });
    assert.deepEqual(outcome, { status: 'moved', name: 'ApiToken', variable: 'API_TOKEN', developmentValueSet: false, reason: 'signed out' });
    assert.equal(fs.readFileSync(uri.fsPath, 'utf8'), '"""Keys."""\nimport os\nimport json\n\napi_token = os.environ["API_TOKEN"]\n');
    await waitFor(() => assert.equal(ours(doc.uri).length, 0), 'no warning left');
  });

  test('"Import .env into Stage…": preview confirmed, one write; a refused line writes nothing', async () => {
    assert.ok(portal);
    assert.equal((await run<SignInOutcome>('odcSettings.signIn', { serverUrl: portal.url, token: portal.adminToken })).status, 'signed-in');
    const secret = 'CANARY-' + alnum(16);
    const good = write('qa.env', `PAYMENT_API_KEY="${secret}"\nMAX_RETRIES=7\n`);
    asked.length = 0;
    const outcome = await run<ImportOutcome>('odcSettings.importDotenv', { file: good.fsPath, stage: 'qa' });
    assert.equal(outcome.status, 'imported');
    assert.equal(asked.length, 1);
    assert.equal(asked[0]!.kind, 'import-dotenv');
    assert.deepEqual(asked[0]!.items, ['set       PAYMENT_API_KEY -> PaymentApiKey (secret)', 'set       MAX_RETRIES -> MaxRetries']);
    assert.ok(!JSON.stringify(asked).includes(secret));
    const qa = await portal.api<{ settings: Array<{ name: string; hasValue: boolean; value: string | null; version: number }> }>('GET', '/apps/orders/stages/qa/settings');
    const by = new Map(qa.body.settings.map((s) => [s.name, s]));
    assert.equal(by.get('PaymentApiKey')!.hasValue, true);
    assert.equal(by.get('MaxRetries')!.value, '7');

    const bad = write('bad.env', 'MAX_RETRIES=eight\nGREETING=would-be-written\n');
    asked.length = 0;
    const refused = await run<ImportOutcome>('odcSettings.importDotenv', { file: bad.fsPath, stage: 'qa' });
    assert.equal(refused.status, 'refused');
    assert.equal(asked.length, 0, 'nothing to confirm');
    const after = await portal.api<{ settings: Array<{ name: string; version: number }> }>('GET', '/apps/orders/stages/qa/settings');
    assert.deepEqual(
      after.body.settings.map((s) => s.version),
      qa.body.settings.map((s) => s.version),
      'nothing written',
    );
  });
});
