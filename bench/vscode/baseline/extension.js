// The bench's baseline: a minimal extension. Its activate() registers one command, which is
// what the smallest real extension does; the bench activates it in the same extension host,
// in the same run, just before ours, and compares the two activate() times.
const vscode = require('vscode');

exports.activate = function activate(context) {
  context.subscriptions.push(vscode.commands.registerCommand('odcBenchBaseline.hello', () => 'hello'));
  return { ok: true };
};

exports.deactivate = function deactivate() {};
