// extensionTestsPath for the multi-root run (scripts/test.mjs suite vscode-multiroot, which opens a
// .code-workspace with the folders orders, billing and notes). The same mocha runner as test/vscode:
// bundled into this file, its __dirname is dist/test/vscode-multiroot, so it runs the *.test.js here.
export { run } from '../vscode/index';
