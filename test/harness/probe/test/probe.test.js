// One end-to-end check that the harness works: our extension is loaded in a real extension host,
// its command is registered, and the runner's folder is the open workspace.
const assert = require('assert');
const vscode = require('vscode');

suite('harness probe (real VS Code extension host)', () => {
  test('command registered and workspace folder open', async () => {
    const ext = vscode.extensions.getExtension('odc-settings-probe.probe');
    assert.ok(ext, 'probe extension is loaded as extensionDevelopmentPath');
    await ext.activate();

    const commands = await vscode.commands.getCommands(true);
    assert.ok(commands.includes('odcProbe.hello'), 'odcProbe.hello is registered');
    assert.strictEqual(await vscode.commands.executeCommand('odcProbe.hello'), 1);

    const folders = vscode.workspace.workspaceFolders || [];
    assert.strictEqual(folders.length, 1, 'exactly one workspace folder');
    // The runner passes the folder it opened; without a folder argument it opens an empty temp folder.
    const expected = process.env.VSCODE_TEST_WORKSPACE_FOLDER;
    if (expected) assert.strictEqual(folders[0].uri.fsPath, expected);
    console.log(`probe: VS Code ${vscode.version}, Node ${process.version}, folder ${folders[0].uri.toString()}`);
  });
});
