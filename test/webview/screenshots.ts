// Screenshots of the Stage Values editor for the README (docs/images/): 2,000 settings in the
// dark, light and high-contrast themes, and the narrow (640 px) layout. The real webview bundle in
// Chromium with the stand-in host, as in the tests. Not a test: run it after changing the look.
//   node_modules/.bin/tsx test/webview/screenshots.ts
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FakeStore, openWebview, ROOT, shutdown, type FakeSetting } from './standin';
import { applyTheme, type ThemeKind } from './themes';

const OUT = path.join(ROOT, 'docs/images');

function store(): FakeStore {
  const types = ['Text', 'Integer', 'Boolean', 'Date', 'Email', 'Decimal'] as const;
  const settings: FakeSetting[] = [
    { name: 'PaymentApiKey', type: 'Text', description: 'Key for the payment gateway', isSecret: true },
    { name: 'SigningCert', type: 'Text', description: 'PEM certificate for signing invoices', isSecret: true },
    { name: 'MaxRetries', type: 'Integer', description: 'Retries before a payment fails', defaultValue: '3' },
    { name: 'FeatureNewCheckout', type: 'Boolean', description: 'Turns the new checkout on', defaultValue: 'False' },
    { name: 'LaunchDate', type: 'Date', description: 'Public launch' },
    { name: 'SupportEmail', type: 'Email', defaultValue: 'help@example.com' },
    ...Array.from({ length: 1994 }, (_, i): FakeSetting => ({ name: `Setting${String(i + 1).padStart(4, '0')}`, type: types[i % types.length]!, description: `Generated setting ${i + 1}`, isSecret: i % 9 === 4, defaultValue: i % 3 === 0 ? null : i % 6 === 1 ? '7' : null })),
  ];
  const s = new FakeStore(settings);
  s.write('qa', 'PaymentApiKey', 'stored-secret', 'alice');
  s.write('qa', 'MaxRetries', '5', 'bob');
  s.write('qa', 'SupportEmail', 'qa-support@example.com', 'alice');
  for (const x of settings.slice(6).filter((_, i) => i % 2 === 0)) s.write('qa', x.name, x.isSecret ? 'x' : x.type === 'Integer' || x.type === 'Decimal' ? '12' : x.type === 'Boolean' ? 'True' : x.type === 'Date' ? '2026-01-31' : x.type === 'Email' ? 'ops@example.com' : 'some text', 'ci');
  return s;
}

async function shot(theme: ThemeKind, width: number, file: string): Promise<void> {
  const s = await openWebview({ store: store() });
  try {
    const { page } = s;
    await page.setViewportSize({ width, height: width < 800 ? 900 : 760 });
    await page.locator('.rows [data-setting="MaxRetries"]').waitFor();
    await applyTheme(page, theme);
    // A few states worth seeing: an edit, an invalid value, a secret being typed (masked).
    await page.locator('.rows [data-setting="MaxRetries"] [data-role=value]').fill('8');
    await page.locator('.rows [data-setting="LaunchDate"] [data-role=value]').fill('2026-02-30');
    await page.locator('.rows [data-setting="SigningCert"] [data-action=set]').click();
    await page.locator('.rows [data-setting="SigningCert"] [data-role=secret-input]').fill('-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----');
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.mouse.move(0, 0);
    await page.screenshot({ path: path.join(OUT, file) });
    if (s.problems.length) throw new Error(s.problems.join('\n'));
  } finally {
    await s.close();
  }
  console.log(`${file}: ${(fs.statSync(path.join(OUT, file)).size / 1024).toFixed(0)} KiB`);
}

(async () => {
  fs.mkdirSync(OUT, { recursive: true });
  await shot('dark', 1200, 'stage-values-dark.png');
  await shot('light', 1200, 'stage-values-light.png');
  await shot('high-contrast', 1200, 'stage-values-high-contrast.png');
  await shot('dark', 640, 'stage-values-narrow.png');
  await shutdown();
})().catch(async (e) => {
  console.error(e);
  await shutdown();
  process.exit(1);
});
