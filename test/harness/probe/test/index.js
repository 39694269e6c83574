// extensionTestsPath for the harness self-test: a mocha runner loaded by code-server's extension host.
// Run: node scripts/run-vscode-tests.mjs test/harness/probe test/harness/probe/test/index.js "$(mktemp -d)"
const path = require('path');
// The extension host resolves modules from this file's folder, which has no node_modules of its own;
// take the project's mocha by absolute path (test/harness/probe/test -> repo root).
const Mocha = require(path.resolve(__dirname, '../../../../node_modules/mocha'));

exports.run = function run() {
  const mocha = new Mocha({ ui: 'tdd', color: false, timeout: 20000 });
  mocha.addFile(path.join(__dirname, 'probe.test.js'));
  return new Promise((resolve, reject) => {
    mocha.run((failures) => (failures ? reject(new Error(`${failures} test(s) failed`)) : resolve()));
  });
};
