// The status bar item against a REAL portal (behind a loopback proxy that counts requests):
// it asks the portal at most once per save or publish, never because the user switched editors
// or typed; "Show Changes Since the Published Revision" opens VS Code's diff of the published
// revision against the file; the item's click opens the menu command, not Publish.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { SignInOutcome } from '../../extension/commands/signIn';
import type { OdcSettingsApi } from '../../extension/testApi';
import { startCountingProxy, type CountingProxy } from './support/countingProxy';
import { signInFromAccountsMenu } from './support/auth';
import { startPortal, type TestPortal } from './support/portal';
import { activateExtension, closeAllEditors, definitionsPath, extensionRoot, fixture, resetDefinitions, waitFor } from './support/workspace';

const run = <T = unknown>(command: string, ...args: unknown[]) => vscode.commands.executeCommand<T>(command, ...args);
const APP_QUERY = 'GET /api/v1/apps/orders';

suite('Status bar: one portal request per save or publish, a diff, a menu', () => {
  let api: OdcSettingsApi;
  let portal: TestPortal;
  let proxy: CountingProxy;
  let restoreConfirm: vscode.Disposable;
  let otherFile: string;

  /** Waits until the item has been recomputed at least once more than `before`. */
  const nextUpdate = (before: number, what: string) => waitFor(() => assert.ok(api.status().updates > before), what);

  suiteSetup(async function () {
    this.timeout(60_000);
    api = await activateExtension();
    restoreConfirm = api.replaceConfirm(async () => true);
    portal = await startPortal(extensionRoot());
    proxy = await startCountingProxy(portal.url);
    await resetDefinitions(api, fixture('orders/odc-app.json'));
    await vscode.workspace.getConfiguration('odcSettings').update('serverUrl', proxy.url, vscode.ConfigurationTarget.Global);
    // As a user does once from the Accounts menu (the Sign In command's first-time consent dialog
    // cannot be clicked in extension tests).
    assert.equal((await signInFromAccountsMenu(api, proxy.url, portal.adminToken)).error, undefined);
    const published = await portal.api('POST', '/apps/orders/publish', { definitions: JSON.parse(fixture('orders/odc-app.json')) });
    assert.equal(published.status, 200);
    otherFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'odc-status-')), 'notes.txt');
    fs.writeFileSync(otherFile, 'not a definitions file\n');
  });

  suiteTeardown(async () => {
    restoreConfirm?.dispose();
    await closeAllEditors();
    await proxy?.stop();
    await portal?.stop();
    if (otherFile) fs.rmSync(path.dirname(otherFile), { recursive: true, force: true });
  });

  test('switching editors and typing cost no request; a save costs one; a publish costs one', async () => {
    await api.refreshStatus();
    assert.equal(api.status().state, 'in-sync');
    const start = proxy.count(APP_QUERY);

    // Switch editors back and forth: the item is recomputed each time, from what it already knows.
    const defsDoc = await vscode.workspace.openTextDocument(definitionsPath());
    const otherDoc = await vscode.workspace.openTextDocument(otherFile);
    for (let i = 0; i < 3; i++) {
      for (const doc of [defsDoc, otherDoc]) {
        const before = api.status().updates;
        await vscode.window.showTextDocument(doc);
        await nextUpdate(before, 'the status to be recomputed after an editor switch');
      }
    }
    assert.equal(proxy.count(APP_QUERY), start, 'no request for editor switches');

    // Typing (unsaved): the item says "changed" without asking the portal.
    const editor = await vscode.window.showTextDocument(defsDoc);
    const at = defsDoc.getText().indexOf('"Orders"');
    await editor.edit((b) => b.replace(new vscode.Range(defsDoc.positionAt(at), defsDoc.positionAt(at + '"Orders"'.length)), '"Orders v2"'));
    await waitFor(() => assert.equal(api.status().state, 'changed'), 'the status to see the typed change');
    assert.equal(proxy.count(APP_QUERY), start, 'no request for typing');

    // Save: exactly one request, then quiet again.
    assert.ok(await defsDoc.save());
    await waitFor(() => assert.equal(proxy.count(APP_QUERY), start + 1), 'one request after the save');
    const afterSave = api.status().updates;
    await vscode.window.showTextDocument(otherDoc);
    await nextUpdate(afterSave, 'a recompute after the save');
    await vscode.window.showTextDocument(defsDoc);
    await nextUpdate(afterSave + 1, 'another recompute');
    assert.equal(proxy.count(APP_QUERY), start + 1, 'still one request for that save');
    assert.equal(api.status().state, 'changed');

    // Publish: one request for the status (the publish itself does not read the app).
    const published = await run<{ status: string }>('odcSettings.publishApp');
    assert.equal(published.status, 'published');
    assert.equal(api.status().state, 'in-sync');
    assert.equal(proxy.count(APP_QUERY), start + 2, 'one request for the publish');
  });

  test('Show Changes Since the Published Revision opens a diff: the portal\'s revision (read-only) against the file', async () => {
    await run('odcSettings.editDescription', { name: 'Greeting', description: 'Shown on the home page' });
    await run('odcSettings.showPublishedChanges');
    const tab = vscode.window.tabGroups.activeTabGroup.activeTab;
    assert.ok(tab?.input instanceof vscode.TabInputTextDiff, `a diff editor is active (${tab?.label})`);
    const input = tab.input as vscode.TabInputTextDiff;
    assert.equal(input.original.scheme, 'odc-published');
    assert.equal(input.modified.fsPath, definitionsPath());
    assert.match(tab.label, /orders: revision 2 \(portal\)/);
    const left = (await vscode.workspace.openTextDocument(input.original)).getText();
    const published = JSON.parse(left) as { app: { name: string }; settings: Array<{ name: string; description?: string; isSecret?: boolean; defaultValue?: string }> };
    assert.equal(published.app.name, 'Orders v2');
    assert.equal(published.settings[2]!.description, undefined, 'the left side is the published revision, without the new description');
    assert.equal(published.settings[0]!.isSecret, true);
    assert.equal('defaultValue' in published.settings[0]!, false);
    assert.match(fs.readFileSync(definitionsPath(), 'utf8'), /Shown on the home page/);
  });

  test('the Sign In / Sign Out commands follow the session (their palette entries are keyed on it)', async () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(extensionRoot(), 'package.json'), 'utf8')) as { contributes: { menus: { commandPalette: Array<{ command: string; when: string }> } } };
    const when = (c: string) => pkg.contributes.menus.commandPalette.find((m) => m.command === c)?.when;
    assert.equal(when('odcSettings.signIn'), '!odcSettings.signedIn');
    assert.equal(when('odcSettings.signOut'), 'odcSettings.signedIn');
    assert.equal(when('odcSettings.statusMenu'), 'false', 'the status bar menu is not a palette command');
    await run('odcSettings.signOut');
    await waitFor(() => assert.equal(api.status().state, 'signed-out'), 'the status to show signed out');
    assert.equal((await run<SignInOutcome>('odcSettings.signIn', { serverUrl: proxy.url, token: portal.adminToken })).status, 'signed-in');
    await waitFor(() => assert.equal(api.status().state, 'changed'), 'the status to show signed in again (the file has an unpublished description)');
  });
});
