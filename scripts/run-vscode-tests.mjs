// Runs extension tests inside a real VS Code extension host (code-server's Node one), the offline
// equivalent of @vscode/test-electron's runTests(). Exit code 0 only if the tests passed.
//
// usage: node scripts/run-vscode-tests.mjs <extensionDevelopmentPath> <extensionTestsPath> [workspaceFolder | file.code-workspace]
//   extensionTestsPath: a JS file exporting run(): Promise<void> (reject = failure), e.g. a mocha runner.
//   A path ending in .code-workspace opens that (multi-root) workspace instead of a folder.
// env:   TEST_TIMEOUT_MS (default 300000)  VERBOSE=1 (show the workbench's own log lines too)
// self-test: node scripts/run-vscode-tests.mjs test/harness/probe test/harness/probe/test/index.js "$(mktemp -d)"
import fs from 'node:fs';
import path from 'node:path';
import util from 'node:util';
import { codeServerDir, isCodeServerInstalled, launchBrowser, startCodeServer, workbenchUrl }
  from '../test/harness/vscode-web.mjs';

const [devArg, testsArg, folderArg] = process.argv.slice(2);
if (!devArg || !testsArg) {
  console.error('usage: node scripts/run-vscode-tests.mjs <extensionDevelopmentPath> <extensionTestsPath> [workspaceFolder | file.code-workspace]');
  process.exit(2);
}
if (!isCodeServerInstalled()) {
  console.error(`code-server is not installed (looked in ${codeServerDir}).\n` +
    'Run once:  bash scripts/setup-code-server.sh   (about 90 s; needs the npm registry and, as root, apt)');
  process.exit(1);
}
const devPath = path.resolve(devArg);
const testsPath = path.resolve(testsArg);
for (const [what, p] of [['extensionDevelopmentPath', path.join(devPath, 'package.json')], ['extensionTestsPath', testsPath]]) {
  if (!fs.existsSync(p)) { console.error(`${what}: ${p} does not exist`); process.exit(1); }
}
const isWorkspaceFile = !!folderArg && folderArg.endsWith('.code-workspace');
const folder = folderArg && !isWorkspaceFile ? path.resolve(folderArg) : undefined;
const workspace = isWorkspaceFile ? path.resolve(folderArg) : undefined;
if (workspace && !fs.existsSync(workspace)) { console.error(`workspace file ${workspace} does not exist`); process.exit(1); }
const timeoutMs = +(process.env.TEST_TIMEOUT_MS || 300000);
const verbose = !!process.env.VERBOSE;

// codeAutomationLog receives the workbench's log AND, in test mode, the extension host's console (the test
// reporter, console.log in tests) without any tag telling them apart. So drop the workbench chatter seen with
// code-server 4.139 by its wording: connection/socket set-up, the disabled gallery, cancelled requests at
// shutdown, the missing GitHub auth provider, slow-contribution and search-provider warnings, and
// "[Component] ..." lines ([AgentHost], [ChatModelSelection], [Service Worker], ...).
// Consequence: a test's own line that starts with "[Word] " is hidden too unless VERBOSE=1.
const NOISE = new RegExp('^(' + [
  'Resolving connection', 'Resolved connection', 'Creating a socket', 'Updating additional', 'Ignoring fetching',
  'An unknown error', 'Canceled', 'Error: Canceled', 'Timed out waiting for authentication provider',
  'Creation of workbench contribution', 'No search provider registered', '\\[[\\w:. -]+\\] ',
].join('|') + ')');

let server;
let browser;
let cleaning;
const cleanup = () => (cleaning ||= (async () => {
  await browser?.close().catch(() => {});
  await server?.stop().catch(() => {});
})());
// code-server and chromium run in their own process groups, so Ctrl-C would not stop them by itself.
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    console.error(`\n${sig}: stopping code-server and chromium`);
    cleanup().finally(() => process.exit(130));
  });
}
// Output piped into e.g. `head` must not crash the run (the exit code is what matters).
process.stdout.on('error', (e) => { if (e.code !== 'EPIPE') throw e; });

const t0 = Date.now();
const since = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;

async function runTests() {
  server = await startCodeServer({
    folder, workspace, testMode: true,
    // Extra installed extensions for a run (the extension bench's baseline extension).
    extensionsDir: process.env.ODC_TEST_EXTENSIONS_DIR || undefined,
    // Lets tests check which folder/workspace file the runner opened (the extension host inherits code-server's env).
    env: { ...(folder ? { VSCODE_TEST_WORKSPACE_FOLDER: folder } : {}), ...(workspace ? { VSCODE_TEST_WORKSPACE_FILE: workspace } : {}) },
  });
  if (verbose) console.log(`[runner] code-server ${server.url} answering after ${since()}`);
  browser = await launchBrowser();
  const { page } = browser;

  let resolveExit;
  const exited = new Promise((r) => { resolveExit = r; });
  // The workbench calls window.codeAutomationExit(code) once extensionTestsPath's run() settled
  // (0 = resolved, 1 = rejected/threw); the smoke-test driver flag makes it look for these functions.
  await page.exposeFunction('codeAutomationExit', (code) => resolveExit(code));
  await page.exposeFunction('codeAutomationLog', (type, args) => {
    const line = util.format(...(Array.isArray(args) ? args : [args]));
    if (!verbose && NOISE.test(line)) return;
    console.log(type === 'log' || type === 'info' ? line : `[${type}] ${line}`);
  });
  if (verbose) page.on('pageerror', (e) => console.log(`[pageerror] ${e.message}`));

  const payload = [
    ['extensionDevelopmentPath', server.remoteUri(devPath)],
    ['extensionTestsPath', server.remoteUri(testsPath)],
  ];
  // 'domcontentloaded': the 'load' event waits for every workbench resource (19 MB of JS) for no benefit.
  await page.goto(workbenchUrl(server, payload), { waitUntil: 'domcontentloaded', timeout: timeoutMs });
  if (verbose) console.log(`[runner] workbench page loaded after ${since()}`);

  return Promise.race([
    exited,
    // code-server dying on its own (not by our cleanup) is a failure worth its log.
    server.exited.then((c) => { if (!cleaning) console.error(server.log()); return `code-server exited (${c})`; }),
  ]);
}

// TEST_TIMEOUT_MS bounds the whole run: start-up, workbench load and the tests themselves.
let timer;
const timeout = new Promise((r) => { timer = setTimeout(() => r('timeout'), timeoutMs); });
const run = runTests();
run.catch(() => {}); // a late rejection after a timeout (cleanup closes the page under it) is not news
let result;
try {
  result = await Promise.race([run, timeout]);
  if (result === 'timeout') console.error(`extension tests timed out after ${timeoutMs} ms (TEST_TIMEOUT_MS)`);
} catch (e) {
  if (!cleaning) console.error(e); // after Ctrl-C the page closing under page.goto is expected
  result = 'error';
} finally {
  clearTimeout(timer);
  await cleanup();
}
const passed = result === 0;
console.log(`extension tests ${passed ? 'passed' : 'FAILED'} (result: ${result}, ${since()})`);
process.exit(passed ? 0 : 1);
