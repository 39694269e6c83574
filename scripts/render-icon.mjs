import { chromium } from 'playwright-core';
const [svg, out] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
const page = await browser.newPage({ viewport: { width: 128, height: 128 } });
await page.goto('file://' + svg);
await page.screenshot({ path: out, omitBackground: true });
await browser.close();
