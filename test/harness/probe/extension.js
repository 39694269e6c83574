// Harness self-test extension: plain CommonJS for the Node extension host, no build step.
const vscode = require('vscode');

let calls = 0;

exports.activate = function activate(context) {
  context.subscriptions.push(
    vscode.commands.registerCommand('odcProbe.hello', () => {
      calls++;
      vscode.window.showInformationMessage(`Hello from ODC probe #${calls}`);
      return calls;
    }),
  );
};

exports.deactivate = function deactivate() {};
