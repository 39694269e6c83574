// The real workbench on a workspace holding the orders fixture, with the extension installed:
// the set-up the tree and publish UI tests share.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { ROOT, tempDir } from '../support/portal';
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
