// Sign in and Publish App in the real workbench (code-server = VS Code 1.139 + Debian's
// Chromium) against a REAL portal server, driven like a user: Sign In from the palette (URL,
// then the token in a password box), Publish App from the palette and its result
// notification; then mark a setting that has stage values secret and publish again: the real
// modal lists the values the publish deletes, and only "Publish and Delete Values" goes on.
// Screenshots in test-artifacts/.
//
// Needs code-server (bash scripts/setup-code-server.sh) and Chromium: skipped with a message when
// absent, except in CI (CI=true), where they must run and a missing one fails the suite.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { AppResponse, StageSettingsResponse } from '../../common/api';
import { removeDir, ROOT, startPortal, type Portal } from '../support/portal';
import { openFixtureWorkbench, signInFromPalette, uiSkip } from './workbench';
// @ts-ignore: the harness is plain JavaScript (no declarations)
import * as harness from '../harness/vscode-web.mjs';

const ARTIFACTS = path.join(ROOT, 'test-artifacts');

describe('Sign in and Publish App in the real workbench', { skip: uiSkip() }, () => {
  let portal: Portal;
  let server: { url: string; folder: string; stop(): Promise<void> };
  let browser: { page: Page; close(): Promise<void> };
  let work: string;
  let file: string;

  before(async () => {
    portal = await startPortal();
    ({ work, file, server, browser } = await openFixtureWorkbench('odc-ui-publish-'));
  });

  after(async () => {
    if (browser) await browser.page.screenshot({ path: path.join(ARTIFACTS, 'publish-last.png') }).catch(() => undefined);
    await browser?.close();
    await server?.stop();
    await portal?.stop();
    if (portal) removeDir(path.dirname(portal.dataDir));
    if (work) removeDir(work);
  });

  test('Sign In from the palette, then Publish App: the notification reports the new revision', async () => {
    const { page } = browser;
    await signInFromPalette(page, portal);
    await page.locator('.statusbar-item', { hasText: 'orders: not published' }).waitFor({ timeout: 15_000 });

    await harness.runCommandFromPalette(page, 'ODC: Publish App');
    const message = await harness.waitForNotification(page, /Published "orders": revision 1/);
    assert.match(message, /3 added/);
    await page.locator('.statusbar-item', { hasText: 'orders r1' }).waitFor({ timeout: 15_000 });
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'publish-result.png') });
    assert.equal((await portal.api<AppResponse>('GET', '/apps/orders')).body.revision, 1);
  });

  test('a publish that deletes stage values shows them in a modal; only "Publish and Delete Values" goes on', async () => {
    const { page } = browser;
    const dev = await portal.api<StageSettingsResponse>('GET', '/apps/orders/stages/development/settings');
    const greeting = dev.body.settings.find((s) => s.name === 'Greeting')!;
    const set = await portal.api('PATCH', '/apps/orders/stages/development/settings', { body: { changes: [{ name: 'Greeting', value: 'hi from dev', baseVersion: greeting.version }] } });
    assert.equal(set.status, 200, set.text);

    // Mark Greeting secret in the tree (real checkbox, real modal).
    await harness.runCommandFromPalette(page, 'View: Show ODC Settings');
    const row = page.locator('.monaco-list-row', { hasText: 'Greeting' }).first();
    const dialog = page.locator('.monaco-dialog-box');
    // Right after a publish the tree re-renders once for the portal status of each setting; a click
    // that lands during that re-render is lost (the box stays unticked), as a person would see and
    // click again. So: click, and click again only while no dialog came and the box is unticked.
    for (let attempt = 1; ; attempt++) {
      await row.locator('.custom-view-tree-node-item-checkbox').click();
      try {
        await dialog.waitFor({ timeout: 5_000 });
        break;
      } catch (err) {
        const ticked = await row.locator('.custom-view-tree-node-item-checkbox').evaluate((el) => el.classList.contains('checked') || (el.getAttribute('aria-checked') ?? el.closest('[aria-checked]')?.getAttribute('aria-checked')) === 'true');
        if (attempt >= 3 || ticked) throw err;
      }
    }
    await dialog.locator('.monaco-button', { hasText: 'Mark as Secret' }).click();
    await row.locator('.codicon-lock').waitFor({ timeout: 10_000 });
    assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).settings[2].isSecret, true);

    // Publish from the tree's title bar; the modal lists the value it deletes.
    await harness.runCommandFromPalette(page, 'ODC: Publish App');
    await dialog.waitFor({ timeout: 15_000 });
    const text = await dialog.innerText();
    assert.match(text, /Publishing "orders" deletes 1 stored value/);
    assert.match(text, /Greeting in Development: now secret/);
    assert.ok(!text.includes('hi from dev'), 'the modal shows no value');
    // The progress notification has been up since the first request (the dry run) and says what it waits for.
    // The workbench renders progress updates a moment after the modal appears: wait for the text, not the first frame.
    assert.match(await harness.waitForNotification(page, /Publishing "orders".*waiting for your confirmation/), /waiting for your confirmation/);
    await page.screenshot({ path: path.join(ARTIFACTS, 'publish-confirm-deletions.png') });

    await dialog.locator('.monaco-button', { hasText: 'Cancel' }).click();
    await harness.waitForNotification(page, /cancelled; nothing changed/);
    assert.equal((await portal.api<AppResponse>('GET', '/apps/orders')).body.revision, 1);

    await harness.runCommandFromPalette(page, 'ODC: Publish App');
    await dialog.waitFor({ timeout: 15_000 });
    await dialog.locator('.monaco-button', { hasText: 'Publish and Delete Values' }).click();
    await harness.waitForNotification(page, /Published "orders": revision 2 \(1 changed, 1 stored value deleted\)/);
    const after = await portal.api<StageSettingsResponse>('GET', '/apps/orders/stages/development/settings');
    const g = after.body.settings.find((s) => s.name === 'Greeting')!;
    assert.equal(g.isSecret, true);
    assert.equal(g.hasValue, false);
    assert.equal(g.missing, true);
  });
});
