// Data > Settings in a real extension host: the tree shows the definitions file, follows hand
// edits, and each command changes the file as it should (stable 2-space JSON, unrelated
// content kept). Commands take an arguments object so no input box is needed; the prompts
// themselves are driven in the workbench UI test (test/ui/settings-tree.test.ts).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import type { OdcSettingsApi } from '../../extension/testApi';
import type { ConfirmRequest } from '../../extension/ui/confirm';
import { validateNewSettingName } from '../../extension/ui/prompts';
import {
  activateExtension,
  closeAllEditors,
  definitionsPath,
  fixture,
  openSyncedDocument,
  readDefinitions,
  readDefinitionsText,
  removeDefinitions,
  resetDefinitions,
  treeApps,
  treeSettings,
  waitFor,
  workspaceFolder,
} from './support/workspace';

const run = <T = unknown>(command: string, ...args: unknown[]) => vscode.commands.executeCommand<T>(command, ...args);

suite('Settings tree over the definitions file', () => {
  let api: OdcSettingsApi;
  let asked: ConfirmRequest[];
  let answer: boolean;
  let restoreConfirm: vscode.Disposable;

  suiteSetup(async () => {
    api = await activateExtension();
    restoreConfirm = api.replaceConfirm(async (req) => {
      asked.push(req);
      return answer;
    });
  });
  suiteTeardown(() => restoreConfirm.dispose());
  setup(() => {
    asked = [];
    answer = true;
  });

  test('without a definitions file the view is empty (its welcome shows); Create Definitions File writes one', async () => {
    await closeAllEditors();
    removeDefinitions();
    await run('odcSettings.refresh');
    await waitFor(async () => assert.deepEqual(await treeApps(api), []), 'an empty tree');
    const created = await run<string>('odcSettings.createDefinitionsFile', { key: 'orders', appName: 'Orders', open: false });
    assert.equal(created, vscode.Uri.file(definitionsPath()).toString());
    assert.equal(readDefinitionsText(), '{\n  "app": {\n    "key": "orders",\n    "name": "Orders"\n  },\n  "settings": []\n}\n');
    await waitFor(async () => assert.deepEqual((await treeApps(api)).map((a) => [a.label, a.description]), [['Orders', 'orders']]), 'the new app in the tree');
    // A second create is refused and leaves the file alone.
    await run('odcSettings.createDefinitionsFile', { key: 'other', appName: 'Other', open: false });
    assert.equal(readDefinitions().app.key, 'orders');
  });

  test('the tree shows each setting with its Is Secret checkbox, lock icon, type and default (***** for a secret)', async () => {
    await resetDefinitions(api, fixture('orders/odc-app.json'));
    assert.deepEqual(treeSettings(api), [
      { label: 'PaymentApiKey', description: 'Text · *****', checked: true, icon: 'lock', contextValue: 'odcSetting.secret' },
      { label: 'MaxRetries', description: 'Integer · 3', checked: false, icon: 'symbol-field', contextValue: 'odcSetting' },
      { label: 'Greeting', description: 'Text · "hello"', checked: false, icon: 'symbol-field', contextValue: 'odcSetting' },
    ]);
    assert.deepEqual((await treeApps(api)).map((a) => [a.label, a.description]), [['Orders', 'orders']]);
  });

  test('a hand edit of the file on disk shows in the tree without a refresh', async () => {
    await resetDefinitions(api, fixture('orders/odc-app.json'));
    fs.writeFileSync(definitionsPath(), readDefinitionsText().replace('"defaultValue": "3"', '"defaultValue": "7"').replace('"Greeting"', '"Welcome"'));
    await waitFor(() => assert.deepEqual(treeSettings(api).map((s) => `${s.label}: ${s.description}`), ['PaymentApiKey: Text · *****', 'MaxRetries: Integer · 7', 'Welcome: Text · "hello"']), 'the tree to follow the disk');
  });

  test('an unsaved edit in an open editor shows at once, and a tree edit goes on top of it (nothing typed is lost) and saves', async () => {
    // The web workbench (code-server) saves after a delay by default; a desktop user's unsaved edit stays unsaved.
    const files = vscode.workspace.getConfiguration('files');
    await files.update('autoSave', 'off', vscode.ConfigurationTarget.Global);
    try {
      await resetDefinitions(api, fixture('orders/odc-app.json'));
      const doc = await openSyncedDocument();
      await vscode.window.showTextDocument(doc);
      const we = new vscode.WorkspaceEdit();
      const at = doc.positionAt(doc.getText().indexOf('"hello"'));
      we.replace(doc.uri, new vscode.Range(at, at.translate(0, '"hello"'.length)), '"typed by hand"');
      assert.ok(await vscode.workspace.applyEdit(we));
      assert.ok(doc.isDirty);
      await waitFor(() => assert.equal(treeSettings(api)[2]!.description, 'Text · "typed by hand"'), 'the tree to show the unsaved edit');
      assert.ok(!readDefinitionsText().includes('typed by hand'), 'not on disk yet');

      assert.equal(await run('odcSettings.addSetting', { name: 'Timeout', type: 'Integer', defaultValue: '30' }), 'Timeout');
      assert.ok(doc.getText().includes('"typed by hand"') && doc.getText().includes('"Timeout"'), 'both edits are in the editor');
      assert.equal(doc.isDirty, false);
      const saved = readDefinitions().settings;
      assert.deepEqual(saved.map((s) => s.name), ['PaymentApiKey', 'MaxRetries', 'Greeting', 'Timeout']);
      assert.equal(saved[2]!.defaultValue, 'typed by hand', 'the hand edit was kept, not overwritten');
    } finally {
      await closeAllEditors();
      await files.update('autoSave', undefined, vscode.ConfigurationTarget.Global);
    }
  });

  test('Add Setting appends a readable 2-space setting and keeps the rest of the file byte for byte', async () => {
    const original = fixture('orders/odc-app.json');
    await resetDefinitions(api, original);
    assert.equal(await run('odcSettings.addSetting', { name: 'SupportEmail', type: 'Email', description: 'Where customers write', defaultValue: 'help@example.com' }), 'SupportEmail');
    const text = readDefinitionsText();
    const tail = '    },\n    {\n      "name": "SupportEmail",\n      "type": "Email",\n      "description": "Where customers write",\n      "defaultValue": "help@example.com"\n    }\n  ]\n}\n';
    assert.equal(text, original.slice(0, original.lastIndexOf('    }\n  ]')) + tail);
    await waitFor(() => assert.equal(treeSettings(api)[3]?.description, 'Email · help@example.com'), 'the new row');

    // Invalid input is refused and the file is untouched.
    for (const bad of [{ name: '9Lives', type: 'Text' }, { name: 'supportemail', type: 'Text' }, { name: 'Port', type: 'Integer', defaultValue: 'eighty' }, { name: 'X', type: 'Txt' }]) {
      assert.equal(await run('odcSettings.addSetting', bad), undefined, JSON.stringify(bad));
    }
    assert.equal(readDefinitionsText(), text);
  });

  test('the name prompt validates as you type: syntax, and uniqueness ignoring case', () => {
    assert.match(validateNewSettingName('9Lives', ['MaxRetries']) ?? '', /start with a letter/);
    assert.match(validateNewSettingName('maxretries', ['MaxRetries']) ?? '', /already exists/);
    assert.equal(validateNewSettingName('MAXRETRIES', ['MaxRetries'], 'MaxRetries'), undefined, 'renaming to another case of itself');
    assert.equal(validateNewSettingName('RetryLimit', ['MaxRetries']), undefined);
  });

  test('Rename, Edit Description, Change Type, Edit/Remove Default change exactly that field', async () => {
    await resetDefinitions(api, fixture('orders/odc-app.json'));
    const settings = () => readDefinitions().settings;

    assert.equal(await run('odcSettings.renameSetting', { name: 'Greeting', newName: 'Welcome' }), 'Welcome');
    assert.deepEqual(settings()[2], { name: 'Welcome', type: 'Text', defaultValue: 'hello' });
    assert.equal(await run('odcSettings.renameSetting', { name: 'Welcome', newName: 'maxretries' }), undefined, 'a clash is refused');

    assert.equal(await run('odcSettings.editDescription', { name: 'Welcome', description: 'Shown on the home page' }), true);
    assert.equal(settings()[2]!.description, 'Shown on the home page');
    assert.equal(await run('odcSettings.editDescription', { name: 'Welcome', description: '' }), true);
    assert.equal('description' in settings()[2]!, false, 'an empty description is removed');

    // A default that does not fit the new type must be replaced or removed in the same step.
    const before = readDefinitionsText();
    assert.equal(await run('odcSettings.changeType', { name: 'Welcome', type: 'Integer' }), undefined);
    assert.equal(readDefinitionsText(), before);
    assert.equal(await run('odcSettings.changeType', { name: 'Welcome', type: 'Integer', defaultValue: '42' }), true);
    assert.deepEqual(settings()[2], { name: 'Welcome', type: 'Integer', defaultValue: '42' });
    assert.equal(await run('odcSettings.changeType', { name: 'MaxRetries', type: 'LongInteger' }), true, 'a still-valid default is kept');
    assert.equal(settings()[1]!.type, 'LongInteger');
    assert.equal(settings()[1]!.defaultValue, '3');
    assert.equal(await run('odcSettings.changeType', { name: 'Welcome', type: 'Boolean', defaultValue: null }), true);
    assert.deepEqual(settings()[2], { name: 'Welcome', type: 'Boolean' });

    assert.equal(await run('odcSettings.editDefault', { name: 'Welcome', defaultValue: 'True' }), true);
    assert.equal(settings()[2]!.defaultValue, 'True');
    assert.equal(await run('odcSettings.editDefault', { name: 'Welcome', defaultValue: 'yes' }), undefined, 'not a Boolean');
    assert.equal(await run('odcSettings.editDefault', { name: 'PaymentApiKey', defaultValue: 'x' }), undefined, 'a secret has no default');
    assert.equal(settings()[0]!.defaultValue, undefined);
    assert.equal(await run('odcSettings.removeDefault', { name: 'Welcome' }), true);
    assert.equal('defaultValue' in settings()[2]!, false);
    await waitFor(() => assert.equal(treeSettings(api)[2]!.description, 'Boolean'), 'the tree to show the new type');
  });

  test('Delete Setting asks first; declining keeps it', async () => {
    await resetDefinitions(api, fixture('orders/odc-app.json'));
    answer = false;
    assert.equal(await run('odcSettings.deleteSetting', { name: 'MaxRetries' }), false);
    assert.equal(asked[0]?.kind, 'delete-setting');
    assert.match(asked[0]!.detail, /every stage/);
    assert.equal(readDefinitions().settings.length, 3);
    answer = true;
    assert.equal(await run('odcSettings.deleteSetting', { name: 'MaxRetries' }), true);
    assert.deepEqual(readDefinitions().settings.map((s) => s.name), ['PaymentApiKey', 'Greeting']);
    await waitFor(() => assert.deepEqual(treeSettings(api).map((s) => s.label), ['PaymentApiKey', 'Greeting']), 'the row to go');
  });

  test('checking Is Secret asks, removes the default and says to rotate it; declining changes nothing', async () => {
    await resetDefinitions(api, fixture('orders/odc-app.json'));
    const before = readDefinitionsText();
    answer = false;
    assert.equal(await run('odcSettings.setSecret', { name: 'Greeting', isSecret: true }), false);
    assert.equal(readDefinitionsText(), before, 'declined: file untouched');
    assert.equal(treeSettings(api)[2]!.checked, false);

    answer = true;
    assert.equal(await run('odcSettings.setSecret', { name: 'Greeting', isSecret: true }), true);
    const req = asked[1]!;
    assert.equal(req.kind, 'mark-secret');
    assert.match(req.detail, /removed from odc-app\.json/);
    assert.match(req.detail, /version-control history/);
    assert.match(req.detail, /rotate/);
    assert.ok(!JSON.stringify(asked).includes('hello'), 'the question never shows the value');
    assert.deepEqual(readDefinitions().settings[2], { name: 'Greeting', type: 'Text', isSecret: true });
    await waitFor(
      () => assert.deepEqual(treeSettings(api)[2], { label: 'Greeting', description: 'Text · *****', checked: true, icon: 'lock', contextValue: 'odcSetting.secret' }),
      'the lock and the mask',
    );
  });

  test('unchecking Is Secret warns that publishing deletes the values in every stage', async () => {
    await resetDefinitions(api, fixture('orders/odc-app.json'));
    assert.equal(await run('odcSettings.setSecret', { name: 'PaymentApiKey', isSecret: false }), true);
    assert.equal(asked[0]!.kind, 'unmark-secret');
    assert.match(asked[0]!.detail, /Publishing will delete this setting's values in every stage/);
    assert.deepEqual(readDefinitions().settings[0], { name: 'PaymentApiKey', type: 'Text', description: 'Key for the payment gateway' });
    await waitFor(() => assert.equal(treeSettings(api)[0]!.checked, false), 'the checkbox to clear');
    // Toggling with no explicit state flips it back.
    assert.equal(await run('odcSettings.setSecret', { name: 'PaymentApiKey' }), true);
    assert.equal(readDefinitions().settings[0]!.isSecret, true);
  });

  test('the definitions file is found per workspace folder and the setting follows odcSettings.definitionsFile', async () => {
    const folder = workspaceFolder();
    const config = vscode.workspace.getConfiguration('odcSettings', folder.uri);
    const custom = vscode.Uri.joinPath(folder.uri, 'config/app.odc-app.json');
    fs.mkdirSync(vscode.Uri.joinPath(folder.uri, 'config').fsPath, { recursive: true });
    fs.writeFileSync(custom.fsPath, JSON.stringify({ app: { key: 'billing', name: 'Billing' }, settings: [{ name: 'Currency', type: 'Text', defaultValue: 'EUR' }] }, null, 2));
    try {
      await config.update('definitionsFile', 'config/app.odc-app.json', vscode.ConfigurationTarget.Workspace);
      await waitFor(async () => assert.deepEqual((await treeApps(api)).map((a) => a.label), ['Billing']), 'the tree to switch files');
      assert.deepEqual(treeSettings(api).map((s) => s.label), ['Currency']);
    } finally {
      await config.update('definitionsFile', undefined, vscode.ConfigurationTarget.Workspace);
      fs.rmSync(vscode.Uri.joinPath(folder.uri, 'config').fsPath, { recursive: true, force: true });
      fs.rmSync(vscode.Uri.joinPath(folder.uri, '.vscode').fsPath, { recursive: true, force: true });
    }
    await waitFor(async () => assert.deepEqual((await treeApps(api)).map((a) => a.label), ['Orders']), 'back to odc-app.json');
  });
});
