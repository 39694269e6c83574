// The real workbench on a workspace holding the orders fixture, with the extension installed:
// the set-up the tree and publish UI tests share.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Frame, Page } from 'playwright-core';
import { containsCanary, filesUnder, ROOT, tempDir } from '../support/portal';
// @ts-ignore: the harness is plain JavaScript (no declarations)
import * as harness from '../harness/vscode-web.mjs';

export interface FixtureWorkbench {
  /** The temp dir holding the workspace and the extensions dir (remove it afterwards). */
  work: string;
  /** The workspace's odc-app.json. */
  file: string;
  server: { url: string; folder: string; stop(): Promise<void>; log(): string };
  browser: { page: Page; close(): Promise<void> };
}

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** CI=true (or any value but 0/false), as CI services and .ci/run set it. */
export const inCI = !!process.env.CI && !['0', 'false'].includes(process.env.CI.toLowerCase());

function missingTools(): string[] {
  return [
    ...(harness.isCodeServerInstalled() ? [] : ['code-server (bash scripts/setup-code-server.sh)']),
    ...(fs.existsSync(CHROMIUM) ? [] : [`Chromium at ${CHROMIUM} (bash scripts/setup-test-deps.sh)`]),
  ];
}

/**
 * The `skip` option of a UI suite: why it cannot run here, or false. In CI the UI tests must
 * run, so there it is always false and a missing tool fails the suite (requireUiTools) instead.
 */
export function uiSkip(): string | false {
  const missing = missingTools();
  return missing.length && !inCI ? `not installed: ${missing.join(', ')}` : false;
}

/** Fails with what is missing (the first thing each UI suite's set-up does). */
export function requireUiTools(): void {
  const missing = missingTools();
  if (missing.length) throw new Error(`the UI tests cannot run${inCI ? ' (and in CI they must)' : ''}: missing ${missing.join(', ')}`);
}

/**
 * ODC: Sign In from the palette, as a user does: the portal URL, then the token in the password
 * box, then "Allow" in VS Code's consent dialog (asked the first time per portal); resolves on
 * the "Signed in" notification.
 */
export async function signInFromPalette(page: Page, portal: { url: string; adminToken: string }): Promise<void> {
  await harness.runCommandFromPalette(page, 'ODC: Sign In');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor();
  await input.fill(portal.url);
  await page.keyboard.press('Enter');
  await page.locator('.quick-input-widget input[type="password"]').waitFor({ timeout: 10_000 });
  await input.fill(portal.adminToken);
  await page.keyboard.press('Enter');
  const consent = page.locator('.monaco-dialog-box', { hasText: 'wants to sign in using ODC Portal' });
  await consent.waitFor({ timeout: 15_000 });
  await consent.locator('.monaco-button', { hasText: 'Allow' }).click();
  await harness.waitForNotification(page, `Signed in to the portal at ${portal.url}`);
}

export async function openFixtureWorkbench(prefix: string): Promise<FixtureWorkbench> {
  requireUiTools();
  execFileSync(process.execPath, [path.join(ROOT, 'scripts/build.mjs'), 'extension'], { cwd: ROOT, stdio: 'inherit' });
  const work = tempDir(prefix);
  const folder = path.join(work, 'workspace');
  fs.mkdirSync(folder);
  const file = path.join(folder, 'odc-app.json');
  fs.copyFileSync(path.join(ROOT, 'test/fixtures/orders/odc-app.json'), file);
  const extensionsDir = path.join(work, 'extensions');
  harness.installExtensionBySymlink(extensionsDir, ROOT);
  const server = await harness.startCodeServer({ folder, extensionsDir });
  const browser = await harness.launchBrowser({ viewport: { width: 1400, height: 900 } });
  await browser.page.goto(harness.workbenchUrl(server));
  await harness.waitForWorkbench(browser.page);
  return { work, file, server, browser };
}

/**
 * Which file under `dir` holds the canary in any encoding: those of containsCanary, plus
 * UTF-16 (little and big endian: Chromium's session-restore files keep form state as UTF-16)
 * and the inside of gzip files. Returns "file: form" for each hit.
 */
export function leaksUnder(dir: string, canary: string): string[] {
  const utf16le = Buffer.from(canary, 'utf16le');
  const utf16be = Buffer.from(utf16le).swap16();
  const hits: string[] = [];
  for (const file of filesUnder(dir)) {
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(file);
    } catch {
      continue; // gone meanwhile (a lock or temp file)
    }
    const bodies = [bytes];
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
      try {
        bodies.push(gunzipSync(bytes));
      } catch {
        // not a whole gzip stream
      }
    }
    for (const body of bodies) {
      const form = containsCanary(body, canary) ?? (body.includes(utf16le) ? 'UTF-16LE' : body.includes(utf16be) ? 'UTF-16BE' : null);
      if (form) hits.push(`${path.relative(dir, file)}: ${form.length > 20 ? form.slice(0, 20) + '…' : form}`);
    }
  }
  return hits;
}

/** Chromium writes its session files a little after a change: wait (bounded) until one is newer than `since`. */
export async function sessionWrittenSince(page: Page, profileDir: string, since: number): Promise<boolean> {
  const dir = path.join(profileDir, 'Default', 'Sessions');
  for (let i = 0; i < 150; i++) {
    const newer = filesUnder(dir).some((f) => {
      try {
        return fs.statSync(f).mtimeMs > since;
      } catch {
        return false;
      }
    });
    if (newer) return true;
    await page.waitForTimeout(100);
  }
  return false;
}

/** The frame that holds our webview's document (the inner #active-frame of the panel's iframe). */
export async function webviewDocument(page: Page): Promise<Frame> {
  for (let i = 0; i < 100; i++) {
    for (const f of page.frames()) {
      if (await f.locator('[data-setting]').count().catch(() => 0)) return f;
    }
    await page.waitForTimeout(100);
  }
  throw new Error('the Stage Values webview frame was not found');
}
