// End to end in the real workbench (code-server = VS Code 1.139 + Debian's Chromium) against a
// REAL portal server: sign in from the palette, open Stage Values, pick QA, set a secret (a
// canary) and a non-secret, save. Then: the server has both (the secret readable only by a
// runtime token, and absent from every store file), the panel shows *****, and the webview's
// DOM (read through its frame) never holds the canary. Screenshot in test-artifacts/.
// Also: Chromium's own profile (session restore, caches, storage) holds no encoding of a typed
// secret after a save and after the browser closed; the palette offers Sign In only signed
// out and Sign Out only signed in; the status bar item opens a menu; and the editor is VS
// Code's own: a dirty tab, Ctrl+S, Save / Don't Save / Cancel on close, Discard asks first,
// and no backup of unsaved edits (secrets typed included) on disk.
//
// Needs code-server and Chromium (npm test installs them); skipped with a message when absent, failed in CI.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FrameLocator, Page } from 'playwright-core';
import {
  containsCanary,
  createRuntimeToken,
  filesUnder,
  newCanary,
  removeDir,
  ROOT,
  SAMPLE_DEFINITIONS,
  startPortal,
  tempDir,
  type Portal,
} from '../support/portal';
import { EVERYTHING_IN_PAGE_JS } from '../webview/standin';
import { leaksUnder, sessionWrittenSince, signInFromPalette, uiSkip, webviewDocument } from './workbench';
// @ts-ignore: the harness is plain JavaScript (no declarations)
import * as harness from '../harness/vscode-web.mjs';

const ARTIFACTS = path.join(ROOT, 'test-artifacts');

/**
 * The palette's rows for a query (nothing is run), once `ok` holds for them: the palette shows
 * what the context keys said when it opened, so it is reopened until then (or 20 s passed).
 */
async function paletteRowsWhen(page: Page, query: string, ok: (rows: string[]) => boolean): Promise<string[]> {
  const input = page.locator('.quick-input-widget input');
  let rows: string[] = [];
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press('F1');
    await input.waitFor();
    await input.fill('>' + query);
    await page.locator('.quick-input-list .monaco-list-row').first().waitFor({ timeout: 5000 }).catch(() => undefined);
    rows = (await page.locator('.quick-input-list .monaco-list-row .label-name').allInnerTexts()).map((t) => t.trim());
    await page.keyboard.press('Escape');
    await input.waitFor({ state: 'hidden' });
    if (ok(rows)) return rows;
    await page.waitForTimeout(500);
  }
  return rows;
}

/** The typed-secret field of a row, whatever element the editor uses for it. */
function secretField(row: ReturnType<FrameLocator['locator']>) {
  return row
    .locator('[data-role=secret-input] input, [data-role=secret-input] textarea, input[data-role=secret-input], textarea[data-role=secret-input]')
    .first();
}

describe('Stage Values in the real workbench against a real portal', { skip: uiSkip() }, () => {
  let portal: Portal;
  let server: { url: string; folder: string; extensionsDir: string; stop(): Promise<void>; log(): string };
  let browser: { page: Page; profileDir: string; close(opts?: { keepProfile?: boolean }): Promise<void> };
  const canaries: string[] = [];
  let work: string;

  before(async () => {
    execFileSync(process.execPath, [path.join(ROOT, 'scripts/build.mjs'), 'extension', 'webview'], { cwd: ROOT, stdio: 'inherit' });
    portal = await startPortal();
    const published = await portal.api('POST', '/apps/orders/publish', { body: { definitions: SAMPLE_DEFINITIONS } });
    assert.equal(published.status, 200, published.text);

    work = tempDir('odc-ui-');
    const folder = path.join(work, 'workspace');
    fs.mkdirSync(folder);
    fs.writeFileSync(path.join(folder, 'odc-app.json'), JSON.stringify(SAMPLE_DEFINITIONS, null, 2));
    const extensionsDir = path.join(work, 'extensions');
    harness.installExtensionBySymlink(extensionsDir, ROOT);
    // The harness's quiet defaults, plus no chat side bar (a clearer screenshot).
    const userDataDir = path.join(work, 'user-data');
    server = await harness.startCodeServer({
      folder,
      extensionsDir,
      userDataDir,
      settings: {
        'workbench.secondarySideBar.defaultVisibility': 'hidden',
        'chat.disableAIFeatures': true,
        // VS Code in a browser auto-saves by default; the Stage Values editor then does not
        // report unsaved edits to VS Code (see stageValuesPanel.ts), so the prompt is tested off.
        'files.autoSave': 'off',
      },
    });
    browser = await harness.launchBrowser({ viewport: { width: 1500, height: 900 } });
  });

  after(async () => {
    await browser?.close();
    if (browser) removeDir(browser.profileDir);
    await server?.stop();
    await portal?.stop();
    if (portal) removeDir(path.dirname(portal.dataDir));
    if (work) removeDir(work);
  });

  test('sign in, open the panel, pick QA, set a secret and a value, save: stored encrypted, shown as *****, gone from the DOM', async () => {
    const { page } = browser;
    const canary = newCanary('UI-SECRET');
    canaries.push(canary);
    const cspReports: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspReports.push(m.text());
    });
    await page.goto(harness.workbenchUrl(server));
    await harness.waitForWorkbench(page);

    // Signed out, the palette offers Sign In and not Sign Out.
    const signedOutRows = await paletteRowsWhen(page, 'ODC: Sign', (rows) => rows.includes('ODC: Sign In'));
    assert.ok(signedOutRows.includes('ODC: Sign In'), `palette: ${signedOutRows.join(', ')}`);
    assert.ok(!signedOutRows.includes('ODC: Sign Out'), `palette: ${signedOutRows.join(', ')}`);

    // Sign in from the palette, like a user: URL, then the token in a password box.
    await signInFromPalette(page, portal);
    const signedInRows = await paletteRowsWhen(page, 'ODC: Sign', (rows) => rows.includes('ODC: Sign Out'));
    assert.ok(signedInRows.includes('ODC: Sign Out') && !signedInRows.includes('ODC: Sign In'), `palette once signed in: ${signedInRows.join(', ')}`);

    await harness.runCommandFromPalette(page, 'ODC: Open Stage Values');
    await page.locator('.tab', { hasText: 'Stage Values: orders' }).waitFor();
    const web: FrameLocator = harness.webviewFrame(page);
    await web.locator('[data-setting="MaxRetries"]').waitFor({ timeout: 30_000 });

    // Pick QA, set the secret and a non-secret, save once.
    await web.locator('#stage-select').click();
    await web.locator('#stage-select li[role=option]', { hasText: 'QA' }).click();
    await web.locator('#status', { hasText: /^QA: / }).waitFor();
    const secretRow = web.locator('[data-setting="PaymentApiKey"]');
    await secretRow.locator('[data-role=missing]').waitFor();
    await secretRow.locator('[data-action=set]').click();
    await secretField(secretRow).fill(canary);
    await web.locator('[data-setting="MaxRetries"] [data-role=value]').fill('7');
    const savedAt = Date.now();
    await web.locator('#save', { hasText: 'Save 2 changes' }).click();
    await web.locator('#status', { hasText: 'Saved 2 changes to QA' }).waitFor();

    // The panel shows the mask, and nothing typed remains anywhere in the webview.
    assert.equal(await secretRow.locator('.mask').innerText(), '*****');
    assert.equal(await secretField(secretRow).isVisible(), false, 'the secret field is closed');
    assert.equal(await secretField(secretRow).inputValue(), '', 'and empty');
    const frame = await webviewDocument(page);
    const dom = (await frame.evaluate(EVERYTHING_IN_PAGE_JS)) as string;
    assert.ok(dom.includes('*****') && dom.includes('MaxRetries'), 'read the right frame');
    assert.equal(containsCanary(dom, canary), null, "the webview's DOM holds no form of the canary");
    for (const f of page.frames()) {
      const html = await f.content().catch(() => '');
      assert.equal(containsCanary(html, canary), null, `frame ${f.url().slice(0, 80)} holds no form of the canary`);
    }
    assert.deepEqual(cspReports, [], 'no Content-Security-Policy report in the workbench or the panel');
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'stage-values.png') });

    // The server has both: the non-secret in clear, the secret masked for people...
    const qa = await portal.api('GET', '/apps/orders/stages/qa/settings');
    const byName = Object.fromEntries((qa.body.settings as Array<{ name: string; value: string | null; hasValue: boolean }>).map((s) => [s.name, s]));
    assert.equal(byName.MaxRetries!.value, '7');
    assert.equal(byName.PaymentApiKey!.value, '*****');
    assert.equal(byName.PaymentApiKey!.hasValue, true);
    assert.equal(containsCanary(qa.text, canary), null);
    // ...in clear only for QA's runtime identity...
    const runtime = await portal.api('GET', '/runtime/settings', { token: await createRuntimeToken(portal, 'orders', 'qa') });
    assert.equal(runtime.status, 200, runtime.text);
    assert.equal(runtime.body.settings.PaymentApiKey, canary);
    assert.equal(runtime.body.settings.MaxRetries, '7');
    // ...and encrypted at rest: no store file (database, WAL, journal, key file) contains it.
    for (const file of filesUnder(portal.dataDir)) {
      assert.equal(containsCanary(fs.readFileSync(file), canary), null, `${path.basename(file)} holds no form of the canary`);
    }
    assert.equal(containsCanary(portal.output(), canary), null, 'nor does the server log');
    // VS Code's side: the profile (settings, state databases, logs with the extension's output
    // channel) and the workspace hold no form of it either.
    const vscodeFiles = [...filesUnder(path.join(work, 'user-data')), ...filesUnder(path.join(work, 'workspace'))];
    assert.ok(vscodeFiles.some((f) => /ODC Settings|odc-settings/i.test(f)), "the extension's output channel log is among the files searched");
    for (const file of vscodeFiles) {
      assert.equal(containsCanary(fs.readFileSync(file), canary), null, `${path.relative(work, file)} holds no form of the canary`);
    }
    // Chromium's side: once it has written its session after the save, no file of its profile
    // (session restore, form state, caches, storage) holds the secret in any encoding.
    await sessionWrittenSince(page, browser.profileDir, savedAt);
    assert.deepEqual(leaksUnder(browser.profileDir, canary), [], "the browser's profile holds no form of the typed secret after the save");
  });

  test('the status bar item opens a menu: Publish, Show Changes, Sign Out, Open Log', async () => {
    const { page } = browser;
    const item = page.locator('.statusbar-item', { hasText: /orders r\d/ });
    await item.waitFor({ timeout: 20_000 });
    await item.click();
    const rows = page.locator('.quick-input-widget .quick-input-list .monaco-list-row');
    await rows.first().waitFor();
    const labels = (await page.locator('.quick-input-widget .quick-input-list .monaco-list-row .label-name').allInnerTexts()).map((t) => t.trim());
    assert.deepEqual(labels, ['Publish App', 'Show Changes Since the Published Revision', 'Sign Out', 'Open Log'], `menu: ${labels.join(' | ')}`);
    await page.keyboard.press('Escape');
    await page.locator('.quick-input-widget input').waitFor({ state: 'hidden' });
  });

  test('unsaved edits: the tab is dirty, closing asks Save / Don\'t Save / Cancel, Ctrl+S saves, Discard asks first, nothing is backed up', async () => {
    const { page } = browser;
    const web: FrameLocator = harness.webviewFrame(page);
    const tab = page.locator('.tab', { hasText: 'Stage Values: orders' });
    const dialog = page.locator('.monaco-dialog-box');
    const canary = newCanary('UI-DIRTY');
    canaries.push(canary);
    const qaValue = async (name: string) => {
      const qa = await portal.api('GET', '/apps/orders/stages/qa/settings');
      return (qa.body.settings as Array<{ name: string; value: string | null; version: number }>).find((x) => x.name === name)!;
    };

    // Edit: the tab shows VS Code's dirty marker.
    await web.locator('[data-setting="MaxRetries"] [data-role=value]').fill('8');
    const secretRow = web.locator('[data-setting="PaymentApiKey"]');
    await secretRow.locator('[data-action=replace]').click();
    await secretField(secretRow).fill(canary);
    await page.locator('.tab.dirty', { hasText: 'Stage Values: orders' }).waitFor();

    // VS Code tries to back the dirty editor up (hot exit) and the extension refuses: nothing on disk.
    const userData = path.join(work, 'user-data');
    for (let i = 0; i < 100 && !filesUnder(userData).some((f) => /ODC Settings/.test(f) && fs.readFileSync(f, 'utf8').includes('refused a backup')); i++) await page.waitForTimeout(100);
    assert.ok(filesUnder(userData).some((f) => /ODC Settings/.test(f) && fs.readFileSync(f, 'utf8').includes('refused a backup')), 'VS Code asked for a backup and was refused');
    assert.deepEqual(leaksUnder(userData, canary), [], "VS Code's user data (Backups included) holds no form of the unsaved secret");

    // Close: VS Code asks. Cancel keeps the editor and the edits.
    await harness.runCommandFromPalette(page, 'View: Close Editor');
    await dialog.waitFor();
    assert.match(await dialog.innerText(), /Stage Values: orders/);
    await dialog.locator('.monaco-button', { hasText: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    assert.equal(await tab.count(), 1);
    assert.equal(await web.locator('[data-setting="MaxRetries"] [data-role=value]').inputValue(), '8');

    // Ctrl+S saves every edit to the portal; the tab is clean.
    const before = (await qaValue('MaxRetries')).version;
    await web.locator('[data-setting="MaxRetries"] [data-role=value]').focus();
    await page.keyboard.press('Control+s');
    await page.locator('.tab.dirty', { hasText: 'Stage Values: orders' }).waitFor({ state: 'detached' });
    const saved = await qaValue('MaxRetries');
    assert.equal(saved.value, '8');
    assert.equal(saved.version, before + 1, 'saved once');
    const runtime = await portal.api('GET', '/runtime/settings', { token: await createRuntimeToken(portal, 'orders', 'qa') });
    assert.equal(runtime.body.settings.PaymentApiKey, canary);

    // Discard asks first; Cancel keeps the edit, Discard drops it and the tab is clean again.
    await web.locator('[data-setting="MaxRetries"] [data-role=value]').fill('9');
    await page.locator('.tab.dirty', { hasText: 'Stage Values: orders' }).waitFor();
    await web.locator('#discard').click();
    await dialog.waitFor();
    assert.match(await dialog.innerText(), /Discard 1 unsaved edit in QA\?/);
    await dialog.locator('.monaco-button', { hasText: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    assert.equal(await web.locator('[data-setting="MaxRetries"] [data-role=value]').inputValue(), '9');
    await web.locator('#discard').click();
    await dialog.locator('.monaco-button', { hasText: 'Discard' }).click();
    await page.locator('.tab.dirty', { hasText: 'Stage Values: orders' }).waitFor({ state: 'detached' });
    assert.equal(await web.locator('[data-setting="MaxRetries"] [data-role=value]').inputValue(), '8', 'back to the saved value');

    // Close with an edit, Don't Save: the editor closes and the portal is unchanged.
    await web.locator('[data-setting="MaxRetries"] [data-role=value]').fill('10');
    await page.locator('.tab.dirty', { hasText: 'Stage Values: orders' }).waitFor();
    await harness.runCommandFromPalette(page, 'View: Close Editor');
    await dialog.waitFor();
    await dialog.locator('.monaco-button', { hasText: "Don't Save" }).click();
    await tab.waitFor({ state: 'detached' });
    assert.equal((await qaValue('MaxRetries')).value, '8', 'not saved');
  });

  test("after the browser closed, its profile holds no typed secret in any encoding", async () => {
    assert.ok(canaries.length >= 1);
    await browser.close({ keepProfile: true });
    for (const canary of canaries) {
      assert.deepEqual(leaksUnder(browser.profileDir, canary), [], `the closed browser's profile holds no form of ${canary.slice(0, 9)}…`);
    }
  });
});
