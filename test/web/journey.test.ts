// A person's journey through the portal's web UI (SPEC §14), in Chromium against the real server:
// an operator scoped to production signs in, sets a secret and a non-secret in the same editor
// VS Code shows, reloads (the secret is masked and write-only), signs out, and Back shows nothing
// of the values. A developer's deep link to a stage outside their scope is a 403 page.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { newCanary, removeDir } from '../support/portal';
import * as path from 'node:path';
import { everythingInPage, launch, pageName, removeProfile, seriousViolations, signInWith, startWorld, type Browser, type World } from './harness';

const row = (page: Page, name: string) => page.locator(`.rows [data-setting="${name}"]`);
const valueInput = (page: Page, name: string) => row(page, name).locator('[data-role=value]');
const stageLabel = (page: Page) => page.locator('#stage-select .select-face .text').innerText();

let world: World;
let browser: Browser;

before(async () => {
  world = await startWorld();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  if (browser) removeProfile(browser);
  await world?.portal.stop();
  if (world) removeDir(path.dirname(world.portal.dataDir));
});

describe('the portal in a browser: a person’s journey', () => {
  test('operator on production: sign in, set a secret and a non-secret, reload, sign out, Back shows nothing', async () => {
    const { portal, operator } = world;
    const page = await browser.page();
    const secret = newCanary('JOURNEY');

    // Not signed in: any page sends the person to sign in, and back after.
    await page.goto(`${portal.url}/apps/orders`);
    await page.waitForURL(/\/signin\?next=/);
    assert.equal(await pageName(page), 'signin');
    await page.locator('#token').fill(operator);
    await page.keyboard.press('Enter');
    await page.waitForURL(`${portal.url}/apps/orders`);
    assert.equal(await pageName(page), 'settings');
    assert.equal(await page.locator('#token').count(), 0, 'the sign-in field is gone with its page');

    // The editor: only production is in this token's scope, so it is the stage shown.
    await row(page, 'MaxRetries').waitFor();
    assert.match(await page.locator('#app h1').innerText(), /Stage Values: Orders/);
    assert.equal(await stageLabel(page), 'Production');
    assert.match(await page.locator('.topbar .who').innerText(), /olivia \(operator\)/);

    await valueInput(page, 'MaxRetries').fill('7');
    await row(page, 'PaymentApiKey').getByRole('button', { name: 'Set PaymentApiKey' }).click();
    await row(page, 'PaymentApiKey').locator('[data-role=secret-input]').fill(secret);
    await page.locator('#save').click();
    await page.locator('#status', { hasText: 'Saved 2 changes to Production' }).waitFor();
    assert.ok(!(await everythingInPage(page)).includes(secret), 'nothing of the secret stays in the page after the save');
    assert.deepEqual(browser.problems, [], 'no CSP violation or page error');

    // Stored on the server, as typed.
    const stored = await portal.api('GET', '/apps/orders/stages/production/settings', { token: operator });
    const byName = Object.fromEntries((stored.body.settings as Array<{ name: string; value: string | null; hasValue: boolean }>).map((s) => [s.name, s]));
    assert.equal(byName.MaxRetries!.value, '7');
    assert.equal(byName.PaymentApiKey!.hasValue, true);

    // Reload: the non-secret shows its value, the secret only the mask and Replace/Clear.
    await page.reload();
    await row(page, 'MaxRetries').waitFor();
    assert.equal(await valueInput(page, 'MaxRetries').inputValue(), '7');
    const secretRow = row(page, 'PaymentApiKey');
    assert.equal(await secretRow.locator('.mask').innerText(), '*****');
    assert.equal(await secretRow.getByRole('button', { name: 'Replace PaymentApiKey' }).isVisible(), true);
    await secretRow.getByRole('button', { name: 'Replace PaymentApiKey' }).click();
    assert.equal(await secretRow.locator('[data-role=secret-input]').inputValue(), '', 'write-only: never prefilled');
    assert.ok(!(await everythingInPage(page)).includes(secret));
    assert.ok(!(await everythingInPage(page)).includes(operator), 'the token is nowhere in the page');

    // Sign out; Back loads the page afresh (no-store), which has nothing to show but sign-in.
    await secretRow.getByRole('button', { name: 'Cancel the new value of PaymentApiKey' }).click();
    await page.locator('#sign-out').click();
    await page.waitForURL(/\/signin\?signedOut=1/);
    await page.goBack();
    await page.waitForURL(/\/signin\?next=%2Fapps%2Forders/);
    assert.equal(await pageName(page), 'signin');
    const after = await everythingInPage(page);
    assert.ok(!after.includes('MaxRetries') && !after.includes('*****'), 'Back shows nothing of the values');
    const api = await page.evaluate(async () => (await fetch('/api/v1/apps/orders/stages/production/settings')).status);
    assert.equal(api, 401, 'the browser holds no way to read the values any more');
    assert.deepEqual(browser.problems, []);
  });

  test('developer scoped to development: a deep link to production is a 403 page, not an empty editor', async () => {
    const { portal, developer } = world;
    const page = await browser.page();
    await signInWith(page, portal.url, developer, '/apps/orders/stages/production');
    assert.equal(page.url(), `${portal.url}/apps/orders/stages/production`);
    assert.equal(await pageName(page), 'forbidden');
    assert.match(await page.locator('main h1').innerText(), /Not allowed \(403\)/);
    assert.match(await page.locator('main [role=alert]').innerText(), /scope does not include the stage "production"/);
    assert.equal(await page.locator('.rows').count(), 0, 'no editor');
    // The server says so too: the page's own status is 403.
    const res = await page.goto(`${portal.url}/apps/orders/stages/production`);
    assert.equal(res?.status(), 403);
    await pageName(page);
    assert.deepEqual(await seriousViolations(page, browser.problems), []);

    // Their own stage opens the editor; keyboard only: Tab reaches the first value field.
    await page.goto(`${portal.url}/apps/orders/stages/development`);
    await row(page, 'MaxRetries').waitFor();
    assert.equal(await stageLabel(page), 'Development');
    await page.locator('#sign-out').click();
    await page.waitForURL(/signedOut/);
    assert.deepEqual(browser.problems, []);
  });
  test('keyboard only: sign in, open an app from the list, change a value, save with Ctrl+S, sign out', async () => {
    const { portal, operator } = world;
    const page = await browser.page();
    await page.goto(`${portal.url}/signin`);
    await page.locator('#token').waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'token', 'the token field has the focus');
    await page.keyboard.type(operator);
    await page.keyboard.press('Enter');
    await page.waitForURL(`${portal.url}/apps`);
    await page.locator('#apps').waitFor();
    // Tab until the app's link has the focus, then follow it.
    for (let i = 0; i < 12 && (await page.evaluate(() => document.activeElement?.textContent)) !== 'Orders'; i++) await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Orders');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${portal.url}/apps/orders`);
    await row(page, 'Greeting').waitFor();
    for (let i = 0; i < 40 && (await page.evaluate(() => document.activeElement?.closest('[data-setting]')?.getAttribute('data-setting'))) !== 'Greeting'; i++) await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-role')), 'value', 'Tab reaches the value field');
    await page.keyboard.type('hello from the keyboard');
    await page.keyboard.press('Control+s');
    await page.locator('#status', { hasText: 'Saved 1 change to Production' }).waitFor();
    for (let i = 0; i < 80 && (await page.evaluate(() => document.activeElement?.id)) !== 'sign-out'; i++) await page.keyboard.press('Shift+Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'sign-out', 'Shift+Tab reaches Sign out');
    await page.keyboard.press('Enter');
    await page.waitForURL(/signedOut/);
    assert.deepEqual(browser.problems, []);
  });
});
