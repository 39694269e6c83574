// Issue 14 item 9: the Coverage tab's "due" and "same as QA" states, as the user sees them. The
// real webview bundle in Chromium, the real host side (StageValuesController + PortalClient)
// and a real portal: a Production secret that equals QA's and is older than its rotationDays
// shows "due" and "same as QA" in its cell (text and accessible name); a fresh, own value clears
// both after Refresh; no value reaches the page.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { newCanary, removeDir, startPortal, type Portal } from '../support/portal';
import { withStoreDb } from '../support/store';
import { publishApp, setValues } from '../support/values';
import { bridgeToController } from './realHost';
import { everythingInPage, openWebview, shutdown } from './standin';

let portal: Portal;
before(async () => {
  portal = await startPortal();
});
after(async () => {
  await shutdown();
  await portal?.stop();
  if (portal) removeDir(portal.dataDir);
});

test('coverage: a Production secret equal to QA\'s and past its rotationDays shows "due" and "same as QA"; a new value clears both', async () => {
  const app = 'orders';
  await publishApp(portal, app, [
    { name: 'PaymentApiKey', type: 'Text', isSecret: true, rotationDays: 30 },
    { name: 'SigningCert', type: 'Text', isSecret: true },
    { name: 'MaxRetries', type: 'Integer', defaultValue: '3' },
  ]);
  const shared = newCanary('SHARED');
  const own = newCanary('OWN');
  await setValues(portal, app, 'development', { PaymentApiKey: newCanary('DEV'), SigningCert: newCanary('CERT') });
  await setValues(portal, app, 'qa', { PaymentApiKey: shared, SigningCert: newCanary('CERT') });
  await setValues(portal, app, 'production', { PaymentApiKey: shared });
  // Time cannot be moved in a running server: the value's write time is moved back instead.
  const longAgo = new Date(Date.now() - 31 * 86_400_000).toISOString();
  await withStoreDb(portal.dataDir, (db) => db.run("UPDATE stage_values SET updated_at = ? WHERE app_key = ? AND name = 'PaymentApiKey' AND stage = 'production'", longAgo, app));

  const s = await openWebview({ setup: (host) => bridgeToController(host, { appKey: app, serverUrl: portal.url, token: portal.adminToken }) });
  try {
    const { page } = s;
    await page.locator('.rows [data-setting="MaxRetries"]').waitFor();
    await page.locator('vscode-tab-header[data-tab=coverage]').click();
    const cell = (name: string, stage: string) => page.locator(`table.coverage tr[data-setting="${name}"] td`).nth(['development', 'qa', 'production'].indexOf(stage));
    await cell('PaymentApiKey', 'production').locator('[data-note]').first().waitFor();

    const prod = cell('PaymentApiKey', 'production');
    assert.match(await prod.innerText(), /Set[\s\S]*due[\s\S]*same as QA/);
    assert.equal(await prod.getAttribute('data-status'), 'set');
    assert.deepEqual(await prod.locator('[data-note]').evaluateAll((els) => els.map((e) => e.getAttribute('data-note'))), ['due', 'same-as']);
    assert.equal(await prod.locator('button').getAttribute('aria-label'), 'PaymentApiKey in Production: Set, due, same as QA. Open it.');
    // QA's own value is neither due (no write time moved) nor the same as an earlier stage's.
    assert.equal(await cell('PaymentApiKey', 'qa').locator('[data-note]').count(), 0);
    assert.equal(await cell('PaymentApiKey', 'development').locator('[data-note]').count(), 0);
    // A secret missing in Production says "Missing", with no "due" or "same as".
    assert.match(await cell('SigningCert', 'production').innerText(), /Missing/);
    assert.equal(await cell('SigningCert', 'production').locator('[data-note]').count(), 0);
    assert.equal(await cell('MaxRetries', 'production').locator('[data-note]').count(), 0);
    const everything = await everythingInPage(page);
    for (const canary of [shared, own]) assert.ok(!everything.includes(canary), 'no secret value in the page');

    // Production gets its own, new value: after Refresh neither note is there.
    await setValues(portal, app, 'production', { PaymentApiKey: own });
    await page.locator('#coverage-refresh').click();
    await page.waitForFunction(() => !document.querySelector('table.coverage tr[data-setting="PaymentApiKey"] [data-note]'));
    assert.match(await cell('PaymentApiKey', 'production').innerText(), /Set/);
    assert.doesNotMatch(await cell('PaymentApiKey', 'production').innerText(), /due|same as/);
    assert.ok(!(await everythingInPage(page)).includes(own));
  } finally {
    await s.close();
  }
  assert.deepEqual(s.problems, [], 'no CSP violation or page error');
  assert.deepEqual(s.host.invalid, []);
});
