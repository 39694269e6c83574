// The Problems panel for the definitions file: every §2 rule at the offending value, JSON
// syntax errors, and a "looks like a credential" warning whose quick fix marks the setting
// secret. No message ever contains a default's value.
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import type { OdcSettingsApi } from '../../extension/testApi';
import type { ConfirmRequest } from '../../extension/ui/confirm';
import { activateExtension, closeAllEditors, definitionsPath, fixture, openSyncedDocument, readDefinitions, resetDefinitions, waitFor } from './support/workspace';

const ours = (uri: vscode.Uri) => vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'ODC Settings');

/** A GitHub-token-shaped string made at run time (nothing token-like is committed). */
function fakeGithubToken(): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return 'ghp_' + [...randomBytes(36)].map((b) => chars[b % chars.length]).join('');
}

suite('diagnostics and the "Set as secret" quick fix', () => {
  let api: OdcSettingsApi;
  let uri: vscode.Uri;
  let asked: ConfirmRequest[] = [];
  let restore: vscode.Disposable;

  suiteSetup(async () => {
    api = await activateExtension();
    uri = vscode.Uri.file(definitionsPath());
    restore = api.replaceConfirm(async (req) => {
      asked.push(req);
      return true;
    });
  });
  suiteTeardown(() => restore.dispose());

  test('each broken rule is an error on the offending value, with no value in the message', async () => {
    const text = fixture('problems/odc-app.json');
    await resetDefinitions(api, text);
    const diags = await waitFor(() => {
      const d = ours(uri);
      assert.equal(d.length, 5);
      return d;
    }, 'five problems');
    const lines = text.split('\n');
    const shown = diags
      .map((d) => [d.severity, lines[d.range.start.line]!.slice(d.range.start.character, d.range.end.character), d.message] as const)
      .sort((a, b) => a[1].localeCompare(b[1]));
    assert.deepEqual(
      shown.map(([sev, at]) => [sev, at]),
      [
        [vscode.DiagnosticSeverity.Error, '"2025-02-30"'],
        [vscode.DiagnosticSeverity.Error, '"9Lives"'],
        [vscode.DiagnosticSeverity.Error, '"maxretries"'],
        [vscode.DiagnosticSeverity.Error, '"three"'],
        [vscode.DiagnosticSeverity.Error, '"was-here"'],
      ],
    );
    const messages = shown.map(([, , m]) => m).join('\n');
    assert.match(messages, /must start with a letter/);
    assert.match(messages, /already used/);
    assert.match(messages, /a secret has no default value/);
    assert.match(messages, /calendar date/);
    for (const value of ['three', 'was-here', '2025-02-30']) assert.ok(!messages.includes(value), `no message shows ${value}`);
  });

  test('a JSON syntax error is located, and fixing the file clears the Problems panel', async () => {
    const good = fixture('orders/odc-app.json');
    await resetDefinitions(api, good);
    await waitFor(() => assert.equal(ours(uri).length, 0), 'no problems');
    fs.writeFileSync(definitionsPath(), good.replace('"defaultValue": "3"\n', '"defaultValue": "3",\n'));
    const [d] = await waitFor(() => {
      const found = ours(uri);
      assert.ok(found.length > 0);
      return found;
    }, 'a syntax error');
    assert.match(d!.message, /JSON syntax error/);
    fs.writeFileSync(definitionsPath(), good);
    await waitFor(() => assert.equal(ours(uri).length, 0), 'the error to clear');
  });

  test('a default that looks like a credential is a warning whose quick fix sets the setting secret and removes the default', async () => {
    const token = fakeGithubToken();
    const doc = JSON.parse(fixture('orders/odc-app.json'));
    doc.settings.push({ name: 'DeployKey', type: 'Text', defaultValue: token });
    await resetDefinitions(api, JSON.stringify(doc, null, 2) + '\n');
    const [warning] = await waitFor(() => {
      const found = ours(uri);
      assert.equal(found.length, 1);
      return found;
    }, 'the credential warning');
    assert.equal(warning!.severity, vscode.DiagnosticSeverity.Warning);
    assert.match(warning!.message, /"DeployKey" looks like a GitHub token/);
    assert.ok(!warning!.message.includes(token) && !warning!.message.includes(token.slice(4, 12)), 'the warning never echoes the value');

    // The document as on disk (tree edits leave it open in the background; it may lag the disk a moment).
    const textDoc = await openSyncedDocument();
    assert.equal(textDoc.getText(warning!.range), JSON.stringify(token), 'the warning sits on the default');
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', uri, warning!.range, vscode.CodeActionKind.QuickFix.value);
    const fix = actions.find((a) => a.title === 'Set "DeployKey" as secret');
    assert.ok(fix?.command, `quick fix offered (got: ${actions.map((a) => a.title).join(', ')})`);
    asked = [];
    await vscode.commands.executeCommand(fix.command.command, ...(fix.command.arguments ?? []));
    assert.equal(asked[0]?.kind, 'mark-secret');
    assert.match(asked[0]!.detail, /rotate/);
    assert.deepEqual(readDefinitions().settings[3], { name: 'DeployKey', type: 'Text', isSecret: true });
    assert.ok(!fs.readFileSync(definitionsPath(), 'utf8').includes(token));
    await waitFor(() => assert.equal(ours(uri).length, 0), 'the warning to clear');
    await closeAllEditors();
  });

  test('a credential-like name with a default is flagged too', async () => {
    const doc = JSON.parse(fixture('orders/odc-app.json'));
    doc.settings.push({ name: 'SmtpPassword', type: 'Text', defaultValue: 'changeme' });
    await resetDefinitions(api, JSON.stringify(doc, null, 2) + '\n');
    const [warning] = await waitFor(() => {
      const found = ours(uri);
      assert.equal(found.length, 1);
      return found;
    }, 'the name-based warning');
    assert.match(warning!.message, /"SmtpPassword" looks like a credential \(by its name\)/);
    assert.ok(!warning!.message.includes('changeme'));
  });
});
