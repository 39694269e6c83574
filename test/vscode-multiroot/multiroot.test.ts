// The Settings tree in a multi-root workspace, opened from a .code-workspace file at start-up
// (adding a folder at run time would restart the extension host). scripts/test.mjs makes the
// workspace: orders and billing each with an odc-app.json, notes without one.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { OdcSettingsApi } from '../../extension/testApi';
import type { TreeNode } from '../../extension/views/treeNodes';
import { activateExtension, closeAllEditors, treeApps, waitFor } from '../vscode/support/workspace';

const run = <T = unknown>(command: string, ...args: unknown[]) => vscode.commands.executeCommand<T>(command, ...args);
const ours = (uri: vscode.Uri) => vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'ODC Settings');

function folder(name: string): vscode.WorkspaceFolder {
  const f = vscode.workspace.workspaceFolders?.find((w) => w.name === name);
  assert.ok(f, `workspace folder ${name}`);
  return f;
}
const fileOf = (name: string) => path.join(folder(name).uri.fsPath, 'odc-app.json');
const read = (name: string) => fs.readFileSync(fileOf(name), 'utf8');

/** The tree as text: per app node, its label, description, folder and setting rows. */
async function shownTree(api: OdcSettingsApi) {
  const apps = await treeApps(api);
  return apps.map((a) => ({
    app: `${a.label} (${a.description})`,
    folder: a.node.folder,
    settings: (api.settingsTree.getChildren(a.node) as TreeNode[])
      .filter((n) => n.kind === 'setting')
      .map((n) => {
        const item = api.settingsTree.getTreeItem(n) as vscode.TreeItem;
        return `${typeof item.label === 'string' ? item.label : item.label?.label}: ${item.description}`;
      }),
  }));
}

const ORDERS_ROWS = ['MaxRetries: Integer · 3', 'PaymentApiKey: Text · *****'];
const BILLING_ROWS = ['Currency: Text · "EUR"', 'InvoiceDays: Integer · 30'];

suite('multi-root workspace: one app per folder with a definitions file', () => {
  let api: OdcSettingsApi;
  const original: Record<string, string> = {};

  async function expectTree(orders: string[], billing: string[]): Promise<void> {
    await waitFor(
      async () =>
        assert.deepEqual(await shownTree(api), [
          { app: 'Orders (orders)', folder: folder('orders').uri.toString(), settings: orders },
          { app: 'Billing (billing)', folder: folder('billing').uri.toString(), settings: billing },
        ]),
      'the tree to show both apps',
    );
  }

  suiteSetup(async () => {
    api = await activateExtension();
    for (const n of ['orders', 'billing']) original[n] = read(n);
  });
  // Every test starts from the files scripts/test.mjs wrote.
  setup(async () => {
    await closeAllEditors();
    for (const n of ['orders', 'billing']) if (read(n) !== original[n]) fs.writeFileSync(fileOf(n), original[n]!);
    fs.rmSync(fileOf('notes'), { force: true });
    // The file watcher may coalesce a quick create+delete into nothing; a refresh re-reads every folder.
    await run('odcSettings.refresh');
    await expectTree(ORDERS_ROWS, BILLING_ROWS);
  });

  test('the run opened the .code-workspace file with three folders', () => {
    assert.ok(vscode.workspace.workspaceFile, 'a workspace file is open');
    assert.equal(vscode.workspace.workspaceFile.fsPath, process.env.VSCODE_TEST_WORKSPACE_FILE);
    assert.deepEqual(vscode.workspace.workspaceFolders?.map((f) => f.name), ['orders', 'billing', 'notes']);
  });

  test('the tree has an app node for orders and billing, each with its own settings, and none for notes', async () => {
    await expectTree(ORDERS_ROWS, BILLING_ROWS);
    const folders = (await treeApps(api)).map((a) => a.node.folder);
    assert.ok(!folders.includes(folder('notes').uri.toString()), 'no app node for the folder without odc-app.json');
    // A command aimed at notes is refused and writes nothing there.
    assert.equal(await run('odcSettings.addSetting', { folder: 'notes', name: 'X', type: 'Text' }), undefined);
    assert.equal(fs.existsSync(fileOf('notes')), false);
  });

  test('a definitions file written by hand in notes adds a third app (its folder is watched too)', async () => {
    fs.writeFileSync(fileOf('notes'), JSON.stringify({ app: { key: 'notes', name: 'Notes' }, settings: [{ name: 'Pinned', type: 'Boolean', defaultValue: 'True' }] }, null, 2));
    await waitFor(async () => assert.deepEqual((await shownTree(api)).map((a) => [a.app, a.settings]), [
      ['Orders (orders)', ORDERS_ROWS],
      ['Billing (billing)', BILLING_ROWS],
      ['Notes (notes)', ['Pinned: Boolean · True']],
    ]), 'the Notes app from the watcher');
  });

  test('creating a definitions file in notes adds a third app; deleting it removes the node again', async () => {
    await run('odcSettings.createDefinitionsFile', { folder: 'notes', key: 'notes', appName: 'Notes', open: false });
    assert.ok(fs.existsSync(fileOf('notes')));
    await waitFor(async () => assert.deepEqual((await treeApps(api)).map((a) => a.label), ['Orders', 'Billing', 'Notes']), 'the Notes app');
    fs.rmSync(fileOf('notes'));
    // Created and deleted within the watcher's debounce, the deletion may not be reported: refresh, as a user would.
    await run('odcSettings.refresh');
    await waitFor(async () => assert.deepEqual((await treeApps(api)).map((a) => a.label), ['Orders', 'Billing']), 'the Notes app to go');
    assert.equal(read('orders'), original.orders);
    assert.equal(read('billing'), original.billing);
  });

  test('a hand edit of orders/odc-app.json refreshes the Orders app only', async () => {
    fs.writeFileSync(fileOf('orders'), original.orders!.replace('"defaultValue": "3"', '"defaultValue": "7"').replace('"MaxRetries"', '"RetryLimit"'));
    await expectTree(['RetryLimit: Integer · 7', 'PaymentApiKey: Text · *****'], BILLING_ROWS);
    assert.equal(read('billing'), original.billing);
    // And the other way round.
    fs.writeFileSync(fileOf('billing'), original.billing!.replace('"EUR"', '"CHF"'));
    await expectTree(['RetryLimit: Integer · 7', 'PaymentApiKey: Text · *****'], ['Currency: Text · "CHF"', 'InvoiceDays: Integer · 30']);
  });

  test('commands on a Billing setting change billing/odc-app.json only', async () => {
    // By arguments object (folder by name) ...
    assert.equal(await run('odcSettings.editDefault', { folder: 'billing', name: 'Currency', defaultValue: 'USD' }), true);
    assert.match(read('billing'), /"defaultValue": "USD"/);
    assert.equal(read('orders'), original.orders, 'orders untouched');
    // ... the same name in the other folder does not exist there ...
    assert.equal(await run('odcSettings.editDefault', { folder: 'orders', name: 'Currency', defaultValue: 'GBP' }), undefined);
    assert.equal(read('orders'), original.orders);
    // ... and by the tree node of the second app (as the view's context menu passes it).
    const billingApp = (await treeApps(api))[1]!;
    const node = (api.settingsTree.getChildren(billingApp.node) as TreeNode[]).find((n) => n.kind === 'setting' && n.name === 'InvoiceDays');
    assert.ok(node);
    assert.equal(await run('odcSettings.removeDefault', node), true);
    assert.deepEqual(JSON.parse(read('billing')).settings, [
      { name: 'Currency', type: 'Text', defaultValue: 'USD' },
      { name: 'InvoiceDays', type: 'Integer' },
    ]);
    assert.equal(read('orders'), original.orders, 'orders still untouched');
    await expectTree(ORDERS_ROWS, ['Currency: Text · "USD"', 'InvoiceDays: Integer']);
  });

  test('diagnostics are reported per file', async () => {
    const orders = vscode.Uri.file(fileOf('orders'));
    const billing = vscode.Uri.file(fileOf('billing'));
    await waitFor(() => assert.deepEqual([ours(orders).length, ours(billing).length], [0, 0]), 'no problems at first');
    fs.writeFileSync(fileOf('billing'), original.billing!.replace('"defaultValue": "30"', '"defaultValue": "thirty"'));
    const [d] = await waitFor(() => {
      const found = ours(billing);
      assert.equal(found.length, 1);
      return found;
    }, 'a problem in billing/odc-app.json');
    assert.equal(d!.severity, vscode.DiagnosticSeverity.Error);
    assert.equal(read('billing').split('\n')[d!.range.start.line]!.slice(d!.range.start.character, d!.range.end.character), '"thirty"');
    assert.equal(ours(orders).length, 0, 'none in orders');

    fs.writeFileSync(fileOf('orders'), original.orders!.replace('"MaxRetries"', '"9Lives"'));
    await waitFor(() => assert.deepEqual([ours(orders).length, ours(billing).length], [1, 1]), 'one problem in each file');
    assert.match(ours(orders)[0]!.message, /must start with a letter/);

    fs.writeFileSync(fileOf('billing'), original.billing!);
    await waitFor(() => assert.deepEqual([ours(orders).length, ours(billing).length], [1, 0]), 'billing fixed, orders still broken');
    fs.writeFileSync(fileOf('orders'), original.orders!);
    await waitFor(() => assert.deepEqual([ours(orders).length, ours(billing).length], [0, 0]), 'both clean');
  });
});
