// Every page of the portal's web UI, in the light and the dark system preference, at desktop and
// phone (360 px) width: zero serious or critical axe-core violations, no CSP violation or page
// error, nothing wider than the screen, and focus visible from the keyboard. With
// ODC_SCREENSHOTS=1 it also writes the README's screenshots (docs/images/portal-*.png, desktop and
// a 390 px phone).
//   ODC_SCREENSHOTS=1 node_modules/.bin/tsx --test test/web/pages.test.ts
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { removeDir } from '../support/portal';
import { launch, pageName, removeProfile, ROOT, seriousViolations, signInWith, startWorld, type Browser, type World } from './harness';

const SHOTS = process.env.ODC_SCREENSHOTS === '1';
const OUT = path.join(ROOT, 'docs/images');

const DEFINITIONS = {
  app: { key: 'orders', name: 'Orders' },
  settings: [
    { name: 'PaymentApiKey', type: 'Text', description: 'Key for the payment gateway', isSecret: true },
    { name: 'SigningCert', type: 'Text', description: 'PEM certificate for signing invoices', isSecret: true },
    { name: 'MaxRetries', type: 'Integer', description: 'Retries before a payment fails', defaultValue: '3' },
    { name: 'FeatureNewCheckout', type: 'Boolean', description: 'Turns the new checkout on', defaultValue: 'False' },
    { name: 'LaunchDate', type: 'Date', description: 'Public launch' },
    { name: 'SupportEmail', type: 'Email', defaultValue: 'help@example.com' },
  ],
};

let world: World;

before(async () => {
  world = await startWorld();
  const { portal } = world;
  await portal.api('POST', '/apps/orders/publish', { body: { definitions: DEFINITIONS } });
  await portal.api('POST', '/apps/billing/publish', { body: { definitions: { app: { key: 'billing', name: 'Billing' }, settings: [{ name: 'Currency', type: 'Text', defaultValue: 'EUR' }] } } });
  const set = (stage: string, changes: Array<{ name: string; value: string }>) => portal.api('PATCH', `/apps/orders/stages/${stage}/settings`, { body: { changes: changes.map((c) => ({ ...c, baseVersion: 0 })) } });
  await set('production', [{ name: 'PaymentApiKey', value: 'not-a-real-key' }, { name: 'MaxRetries', value: '5' }]);
  await set('qa', [{ name: 'PaymentApiKey', value: 'qa-key' }, { name: 'SupportEmail', value: 'qa@example.com' }]);
});
after(async () => {
  await world?.portal.stop();
  if (world) removeDir(path.dirname(world.portal.dataDir));
});

interface PageCase {
  name: string;
  token: () => string;
  path: string;
  ready: (page: Page) => Promise<void>;
}

const CASES: PageCase[] = [
  { name: 'signin', token: () => '', path: '/signin', ready: async (p) => void (await p.locator('#token').waitFor()) },
  { name: 'apps', token: () => world.portal.adminToken, path: '/apps', ready: async (p) => void (await p.locator('#apps').waitFor()) },
  { name: 'settings', token: () => world.portal.adminToken, path: '/apps/orders/stages/production', ready: async (p) => void (await p.locator('.rows [data-setting="MaxRetries"]').waitFor()) },
  { name: 'coverage', token: () => world.portal.adminToken, path: '/apps/orders/coverage', ready: async (p) => void (await p.locator('#coverage table').waitFor()) },
  { name: 'app-audit', token: () => world.portal.adminToken, path: '/apps/orders/audit', ready: async (p) => void (await p.locator('#audit-events').waitFor()) },
  { name: 'tokens', token: () => world.portal.adminToken, path: '/tokens', ready: async (p) => void (await p.locator('#tokens').waitFor()) },
  {
    name: 'audit',
    token: () => world.portal.adminToken,
    path: '/audit',
    ready: async (p) => {
      await p.locator('#verify').click();
      await p.locator('#verify-result .ok').waitFor();
    },
  },
  { name: 'forbidden', token: () => world.developer, path: '/apps/orders/stages/production', ready: async (p) => void (await p.locator('main[data-page=forbidden]').waitFor()) },
];

for (const scheme of ['light', 'dark'] as const) {
  for (const size of [
    { label: 'desktop', viewport: { width: 1280, height: 800 } },
    { label: 'phone', viewport: { width: 360, height: 760 } },
  ]) {
    describe(`every page, ${scheme}, ${size.label} (${size.viewport.width} px)`, () => {
      let browser: Browser;
      let signedInAs = '';
      before(async () => {
        browser = await launch({ colorScheme: scheme, viewport: size.viewport });
      });
      after(async () => {
        await browser?.close();
        if (browser) removeProfile(browser);
      });

      for (const c of CASES) {
        test(`${c.name}: no serious or critical axe violation, fits the width, focus visible`, async () => {
          const page = await browser.page();
          const token = c.token();
          if (token && signedInAs !== token) {
            if (signedInAs) await browser.context.clearCookies();
            await signInWith(page, world.portal.url, token);
            signedInAs = token;
          }
          await page.goto(world.portal.url + c.path);
          await pageName(page);
          await c.ready(page);
          // The system preference picked the theme: the page background follows it.
          const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
          assert.equal(bg, scheme === 'light' ? 'rgb(255, 255, 255)' : 'rgb(31, 31, 31)');
          assert.deepEqual(await seriousViolations(page, browser.problems), [], `${c.name} (${scheme}, ${size.label})`);
          const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
          assert.ok(overflow <= 0, `${c.name} is ${overflow} px wider than the screen`);
          // Keyboard: the first Tab lands on the skip link, drawn with a visible outline.
          // A click on the top bar's empty corner moves the keyboard's starting point to the page's top.
          await page.mouse.click(1, 1);
          await page.keyboard.press('Tab');
          const focus = await page.evaluate(() => {
            const el = document.activeElement as HTMLElement;
            const s = getComputedStyle(el);
            return { text: el.textContent, outline: s.outlineStyle, width: s.outlineWidth };
          });
          assert.equal(focus.text, 'Skip to content');
          assert.notEqual(focus.outline, 'none');
          assert.notEqual(focus.width, '0px');
          assert.deepEqual(browser.problems, [], 'no CSP violation or page error');
          if (SHOTS) {
            await page.keyboard.press('Escape');
            await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
            if (size.label === 'phone') await page.setViewportSize({ width: 390, height: 844 });
            fs.mkdirSync(OUT, { recursive: true });
            await page.screenshot({ path: path.join(OUT, `portal-${c.name}-${scheme}-${size.label}.png`) });
            if (size.label === 'phone') await page.setViewportSize(size.viewport);
          }
        });
      }
    });
  }
}
