// The admin's pages in Chromium against the real server: a token created on the tokens page is
// shown once (with a copy button that really copies it) and then gone from the page; revoking
// asks first, and Cancel keeps the token; the audit page verifies the chain.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { removeDir } from '../support/portal';
import { everythingInPage, launch, removeProfile, signInWith, startWorld, type Browser, type World } from './harness';

let world: World;
let browser: Browser;
before(async () => {
  world = await startWorld();
  browser = await launch();
  await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: world.portal.url });
});
after(async () => {
  await browser?.close();
  if (browser) removeProfile(browser);
  await world?.portal.stop();
  if (world) removeDir(path.dirname(world.portal.dataDir));
});

describe('the portal in a browser: admin pages', () => {
  test('create a token: shown once with Copy; revoke asks first', async () => {
    const { portal } = world;
    const page = await browser.page();
    await signInWith(page, portal.url, portal.adminToken, '/tokens');
    await page.locator('#new-name').fill('quinn (operator, qa)');
    await page.locator('#new-role').selectOption('operator');
    await page.locator('#new-apps').fill('orders');
    await page.locator('#new-stages').fill('qa');
    await page.locator('#create').click();
    const shown = page.locator('#new-token');
    await shown.waitFor();
    const token = await shown.inputValue();
    assert.match(token, /^odcp_/);
    await page.locator('#copy-token').click();
    await page.locator('#copy-status', { hasText: 'Copied.' }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), token, 'Copy put the token on the clipboard');
    const works = await portal.api('GET', '/apps/orders/stages/qa/settings', { token });
    assert.equal(works.status, 200, 'the token shown is the one created, with its scope');
    assert.equal((await portal.api('GET', '/apps/orders/stages/production/settings', { token })).status, 403);
    await page.locator('#done-token').click();
    assert.equal(await shown.count(), 0);
    assert.ok(!(await everythingInPage(page)).includes(token), 'gone from the page after Done');
    await page.reload();
    await page.locator('#tokens').waitFor();
    assert.ok(!(await everythingInPage(page)).includes(token), 'and never shown again');

    // Revoke: a confirmation first; Cancel changes nothing.
    const revoke = page.getByRole('button', { name: 'Revoke quinn (operator, qa)' });
    await revoke.click();
    const dialog = page.locator('#confirm-revoke');
    assert.equal(await dialog.isVisible(), true);
    assert.match(await dialog.innerText(), /quinn \(operator, qa\).*stops working/s);
    await page.keyboard.press('Escape');
    assert.equal(await dialog.isVisible(), false);
    assert.equal((await portal.api('GET', '/apps/orders/stages/qa/settings', { token })).status, 200, 'Escape (cancel) kept it');
    await revoke.click();
    await page.locator('#confirm-yes').click();
    await page.locator('#tokens-status', { hasText: 'Revoked quinn' }).waitFor();
    assert.equal((await portal.api('GET', '/apps/orders/stages/qa/settings', { token })).status, 401);
    assert.match(await page.locator('tr', { hasText: 'quinn' }).innerText(), /revoked/);
    assert.deepEqual(browser.problems, []);
  });

  test('audit: the verification says the chain is intact; the app audit pages back in time', async () => {
    const { portal } = world;
    const page = await browser.page();
    for (let i = 0; i < 60; i++) await portal.api('PATCH', '/apps/orders/stages/qa/settings', { body: { changes: [{ name: 'MaxRetries', value: String(i), baseVersion: i }] } });
    await page.goto(`${portal.url}/audit`);
    await page.locator('#verify').click();
    await page.locator('#verify-result', { hasText: /The chain is (intact|broken)/ }).waitFor();
    assert.match(await page.locator('#verify-result').innerText(), /The chain is intact: \d+ events/);
    await page.goto(`${portal.url}/apps/orders/audit`);
    await page.locator('#audit-events').waitFor();
    const ids = async () => page.locator('#audit-events tbody tr').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-event'))));
    const first = await ids();
    assert.equal(first.length, 50);
    await page.locator('#older').click();
    await page.waitForURL(/before=/);
    await page.locator('#audit-events').waitFor();
    const second = await ids();
    assert.ok(second.length > 0 && Math.max(...second) < Math.min(...first), 'older events, none repeated');
    assert.ok(!(await everythingInPage(page)).match(/"value"/), 'metadata only');
  });
  test('history and compare through the page: a restore is a write with the session (CSRF token and all)', async () => {
    const { portal } = world;
    for (const [v, value] of [[0, 'hello there'], [1, 'good morning']] as const) {
      const res = await portal.api('PATCH', '/apps/orders/stages/production/settings', { body: { changes: [{ name: 'Greeting', value, baseVersion: v }] } });
      assert.equal(res.status, 200, res.text);
    }
    const page = await browser.page();
    await page.goto(`${portal.url}/apps/orders/stages/production`);
    const greeting = page.locator('.rows [data-setting="Greeting"]');
    await greeting.locator('[data-role=value]').waitFor();
    await greeting.locator('[data-action=history]').click();
    const dialog = page.locator('dialog[data-history=Greeting]');
    await dialog.locator('tr[data-version="1"]').waitFor();
    assert.match(await dialog.locator('tr[data-version="1"]').innerText(), /hello there/);
    await dialog.locator('tr[data-version="1"] [data-action=restore]').click();
    await dialog.locator('[data-action=confirm-restore]').click();
    await dialog.locator('.history-message', { hasText: 'Restored version 1.' }).waitFor();
    const now = await portal.api('GET', '/apps/orders/stages/production/settings');
    assert.equal(now.body.settings.find((x: { name: string }) => x.name === 'Greeting').value, 'hello there', 'restored on the server');
    await page.keyboard.press('Escape');
    await page.locator('vscode-tab-header[data-tab=compare]').click();
    await page.locator('table.compare-grid tr[data-setting="Greeting"]').waitFor();
    assert.deepEqual(browser.problems, []);
  });
});
