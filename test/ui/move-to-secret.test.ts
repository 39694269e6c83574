// "Move to a secret setting" end to end in the real workbench (code-server = VS Code 1.139 +
// Debian's Chromium) against a REAL portal server, driven like a user: sign in from the palette,
// allow the extension the ODC Portal account, open a TypeScript file holding a hard-coded Stripe key (a canary), put the cursor on the
// warning, open the quick fixes (Ctrl+.), choose "Move to a secret setting", accept the suggested
// name, confirm "Publish and Set Development Value" in the real modal. Then: odc-app.json has the
// secret setting, the file reads process.env.STRIPE_KEY, the portal gives the canary to
// Development's runtime identity, and no form of the canary is left in the source file,
// odc-app.json, the extension's log, VS Code's user-data dir or Chromium's profile dir.
//
// Needs code-server and Chromium (npm test installs them); skipped with a message when absent, failed in CI.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { AppDefinitions } from '../../common/definitions';
import { containsCanary, createRuntimeToken, filesUnder, removeDir, ROOT, startPortal, tempDir, type Portal } from '../support/portal';
// @ts-ignore: the harness is plain JavaScript (no declarations)
import * as harness from '../harness/vscode-web.mjs';
import { signInFromPalette, uiSkip } from './workbench';

const ARTIFACTS = path.join(ROOT, 'test-artifacts');

describe('"Move to a secret setting" in the real workbench against a real portal', { skip: uiSkip() }, () => {
  let portal: Portal;
  let server: { url: string; folder: string; tempDir: string; stop(): Promise<void> };
  let browser: { page: Page; close(): Promise<void> };
  let work: string;
  let folder: string;
  let userDataDir: string;
  let chromiumProfile: string;

  before(async () => {
    execFileSync(process.execPath, [path.join(ROOT, 'scripts/build.mjs'), 'extension'], { cwd: ROOT, stdio: 'inherit' });
    portal = await startPortal();
    work = tempDir('odc-ui-move-');
    folder = path.join(work, 'workspace');
    fs.mkdirSync(path.join(folder, 'src'), { recursive: true });
    fs.copyFileSync(path.join(ROOT, 'test/fixtures/orders/odc-app.json'), path.join(folder, 'odc-app.json'));
    const extensionsDir = path.join(work, 'extensions');
    harness.installExtensionBySymlink(extensionsDir, ROOT);
    // Both profiles live in the test's own dir so they can be searched after VS Code and
    // Chromium have shut down (and flushed whatever they keep).
    userDataDir = path.join(work, 'user-data');
    chromiumProfile = path.join(work, 'chromium-profile');
    server = await harness.startCodeServer({
      folder,
      extensionsDir,
      userDataDir,
      settings: {
        'workbench.secondarySideBar.defaultVisibility': 'hidden',
        'chat.disableAIFeatures': true,
      },
    });
    browser = await harness.launchBrowser({ viewport: { width: 1400, height: 900 }, profileDir: chromiumProfile });
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    await portal?.stop();
    if (portal) removeDir(path.dirname(portal.dataDir));
    if (work) removeDir(work);
  });

  test('literal -> quick fix -> secret setting + process.env read -> Development value set; no form of the canary left anywhere', async () => {
    const { page } = browser;
    const canary = `sk_live_${randomBytes(14).toString('hex')}`;
    const source = path.join(folder, 'src/payments.ts');
    fs.writeFileSync(source, `const stripeKey = '${canary}';\n\nexport function authorization(): string {\n  return 'Bearer ' + stripeKey;\n}\n`);

    await page.goto(harness.workbenchUrl(server));
    await harness.waitForWorkbench(page);
    await signInFromPalette(page, portal);
    const input = page.locator('.quick-input-widget input');

    // Open the file with Quick Open, as a user would.
    await page.keyboard.press('Control+P');
    await input.waitFor();
    await input.fill('payments.ts');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'payments.ts' }).first().waitFor();
    await page.keyboard.press('Enter');
    await page.locator('.tab.active', { hasText: 'payments.ts' }).waitFor();

    // Our warning squiggle on the literal; hovering it shows the message (kind, not value).
    const squiggle = page.locator('.monaco-editor .squiggly-warning').first();
    await squiggle.waitFor({ timeout: 30_000 });
    const box = (await squiggle.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    const hover = page.locator('.monaco-hover', { hasText: 'Hard-coded credential' }).first();
    await hover.waitFor({ timeout: 15_000 });
    const hoverText = await hover.innerText();
    assert.match(hoverText, /looks like a Stripe secret key/);
    assert.equal(containsCanary(hoverText, canary), null, 'the warning names the kind, never the value');

    // Cursor into the literal (the lightbulb shows), move the mouse off the hover, click the
    // lightbulb and choose our quick fix.
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.move(box.x + box.width / 2, box.y + 400);
    await hover.waitFor({ state: 'hidden', timeout: 10_000 });
    const lightbulb = page.locator('.monaco-editor .lightBulbWidget').first();
    await lightbulb.waitFor({ timeout: 15_000 });
    const fix = page.locator('.action-widget .monaco-list-row', { hasText: 'Move to a secret setting' }).first();
    // The lightbulb can show for the code actions that answered first and move as the rest
    // arrive: a click then opens a menu without ours (seen once in a CI rehearsal). As a user
    // would, close it and ask again, by the lightbulb and then by the Quick Fix key.
    for (let attempt = 1; ; attempt++) {
      if (attempt === 1) await lightbulb.click();
      else await page.keyboard.press('Control+.');
      const shown = await fix.waitFor({ timeout: 7_500 }).then(
        () => true,
        () => false,
      );
      if (shown) break;
      if (attempt === 3) await fix.waitFor({ timeout: 1 }); // fails with the locator's own message
      await page.keyboard.press('Escape');
    }
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'move-to-secret-quick-fix.png') });
    await fix.click();

    // The name prompt suggests StripeKey (from the variable); accept it.
    await page.locator('.quick-input-widget', { hasText: 'Move to a secret setting' }).waitFor({ timeout: 15_000 });
    assert.equal(await input.inputValue(), 'StripeKey');
    await page.keyboard.press('Enter');

    // The real modal: publishing, the Development value, and the version-control warning.
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor({ timeout: 15_000 });
    const question = await dialog.innerText();
    assert.match(question, /Set the moved literal as the Development value of "StripeKey"\?/);
    assert.match(question, /version-control history/);
    assert.match(question, /rotate/);
    assert.equal(containsCanary(question, canary), null, 'the modal shows no value');
    await page.screenshot({ path: path.join(ARTIFACTS, 'move-to-secret-confirm.png') });
    await dialog.locator('.monaco-button', { hasText: 'Publish and Set Development Value' }).click();
    await harness.waitForNotification(page, /"StripeKey" now holds the literal in Development/, 30_000);
    await page.screenshot({ path: path.join(ARTIFACTS, 'move-to-secret-done.png') });

    // The file (saved) reads the variable; the definitions have the secret setting.
    assert.equal(fs.readFileSync(source, 'utf8'), "const stripeKey = process.env.STRIPE_KEY;\n\nexport function authorization(): string {\n  return 'Bearer ' + stripeKey;\n}\n");
    const defs = JSON.parse(fs.readFileSync(path.join(folder, 'odc-app.json'), 'utf8')) as AppDefinitions;
    const setting = defs.settings.find((s) => s.name === 'StripeKey');
    assert.deepEqual(setting && { type: setting.type, isSecret: setting.isSecret, defaultValue: setting.defaultValue }, { type: 'Text', isSecret: true, defaultValue: undefined });

    // The portal: masked for people, the literal for Development's runtime identity.
    const dev = await portal.api<{ settings: Array<{ name: string; hasValue: boolean; value: string | null }> }>('GET', '/apps/orders/stages/development/settings');
    const row = dev.body.settings.find((s) => s.name === 'StripeKey');
    assert.deepEqual(row && [row.hasValue, row.value], [true, '*****']);
    const runtime = await portal.api<{ settings: Record<string, string | null> }>('GET', '/runtime/settings', { token: await createRuntimeToken(portal, 'orders', 'development') });
    assert.equal(runtime.status, 200, runtime.text);
    assert.equal(runtime.body.settings.StripeKey, canary, 'the Development value is the literal');
    assert.equal(containsCanary(portal.output(), canary), null, 'not in the portal log');

    // Shut both down so they flush their logs, state databases and caches, then search every
    // file they kept (code-server's own temp dir, with the extension host's tmp and caches, first:
    // stop() deletes it).
    await browser.close();
    const codeServerTemp = filesUnder(server.tempDir);
    const leaksInTemp = codeServerTemp.filter((f) => fs.existsSync(f) && containsCanary(fs.readFileSync(f), canary) !== null);
    await server.stop();
    const kept = [...filesUnder(folder), ...filesUnder(userDataDir), ...filesUnder(chromiumProfile)];
    assert.ok(kept.some((f) => /ODC Settings|odc-settings/i.test(f) && f.endsWith('.log')), "the extension's output channel log is among the files searched");
    assert.ok(kept.some((f) => f.startsWith(chromiumProfile + path.sep) && /Local Storage|IndexedDB/.test(f)), "Chromium's storage is among the files searched");
    const leaks = kept.filter((f) => containsCanary(fs.readFileSync(f), canary) !== null).map((f) => path.relative(work, f));
    assert.deepEqual(leaks, [], 'no file in the workspace, the VS Code profile or the Chromium profile holds a form of the canary');
    assert.deepEqual(leaksInTemp.map((f) => path.relative(server.tempDir, f)), [], "nor does code-server's temp dir");
  });
});
