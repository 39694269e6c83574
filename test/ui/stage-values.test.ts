// End to end in the real workbench (code-server = VS Code 1.139 + Debian's Chromium) against a
// REAL portal server: sign in from the palette, open Stage Values, pick QA, set a secret (a
// canary) and a non-secret, save. Then: the server has both (the secret readable only by a
// runtime token, and absent from every store file), the panel shows *****, and the webview's
// DOM (read through its frame) never holds the canary. Screenshot in test-artifacts/.
//
// Needs code-server (bash scripts/setup-code-server.sh); skipped with a message when absent.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Frame, FrameLocator, Page } from 'playwright-core';
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
// @ts-ignore: the harness is plain JavaScript (no declarations)
import * as harness from '../harness/vscode-web.mjs';

const ARTIFACTS = path.join(ROOT, 'test-artifacts');
const installed: boolean = harness.isCodeServerInstalled();

/** The frame that holds our webview's document (the inner #active-frame of the panel's iframe). */
async function webviewDocument(page: Page): Promise<Frame> {
  for (let i = 0; i < 100; i++) {
    for (const f of page.frames()) {
      if (await f.locator('tr[data-setting]').count().catch(() => 0)) return f;
    }
    await page.waitForTimeout(100);
  }
  throw new Error('the Stage Values webview frame was not found');
}

describe('Stage Values in the real workbench against a real portal', { skip: installed ? false : 'code-server is not installed: run bash scripts/setup-code-server.sh' }, () => {
  let portal: Portal;
  let server: { url: string; folder: string; extensionsDir: string; stop(): Promise<void>; log(): string };
  let browser: { page: Page; close(): Promise<void> };
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
    fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
    fs.writeFileSync(
      path.join(userDataDir, 'User/settings.json'),
      JSON.stringify({
        'workbench.startupEditor': 'none',
        'workbench.tips.enabled': false,
        'update.mode': 'none',
        'extensions.autoCheckUpdates': false,
        'extensions.autoUpdate': false,
        'telemetry.telemetryLevel': 'off',
        'workbench.secondarySideBar.defaultVisibility': 'hidden',
        'chat.disableAIFeatures': true,
      }),
    );
    server = await harness.startCodeServer({ folder, extensionsDir, userDataDir });
    browser = await harness.launchBrowser({ viewport: { width: 1500, height: 900 } });
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    await portal?.stop();
    if (portal) removeDir(path.dirname(portal.dataDir));
    if (work) removeDir(work);
  });

  test('sign in, open the panel, pick QA, set a secret and a value, save: stored encrypted, shown as *****, gone from the DOM', async () => {
    const { page } = browser;
    const canary = newCanary('UI-SECRET');
    const cspReports: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspReports.push(m.text());
    });
    await page.goto(harness.workbenchUrl(server));
    await harness.waitForWorkbench(page);

    // Sign in from the palette, like a user: URL, then the token in a password box.
    await harness.runCommandFromPalette(page, 'ODC: Sign In');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor();
    await input.fill(portal.url);
    await page.keyboard.press('Enter');
    await page.locator('.quick-input-widget', { hasText: 'Token for' }).waitFor();
    await input.fill(portal.adminToken);
    await page.keyboard.press('Enter');
    // The first time per portal, VS Code asks whether this extension may use the ODC Portal account.
    const consent = page.locator('.monaco-dialog-box', { hasText: 'wants to sign in using ODC Portal' });
    await consent.waitFor({ timeout: 15_000 });
    await consent.locator('.monaco-button', { hasText: 'Allow' }).click();
    await harness.waitForNotification(page, 'Signed in to the portal');

    await harness.runCommandFromPalette(page, 'ODC: Open Stage Values');
    await page.locator('.tab', { hasText: 'Stage Values: orders' }).waitFor();
    const web: FrameLocator = harness.webviewFrame(page);
    await web.locator('tr[data-setting="MaxRetries"]').waitFor({ timeout: 30_000 });

    // Pick QA, set the secret and a non-secret, save once.
    await web.locator('#stage-select').click();
    await web.locator('#stage-select li[role=option]', { hasText: 'QA' }).click();
    await web.locator('#status', { hasText: /^QA: / }).waitFor();
    const secretRow = web.locator('tr[data-setting="PaymentApiKey"]');
    await secretRow.locator('[data-role=missing]').waitFor();
    await secretRow.locator('[data-action=set]').click();
    await secretRow.locator('vscode-textfield[data-role=secret-input] input').fill(canary);
    await web.locator('tr[data-setting="MaxRetries"] vscode-textfield[data-role=value] input').fill('7');
    await web.locator('#save', { hasText: 'Save 2 changes' }).click();
    await web.locator('#status', { hasText: 'Saved 2 changes to QA' }).waitFor();

    // The panel shows the mask, and nothing typed remains anywhere in the webview.
    assert.equal(await secretRow.locator('.mask').innerText(), '*****');
    assert.equal(await secretRow.locator('vscode-textfield').count(), 0);
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
  });
});
