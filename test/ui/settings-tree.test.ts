// The Settings tree in the real workbench (code-server = VS Code 1.139 + Debian's Chromium),
// driven like a user: click a setting's Is Secret checkbox, answer the real modal, see the file
// change and the lock appear; decline and see the checkbox revert; add a setting through the
// prompts (name validated as you type, then the type picker). Screenshot in test-artifacts/.
//
// Needs code-server (bash scripts/setup-code-server.sh) and Chromium: skipped with a message when
// absent, except in CI (CI=true), where they must run and a missing one fails the suite.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Locator, Page } from 'playwright-core';
// @ts-ignore: the harness is plain JavaScript (no declarations)
import * as harness from '../harness/vscode-web.mjs';
import { openFixtureWorkbench, uiSkip } from './workbench';

const ROOT = path.resolve(__dirname, '../..');
const ARTIFACTS = path.join(ROOT, 'test-artifacts');

interface Definitions {
  app: { key: string; name: string };
  settings: Array<{ name: string; type: string; defaultValue?: string; isSecret?: boolean; description?: string }>;
}

async function eventually<T>(check: () => T, what: string, timeout = 15_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    try {
      return check();
    } catch (err) {
      if (Date.now() - started > timeout) throw new Error(`timed out waiting for ${what}: ${(err as Error).message}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('Settings tree in the real workbench', { skip: uiSkip() }, () => {
  let server: { url: string; folder: string; stop(): Promise<void>; log(): string };
  let browser: { page: Page; close(): Promise<void> };
  let work: string;
  let file: string;
  const read = (): Definitions => JSON.parse(fs.readFileSync(file, 'utf8'));
  const row = (page: Page, name: string): Locator => page.locator('.monaco-list-row', { hasText: name }).first();

  before(async () => {
    ({ work, file, server, browser } = await openFixtureWorkbench('odc-ui-tree-'));
    const { page } = browser;
    await harness.runCommandFromPalette(page, 'View: Show ODC Settings');
    await row(page, 'MaxRetries').waitFor({ timeout: 30_000 });
  });

  after(async () => {
    if (browser) await browser.page.screenshot({ path: path.join(ARTIFACTS, 'settings-tree-last.png') }).catch(() => undefined);
    await browser?.close();
    await server?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  /** Whether a row's Is Secret checkbox is drawn ticked (its class and its aria-checked state). */
  const checkboxTicked = (r: Locator) =>
    r.locator('.custom-view-tree-node-item-checkbox').evaluate((el) => {
      const cls = el.classList.contains('checked');
      const aria = (el.getAttribute('aria-checked') ?? el.closest('[aria-checked]')?.getAttribute('aria-checked')) === 'true';
      return { cls, aria };
    });

  test('each setting shows as a user sees it: name, type and default (***** for a secret), a lock and a ticked Is Secret box only for a secret', async () => {
    const { page } = browser;
    const expected = [
      { name: 'PaymentApiKey', description: 'Text · *****', secret: true },
      { name: 'MaxRetries', description: 'Integer · 3', secret: false },
      { name: 'Greeting', description: 'Text · "hello"', secret: false },
    ];
    for (const e of expected) {
      const r = row(page, e.name);
      assert.equal((await r.locator('.label-name').innerText()).trim(), e.name, `${e.name}: the label`);
      assert.equal((await r.locator('.label-description').innerText()).trim(), e.description, `${e.name}: the description`);
      assert.equal(await r.locator('.codicon-lock').count(), e.secret ? 1 : 0, `${e.name}: the lock icon`);
      const ticked = await checkboxTicked(r);
      assert.deepEqual(ticked, { cls: e.secret, aria: e.secret }, `${e.name}: the Is Secret checkbox as drawn`);
    }
  });

  test('checking Is Secret asks in a modal; confirming removes the default, shows the lock and says to rotate', async () => {
    const { page } = browser;
    const greeting = row(page, 'Greeting');
    await greeting.locator('.custom-view-tree-node-item-checkbox').click();

    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor({ timeout: 10_000 });
    const text = await dialog.innerText();
    assert.match(text, /Mark "Greeting" as secret\?/);
    assert.match(text, /version-control history/);
    assert.match(text, /rotate/);
    await dialog.locator('.monaco-button', { hasText: 'Mark as Secret' }).click();

    await eventually(() => assert.deepEqual(read().settings[2], { name: 'Greeting', type: 'Text', isSecret: true }), 'the file to change');
    await greeting.locator('.codicon-lock').waitFor({ timeout: 10_000 });
    assert.match(await greeting.innerText(), /\*\*\*\*\*/);
    assert.deepEqual(await checkboxTicked(greeting), { cls: true, aria: true }, 'the Is Secret box is drawn ticked');
    assert.ok(!(await greeting.innerText()).includes('hello'), 'the old default is no longer shown');
    await harness.waitForNotification(page, /old value stays in version-control history: rotate it/);

    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'settings-tree-is-secret.png') });
  });

  test('declining the modal leaves the file alone and unticks the checkbox again', async () => {
    const { page } = browser;
    const before = fs.readFileSync(file, 'utf8');
    const maxRetries = row(page, 'MaxRetries');
    const checkbox = maxRetries.locator('.custom-view-tree-node-item-checkbox');
    await checkbox.click();
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor({ timeout: 10_000 });
    await dialog.locator('.monaco-button', { hasText: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached', timeout: 10_000 });
    const isChecked = () => checkbox.evaluate((el) => el.classList.contains('checked') || el.getAttribute('aria-checked') === 'true');
    for (let i = 0; i < 100 && (await isChecked()); i++) await page.waitForTimeout(100);
    assert.equal(await isChecked(), false, 'the checkbox shows the file again');
    assert.equal(fs.readFileSync(file, 'utf8'), before);
    assert.equal(await maxRetries.locator('.codicon-lock').count(), 0);
  });

  test('Add Setting from the palette validates the name as you type, then asks for the type', async () => {
    const { page } = browser;
    await harness.runCommandFromPalette(page, 'ODC: Add Setting');
    const input = page.locator('.quick-input-widget input');
    await input.fill('9Lives');
    await page.locator('.quick-input-message', { hasText: 'must start with a letter' }).waitFor({ timeout: 10_000 });
    await input.fill('maxretries');
    await page.locator('.quick-input-message', { hasText: 'already exists' }).waitFor({ timeout: 10_000 });
    await input.fill('RetryDelaySeconds');
    await page.keyboard.press('Enter');
    // The type picker.
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'LongInteger' }).waitFor({ timeout: 10_000 });
    await input.fill('Integer');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'a whole number between' }).first().waitFor();
    await page.keyboard.press('Enter');
    await eventually(() => assert.deepEqual(read().settings.at(-1), { name: 'RetryDelaySeconds', type: 'Integer' }), 'the new setting in the file');
    await row(page, 'RetryDelaySeconds').waitFor({ timeout: 10_000 });
    const text = fs.readFileSync(file, 'utf8');
    assert.ok(text.includes('    {\n      "name": "RetryDelaySeconds",\n      "type": "Integer"\n    }\n  ]\n}'), 'stable 2-space JSON');
    await page.screenshot({ path: path.join(ARTIFACTS, 'settings-tree-added.png') });
  });
});
