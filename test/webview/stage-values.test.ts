// The Stage Values webview bundle in Chromium, against a stand-in extension host (standin.ts):
// the real dist/webview/main.js, in the panel's HTML under its CSP, talking the real protocol.
// Assertions read what a user sees: the dropdown's displayed label, visible text and markers,
// the values in the fields; and what the host receives (the exact bytes a save carries).
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, describe, test } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import type { ValueEdit } from '../../common/protocol';
import { everythingInPage, FakeStore, openWebview, shutdown, type FakeSetting, type Session } from './standin';
import { applyTheme, seriousAxeViolations, type ThemeKind } from './themes';

after(shutdown);

const row = (page: Page, name: string) => page.locator(`.rows [data-setting="${name}"]`);
const valueInput = (page: Page, name: string) => row(page, name).locator('[data-role=value]');
const secretInput = (page: Page, name: string) => row(page, name).locator('[data-role=secret-input]');
const message = (page: Page, name: string) => row(page, name).locator('[data-role=message]');
const marker = (page: Page, name: string) => row(page, name).locator('[data-role=marker]');
const saveButton = (page: Page) => page.locator('#save');
const isDisabled = (l: Locator) => l.evaluate((b) => (b as HTMLElement & { disabled: boolean }).disabled);
/** What the stage dropdown displays (vscode-single-select draws its label in its shadow DOM). */
const stageLabel = (page: Page) => page.locator('#stage-select .select-face .text').innerText();
const visibleRowNames = (page: Page) => page.locator('.rows [data-setting]:not([hidden])').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-setting')));

/** Polls a condition of the test process (what the host received) until it holds. */
async function until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function ready(s: Session): Promise<void> {
  await row(s.page, 'MaxRetries').waitFor();
}

async function withPanel(fn: (s: Session) => Promise<void>, opts: Parameters<typeof openWebview>[0] = {}): Promise<void> {
  const s = await openWebview(opts);
  try {
    await ready(s);
    await fn(s);
  } finally {
    await s.close();
  }
  assert.deepEqual(s.problems, [], 'no CSP violation or page error');
  assert.deepEqual(s.host.invalid, [], 'every message the webview sent matched the protocol');
}

async function pickStage(page: Page, name: string): Promise<void> {
  await page.locator('#stage-select').click();
  await page.locator('#stage-select li[role=option]', { hasText: name }).click();
}

/** A real PEM (an EC private key), newlines and all. */
function realPem(): string {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** Exactly 48 KiB of UTF-8 with newlines, tabs, two- and four-byte characters and trailing spaces. */
function value48KiB(): string {
  const line = 'line with é, 😀, a\ttab and trailing spaces   \n';
  let s = '';
  while (Buffer.byteLength(s + line) <= 48 * 1024) s += line;
  while (Buffer.byteLength(s) < 48 * 1024) s += 'x';
  assert.equal(Buffer.byteLength(s), 48 * 1024);
  return s;
}

describe('Stage Values webview (Chromium, stand-in host)', () => {
  test('handshake: ready, then one init that carries the first stage; the table shows what the host sent', async () => {
    await withPanel(async ({ page, host }) => {
      const first = host.received[0];
      assert.ok(first && first.kind === 'notification' && first.method === 'webview/ready', 'the first message is webview/ready');
      assert.deepEqual(host.requests('panel/init'), [{}]);
      assert.deepEqual(host.requests('stage/load'), [], 'the first stage came with the init answer: no second round trip');
      assert.match(await page.locator('h1').innerText(), /Stage Values: Orders/);
      assert.equal(await stageLabel(page), 'QA');
      assert.deepEqual(await visibleRowNames(page), ['PaymentApiKey', 'SigningCert', 'MaxRetries', 'Greeting', 'LaunchDate']);
      // Secret with no value: a visible "Missing" marker, a Set action named for its setting, no input.
      const secret = row(page, 'PaymentApiKey');
      assert.match(await secret.locator('[data-role=missing]').innerText(), /Missing/);
      assert.equal(await secret.locator('[data-role=missing] .codicon-warning').isVisible(), true);
      assert.match(await secret.locator('.secret-badge').innerText(), /Secret/);
      assert.equal(await secretInput(page, 'PaymentApiKey').isVisible(), false);
      assert.equal(await secret.getByRole('button', { name: 'Set PaymentApiKey' }).isVisible(), true);
      assert.equal(await secret.locator('.setting-name').getAttribute('title'), 'Key for the payment gateway', 'description as tooltip');
      // Non-secret without a stage value: the default shown.
      assert.equal(await valueInput(page, 'MaxRetries').inputValue(), '');
      assert.equal(await valueInput(page, 'MaxRetries').getAttribute('placeholder'), '3 (default)');
      assert.match(await message(page, 'MaxRetries').innerText(), /default applies/);
      assert.equal(await row(page, 'MaxRetries').locator('[data-role=default]').innerText(), '3');
      assert.equal(await marker(page, 'MaxRetries').count(), 0, 'no edit marker yet');
      assert.equal(await isDisabled(saveButton(page)), true, 'nothing to save yet');
    });
  });

  test('validation as you type, per type (common/values.ts), shown in words', async () => {
    await withPanel(async ({ page }) => {
      const retries = valueInput(page, 'MaxRetries');
      await retries.pressSequentially('12x');
      assert.match(await message(page, 'MaxRetries').innerText(), /Must be a whole number/);
      assert.equal((await marker(page, 'MaxRetries').innerText()).trim(), 'Invalid');
      assert.equal(await retries.getAttribute('aria-invalid'), 'true');
      assert.equal(await isDisabled(saveButton(page)), true, 'an invalid edit blocks the save');
      assert.match((await saveButton(page).getAttribute('title')) ?? '', /Fix 1 invalid value/);
      await retries.press('Backspace');
      assert.equal(await message(page, 'MaxRetries').innerText(), '');
      assert.equal((await marker(page, 'MaxRetries').innerText()).trim(), 'Edited');
      assert.equal(await isDisabled(saveButton(page)), false);
      assert.equal((await saveButton(page).innerText()).trim(), 'Save 1 change');

      await valueInput(page, 'LaunchDate').fill('2025-02-30');
      assert.match(await message(page, 'LaunchDate').innerText(), /Must be a calendar date/);
      await valueInput(page, 'LaunchDate').fill('2025-02-28');
      assert.equal(await message(page, 'LaunchDate').innerText(), '');

      // Secrets are checked too (48 KiB), and the message never quotes the value.
      await row(page, 'SigningCert').getByRole('button', { name: 'Set SigningCert' }).click();
      const big = 'Z'.repeat(48 * 1024 + 1);
      await secretInput(page, 'SigningCert').fill(big);
      const msg = await message(page, 'SigningCert').innerText();
      assert.match(msg, /at most 49152 bytes/);
      assert.ok(!msg.includes('ZZZZ'));
      assert.equal(await isDisabled(saveButton(page)), true);
    });
  });

  test('dirty tracking: a visible Edited marker; typing back the original is no edit; Undo, Reset, Discard; per-stage edits survive switching', async () => {
    await withPanel(
      async ({ page, host }) => {
        const greeting = valueInput(page, 'Greeting');
        assert.equal(await greeting.inputValue(), 'hi', 'the stage value is shown');
        await greeting.fill('hi there');
        assert.equal(await marker(page, 'Greeting').isVisible(), true);
        assert.equal((await marker(page, 'Greeting').innerText()).trim(), 'Edited');
        assert.equal((await saveButton(page).innerText()).trim(), 'Save 1 change');
        await greeting.fill('hi');
        assert.equal(await marker(page, 'Greeting').count(), 0, 'back to the stored value: not dirty');
        assert.equal(await isDisabled(saveButton(page)), true);

        // Reset to default clears the stage value (sent as null on save).
        await row(page, 'Greeting').getByRole('button', { name: 'Reset Greeting to the default' }).click();
        assert.equal(await greeting.inputValue(), '');
        assert.match(await message(page, 'Greeting').innerText(), /Resets to the default on save/);
        await row(page, 'Greeting').getByRole('button', { name: 'Undo the edit of Greeting' }).click();
        assert.equal(await greeting.inputValue(), 'hi');
        assert.equal(await marker(page, 'Greeting').count(), 0);

        await valueInput(page, 'MaxRetries').fill('7');
        await row(page, 'PaymentApiKey').getByRole('button', { name: 'Set PaymentApiKey' }).click();
        await secretInput(page, 'PaymentApiKey').fill('typed-secret-1');
        assert.equal((await saveButton(page).innerText()).trim(), 'Save 2 changes');

        // Another stage has its own edits; coming back, QA's are all still there.
        await pickStage(page, 'Production');
        await page.locator('#status', { hasText: 'Production:' }).waitFor();
        assert.equal(await stageLabel(page), 'Production');
        assert.equal(await valueInput(page, 'MaxRetries').inputValue(), '');
        assert.match(await page.locator('#other-stages').innerText(), /Unsaved in QA \(2\)/);
        await valueInput(page, 'MaxRetries').fill('9');
        await pickStage(page, 'QA');
        assert.equal(await stageLabel(page), 'QA');
        assert.equal(await valueInput(page, 'MaxRetries').inputValue(), '7');
        assert.equal(await secretInput(page, 'PaymentApiKey').inputValue(), 'typed-secret-1');
        assert.match(await page.locator('#other-stages').innerText(), /Production \(1\)/);
        assert.equal((host.notifications('webview/dirty').at(-1) as { count: number }).count, 3);

        await page.locator('#discard').click();
        // Discard asks first (through the host; the stand-in answers yes), then drops QA's edits.
        await page.waitForFunction(() => (document.querySelector('#discard') as HTMLElement & { disabled?: boolean } | null)?.disabled === true);
        assert.deepEqual(host.requests('panel/confirmDiscard'), [{ stage: 'QA', count: 2 }]);
        assert.equal(await valueInput(page, 'MaxRetries').inputValue(), '');
        assert.equal(await secretInput(page, 'PaymentApiKey').isVisible(), false, 'the secret field is closed');
        assert.equal(await isDisabled(saveButton(page)), true);
        assert.equal((host.notifications('webview/dirty').at(-1) as { count: number }).count, 1, 'Production keeps its edit');
        assert.equal(host.requests('stage/save').length, 0);
      },
      { setup: (h) => h.store.write('qa', 'Greeting', 'hi') },
    );
  });

  test('host/refresh keeps the stage the user picked: the dropdown displays it, the table, the status line and the save all go to it', async () => {
    await withPanel(async ({ page, host }) => {
      host.store.write('production', 'Greeting', 'prod-greeting');
      await pickStage(page, 'Production');
      await page.locator('#status', { hasText: 'Production:' }).waitFor();
      await host.notify('host/refresh', { reason: 'published' });
      await until(() => host.requests('panel/init').length === 2, 'the refresh asked for init again');
      // aria-busy is set before the init request goes out and removed when it has been applied.
      await page.waitForFunction(() => !document.querySelector('#app')?.hasAttribute('aria-busy'));
      assert.equal(host.requests('panel/init').length, 2);
      assert.equal(await stageLabel(page), 'Production', 'the dropdown displays the stage shown');
      assert.equal(await valueInput(page, 'Greeting').inputValue(), 'prod-greeting', "the table shows Production's values");
      await valueInput(page, 'MaxRetries').fill('11');
      assert.match((await saveButton(page).getAttribute('title')) ?? '', /in Production/);
      await saveButton(page).click();
      await page.locator('#status', { hasText: 'Saved 1 change to Production' }).waitFor();
      assert.equal(host.requests('stage/save')[0]!.stage, 'production');
      assert.equal(await stageLabel(page), 'Production');
    });
  });

  test('a real PEM and a 48 KiB value reach the save byte for byte, typed into a masked multi-line field; "Show what I typed" is off by default', async () => {
    const pem = realPem();
    const big = value48KiB();
    const multiLineText = 'first line\n  second line\n\nlast';
    await withPanel(async ({ page, host }) => {
      await row(page, 'SigningCert').getByRole('button', { name: 'Set SigningCert' }).click();
      const field = secretInput(page, 'SigningCert');
      assert.equal(await field.evaluate((e) => e.tagName), 'TEXTAREA', 'a multi-line field');
      assert.equal(await field.getAttribute('autocomplete'), 'off', 'no form-state persistence');
      assert.equal(await field.evaluate((e) => getComputedStyle(e).getPropertyValue('-webkit-text-security')), 'disc', 'masked');
      const show = row(page, 'SigningCert').getByRole('button', { name: 'Show what I typed for SigningCert' });
      assert.equal(await show.getAttribute('aria-pressed'), 'false', 'off by default');
      // Pasted as the browser would paste it (one insertion, newlines included).
      await field.focus();
      await page.keyboard.insertText(pem);
      assert.equal(await field.inputValue(), pem);
      await show.click();
      assert.equal(await field.evaluate((e) => getComputedStyle(e).getPropertyValue('-webkit-text-security')), 'none', 'shown on request');
      assert.equal(await row(page, 'SigningCert').getByRole('button', { name: 'Hide what I typed for SigningCert' }).getAttribute('aria-pressed'), 'true');

      await row(page, 'PaymentApiKey').getByRole('button', { name: 'Set PaymentApiKey' }).click();
      await secretInput(page, 'PaymentApiKey').fill(big);
      await valueInput(page, 'Greeting').fill(multiLineText);
      assert.equal(await isDisabled(saveButton(page)), false, '48 KiB exactly is allowed');
      await saveButton(page).click();
      await page.locator('#status', { hasText: 'Saved 3 changes to QA' }).waitFor();
      const changes = Object.fromEntries(host.requests('stage/save')[0]!.changes.map((c: ValueEdit) => [c.name, c.value]));
      assert.ok(changes.SigningCert === pem, 'the PEM arrives with every newline');
      assert.ok(Buffer.from(changes.PaymentApiKey ?? '').equals(Buffer.from(big)), 'the 48 KiB value arrives byte for byte');
      assert.equal(changes.Greeting, multiLineText, 'a non-secret Text keeps its newlines too');
      assert.equal(await valueInput(page, 'Greeting').inputValue(), multiLineText);
      const all = await everythingInPage(page);
      assert.ok(!all.includes(pem.split('\n')[1]!) && !all.includes('trailing spaces'), 'nothing typed into a secret remains in the page');
      // Reopened: empty and masked again.
      await row(page, 'SigningCert').getByRole('button', { name: 'Replace SigningCert' }).click();
      assert.equal(await secretInput(page, 'SigningCert').inputValue(), '');
      assert.equal(await row(page, 'SigningCert').getByRole('button', { name: 'Show what I typed for SigningCert' }).getAttribute('aria-pressed'), 'false');
    });
  });

  test('one save carries every edit (with its base version); after it the secret shows ***** and nothing typed remains', async () => {
    const canary = `canary-${Math.random().toString(36).slice(2)}-secret`;
    await withPanel(
      async ({ page, host }) => {
        await valueInput(page, 'MaxRetries').fill('5');
        await row(page, 'Greeting').getByRole('button', { name: 'Reset Greeting to the default' }).click();
        await row(page, 'PaymentApiKey').getByRole('button', { name: 'Set PaymentApiKey' }).click();
        assert.equal(await secretInput(page, 'PaymentApiKey').inputValue(), '', 'never prefilled');
        await secretInput(page, 'PaymentApiKey').fill(canary);
        assert.match(await row(page, 'PaymentApiKey').locator('[data-role=secret-state]').innerText(), /Set on save/);
        await saveButton(page).click();
        await page.locator('#status', { hasText: 'Saved 3 changes to QA' }).waitFor();

        const saves = host.requests('stage/save');
        assert.equal(saves.length, 1, 'one save request');
        const byName = Object.fromEntries(saves[0]!.changes.map((c: ValueEdit) => [c.name, c]));
        assert.equal(saves[0]!.stage, 'qa');
        assert.deepEqual(byName.MaxRetries, { name: 'MaxRetries', value: '5', baseVersion: 0 });
        assert.deepEqual(byName.Greeting, { name: 'Greeting', value: null, baseVersion: 1 });
        assert.deepEqual(byName.PaymentApiKey, { name: 'PaymentApiKey', value: canary, baseVersion: 0 });
        assert.equal(saves[0]!.changes.length, 3);

        const secret = row(page, 'PaymentApiKey');
        assert.equal(await secret.locator('.mask').innerText(), '*****');
        assert.equal(await secretInput(page, 'PaymentApiKey').isVisible(), false, 'the field is closed');
        assert.equal(await secret.getByRole('button', { name: 'Replace PaymentApiKey' }).isVisible(), true);
        assert.equal(await secret.getByRole('button', { name: 'Clear PaymentApiKey' }).isVisible(), true);
        assert.equal(await valueInput(page, 'MaxRetries').inputValue(), '5');
        assert.equal(await isDisabled(saveButton(page)), true);
        const all = await everythingInPage(page);
        assert.ok(!all.includes(canary), 'the page holds no trace of the secret after the save');

        // Replace opens an empty field again; Clear is queued and sent as null.
        await secret.getByRole('button', { name: 'Replace PaymentApiKey' }).click();
        assert.equal(await secretInput(page, 'PaymentApiKey').inputValue(), '');
        await secret.getByRole('button', { name: 'Cancel the new value of PaymentApiKey' }).click();
        await secret.getByRole('button', { name: 'Clear PaymentApiKey' }).click();
        assert.match(await secret.locator('[data-role=secret-state]').innerText(), /Cleared on save/);
        await saveButton(page).click();
        await secret.locator('[data-role=missing]').waitFor();
        assert.deepEqual(host.requests('stage/save')[1]!.changes, [{ name: 'PaymentApiKey', value: null, baseVersion: 1 }]);
      },
      { setup: (h) => h.store.write('qa', 'Greeting', 'hi') },
    );
  });

  test('409: the conflicting settings are reloaded with the new values and marked in words; the other edits (secret included) stay', async () => {
    await withPanel(async ({ page, host }) => {
      await valueInput(page, 'MaxRetries').fill('5');
      await valueInput(page, 'Greeting').fill('mine');
      await row(page, 'PaymentApiKey').getByRole('button', { name: 'Set PaymentApiKey' }).click();
      await secretInput(page, 'PaymentApiKey').fill('kept-secret-value');
      host.store.write('qa', 'Greeting', 'theirs', 'alice');
      await saveButton(page).click();
      await page.locator('#error', { hasText: 'Nothing was saved' }).waitFor();

      assert.equal(host.requests('stage/save').length, 1);
      assert.equal(await valueInput(page, 'Greeting').inputValue(), 'theirs', 'the conflicted row shows the new value');
      assert.equal((await marker(page, 'Greeting').innerText()).trim(), 'Conflict');
      assert.match(await message(page, 'Greeting').innerText(), /Someone else changed this/);
      assert.match(await row(page, 'Greeting').locator('[data-role=changed]').innerText(), /alice/);
      assert.equal(await valueInput(page, 'MaxRetries').inputValue(), '5', 'other edit kept');
      assert.equal(await secretInput(page, 'PaymentApiKey').inputValue(), 'kept-secret-value', 'typed secret kept');
      assert.match(await page.locator('#error').innerText(), /Greeting was reloaded.*your 2 other edits are kept/s);
      assert.equal((await saveButton(page).innerText()).trim(), 'Save 2 changes');

      await saveButton(page).click();
      await page.locator('#status', { hasText: 'Saved 2 changes' }).waitFor();
      const second = host.requests('stage/save')[1]!.changes.map((c: ValueEdit) => c.name).sort();
      assert.deepEqual(second, ['MaxRetries', 'PaymentApiKey']);
      assert.equal(await page.locator('#error').isVisible(), false);
      assert.equal(await valueInput(page, 'Greeting').inputValue(), 'theirs');
    });
  });

  test('server down or refusing: every edit stays (secret field included), the error is shown with its fix, a retry saves', async () => {
    await withPanel(async ({ page, host }) => {
      await valueInput(page, 'MaxRetries').fill('8');
      await valueInput(page, 'LaunchDate').fill('2026-01-31');
      await row(page, 'SigningCert').getByRole('button', { name: 'Set SigningCert' }).click();
      await secretInput(page, 'SigningCert').fill('-----BEGIN CERT-----\nAAA\n-----END CERT-----');
      host.on('stage/save', () => ({ error: { code: 'unreachable', message: 'Cannot reach the portal at http://127.0.0.1:4650 (ECONNREFUSED).' } }));
      await saveButton(page).click();
      await page.locator('#error', { hasText: 'ECONNREFUSED' }).waitFor();
      assert.match(await page.locator('#error').innerText(), /Not saved: Cannot reach the portal.*Your edits are kept/s);
      assert.equal(await page.locator('#error').getByRole('button', { name: 'Open Settings' }).isVisible(), true);
      assert.equal(await valueInput(page, 'MaxRetries').inputValue(), '8');
      assert.equal(await valueInput(page, 'LaunchDate').inputValue(), '2026-01-31');
      assert.equal(await secretInput(page, 'SigningCert').inputValue(), '-----BEGIN CERT-----\nAAA\n-----END CERT-----');
      assert.equal((await saveButton(page).innerText()).trim(), 'Save 3 changes');
      assert.equal(await isDisabled(saveButton(page)), false);

      host.on('stage/save', () => ({ error: { code: 'http', status: 403, message: 'your token may not write stage qa' } }));
      await saveButton(page).click();
      await page.locator('#error', { hasText: 'may not write stage qa' }).waitFor();
      assert.equal(await page.locator('#error').getByRole('button', { name: 'Sign In with Another Token' }).isVisible(), true);
      assert.equal(await secretInput(page, 'SigningCert').inputValue(), '-----BEGIN CERT-----\nAAA\n-----END CERT-----');

      host.on('stage/save', () => ({ outcome: 'invalid', message: '1 value(s) are not valid for their type; nothing was saved', errors: [{ name: 'LaunchDate', detail: 'LaunchDate must be before 2026' }] }));
      await saveButton(page).click();
      await page.locator('#error', { hasText: 'not valid for their type' }).waitFor();
      assert.match(await message(page, 'LaunchDate').innerText(), /must be before 2026/);
      assert.equal(await valueInput(page, 'LaunchDate').inputValue(), '2026-01-31');

      host.reset('stage/save');
      await saveButton(page).click();
      await page.locator('#status', { hasText: 'Saved 3 changes' }).waitFor();
      assert.equal(host.requests('stage/save').length, 4);
      assert.equal(await row(page, 'SigningCert').locator('.mask').innerText(), '*****');
      assert.equal(await page.locator('#error').isVisible(), false);
    });
  });

  test('a request the host never answers times out with a clear error; the edits stay', async () => {
    await withPanel(
      async ({ page, host }) => {
        host.on('stage/save', () => ({ hang: true }));
        await valueInput(page, 'MaxRetries').fill('4');
        await saveButton(page).click();
        await page.locator('#error', { hasText: 'did not answer in time' }).waitFor({ timeout: 10_000 });
        assert.equal(await valueInput(page, 'MaxRetries').inputValue(), '4');
        assert.equal(await isDisabled(saveButton(page)), false, 'the save can be tried again');
      },
      { requestTimeoutMs: 3000 },
    );
  });

  test('banners offer the fix: Sign In, Open Settings, Publish App run through command/run; host/refresh then loads', async () => {
    const cases: Array<{ error: { code: 'not-signed-in' | 'unreachable' | 'http'; status?: number; message: string }; button: string; command: string }> = [
      { error: { code: 'not-signed-in', message: 'Not signed in to the portal at http://127.0.0.1:4650.' }, button: 'Sign In', command: 'odcSettings.signIn' },
      { error: { code: 'unreachable', message: 'Cannot reach the portal at http://127.0.0.1:4650 (ECONNREFUSED).' }, button: 'Open Settings', command: 'odcSettings.openServerSettings' },
      { error: { code: 'http', status: 404, message: 'app orders is not published' }, button: 'Publish App', command: 'odcSettings.publishApp' },
      { error: { code: 'http', status: 403, message: 'your token may not read app orders' }, button: 'Sign In with Another Token', command: 'odcSettings.signIn' },
    ];
    for (const c of cases) {
      const s = await openWebview({ setup: (h) => h.on('panel/init', () => ({ error: c.error })) });
      try {
        const banner = s.page.locator('#error');
        await banner.getByRole('button', { name: c.button }).click();
        await until(() => s.host.requests('command/run').length > 0, 'command/run reached the host');
        assert.deepEqual(s.host.requests('command/run'), [{ command: c.command }], `${c.button} runs ${c.command}`);
        assert.equal(await banner.getByRole('button', { name: 'Retry' }).isVisible(), true);
        assert.ok(!(await banner.innerText()).includes('npm start'));
        s.host.reset('panel/init');
        await s.host.notify('host/refresh', { reason: 'session' });
        await ready(s);
        assert.equal(await banner.isVisible(), false);
      } finally {
        await s.close();
      }
      assert.deepEqual(s.problems, []);
      assert.deepEqual(s.host.invalid, []);
    }
  });

  test('filter: by name or description, only missing / edited / invalid; Ctrl+F; the toolbar stays visible while scrolling', async () => {
    const settings: FakeSetting[] = Array.from({ length: 300 }, (_, i) => ({ name: `Setting${String(i).padStart(3, '0')}`, type: 'Integer', description: i === 42 ? 'the answer' : '', isSecret: i % 50 === 7 }));
    settings.unshift({ name: 'MaxRetries', type: 'Integer', defaultValue: '3' });
    const store = new FakeStore(settings);
    for (const s of settings.slice(0, 200)) if (!s.isSecret) store.write('qa', s.name, '1');
    await withPanel(
      async ({ page }) => {
        await page.keyboard.press('Control+f');
        assert.equal(await page.evaluate(() => document.activeElement?.id), 'filter', 'Ctrl+F goes to the filter box');
        await page.keyboard.type('answer');
        assert.deepEqual(await visibleRowNames(page), ['Setting042'], 'matches the description');
        await page.locator('#filter').fill('setting29');
        assert.deepEqual(await visibleRowNames(page), Array.from({ length: 10 }, (_, i) => `Setting29${i}`));
        assert.match(await page.locator('#filter-count').innerText(), /10 of 301 settings/);
        await page.locator('#filter').fill('');

        await page.locator('[data-filter=missing]').click();
        assert.equal(await page.locator('[data-filter=missing]').getAttribute('aria-pressed'), 'true');
        // Every secret (none has a value) and the non-secrets with no value and no default.
        const expected = store.view('qa').settings.filter((s) => !s.hasValue && (s.isSecret || s.defaultValue === null)).length;
        assert.match(await page.locator('#filter-count').innerText(), new RegExp(`^${expected} of 301 settings`));
        assert.equal(await page.locator('[role=table]').getAttribute('aria-rowcount'), String(expected + 1));
        await page.locator('[data-filter=missing]').click();

        await valueInput(page, 'Setting001').fill('x');
        await valueInput(page, 'Setting002').fill('5');
        await page.locator('[data-filter=edited]').click();
        assert.deepEqual(await visibleRowNames(page), ['Setting001', 'Setting002']);
        await page.locator('[data-filter=edited]').click();
        await page.locator('[data-filter=invalid]').click();
        assert.deepEqual(await visibleRowNames(page), ['Setting001']);
        await page.locator('[data-filter=invalid]').click();

        // Scrolled far down, the stage picker and Save are still on screen.
        await page.mouse.wheel(0, 6000);
        await page.waitForFunction(() => window.scrollY > 3000);
        for (const sel of ['#stage-select', '#save', '#filter']) {
          const box = await page.locator(sel).boundingBox();
          assert.ok(box && box.y >= 0 && box.y < 200, `${sel} stays visible at the top (y=${box?.y})`);
        }
      },
      { store },
    );
  });

  test('coverage: statuses in words and icons, no values; a cell opens that stage with the row ready to type', async () => {
    await withPanel(
      async ({ page, host }) => {
        await page.locator('vscode-tab-header[data-tab=coverage]').click();
        const table = page.locator('table.coverage');
        await table.waitFor();
        assert.equal(host.requests('coverage/load').length, 1);
        const cellText = (name: string, stage: number) => table.locator(`tr[data-setting="${name}"] td`).nth(stage).innerText();
        const cellIcon = (name: string, stage: number, icon: string) => table.locator(`tr[data-setting="${name}"] td`).nth(stage).locator(`.codicon-${icon}`).isVisible();
        assert.equal((await cellText('PaymentApiKey', 0)).trim(), 'Set');
        assert.ok(await cellIcon('PaymentApiKey', 0, 'pass'));
        assert.equal((await cellText('PaymentApiKey', 2)).trim(), 'Missing');
        assert.ok(await cellIcon('PaymentApiKey', 2, 'warning'));
        assert.equal((await cellText('MaxRetries', 1)).trim(), 'Default');
        assert.equal((await cellText('Greeting', 2)).trim(), 'Set');
        assert.equal((await cellText('LaunchDate', 0)).trim(), 'Unset');
        assert.match(await table.locator('th[data-stage=qa]').innerText(), /2 missing/);
        const text = await page.locator('#coverage').innerText();
        assert.ok(!text.includes('bonjour') && !text.includes('dev-secret'), 'no values in the coverage view');

        await table.getByRole('button', { name: 'PaymentApiKey in Production: Missing. Open it.' }).click();
        await page.waitForFunction(() => (document.activeElement as HTMLElement | null)?.dataset.role === 'secret-input');
        assert.equal(await stageLabel(page), 'Production');
        assert.equal(await page.evaluate(() => document.activeElement?.closest('[data-setting]')?.getAttribute('data-setting')), 'PaymentApiKey');
        await page.keyboard.type('from-coverage');
        await page.keyboard.press('Control+s');
        await page.locator('#status', { hasText: 'Saved 1 change to Production' }).waitFor();
        assert.deepEqual(host.requests('stage/save')[0], { stage: 'production', changes: [{ name: 'PaymentApiKey', value: 'from-coverage', baseVersion: 0 }] });
      },
      {
        setup: (h) => {
          h.store.write('development', 'PaymentApiKey', 'dev-secret');
          h.store.write('production', 'Greeting', 'bonjour');
        },
      },
    );
  });

  test('keyboard and names: every control labelled, row actions name their setting, Boolean is a True/False choice, dates have a picker and take typing, one live region', async () => {
    const settings: FakeSetting[] = [
      { name: 'PaymentApiKey', type: 'Text', isSecret: true },
      { name: 'MaxRetries', type: 'Integer', defaultValue: '3' },
      { name: 'FeatureOn', type: 'Boolean', defaultValue: 'False' },
      { name: 'LaunchDate', type: 'Date' },
      { name: 'OpensAt', type: 'Time' },
      { name: 'CutOver', type: 'DateTime' },
    ];
    const store = new FakeStore(settings);
    store.write('qa', 'PaymentApiKey', 'stored');
    await withPanel(
      async ({ page, host }) => {
        const unlabelled = await page.evaluate(() =>
          Array.from(document.querySelectorAll('.rows [data-setting]:not([hidden]) :is(input, textarea, select, button)'))
            .filter((el) => !(el as HTMLElement).hidden && el.getAttribute('aria-hidden') !== 'true' && !el.getAttribute('aria-label') && !(el.textContent ?? '').trim())
            .map((el) => el.outerHTML),
        );
        assert.deepEqual(unlabelled, []);
        assert.equal(await valueInput(page, 'MaxRetries').getAttribute('aria-label'), 'Value of MaxRetries in QA');
        // The mask is read as words; no aria-label on a bare span.
        assert.equal(await row(page, 'PaymentApiKey').locator('.mask').getAttribute('aria-label'), null);
        assert.equal(await row(page, 'PaymentApiKey').locator('.sr-only', { hasText: 'Set, value hidden' }).count(), 1);
        // One polite live region for the page.
        assert.equal(await page.locator('[aria-live]').count(), 1);

        // Boolean: a choice of True / False / no value (the default).
        const bool = valueInput(page, 'FeatureOn');
        assert.equal(await bool.evaluate((e) => e.tagName), 'SELECT');
        assert.deepEqual(await bool.locator('option').allTextContents(), ['False (default)', 'True', 'False']);
        await bool.selectOption('True');
        // Dates: typing works, and each has a picker button named for its setting.
        await valueInput(page, 'LaunchDate').fill('2026-03-01');
        assert.equal(await row(page, 'LaunchDate').getByRole('button', { name: 'Pick a date for LaunchDate' }).isVisible(), true);
        assert.equal(await row(page, 'OpensAt').getByRole('button', { name: 'Pick a time for OpensAt' }).isVisible(), true);
        await valueInput(page, 'CutOver').fill('2026-03-01T08:30:00+01:00');
        assert.equal(await message(page, 'CutOver').innerText(), '');
        await saveButton(page).click();
        await page.locator('#status', { hasText: 'Saved 3 changes' }).waitFor();
        const byName = Object.fromEntries(host.requests('stage/save')[0]!.changes.map((c: ValueEdit) => [c.name, c.value]));
        assert.deepEqual(byName, { FeatureOn: 'True', LaunchDate: '2026-03-01', CutOver: '2026-03-01T08:30:00+01:00' });

        // Keyboard only: Tab from the stage picker reaches the toolbar and the rows' controls.
        await page.locator('#stage-select').focus();
        const seen: string[] = [];
        for (let i = 0; i < 16; i++) {
          await page.keyboard.press('Tab');
          seen.push(await page.evaluate(() => {
            const a = document.activeElement as HTMLElement | null;
            return a ? `${a.tagName.toLowerCase()}${a.id ? '#' + a.id : ''}${a.dataset.action ? '[' + a.dataset.action + ']' : ''}${a.dataset.role ? '[' + a.dataset.role + ']' : ''}${a.closest('[data-setting]') ? '@' + a.closest('[data-setting]')!.getAttribute('data-setting') : ''}` : 'none';
          }));
        }
        const order = seen.join(' ');
        // Each row ends with its History action (SPEC §12).
        assert.match(
          order,
          /^vscode-button#reload input#filter .*button\[replace\]@PaymentApiKey button\[clear\]@PaymentApiKey button\[history\]@PaymentApiKey input\[value\]@MaxRetries button\[history\]@MaxRetries select\[value\]@FeatureOn/,
          `toolbar, filter, then the rows in order: ${order}`,
        );

        await row(page, 'PaymentApiKey').getByRole('button', { name: 'Replace PaymentApiKey' }).focus();
        await page.keyboard.press('Enter');
        await page.waitForFunction(() => (document.activeElement as HTMLElement | null)?.dataset.role === 'secret-input');
        await page.keyboard.type('keyboard-only');
        await page.keyboard.press('Control+s');
        await page.locator('#status', { hasText: 'Saved 1 change' }).waitFor();
        assert.deepEqual(host.requests('stage/save')[1]!.changes, [{ name: 'PaymentApiKey', value: 'keyboard-only', baseVersion: 1 }]);
        // Escape in a value field undoes that row's edit.
        await valueInput(page, 'MaxRetries').fill('6');
        await valueInput(page, 'MaxRetries').press('Escape');
        assert.equal(await valueInput(page, 'MaxRetries').inputValue(), '');
      },
      { store },
    );
  });

  test('20,000 settings: only the visible rows have DOM; focus and unsaved edits survive scrolling out of view and back', async () => {
    const settings: FakeSetting[] = Array.from({ length: 20_000 }, (_, i) => ({ name: `Setting${String(i).padStart(5, '0')}`, type: i % 10 === 9 ? 'Text' : 'Integer', isSecret: i % 10 === 9 }));
    settings.unshift({ name: 'MaxRetries', type: 'Integer', defaultValue: '3' });
    const store = new FakeStore(settings);
    await withPanel(
      async ({ page, host }) => {
        assert.equal(await page.locator('[role=table]').getAttribute('aria-rowcount'), '20002', 'the table says how many rows it has');
        const domRows = await page.locator('.rows [data-setting]').count();
        assert.ok(domRows > 5 && domRows < 80, `only the rows near the viewport exist (${domRows})`);

        // Unsaved edits: a typed secret in row 9 and a value in row 3; focus in row 3's field.
        await row(page, 'Setting00009').getByRole('button', { name: 'Set Setting00009' }).click();
        await secretInput(page, 'Setting00009').fill('typed-before-scrolling');
        await valueInput(page, 'Setting00003').fill('33');
        await valueInput(page, 'Setting00003').press('End');

        // Down to the bottom: other settings in the rows, row 3 kept only because it has the focus.
        await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
        await row(page, 'Setting19999').waitFor();
        assert.equal(await row(page, 'Setting00009').count(), 0, 'the unfocused row was recycled');
        const focusedRow = () => page.evaluate(() => (document.activeElement as HTMLElement | null)?.closest('[data-setting]')?.getAttribute('data-setting'));
        assert.equal(await focusedRow(), 'Setting00003', 'focus stays');

        // And back: the edits are there, the focus too, typing continues.
        await page.evaluate(() => window.scrollTo(0, 0));
        await row(page, 'Setting00009').waitFor();
        assert.equal(await valueInput(page, 'Setting00003').inputValue(), '33');
        assert.equal(await secretInput(page, 'Setting00009').inputValue(), 'typed-before-scrolling');
        assert.equal((await marker(page, 'Setting00009').innerText()).trim(), 'Edited');
        assert.equal((await marker(page, 'Setting00003').innerText()).trim(), 'Edited');
        assert.equal(await focusedRow(), 'Setting00003');
        await page.keyboard.type('4');
        assert.equal(await valueInput(page, 'Setting00003').inputValue(), '334', 'typing continues where it was');

        // An edit far down survives coming back up too.
        await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
        await valueInput(page, 'Setting19998').fill('-1');
        await page.evaluate(() => window.scrollTo(0, 0));
        await row(page, 'Setting00009').waitFor();
        assert.equal((await saveButton(page).innerText()).trim(), 'Save 3 changes');
        await saveButton(page).click();
        await page.locator('#status', { hasText: 'Saved 3 changes' }).waitFor();
        const byName = Object.fromEntries(host.requests('stage/save')[0]!.changes.map((c: ValueEdit) => [c.name, c.value]));
        assert.deepEqual(byName, { Setting00003: '334', Setting00009: 'typed-before-scrolling', Setting19998: '-1' });
        assert.ok(!(await everythingInPage(page)).includes('typed-before-scrolling'), 'no recycled row keeps the typed secret');
      },
      { store },
    );
  });

  test('the narrow layout (640 px) has no horizontal scroll, with 2,000 rows and a secret editor open', async () => {
    const settings: FakeSetting[] = Array.from({ length: 2000 }, (_, i) => ({ name: `AVeryLongSettingNameNumber${i}ForTheNarrowLayout`, type: i % 3 === 0 ? 'DateTime' : 'Text', description: 'A description long enough to need more than the width of a narrow editor group in VS Code', isSecret: i % 4 === 1 }));
    settings.unshift({ name: 'MaxRetries', type: 'Integer', defaultValue: '3' });
    const store = new FakeStore(settings);
    for (const s of settings.slice(0, 40)) store.write('qa', s.name, s.isSecret ? 'x' : 'a-value-that-is-rather-long-for-a-narrow-layout-and-does-not-wrap-by-itself');
    await withPanel(
      async ({ page }) => {
        await page.setViewportSize({ width: 640, height: 800 });
        await page.waitForFunction(() => getComputedStyle(document.querySelector('.stage-editor')!).getPropertyValue('--narrow').trim() === '1');
        const secret = settings.find((s) => s.isSecret)!.name;
        const dateTime = settings.find((s) => s.type === 'DateTime')!.name;
        await row(page, secret).getByRole('button', { name: `Replace ${secret}` }).click();
        await valueInput(page, dateTime).fill('2026-01-01T00:00:00');
        const overflow = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
        assert.ok(overflow.scroll <= overflow.client, `no horizontal scroll at 640 px (${overflow.scroll} > ${overflow.client})`);
        // Every visible row's content stays inside the row (nothing clipped off to the right).
        const outside = await page.evaluate(() =>
          Array.from(document.querySelectorAll('.rows [data-setting]:not([hidden]) :is(input, textarea, select, button)'))
            .filter((el) => !el.classList.contains('native-picker') && !(el as HTMLElement).hidden && (el as HTMLElement).offsetParent !== null)
            .filter((el) => el.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
            .map((el) => el.outerHTML.slice(0, 80)),
        );
        assert.deepEqual(outside, []);
      },
      { store },
    );
  });

  for (const theme of ['dark', 'light', 'high-contrast'] as ThemeKind[]) {
    test(`axe-core: no serious or critical violation in the ${theme} theme (values with every row state, a banner, coverage)`, async () => {
      await withPanel(
        async (s) => {
          const { page, host } = s;
          await applyTheme(page, theme);
          await valueInput(page, 'MaxRetries').fill('12x'); // invalid
          await valueInput(page, 'Greeting').fill('edited'); // dirty
          await row(page, 'SigningCert').getByRole('button', { name: 'Set SigningCert' }).click();
          await secretInput(page, 'SigningCert').fill('typed');
          await row(page, 'SigningCert').getByRole('button', { name: 'Show what I typed for SigningCert' }).click();
          await row(page, 'PaymentApiKey').getByRole('button', { name: 'Clear PaymentApiKey' }).click();
          await page.locator('[data-filter=edited]').hover();
          host.on('stage/save', () => ({ error: { code: 'unreachable', message: 'Cannot reach the portal at http://127.0.0.1:4650 (ECONNREFUSED).' } }));
          await valueInput(page, 'MaxRetries').fill('12');
          await saveButton(page).click();
          await page.locator('#error', { hasText: 'ECONNREFUSED' }).waitFor();
          assert.deepEqual(await seriousAxeViolations(s), [], `values tab, ${theme}`);
          await page.locator('vscode-tab-header[data-tab=coverage]').click();
          await page.locator('table.coverage').waitFor();
          assert.deepEqual(await seriousAxeViolations(s), [], `coverage tab, ${theme}`);
        },
        { setup: (h) => { h.store.write('qa', 'PaymentApiKey', 'x'); h.store.write('qa', 'Greeting', 'hi'); } },
      );
    });
  }

  test('host/showStage switches the stage: the dropdown displays it', async () => {
    await withPanel(async ({ page, host }) => {
      await host.notify('host/showStage', { stage: 'production' });
      await page.locator('#status', { hasText: 'Production:' }).waitFor();
      assert.equal(await stageLabel(page), 'Production');
      assert.deepEqual(host.requests('stage/load').at(-1), { stage: 'production' });
    });
  });
});
