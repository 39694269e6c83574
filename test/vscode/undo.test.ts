// Tree edits (delete, rename, make secret) go through a WorkspaceEdit, so Ctrl+Z (the editor's
// Undo) brings the file back, also when the file was not open at all when the edit was made:
// each case uses a definitions file VS Code has never opened (odcSettings.definitionsFile points
// at a fresh one), so no document of it lingers. The edit is saved to disk at once; Undo
// restores the text in the editor.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { OdcSettingsApi } from '../../extension/testApi';
import { activateExtension, closeAllEditors, definitionsPath, fixture, openSyncedDocument, resetDefinitions, treeApps, treeSettings, waitFor, workspaceFolder } from './support/workspace';

const run = <T = unknown>(command: string, ...args: unknown[]) => vscode.commands.executeCommand<T>(command, ...args);
const NAMES = ['PaymentApiKey', 'MaxRetries', 'Greeting'];

suite('Tree edits are undoable (Ctrl+Z), also when the file is not open', () => {
  let api: OdcSettingsApi;
  let restoreConfirm: vscode.Disposable;
  const config = () => vscode.workspace.getConfiguration('odcSettings', workspaceFolder().uri);
  const dir = () => path.join(workspaceFolder().uri.fsPath, 'undo');

  suiteSetup(async () => {
    api = await activateExtension();
    restoreConfirm = api.replaceConfirm(async () => true);
    fs.mkdirSync(dir(), { recursive: true });
  });
  suiteTeardown(async () => {
    restoreConfirm.dispose();
    await closeAllEditors();
    await config().update('definitionsFile', undefined, vscode.ConfigurationTarget.Workspace);
    fs.rmSync(dir(), { recursive: true, force: true });
    fs.rmSync(path.join(workspaceFolder().uri.fsPath, '.vscode'), { recursive: true, force: true });
    await waitFor(async () => assert.deepEqual((await treeApps(api)).map((a) => a.label), ['Orders']), 'back to odc-app.json');
  });

  /** A definitions file VS Code has never opened, made the workspace's definitions file. */
  async function freshFile(label: string): Promise<string> {
    const name = `${label}-${Date.now()}.odc-app.json`;
    const file = path.join(dir(), name);
    // Its own app name, so the tree shows which file it reads.
    fs.writeFileSync(file, fixture('orders/odc-app.json').replace('"Orders"', `"Undo ${label}"`));
    await config().update('definitionsFile', `undo/${name}`, vscode.ConfigurationTarget.Workspace);
    await waitFor(async () => assert.deepEqual((await treeApps(api)).map((a) => a.label), [`Undo ${label}`]), 'the tree to show the fresh file');
    assert.deepEqual(treeSettings(api).map((s) => s.label), NAMES);
    assert.equal(vscode.workspace.textDocuments.some((d) => d.uri.fsPath === file), false, 'VS Code has no document of the file');
    return file;
  }

  const cases = [
    ['Delete Setting', 'delete', 'odcSettings.deleteSetting', { name: 'MaxRetries' }, (text: string) => assert.ok(!text.includes('MaxRetries'))],
    ['Rename Setting', 'rename', 'odcSettings.renameSetting', { name: 'Greeting', newName: 'Welcome' }, (text: string) => assert.ok(text.includes('"Welcome"') && !text.includes('"Greeting"'))],
    ['Toggle Is Secret', 'secret', 'odcSettings.setSecret', { name: 'Greeting', isSecret: true }, (text: string) => assert.equal(JSON.parse(text).settings[2].isSecret, true)],
  ] as const;
  for (const [what, label, command, args, check] of cases) {
    test(`${what} with the file not open: saved to disk, then Undo in the file's editor restores it`, async () => {
      const file = await freshFile(label);
      const original = fs.readFileSync(file, 'utf8');
      assert.ok(await run(command, args), `${what} ran`);
      check(fs.readFileSync(file, 'utf8'));

      const editor = await vscode.window.showTextDocument(vscode.Uri.file(file));
      await run('undo');
      await waitFor(() => assert.equal(editor.document.getText(), original), 'Undo to bring back the original text');
      assert.ok(editor.document.isDirty, 'the undone text is in the editor, not yet saved');
      await waitFor(() => assert.deepEqual(treeSettings(api).map((s) => s.label), NAMES), 'the tree to follow the undo');
      assert.ok(await editor.document.save());
      assert.equal(fs.readFileSync(file, 'utf8'), original);
      await closeAllEditors();
    });
  }

  test('with the file open and unsaved edits in it, Undo takes back only the tree edit', async () => {
    // The web workbench (code-server) saves after a delay by default; a desktop user's unsaved edit stays unsaved.
    await vscode.workspace.getConfiguration('files').update('autoSave', 'off', vscode.ConfigurationTarget.Global);
    const original = fixture('orders/odc-app.json');
    await closeAllEditors();
    fs.writeFileSync(definitionsPath(), original);
    await config().update('definitionsFile', undefined, vscode.ConfigurationTarget.Workspace);
    await waitFor(async () => assert.deepEqual((await treeApps(api)).map((a) => a.label), ['Orders']), 'the tree to read odc-app.json again');
    await resetDefinitions(api, original);
    // Reloaded: the document may still carry the timestamp from before the rewrite above.
    const editor = await vscode.window.showTextDocument(await openSyncedDocument());
    const typed = original.replace('"Orders"', '"Orders (typed)"');
    await editor.edit((b) => b.replace(new vscode.Range(editor.document.positionAt(0), editor.document.positionAt(editor.document.getText().length)), typed));
    assert.ok(await run('odcSettings.deleteSetting', { name: 'Greeting' }));
    const saved = JSON.parse(fs.readFileSync(definitionsPath(), 'utf8'));
    assert.deepEqual(saved.settings.map((s: { name: string }) => s.name), ['PaymentApiKey', 'MaxRetries']);
    assert.equal(saved.app.name, 'Orders (typed)', 'the typed text was saved with the edit');
    await vscode.window.showTextDocument(editor.document);
    await run('undo');
    await waitFor(() => assert.equal(editor.document.getText(), typed), 'Undo to restore the deleted setting, keeping what was typed');
    await run('workbench.action.files.revert');
    await resetDefinitions(api, original);
    await vscode.workspace.getConfiguration('files').update('autoSave', undefined, vscode.ConfigurationTarget.Global);
  });
});
