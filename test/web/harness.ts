// The portal's web UI in real Chromium (playwright-core, Debian's /usr/bin/chromium) against the
// real server (`odc-portal serve`, the built bundle) on a loopback port, with the built page
// (dist/portal). Each browser gets a fresh profile directory that the test owns, so the canary
// hunt can read it after the browser has closed.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { ROOT, SAMPLE_DEFINITIONS, startPortal, type Portal } from '../support/portal';

let portalBuilt = false;
/** Builds dist/portal once per test process (the server serves it from there). */
export function ensurePortalBuilt(): void {
  if (portalBuilt) return;
  execFileSync(process.execPath, [path.join(ROOT, 'scripts/build.mjs'), 'portal'], { cwd: ROOT, stdio: 'ignore' });
  portalBuilt = true;
}

export interface Browser {
  context: BrowserContext;
  profileDir: string;
  /** CSP violations, page errors and failed requests' console messages, from every page. */
  problems: string[];
  page(): Promise<Page>;
  close(): Promise<void>;
}

/** Launches Chromium with the project's flags and a fresh profile directory (kept until `removeProfile`). */
export async function launch(opts: { colorScheme?: 'light' | 'dark'; viewport?: { width: number; height: number } } = {}): Promise<Browser> {
  const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'odc-web-chromium-'));
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    env: { ...process.env, XDG_CONFIG_HOME: path.join(profileDir, 'xdg-config'), XDG_CACHE_HOME: path.join(profileDir, 'xdg-cache') },
    viewport: opts.viewport ?? { width: 1280, height: 800 },
    colorScheme: opts.colorScheme ?? 'light',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  // tsx compiles with esbuild's keepNames, which wraps named functions in __name(); functions
  // serialized into the page (page.evaluate) need that helper there.
  await context.addInitScript({ content: 'window.__name = (f) => f;' });
  const problems: string[] = [];
  const watch = (p: Page) => {
    p.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    p.on('console', (m) => {
      if (/Content.Security.Policy|Refused to/i.test(m.text())) problems.push(`console: ${m.text()}`);
    });
  };
  context.on('page', watch);
  context.pages().forEach(watch);
  return {
    context,
    profileDir,
    problems,
    async page() {
      const existing = context.pages().find((p) => p.url() === 'about:blank');
      return existing ?? (await context.newPage());
    },
    async close() {
      await context.close();
    },
  };
}

export function removeProfile(b: Browser): void {
  fs.rmSync(b.profileDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
}

export interface World {
  portal: Portal;
  operator: string;
  developer: string;
}

/** A portal with the orders app published and two people: an operator on production, a developer on development. */
export async function startWorld(): Promise<World> {
  ensurePortalBuilt();
  const portal = await startPortal();
  const pub = await portal.api('POST', '/apps/orders/publish', { body: { definitions: SAMPLE_DEFINITIONS } });
  if (pub.status !== 200) throw new Error(`publish failed: ${pub.status} ${pub.text}`);
  const make = async (name: string, role: string, stages: string[]) => {
    const res = await portal.api<{ token: string }>('POST', '/tokens', { body: { name, role, apps: ['orders'], stages } });
    if (res.status !== 201) throw new Error(`token ${name}: ${res.status} ${res.text}`);
    return res.body.token;
  };
  return { portal, operator: await make('olivia (operator)', 'operator', ['production']), developer: await make('dev (developer)', 'developer', ['development']) };
}

/** Signs in through the sign-in page, as a person would, and waits for the page it lands on. */
export async function signInWith(page: Page, portalUrl: string, token: string, next?: string): Promise<void> {
  await page.goto(`${portalUrl}/signin${next ? `?next=${encodeURIComponent(next)}` : ''}`);
  await page.locator('#token').fill(token);
  await page.locator('#token').press('Enter');
  await page.waitForURL((u) => !u.pathname.startsWith('/signin'));
  await page.locator('main[data-page]').waitFor();
}

/** Waits for the page script to have rendered a page (main carries its name). */
export async function pageName(page: Page): Promise<string> {
  await page.locator('main[data-page]').waitFor();
  return (await page.locator('main').getAttribute('data-page')) ?? '';
}

const AXE = fs.readFileSync(path.join(ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  nodes: string[];
}

/**
 * axe-core's serious and critical violations on the page. The script goes in through the
 * DevTools protocol, not a <script> tag (the page's CSP refuses those); the CSP reports axe's own
 * inline styles cause while it measures are dropped from `problems`.
 */
export async function seriousViolations(page: Page, problems: string[]): Promise<AxeViolation[]> {
  const before = problems.length;
  if (!(await page.evaluate(() => typeof (window as unknown as { axe?: unknown }).axe === 'object'))) await page.evaluate(AXE + '\n;0');
  const found = (await page.evaluate(
    `axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ') + ': ' + (n.failureSummary || '').replace(/\\s+/g, ' ').slice(0, 200)) })))`,
  )) as AxeViolation[];
  const added = problems.splice(before);
  problems.push(...added.filter((p) => !/Applying inline style violates the following Content Security Policy directive 'style-src/.test(p)));
  return found.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** Everything the page holds that a value could hide in: light DOM, open shadow roots, inputs' values. */
export async function everythingInPage(page: Page): Promise<string> {
  return (await page.evaluate(`(() => {
    const parts = [document.documentElement.outerHTML];
    const walk = (root) => {
      for (const el of Array.from(root.querySelectorAll('*'))) {
        if (el.shadowRoot) { parts.push(el.shadowRoot.innerHTML); walk(el.shadowRoot); }
        if (typeof el.value === 'string') parts.push(el.value);
      }
    };
    walk(document);
    return parts.join('\\n');
  })()`)) as string;
}

export { ROOT };
