// Helpers to run the extension in a REAL VS Code without a desktop build: code-server (the upstream VS Code
// server, web workbench and normal Node extension host) on 127.0.0.1, its workbench opened in Debian's chromium
// through playwright-core. @vscode/test-electron cannot download VS Code offline, hence this route.
// Install code-server first: bash scripts/setup-code-server.sh
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Where scripts/setup-code-server.sh put Node 24 + code-server (override with CODE_SERVER_DIR). */
export const codeServerDir = path.resolve(process.env.CODE_SERVER_DIR || path.join(ROOT, '.vscode-test/code-server'));
const NODE_BIN = path.join(codeServerDir, 'node/bin/node');
const ENTRY = path.join(codeServerDir, 'app/node_modules/code-server/out/node/entry.js');

export function isCodeServerInstalled() {
  return fs.existsSync(NODE_BIN) && fs.existsSync(ENTRY);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Ask the OS for a free port; code-server has no "port 0" mode that reports back the chosen port.
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// code-server runs detached (its own process group) so stop() can signal every child it forks; that also
// means Ctrl-C in the terminal does not reach it. If this process exits without stop()/close() (a crash, an
// EPIPE on stdout, process.exit in a test), kill what is left and delete the temp dirs synchronously.
const exitCleanups = new Set();
process.on('exit', () => {
  for (const fn of exitCleanups) try { fn(); } catch {}
});
// rm while a just-killed process may still write: retry instead of leaving a half-deleted dir behind.
const rmDir = (dir) => fs.rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });

/**
 * Start code-server for one test run.
 * @param {object} o
 * @param {string} [o.folder]        workspace folder to open (default: an empty folder in the temp dir)
 * @param {string} [o.workspace]     a .code-workspace file to open instead of a folder (multi-root); `folder`
 *                                   then defaults to the file's directory and is only code-server's cwd
 * @param {boolean} [o.testMode]     pass enable-smoke-test-driver so the workbench honours ?payload=
 *                                   (extensionDevelopmentPath/extensionTestsPath). It also hides notification
 *                                   toasts, so UI tests must leave it off.
 * @param {string} [o.userDataDir]   default: <temp>/user-data; quiet settings are written there unless it has a settings.json
 * @param {Record<string,unknown>} [o.settings] added to the quiet settings
 * @param {string} [o.extensionsDir] default: <temp>/extensions (installExtensionBySymlink into it BEFORE starting)
 * @param {Record<string,string>} [o.env] extra environment for code-server and thus the extension host
 * @returns {Promise<{port:number,url:string,folder:string,workspace:string|undefined,userDataDir:string,extensionsDir:string,tempDir:string,
 *   remoteUri:(p:string)=>string, log:()=>string, exited:Promise<number|null>, stop:()=>Promise<void>}>}
 */
export async function startCodeServer({ folder, workspace, testMode = false, userDataDir, extensionsDir, env = {}, settings = {} } = {}) {
  if (!isCodeServerInstalled()) {
    throw new Error(`code-server is not installed in ${codeServerDir}; run: bash scripts/setup-code-server.sh`);
  }
  // One temp dir per run holds everything VS Code writes (TMPDIR gets its IPC sockets, XDG_* keeps
  // ~/.config/code-server and ~/.local/share untouched); stop() deletes it.
  const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'odc-code-server-'));
  for (const d of ['tmp', 'xdg-config', 'xdg-data', 'xdg-cache']) fs.mkdirSync(path.join(tempDir, d));
  workspace = workspace ? path.resolve(workspace) : undefined;
  if (workspace && !fs.existsSync(workspace)) throw new Error(`workspace file ${workspace} does not exist`);
  folder = path.resolve(folder || (workspace ? path.dirname(workspace) : path.join(tempDir, 'workspace')));
  fs.mkdirSync(folder, { recursive: true });
  extensionsDir = path.resolve(extensionsDir || path.join(tempDir, 'extensions'));
  fs.mkdirSync(extensionsDir, { recursive: true });
  userDataDir = path.resolve(userDataDir || path.join(tempDir, 'user-data'));
  const settingsFile = path.join(userDataDir, 'User/settings.json');
  if (!fs.existsSync(settingsFile)) {
    // Quiet, deterministic workbench: no welcome editor, no update/marketplace checks, no tips;
    // plus what the caller adds (`settings`).
    fs.mkdirSync(path.dirname(settingsFile), { recursive: true });
    fs.writeFileSync(settingsFile, JSON.stringify({
      'workbench.startupEditor': 'none',
      'workbench.tips.enabled': false,
      'update.mode': 'none',
      'extensions.autoCheckUpdates': false,
      'extensions.autoUpdate': false,
      'telemetry.telemetryLevel': 'off',
      ...settings,
    }, null, 2));
  }

  const childEnv = {
    ...process.env,
    PATH: `${path.dirname(NODE_BIN)}:${process.env.PATH}`, // code-server needs Node 24; the project runs on 20
    TMPDIR: path.join(tempDir, 'tmp'),
    XDG_CONFIG_HOME: path.join(tempDir, 'xdg-config'),
    XDG_DATA_HOME: path.join(tempDir, 'xdg-data'),
    XDG_CACHE_HOME: path.join(tempDir, 'xdg-cache'),
    EXTENSIONS_GALLERY: process.env.EXTENSIONS_GALLERY || '{}', // offline: no open-vsx.org lookups
    ...env,
  };

  let stopped = false;
  let proc;
  let log = '';
  let exited;
  const killNow = () => {
    if (proc) try { process.kill(-proc.pid, 'SIGKILL'); } catch {}
    try { rmDir(tempDir); } catch {}
  };
  exitCleanups.add(killNow);
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (proc) {
      try { process.kill(-proc.pid, 'SIGTERM'); } catch {}
      await Promise.race([exited, sleep(5000)]);
      await sleep(300); // forked children (extension hosts, file watchers) get their SIGTERM too
      try { process.kill(-proc.pid, 'SIGKILL'); } catch {}
    }
    rmDir(tempDir);
    exitCleanups.delete(killNow);
  };

  // The free port can be taken between probing and binding; retry a couple of times if that happens.
  let port;
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    const args = [
      ENTRY,
      '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none',
      '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust',
      '--disable-getting-started-override',
      '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir,
      ...(testMode ? ['--vscode-option', 'enable-smoke-test-driver'] : []),
      workspace ?? folder,
    ];
    log = '';
    proc = spawn(NODE_BIN, args, { env: childEnv, cwd: folder, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout.on('data', (d) => { log += d; });
    proc.stderr.on('data', (d) => { log += d; });
    exited = new Promise((r) => proc.once('exit', (code) => r(code)));

    const started = Date.now();
    const startTimeout = +(process.env.CODE_SERVER_START_TIMEOUT_MS || 60000);
    let ok = false;
    while (!ok) {
      if (proc.exitCode !== null || proc.signalCode !== null) break;
      try { ok = (await fetch(`http://127.0.0.1:${port}/healthz`)).ok; } catch {}
      if (!ok) {
        if (Date.now() - started > startTimeout) break;
        await sleep(100);
      }
    }
    if (ok) break;
    const died = proc.exitCode !== null || proc.signalCode !== null;
    if (died && /EADDRINUSE/.test(log) && attempt < 3) continue;
    await stop();
    throw new Error(`code-server ${died ? 'exited' : 'did not answer within the start timeout'}:\n${log}`);
  }

  const url = `http://127.0.0.1:${port}`;
  return {
    port, url, folder, workspace, userDataDir, extensionsDir, tempDir, stop,
    exited,
    log: () => log,
    // The workbench's remote authority is the page's host:port, so files the extension host should load
    // (extensionDevelopmentPath, extensionTestsPath) are vscode-remote:// URIs with a percent-encoded path.
    remoteUri: (absPath) => `vscode-remote://127.0.0.1:${port}${pathToFileURL(path.resolve(absPath)).pathname}`,
  };
}

/**
 * URL that opens the server's workspace file (?workspace=, when started with `workspace`) or else its folder
 * (?folder=) in the workbench. payload: [[key, value], ...], e.g.
 * [['extensionDevelopmentPath', server.remoteUri(dir)], ['extensionTestsPath', server.remoteUri(file)]];
 * only honoured when the server was started with testMode.
 */
export function workbenchUrl(server, payload) {
  let url = server.workspace
    ? `${server.url}/?workspace=${encodeURIComponent(server.workspace)}`
    : `${server.url}/?folder=${encodeURIComponent(server.folder)}`;
  if (payload) url += `&payload=${encodeURIComponent(JSON.stringify(payload))}`;
  return url;
}

/**
 * Debian's chromium driven by playwright-core (never `npx playwright install`: it downloads).
 * HEADED=1 shows the window (needs a display). Fresh profile per call, removed by close(); pass an
 * empty `profileDir` to own it instead (close() keeps it, so a test can search it afterwards).
 */
export async function launchBrowser({ viewport = { width: 1400, height: 900 }, profileDir } = {}) {
  let chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch (e) {
    throw new Error(`playwright-core is missing; run npm install in ${ROOT} (${e.message})`);
  }
  const userDataDir = profileDir ? path.resolve(profileDir) : fs.mkdtempSync(path.join(os.tmpdir(), 'odc-chromium-'));
  if (profileDir) fs.mkdirSync(userDataDir, { recursive: true });
  // playwright kills chromium itself when this process exits; the profile dir is ours to delete
  // (unless the caller owns it).
  const rmProfile = () => { if (!profileDir) try { rmDir(userDataDir); } catch {} };
  exitCleanups.add(rmProfile);
  // Allow third-party storage: webviews live in nested iframes and need their service worker / storage.
  fs.mkdirSync(path.join(userDataDir, 'Default'));
  fs.writeFileSync(path.join(userDataDir, 'Default/Preferences'),
    JSON.stringify({ profile: { cookie_controls_mode: 0, block_third_party_cookies: false } }));
  let context;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      headless: !process.env.HEADED, // playwright adds --headless itself
      // chromium's crash handler and caches go to XDG dirs regardless of the profile; keep them in it too.
      env: { ...process.env, XDG_CONFIG_HOME: path.join(userDataDir, 'xdg-config'), XDG_CACHE_HOME: path.join(userDataDir, 'xdg-cache') },
      viewport,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
  } catch (e) {
    rmProfile();
    exitCleanups.delete(rmProfile);
    throw e;
  }
  const page = context.pages()[0] || (await context.newPage());
  let closed = false;
  return {
    browser: context.browser() || context, context, page,
    /** The browser's profile dir (tests search it for secrets); close({ keepProfile: true }) leaves it for them to read and delete. */
    profileDir: userDataDir,
    close: async ({ keepProfile = false } = {}) => {
      if (closed) return;
      closed = true;
      await context.close().catch(() => {});
      if (keepProfile) return;
      rmProfile();
      exitCleanups.delete(rmProfile);
    },
  };
}

// ---------- helpers for UI (end-to-end) tests; start the server WITHOUT testMode so toasts show ----------

/** "Install" an unpacked extension folder the way VS Code lays out installed ones. Call before startCodeServer. */
export function installExtensionBySymlink(extensionsDir, extensionRoot) {
  const root = path.resolve(extensionRoot);
  const { publisher, name, version } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const link = path.join(extensionsDir, `${publisher}.${name}-${version}`);
  fs.mkdirSync(extensionsDir, { recursive: true });
  fs.rmSync(link, { force: true, recursive: false });
  fs.symlinkSync(root, link, 'dir');
  return { id: `${publisher}.${name}`, link };
}

/** Wait until the workbench has rendered (first load of code-server takes a few seconds). */
export async function waitForWorkbench(page, timeout = 60000) {
  await page.locator('.monaco-workbench').waitFor({ timeout });
}

/**
 * Run a command by its palette label (e.g. "ODC: Publish Settings"): F1, type, Enter.
 * The workbench renders before the extension host has delivered our contributions, and an open palette does
 * not refresh its list, so re-type until the command shows up (or the timeout ends).
 */
export async function runCommandFromPalette(page, label, timeout = 30000) {
  const deadline = Date.now() + timeout;
  const input = page.locator('.quick-input-widget input');
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: label }).first();
  for (;;) {
    if (!(await input.isVisible())) {
      await page.keyboard.press('F1');
      await input.waitFor({ timeout: Math.max(1000, deadline - Date.now()) });
    }
    await input.fill('>');
    await input.fill('>' + label);
    try {
      await row.waitFor({ timeout: 2000 });
      break;
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`command "${label}" not found in the palette within ${timeout} ms`);
    }
  }
  await page.keyboard.press('Enter');
}

/** Wait for a notification toast whose message matches; returns its text. */
export async function waitForNotification(page, textOrRegex, timeout = 20000) {
  const toast = page.locator('.notifications-toasts .notification-list-item-message', { hasText: textOrRegex }).first();
  try {
    await toast.waitFor({ timeout });
    return (await toast.innerText()).trim();
  } catch (err) {
    // A notification posted while a modal dialog is closing can skip its toast and go straight to
    // the notification center (under the bell), where the user still finds it: look there too.
    await runCommandFromPalette(page, 'Notifications: Show Notifications');
    const listed = page.locator('.notifications-center .notification-list-item-message', { hasText: textOrRegex }).first();
    try {
      await listed.waitFor({ timeout: 5000 });
    } catch {
      throw err;
    }
    const text = (await listed.innerText()).trim();
    await page.keyboard.press('Escape');
    return text;
  }
}

/**
 * The content of a webview: <iframe class="webview"> (host, gets .ready when loaded) > <iframe id="active-frame">
 * (our HTML). With several webviews open, pass a more specific host selector.
 */
export function webviewFrame(page, hostSelector = 'iframe.webview.ready') {
  return page.frameLocator(hostSelector).frameLocator('#active-frame');
}
