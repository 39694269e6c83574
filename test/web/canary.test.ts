// The canary hunt in the browser (SPEC §14: nothing of a secret stays in the page, the browser's
// storage or its cache after a save; the token is never kept in the browser). A person signs in,
// saves a recognisable secret through the portal's page and browses on; then the page, every
// storage API, the Cache Storage and, after the browser has closed, every file of its profile
// (the HTTP cache, session restore, cookies, preferences...) are searched for the canary in every
// encoding and for the token.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { containsCanary, filesUnder, newCanary, removeDir } from '../support/portal';
import { everythingInPage, launch, removeProfile, signInWith, startWorld, type Browser, type World } from './harness';

let world: World | undefined;
let browser: Browser | undefined;
after(async () => {
  await world?.portal.stop();
  if (world) removeDir(path.dirname(world.portal.dataDir));
  if (browser) removeProfile(browser);
});

const row = (page: Page, name: string) => page.locator(`.rows [data-setting="${name}"]`);

/** localStorage, sessionStorage, IndexedDB and Cache Storage of the page's origin, as text. */
async function browserStorage(page: Page): Promise<{ text: string; counts: Record<string, number> }> {
  return page.evaluate(async () => {
    const parts: string[] = [];
    const dump = (s: Storage) => {
      for (let i = 0; i < s.length; i++) parts.push(`${s.key(i)}=${s.getItem(s.key(i)!)}`);
      return s.length;
    };
    const local = dump(localStorage);
    const session = dump(sessionStorage);
    const dbs = await indexedDB.databases();
    for (const d of dbs) {
      parts.push(`idb:${d.name}`);
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const r = indexedDB.open(d.name!);
        r.onsuccess = () => resolve(r.result);
        r.onerror = () => reject(r.error);
      });
      for (const store of Array.from(db.objectStoreNames)) {
        const all = await new Promise<unknown[]>((resolve) => {
          const r = db.transaction(store).objectStore(store).getAll();
          r.onsuccess = () => resolve(r.result);
        });
        parts.push(JSON.stringify(all));
      }
      db.close();
    }
    const cacheNames = await caches.keys();
    for (const name of cacheNames) {
      const cache = await caches.open(name);
      for (const req of await cache.keys()) parts.push(req.url, await ((await cache.match(req))?.text() ?? Promise.resolve('')));
    }
    return { text: parts.join('\n'), counts: { localStorage: local, sessionStorage: session, indexedDB: dbs.length, cacheStorage: cacheNames.length } };
  });
}

describe('the portal in a browser: canary hunt', () => {
  test('after saving a canary secret: no trace in the DOM, storage, caches or the profile on disk; the token nowhere', async () => {
    world = await startWorld();
    const { portal, operator } = world;
    const canary = newCanary('WEBCANARY');
    browser = await launch();
    const page = await browser.page();
    await signInWith(page, portal.url, operator, '/apps/orders/stages/production');
    await row(page, 'PaymentApiKey').getByRole('button', { name: 'Set PaymentApiKey' }).click();
    await row(page, 'PaymentApiKey').locator('[data-role=secret-input]').fill(canary);
    await page.locator('#save').click();
    await page.locator('#status', { hasText: 'Saved 1 change to Production' }).waitFor();
    const saved = await portal.api('GET', '/apps/orders/stages/production/settings', { token: operator });
    assert.equal(saved.body.settings.find((s: { name: string }) => s.name === 'PaymentApiKey').hasValue, true, 'the canary was really saved');

    // Browse on: reload, the coverage tab, the apps page, back (the HTTP cache and history fill up).
    await page.reload();
    await row(page, 'PaymentApiKey').locator('.mask').waitFor();
    await page.goto(`${portal.url}/apps/orders/coverage`);
    await page.locator('#coverage table').waitFor();
    await page.goto(`${portal.url}/apps`);
    await page.locator('#apps').waitFor();
    await page.goBack();
    await page.locator('#coverage table').waitFor();

    assert.equal(containsCanary(await everythingInPage(page), canary), null, 'the DOM');
    assert.ok(!(await everythingInPage(page)).includes(operator), 'the token is not in the DOM');
    const storage = await browserStorage(page);
    assert.equal(containsCanary(storage.text, canary), null, 'storage APIs');
    assert.ok(!storage.text.includes(operator));
    assert.deepEqual(storage.counts, { localStorage: 0, sessionStorage: 0, indexedDB: 0, cacheStorage: 0 }, 'the portal stores nothing in the browser');
    const cookies = await browser.context.cookies();
    assert.deepEqual(cookies.map((c) => c.name), ['odc_session'], 'one cookie: the opaque session id');
    assert.ok(!cookies.some((c) => c.value.includes(operator.slice(5, 20))));

    // The profile on disk, after the browser has flushed and closed: every file, every encoding.
    await browser.close();
    const files = filesUnder(browser.profileDir);
    assert.ok(files.length > 20, `the profile was written (${files.length} files)`);
    assert.ok(files.some((f) => /Cache/.test(f)), 'the HTTP cache is among them');
    const hits: string[] = [];
    for (const f of files) {
      let bytes: Buffer;
      try {
        bytes = fs.readFileSync(f);
      } catch {
        continue; // a socket or a file removed while listing
      }
      const form = containsCanary(bytes, canary) ?? containsCanary(bytes.toString('utf16le'), canary);
      if (form) hits.push(`${path.relative(browser.profileDir, f)}: canary (${form.slice(0, 12)}…)`);
      if (bytes.includes(Buffer.from(operator)) || bytes.toString('utf16le').includes(operator)) hits.push(`${path.relative(browser.profileDir, f)}: the token`);
    }
    assert.deepEqual(hits, [], 'no file of the profile holds the canary or the token');
  });
});
