// Issue 14 item 10, the editor's side: Publish App's "Set the N new secrets…" opens Stage Values
// showing only those settings. The real webview bundle in Chromium, the real host side
// (StageValuesController + PortalClient, opened with the names as the command passes them) and
// a real portal. The filter says what it is, survives a change of stage, and "Show all
// settings" lifts it; a panel already open is filtered by the host's showStage.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { removeDir, startPortal, type Portal } from '../support/portal';
import { publishApp } from '../support/values';
import { bridgeToController } from './realHost';
import { openWebview, shutdown } from './standin';

let portal: Portal;
before(async () => {
  portal = await startPortal();
  await publishApp(portal, 'orders', [
    { name: 'PaymentApiKey', type: 'Text', isSecret: true },
    { name: 'MaxRetries', type: 'Integer', defaultValue: '3' },
    { name: 'SigningCert', type: 'Text', isSecret: true },
    { name: 'Greeting', type: 'Text', defaultValue: 'hello' },
  ]);
});
after(async () => {
  await shutdown();
  await portal?.stop();
  if (portal) removeDir(portal.dataDir);
});

const shownRows = (page: Page) => page.locator('.rows [data-setting]').evaluateAll((els) => els.map((e) => e.getAttribute('data-setting')));

test('opened for the new secrets, Stage Values shows only them, says so, keeps it across stages; "Show all settings" lifts it', async () => {
  const s = await openWebview({ setup: (host) => bridgeToController(host, { appKey: 'orders', serverUrl: portal.url, token: portal.adminToken, initialSettings: ['PaymentApiKey', 'SigningCert'] }) });
  try {
    const { page } = s;
    await page.locator('.rows [data-setting="PaymentApiKey"]').waitFor();
    await page.waitForFunction(() => document.querySelectorAll('.rows [data-setting]').length === 2);
    assert.deepEqual(await shownRows(page), ['PaymentApiKey', 'SigningCert']);
    assert.equal((await page.locator('#only-note').innerText()).trim(), 'Only the 2 new secrets: PaymentApiKey, SigningCert Show all settings');
    assert.equal((await page.locator('#filter-count').innerText()).trim(), '2 of 4 settings');
    // Both are missing in every stage: the user sets them stage after stage, still filtered.
    assert.match(await page.locator('.rows [data-setting="PaymentApiKey"]').innerText(), /missing/i);
    await page.evaluate(() => {
      const select = document.querySelector('#stage-select') as HTMLElement & { value: string };
      select.value = 'production';
      select.dispatchEvent(new Event('change'));
    });
    await page.locator('#revision').waitFor();
    await page.waitForFunction(() => (document.querySelector('#stage-select') as HTMLElement & { value: string }).value === 'production');
    await page.waitForFunction(() => document.querySelectorAll('.rows [data-setting]').length === 2);
    assert.deepEqual(await shownRows(page), ['PaymentApiKey', 'SigningCert']);

    await page.locator('#only-clear').click();
    await page.waitForFunction(() => document.querySelectorAll('.rows [data-setting]').length === 4);
    assert.deepEqual(await shownRows(page), ['PaymentApiKey', 'MaxRetries', 'SigningCert', 'Greeting']);
    assert.equal(await page.locator('#only-note').isVisible(), false);

    // The panel already open, the command is run again (another publish): the host's showStage filters it.
    await s.host.notify('host/showStage', { stage: 'development', settings: ['SigningCert'] });
    await page.waitForFunction(() => document.querySelectorAll('.rows [data-setting]').length === 1);
    assert.deepEqual(await shownRows(page), ['SigningCert']);
    assert.match(await page.locator('#only-note').innerText(), /Only the new secret: SigningCert/);

    // A reload (sign-in, publish) keeps the user's filter instead of re-applying the first one.
    await s.host.notify('host/refresh', { reason: 'published' });
    await page.locator('#only-clear').click();
    await s.host.notify('host/refresh', { reason: 'published' });
    await page.waitForFunction(() => document.querySelectorAll('.rows [data-setting]').length === 4);
    assert.equal(await page.locator('#only-note').isVisible(), false);
  } finally {
    await s.close();
  }
  assert.deepEqual(s.problems, [], 'no CSP violation or page error');
  assert.deepEqual(s.host.invalid, []);
});
