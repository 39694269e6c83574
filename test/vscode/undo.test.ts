// Tree edits (delete, rename, make secret) go through a WorkspaceEdit, so Ctrl+Z (the editor's
// Undo) brings the file back, also when the file was not open in any editor when the edit
// was made. The edit is saved to disk at once; Undo restores the text in the editor.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { OdcSettingsApi } from '../../extension/testApi';
import type { ConfirmRequest } from '../../extension/ui/confirm';
import { activateExtension, closeAllEditors, definitionsPath, fixture, readDefinitions, resetDefinitions, treeSettings, waitFor } from './support/workspace';

const run = <T = unknown>(command: string, ...args: unknown[]) => vscode.commands.executeCommand<T>(command, ...args);

suite('Tree edits are undoable (Ctrl+Z), also when the file is not open', () => {
  let api: OdcSettingsApi;
  let restoreConfirm: vscode.Disposable;

  suiteSetup(async () => {
    api = await activateExtension();
    restoreConfirm = api.replaceConfirm(async (_req: ConfirmRequest) => true);
  });
  suiteTeardown(async () => {
    restoreConfirm.dispose();
    await closeAllEditors();
  });

  /** Opens the definitions file in an editor and presses Undo there, as Ctrl+Z does. */
  async function undoInEditor(): Promise<vscode.TextDocument> {
    const editor = await vscode.window.showTextDocument(vscode.Uri.file(definitionsPath()));
    await run('undo');
    return editor.document;
  }

  for (const [what, command, args, check] of [
    ['Delete Setting', 'odcSettings.deleteSetting', { name: 'MaxRetries' }, (names: string[]) => assert.deepEqual(names, ['PaymentApiKey', 'Greeting'])],
    ['Rename Setting', 'odcSettings.renameSetting', { name: 'Greeting', newName: 'Welcome' }, (names: string[]) => assert.deepEqual(names, ['PaymentApiKey', 'MaxRetries', 'Welcome'])],
    ['Toggle Is Secret', 'odcSettings.setSecret', { name: 'Greeting', isSecret: true }, () => assert.equal(readDefinitions().settings[2]!.isSecret, true)],
  ] as const) {
    test(`${what} with the file closed: saved to disk, then Undo in the file's editor restores it`, async () => {
      const original = fixture('orders/odc-app.json');
      await resetDefinitions(api, original);
      assert.equal(vscode.workspace.textDocuments.some((d) => d.uri.fsPath === definitionsPath() && vscode.window.visibleTextEditors.some((e) => e.document === d)), false, 'no editor shows the file');

      assert.ok(await run(command, args), `${what} ran`);
      check(readDefinitions().settings.map((s) => s.name));

      const doc = await undoInEditor();
      await waitFor(() => assert.equal(doc.getText(), original), 'Undo to bring back the original text');
      assert.ok(doc.isDirty, 'the undone text is in the editor, not yet saved');
      await waitFor(() => assert.deepEqual(treeSettings(api).map((s) => s.label), ['PaymentApiKey', 'MaxRetries', 'Greeting']), 'the tree to follow the undo');
      assert.ok(await doc.save());
      assert.equal(JSON.stringify(readDefinitions()), JSON.stringify(JSON.parse(original)));
      await closeAllEditors();
    });
  }

  test('with the file open and unsaved edits in it, Undo takes back only the tree edit', async () => {
    const original = fixture('orders/odc-app.json');
    await resetDefinitions(api, original);
    const editor = await vscode.window.showTextDocument(vscode.Uri.file(definitionsPath()));
    const typed = original.replace('"Orders"', '"Orders (typed)"');
    await editor.edit((b) => b.replace(new vscode.Range(editor.document.positionAt(0), editor.document.positionAt(editor.document.getText().length)), typed));
    assert.ok(await run('odcSettings.deleteSetting', { name: 'Greeting' }));
    assert.deepEqual(readDefinitions().settings.map((s) => s.name), ['PaymentApiKey', 'MaxRetries']);
    assert.equal(readDefinitions().app.name, 'Orders (typed)', 'the typed text was saved with the edit');
    await vscode.window.showTextDocument(editor.document);
    await run('undo');
    await waitFor(() => assert.equal(editor.document.getText(), typed), 'Undo to restore the deleted setting, keeping what was typed');
    await run('workbench.action.files.revert');
    await closeAllEditors();
  });
});
