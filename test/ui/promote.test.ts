// Promote end to end in the real workbench (code-server = VS Code 1.139 + Debian's Chromium)
// against a REAL portal server (SPEC §13, issue 14 item 11): sign in from the palette, Publish
// App from the palette (a secret and a non-secret), QA's values set through the API, then in
// Stage Values: the Compare tab, "Promote QA → Production…", the preview (the secret named and
// masked, never its value), Apply. Production then has QA's values (a production runtime token
// reads the secret), and the secret's canary is in no frame of the workbench, no file of VS
// Code's profile and no file of Chromium's.
//
// Also: the Accounts menu lists the portal's account and no longer asks to sign in, and the
// walkthrough opens with its six steps, each ticked off (its event happened in the tests before). ODC_SCREENSHOTS=1 saves the README's pictures of the Accounts menu (the ODC Portal
// account after sign-in) and the walkthrough to docs/images/.
//
// Needs code-server and Chromium: skipped with a message when absent, except in CI (CI=true),
// where a missing one fails the suite.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FrameLocator, Page } from 'playwright-core';
import type { AppResponse } from '../../common/api';
import { containsCanary, createRuntimeToken, filesUnder, newCanary, pollUntil, removeDir, ROOT, SAMPLE_DEFINITIONS, startPortal, tempDir, type Portal } from '../support/portal';
import { setValues, stageView } from '../support/values';
import { EVERYTHING_IN_PAGE_JS } from '../webview/standin';
import { leaksUnder, requireUiTools, sessionWrittenSince, signInFromPalette, uiSkip, webviewDocument } from './workbench';
// @ts-ignore: the harness is plain JavaScript (no declarations)
import * as harness from '../harness/vscode-web.mjs';

const ARTIFACTS = path.join(ROOT, 'test-artifacts');
const DOC_IMAGES = path.join(ROOT, 'docs/images');
const screenshots = process.env.ODC_SCREENSHOTS === '1';

/** Clears the toasts before a README picture (and waits until the palette has closed again). */
async function clearNotifications(page: Page): Promise<void> {
  await harness.runCommandFromPalette(page, 'Notifications: Clear All Notifications');
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
}

describe('Promote QA → Production in the real workbench against a real portal', { skip: uiSkip() }, () => {
  let portal: Portal;
  let server: { url: string; folder: string; stop(): Promise<void> };
  let browser: { page: Page; profileDir: string; close(opts?: { keepProfile?: boolean }): Promise<void> };
  let work: string;
  const canary = newCanary('PROMOTE-SECRET');

  before(async () => {
    requireUiTools();
    execFileSync(process.execPath, [path.join(ROOT, 'scripts/build.mjs'), 'extension', 'webview'], { cwd: ROOT, stdio: 'inherit' });
    portal = await startPortal();
    work = tempDir('odc-ui-promote-');
    const folder = path.join(work, 'workspace');
    fs.mkdirSync(folder);
    fs.writeFileSync(path.join(folder, 'odc-app.json'), JSON.stringify(SAMPLE_DEFINITIONS, null, 2));
    const extensionsDir = path.join(work, 'extensions');
    harness.installExtensionBySymlink(extensionsDir, ROOT);
    // Our own user-data dir (searched for the canary afterwards): the harness's quiet defaults,
    // plus no chat side bar (clearer screenshots).
    const userDataDir = path.join(work, 'user-data');
    server = await harness.startCodeServer({
      folder,
      extensionsDir,
      userDataDir,
      settings: {
        'workbench.secondarySideBar.defaultVisibility': 'hidden',
        'chat.disableAIFeatures': true,
      },
    });
    browser = await harness.launchBrowser({ viewport: { width: 1400, height: 900 } });
  });

  after(async () => {
    if (browser) await browser.page.screenshot({ path: path.join(ARTIFACTS, 'promote-last.png') }).catch(() => undefined);
    await browser?.close();
    if (browser) removeDir(browser.profileDir);
    await server?.stop();
    await portal?.stop();
    if (portal) removeDir(path.dirname(portal.dataDir));
    if (work) removeDir(work);
  });

  test('sign in and Publish App from the palette; the Accounts menu shows the ODC Portal account, no sign-in request', async () => {
    const { page } = browser;
    await page.goto(harness.workbenchUrl(server));
    await harness.waitForWorkbench(page);
    await signInFromPalette(page, portal);

    await harness.runCommandFromPalette(page, 'ODC: Publish App');
    await harness.waitForNotification(page, /Published "orders": revision 1/);
    assert.equal((await portal.api<AppResponse>('GET', '/apps/orders')).body.revision, 1);

    // The Accounts menu (activity bar, bottom) lists the portal's account by its URL.
    if (screenshots) await clearNotifications(page);
    const accounts = page.locator('.activitybar .action-item a[aria-label^="Accounts"], .activitybar .action-item [aria-label^="Accounts"]').first();
    // No "Sign in requested" badge on the Accounts icon (it read "1" while the stale request stayed).
    const accountsItem = page.locator('.activitybar .action-item:has([aria-label^="Accounts"])').first();
    assert.doesNotMatch((await accountsItem.getAttribute('aria-label')) ?? '', /Sign in requested/);
    assert.equal(await accountsItem.locator('.badge').isVisible(), false, 'no badge on the Accounts icon');
    // force: a badge on the icon would take the pointer event otherwise.
    await accounts.click({ force: true });
    const menu = page.locator('.monaco-menu').first();
    await menu.waitFor();
    const host = new URL(portal.url).host;
    await menu.locator('.action-label', { hasText: host }).first().waitFor({ timeout: 10_000 });
    const menuText = await menu.innerText();
    assert.match(menuText, new RegExp(`${host.replace(/\./g, '\\.')}.*ODC Portal`), `the Accounts menu: ${menuText}`);
    // Signed in: no "Sign in with ODC Portal to use ODC Settings & Secrets (1)" left behind (the
    // default URL's request, which the session for the typed-in URL never matched).
    assert.doesNotMatch(menuText, /Sign in with ODC Portal to use/, `the Accounts menu: ${menuText}`);
    if (screenshots) await page.screenshot({ path: path.join(DOC_IMAGES, 'vscode-accounts-menu.png') });
    await page.keyboard.press('Escape');
    await menu.waitFor({ state: 'hidden' });
  });

  test('Compare, "Promote QA → Production…": the preview masks the secret, Apply copies both; Production equals QA', async () => {
    const { page } = browser;
    await setValues(portal, 'orders', 'qa', { PaymentApiKey: canary, MaxRetries: '7' });

    await harness.runCommandFromPalette(page, 'ODC: Open Stage Values');
    await page.locator('.tab', { hasText: 'Stage Values: orders' }).waitFor();
    const web: FrameLocator = harness.webviewFrame(page);
    await web.locator('[data-setting="MaxRetries"]').first().waitFor({ timeout: 30_000 });
    await web.locator('vscode-tab-header[data-tab="compare"]').click();

    // The grid: QA's secret is set and shown masked; the two stages differ.
    const grid = web.locator('table.compare-grid');
    await grid.waitFor({ timeout: 20_000 });
    const secretRow = grid.locator('tr[data-setting="PaymentApiKey"]');
    assert.equal((await secretRow.locator('td[data-stage="qa"]').innerText()).trim(), 'Set *****');
    assert.match(await secretRow.locator('td[data-role="equal"]').innerText(), /Different/);
    assert.match(await grid.locator('tr[data-setting="MaxRetries"] td[data-stage="qa"]').innerText(), /7/);

    // "Promote QA → Production…": the preview names both settings, the secret only masked.
    await web.getByRole('button', { name: 'Promote QA → Production…' }).click();
    const preview = web.locator('.promote-preview');
    await preview.getByRole('heading', { name: 'Promote QA → Production: preview' }).waitFor({ timeout: 20_000 });
    const items = (await preview.locator('ul.promote-changes li').allInnerTexts()).map((t) => t.trim());
    assert.deepEqual(items.slice().sort(), ['MaxRetries: 3 → 7', 'PaymentApiKey (secret): copied inside the portal'], `the preview: ${items.join(' | ')}`);
    const previewText = await preview.innerText();
    assert.equal(containsCanary(previewText, canary), null, 'the preview shows no form of the secret');
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'promote-preview.png') });

    await preview.getByRole('button', { name: 'Apply 2 change(s) to Production' }).click();
    await web.getByRole('status').filter({ hasText: 'Promoted 2 setting(s) from QA to Production.' }).waitFor({ timeout: 20_000 });
    // The grid reloads: both settings now equal across QA and Production.
    await grid.locator('tr[data-setting="PaymentApiKey"] td[data-role="equal"]', { hasText: 'Equal' }).waitFor({ timeout: 20_000 });
    assert.match(await grid.locator('tr[data-setting="MaxRetries"] td[data-role="equal"]').innerText(), /Equal/);
    await page.screenshot({ path: path.join(ARTIFACTS, 'promote-done.png') });

    // Through the API: Production has QA's values; the secret reads in clear only at run time.
    const prod = await stageView(portal, 'orders', 'production');
    assert.equal(prod.get('MaxRetries')!.value, '7');
    assert.equal(prod.get('PaymentApiKey')!.hasValue, true);
    assert.equal(prod.get('PaymentApiKey')!.value, '*****');
    const runtime = await portal.api('GET', '/runtime/settings', { token: await createRuntimeToken(portal, 'orders', 'production') });
    assert.equal(runtime.status, 200, runtime.text);
    assert.equal(runtime.body.settings.PaymentApiKey, canary);
    assert.equal(runtime.body.settings.MaxRetries, '7');

    // The canary is nowhere on the client side: no frame of the workbench (the webview's DOM read
    // through its frame), no file of VS Code's profile or the workspace, no file of Chromium's profile.
    const frame = await webviewDocument(page);
    const dom = (await frame.evaluate(EVERYTHING_IN_PAGE_JS)) as string;
    assert.ok(dom.includes('PaymentApiKey') && dom.includes('Promoted 2 setting(s)'), 'read the right frame');
    assert.equal(containsCanary(dom, canary), null, "the webview's DOM holds no form of the canary");
    for (const f of page.frames()) {
      assert.equal(containsCanary(await f.content().catch(() => ''), canary), null, `frame ${f.url().slice(0, 80)} holds no form of the canary`);
    }
    const vscodeFiles = [...filesUnder(path.join(work, 'user-data')), ...filesUnder(path.join(work, 'workspace'))];
    assert.ok(vscodeFiles.some((f) => /ODC Settings|odc-settings/i.test(f)), "the extension's output channel log is among the files searched");
    assert.deepEqual(leaksUnder(path.join(work, 'user-data'), canary), [], "VS Code's profile holds no form of the secret");
    assert.deepEqual(leaksUnder(path.join(work, 'workspace'), canary), [], 'the workspace holds no form of the secret');
    await sessionWrittenSince(page, browser.profileDir, Date.now() - 1000);
    assert.deepEqual(leaksUnder(browser.profileDir, canary), [], "Chromium's profile holds no form of the secret");
  });

  test('the walkthrough "Get started with ODC Settings & Secrets" opens with its six steps, all ticked off', async () => {
    const { page } = browser;
    if (screenshots) await clearNotifications(page);
    await harness.runCommandFromPalette(page, 'Welcome: Open Walkthrough...');
    const pick = page.locator('.quick-input-list .monaco-list-row', { hasText: 'Get started with ODC Settings & Secrets' }).first();
    await pick.waitFor({ timeout: 15_000 });
    await pick.click();
    const walkthrough = page.locator('.gettingStartedContainer', { hasText: 'Get started with ODC Settings & Secrets' });
    await walkthrough.waitFor({ timeout: 15_000 });
    // Its six steps, by the titles a user reads (the first one open).
    const steps = walkthrough.locator('button.getting-started-step');
    await steps.first().waitFor();
    const titles = (await steps.locator('.step-title').allInnerTexts()).map((t) => t.trim());
    assert.deepEqual(titles, ['Start the portal', 'Sign in', 'Create the definitions file', 'Mark a secret', 'Publish the app', "Set a stage's values"]);
    // Every step's event happened in the tests above (the portal answered, sign-in, the file with a
    // secret, a publish, Stage Values opened): each shows ticked off (its tick: checked, drawn complete).
    const doneOf = async () => (await steps.evaluateAll((els) => els.map((e) => `${e.querySelector('.step-title')?.textContent?.trim()}: ${e.querySelector('[data-done-step-id][aria-checked="true"].complete') ? 'done' : 'not done'}`)));
    const allDone = titles.map((t) => `${t}: done`);
    await pollUntil('every walkthrough step ticked off', async () => JSON.stringify(await doneOf()) === JSON.stringify(allDone)).catch(() => undefined);
    assert.deepEqual(await doneOf(), allDone);
    if (screenshots) await page.screenshot({ path: path.join(DOC_IMAGES, 'vscode-walkthrough.png') });
  });
});
