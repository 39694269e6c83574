// Stage Values opens as a custom editor on a virtual odc-stage: resource (so VS Code owns its
// dirty marker, Ctrl+S and the Save / Don't Save / Cancel prompt; driven in the workbench UI
// test), one per app, and refuses every backup: unsaved edits may hold secrets, and VS Code
// must not write them to its backups folder.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { OdcSettingsApi } from '../../extension/testApi';
import { NO_BACKUP_MESSAGE } from '../../extension/webviews/stageValuesPanel';
import { signInFromAccountsMenu } from './support/auth';
import { startPortal, type TestPortal } from './support/portal';
import { activateExtension, closeAllEditors, extensionRoot, fixture, resetDefinitions, waitFor } from './support/workspace';

const run = <T = unknown>(command: string, ...args: unknown[]) => vscode.commands.executeCommand<T>(command, ...args);

function stageValuesTabs(): vscode.Tab[] {
  return vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.input instanceof vscode.TabInputCustom && t.input.viewType === 'odcSettings.stageValues');
}

suite('Stage Values as a custom editor', () => {
  let api: OdcSettingsApi;
  let portal: TestPortal;

  suiteSetup(async function () {
    this.timeout(60_000);
    api = await activateExtension();
    portal = await startPortal(extensionRoot());
    await resetDefinitions(api, fixture('orders/odc-app.json'));
    await vscode.workspace.getConfiguration('odcSettings').update('serverUrl', portal.url, vscode.ConfigurationTarget.Global);
    // As a user does once from the Accounts menu (the Sign In command's first-time consent dialog
    // cannot be clicked in extension tests).
    assert.equal((await signInFromAccountsMenu(api, portal.url, portal.adminToken)).error, undefined);
    assert.equal((await portal.api('POST', '/apps/orders/publish', { definitions: JSON.parse(fixture('orders/odc-app.json')) })).status, 200);
  });

  suiteTeardown(async () => {
    await closeAllEditors();
    await portal?.stop();
  });

  test('Open Stage Values opens one editor per app on odc-stage:, titled "Stage Values: <app>"; opening again reveals it', async () => {
    await run('odcSettings.openStageValues', 'orders');
    await waitFor(() => assert.equal(stageValuesTabs().length, 1), 'the Stage Values editor to open');
    const tab = stageValuesTabs()[0]!;
    const input = tab.input as vscode.TabInputCustom;
    assert.equal(input.uri.scheme, 'odc-stage');
    assert.equal(tab.label, 'Stage Values: orders');
    assert.equal(tab.isDirty, false);
    await run('odcSettings.openStageValues', { appKey: 'orders', stage: 'qa' });
    assert.equal(stageValuesTabs().length, 1, 'the same editor, not a second one');
  });

  test('a backup (VS Code\'s hot exit) is refused and writes nothing', async () => {
    const probe = path.join(api.globalStorageUri.fsPath, 'backup-probe');
    await assert.rejects(api.backupStageValues('orders'), (err: Error) => err.message === NO_BACKUP_MESSAGE);
    assert.equal(fs.existsSync(probe), false, 'nothing was written where VS Code asked for the backup');
  });
});
