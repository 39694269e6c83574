// extensionTestsPath for scripts/run-vscode-tests.mjs: runs mocha (tdd UI) over every bundled
// *.test.js next to this file inside the real extension host. mocha is external to the bundle
// and resolved from the project's node_modules at run time.
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'tdd', color: false, timeout: 30_000, slow: 3_000 });
  const grep = process.env.ODC_TEST_GREP;
  if (grep) mocha.grep(grep);
  const files = fs.readdirSync(__dirname).filter((f) => f.endsWith('.test.js')).sort();
  for (const f of files) mocha.addFile(path.join(__dirname, f));
  return new Promise((resolve, reject) => {
    mocha.run((failures) => (failures ? reject(new Error(`${failures} test(s) failed`)) : resolve()));
  });
}
