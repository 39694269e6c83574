// Issue 14 item 10: after a publish that created secrets (added as secrets, or turned into
// secrets), Publish App offers "Set the N new secrets…", which opens Stage Values showing only
// them. In a real extension host against a REAL portal: the outcome names the new secrets (the
// offer's N), and the offer's command opens the Stage Values editor. A notification's button
// cannot be clicked from the extension host; the filtered editor is asserted in Chromium
// (test/webview/new-secrets.test.ts).
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { PublishOutcome } from '../../extension/commands/publishApp';
import type { OdcSettingsApi } from '../../extension/testApi';
import { signInFromAccountsMenu } from './support/auth';
import { startPortal, type TestPortal } from './support/portal';
import { activateExtension, closeAllEditors, extensionRoot, resetDefinitions, waitFor } from './support/workspace';

const run = <T = unknown>(command: string, ...args: unknown[]) => vscode.commands.executeCommand<T>(command, ...args);

const DEFINITIONS = {
  app: { key: 'orders', name: 'Orders' },
  settings: [
    { name: 'PaymentApiKey', type: 'Text', isSecret: true },
    { name: 'MaxRetries', type: 'Integer', defaultValue: '3' },
    { name: 'Greeting', type: 'Text' },
  ],
};

suite('Publish App: "Set the N new secrets…"', () => {
  let api: OdcSettingsApi;
  let portal: TestPortal;
  let restoreConfirm: vscode.Disposable;

  suiteSetup(async function () {
    this.timeout(60_000);
    api = await activateExtension();
    portal = await startPortal(extensionRoot());
    restoreConfirm = api.replaceConfirm(async () => true);
    await vscode.workspace.getConfiguration('odcSettings').update('serverUrl', portal.url, vscode.ConfigurationTarget.Global);
    assert.equal((await signInFromAccountsMenu(api, portal.url, portal.adminToken)).error, undefined);
    await resetDefinitions(api, JSON.stringify(DEFINITIONS, null, 2) + '\n');
  });

  suiteTeardown(async () => {
    restoreConfirm?.dispose();
    await closeAllEditors();
    await run('odcSettings.signOut');
    await portal?.stop();
  });

  test('the first publish offers the one new secret; added and newly marked secrets are offered together; a publish without new secrets offers none', async () => {
    const first = await run<PublishOutcome>('odcSettings.publishApp');
    assert.equal(first.status, 'published');
    assert.deepEqual(first.status === 'published' && first.newSecrets, ['PaymentApiKey']);

    await run('odcSettings.addSetting', { name: 'SigningCert', type: 'Text', isSecret: true });
    assert.equal(await run('odcSettings.setSecret', { name: 'Greeting', isSecret: true }), true);
    const second = await run<PublishOutcome>('odcSettings.publishApp');
    assert.equal(second.status, 'published');
    assert.deepEqual(second.status === 'published' && [...second.newSecrets].sort(), ['Greeting', 'SigningCert']);

    await run('odcSettings.editDescription', { name: 'MaxRetries', description: 'How often to retry' });
    const third = await run<PublishOutcome>('odcSettings.publishApp');
    assert.equal(third.status, 'published');
    assert.deepEqual(third.status === 'published' && third.newSecrets, [], 'no new secret, no offer');
  });

  test("the offer's command opens Stage Values for the app", async () => {
    await closeAllEditors();
    await run('odcSettings.openStageValues', { appKey: 'orders', settings: ['Greeting', 'SigningCert'] });
    await waitFor(
      () => assert.ok(vscode.window.tabGroups.all.flatMap((g) => g.tabs).some((t) => t.input instanceof vscode.TabInputCustom && t.input.viewType === 'odcSettings.stageValues' && t.label === 'Stage Values: orders')),
      'the Stage Values editor to open',
    );
  });
});
