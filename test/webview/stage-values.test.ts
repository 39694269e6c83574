// The Stage Values webview bundle in Chromium, against a stand-in extension host (standin.ts):
// the real dist/webview/main.js, in the panel's HTML under its CSP, talking the real protocol.
// Checks type validation as you type, dirty tracking, one save carrying every edit, 409
// handling (conflicted rows reloaded, other edits kept), server down (edits kept, error shown),
// the request timeout, the coverage view, secrets never prefilled nor kept after a save, and
// keyboard access.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import type { ValueEdit } from '../../common/protocol';
import { everythingInPage, openWebview, shutdown, type Session } from './standin';

after(shutdown);

const row = (page: Page, name: string) => page.locator(`tr[data-setting="${name}"]`);
const valueInput = (page: Page, name: string) => row(page, name).locator('vscode-textfield[data-role=value] input');
const secretInput = (page: Page, name: string) => row(page, name).locator('vscode-textfield[data-role=secret-input] input');
const message = (page: Page, name: string) => row(page, name).locator('[data-role=message]');
const saveButton = (page: Page) => page.locator('#save');
const isDisabled = (l: Locator) => l.evaluate((b) => (b as HTMLElement & { disabled: boolean }).disabled);

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

describe('Stage Values webview (Chromium, stand-in host)', () => {
  test('handshake: ready first, then init and the chosen stage; the table shows what the host sent', async () => {
    await withPanel(async ({ page, host }) => {
      const first = host.received[0];
      assert.ok(first && first.kind === 'notification' && first.method === 'webview/ready', 'the first message is webview/ready');
      assert.deepEqual(host.requests('panel/init'), [{}]);
      assert.deepEqual(host.requests('stage/load'), [{ stage: 'qa' }]);
      assert.match(await page.locator('h1').innerText(), /Stage Values: Orders/);
      assert.equal(await page.locator('#stage-select').evaluate((e) => (e as HTMLElement & { value: string }).value), 'qa');
      assert.deepEqual(await page.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-setting'))), [
        'PaymentApiKey',
        'SigningCert',
        'MaxRetries',
        'Greeting',
        'LaunchDate',
      ]);
      // Secret with no value: a clear "missing" marker, a Set action, no input.
      const secret = row(page, 'PaymentApiKey');
      assert.match(await secret.locator('[data-role=missing]').innerText(), /Missing/);
      assert.equal(await secret.locator('.secret-badge').count(), 1);
      assert.equal(await secret.locator('vscode-textfield').count(), 0);
      assert.equal(await secret.locator('[data-action=set]').isVisible(), true);
      assert.equal(await secret.locator('th .setting-name').getAttribute('title'), 'Key for the payment gateway', 'description as tooltip');
      // Non-secret without a stage value: the default shown.
      assert.equal(await valueInput(page, 'MaxRetries').inputValue(), '');
      assert.equal(await valueInput(page, 'MaxRetries').getAttribute('placeholder'), '3 (default)');
      assert.match(await message(page, 'MaxRetries').innerText(), /default applies/);
      assert.equal(await row(page, 'MaxRetries').locator('[data-role=default]').innerText(), '3');
      assert.equal(await isDisabled(saveButton(page)), true, 'nothing to save yet');
    });
  });

  test('validation as you type, per type (common/values.ts)', async () => {
    await withPanel(async ({ page }) => {
      const retries = valueInput(page, 'MaxRetries');
      await retries.pressSequentially('12x');
      assert.match(await message(page, 'MaxRetries').innerText(), /Must be a whole number/);
      assert.equal(await row(page, 'MaxRetries').getAttribute('class'), 'dirty invalid');
      assert.equal(await isDisabled(saveButton(page)), true, 'an invalid edit blocks the save');
      assert.match((await saveButton(page).getAttribute('title')) ?? '', /Fix 1 invalid value/);
      await retries.press('Backspace');
      assert.equal(await message(page, 'MaxRetries').innerText(), '');
      assert.equal(await isDisabled(saveButton(page)), false);
      assert.equal((await saveButton(page).innerText()).trim(), 'Save 1 change');

      await valueInput(page, 'LaunchDate').fill('2025-02-30');
      assert.match(await message(page, 'LaunchDate').innerText(), /Must be a calendar date/);
      await valueInput(page, 'LaunchDate').fill('2025-02-28');
      assert.equal(await message(page, 'LaunchDate').innerText(), '');

      // Secrets are checked too (48 KiB), and the message never quotes the value.
      await row(page, 'SigningCert').locator('[data-action=set]').click();
      const big = 'Z'.repeat(48 * 1024 + 1);
      await secretInput(page, 'SigningCert').fill(big);
      const msg = await message(page, 'SigningCert').innerText();
      assert.match(msg, /at most 49152 bytes/);
      assert.ok(!msg.includes('ZZZZ'));
      assert.equal(await isDisabled(saveButton(page)), true);
    });
  });

  test('dirty tracking: typing back the original is no edit; Undo, Reset to default, Discard; per-stage edits survive switching', async () => {
    await withPanel(
      async ({ page, host }) => {
        const greeting = valueInput(page, 'Greeting');
        assert.equal(await greeting.inputValue(), 'hi', 'the stage value is shown');
        await greeting.fill('hi there');
        assert.equal(await row(page, 'Greeting').getAttribute('class'), 'dirty');
        assert.equal((await saveButton(page).innerText()).trim(), 'Save 1 change');
        await greeting.fill('hi');
        assert.equal(await row(page, 'Greeting').getAttribute('class'), '', 'back to the stored value: not dirty');
        assert.equal(await isDisabled(saveButton(page)), true);

        // Reset to default clears the stage value (sent as null on save).
        await row(page, 'Greeting').locator('[data-action=reset]').click();
        assert.equal(await greeting.inputValue(), '');
        assert.match(await message(page, 'Greeting').innerText(), /Resets to the default on save/);
        await row(page, 'Greeting').locator('[data-action=undo]').click();
        assert.equal(await greeting.inputValue(), 'hi');
        assert.equal(await row(page, 'Greeting').getAttribute('class'), '');

        await valueInput(page, 'MaxRetries').fill('7');
        await row(page, 'PaymentApiKey').locator('[data-action=set]').click();
        await secretInput(page, 'PaymentApiKey').fill('typed-secret-1');
        assert.equal((await saveButton(page).innerText()).trim(), 'Save 2 changes');

        // Another stage has its own edits; coming back, QA's are all still there.
        await pickStage(page, 'Production');
        await row(page, 'MaxRetries').waitFor();
        assert.equal(await valueInput(page, 'MaxRetries').inputValue(), '');
        assert.match(await page.locator('#other-stages').innerText(), /Unsaved in QA \(2\)/);
        await valueInput(page, 'MaxRetries').fill('9');
        await pickStage(page, 'QA');
        assert.equal(await valueInput(page, 'MaxRetries').inputValue(), '7');
        assert.equal(await secretInput(page, 'PaymentApiKey').inputValue(), 'typed-secret-1');
        assert.match(await page.locator('#other-stages').innerText(), /Production \(1\)/);
        assert.equal(host.notifications('webview/dirty').at(-1) && (host.notifications('webview/dirty').at(-1) as { count: number }).count, 3);

        await page.locator('#discard').click();
        assert.equal(await valueInput(page, 'MaxRetries').inputValue(), '');
        assert.equal(await row(page, 'PaymentApiKey').locator('vscode-textfield').count(), 0, 'the secret field is gone');
        assert.equal(await isDisabled(saveButton(page)), true);
        assert.equal((host.notifications('webview/dirty').at(-1) as { count: number }).count, 1, 'Production keeps its edit');
        assert.equal(host.requests('stage/save').length, 0);
      },
      { setup: (h) => h.store.write('qa', 'Greeting', 'hi') },
    );
  });

  test('one save carries every edit (with its base version); after it the secret shows ***** and nothing typed remains', async () => {
    const canary = `canary-${Math.random().toString(36).slice(2)}-secret`;
    await withPanel(
      async ({ page, host }) => {
        await valueInput(page, 'MaxRetries').fill('5');
        await row(page, 'Greeting').locator('[data-action=reset]').click();
        await row(page, 'PaymentApiKey').locator('[data-action=set]').click();
        const field = row(page, 'PaymentApiKey').locator('vscode-textfield[data-role=secret-input]');
        assert.equal(await field.getAttribute('type'), 'password');
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
        assert.equal(await secret.locator('vscode-textfield').count(), 0, 'the password field is gone');
        assert.equal(await secret.locator('[data-action=replace]').innerText(), 'Replace');
        assert.equal(await secret.locator('[data-action=clear]').isVisible(), true);
        assert.equal(await valueInput(page, 'MaxRetries').inputValue(), '5');
        assert.equal(await isDisabled(saveButton(page)), true);
        const all = await everythingInPage(page);
        assert.ok(!all.includes(canary), 'the page holds no trace of the secret after the save');

        // Replace opens an empty field again; Clear is queued and sent as null.
        await secret.locator('[data-action=replace]').click();
        assert.equal(await secretInput(page, 'PaymentApiKey').inputValue(), '');
        await secret.locator('[data-action=cancel]').click();
        await secret.locator('[data-action=clear]').click();
        assert.match(await secret.locator('[data-role=secret-state]').innerText(), /Cleared on save/);
        await saveButton(page).click();
        await secret.locator('[data-role=missing]').waitFor();
        assert.deepEqual(host.requests('stage/save')[1]!.changes, [{ name: 'PaymentApiKey', value: null, baseVersion: 1 }]);
      },
      { setup: (h) => h.store.write('qa', 'Greeting', 'hi') },
    );
  });

  test('409: the conflicting settings are reloaded with the new values; the other edits (secret included) stay', async () => {
    await withPanel(async ({ page, host }) => {
      await valueInput(page, 'MaxRetries').fill('5');
      await valueInput(page, 'Greeting').fill('mine');
      await row(page, 'PaymentApiKey').locator('[data-action=set]').click();
      await secretInput(page, 'PaymentApiKey').fill('kept-secret-value');
      // Someone else saves Greeting meanwhile.
      host.store.write('qa', 'Greeting', 'theirs', 'alice');
      await saveButton(page).click();
      await page.locator('#error', { hasText: 'Nothing was saved' }).waitFor();

      assert.equal(host.requests('stage/save').length, 1);
      assert.equal(await valueInput(page, 'Greeting').inputValue(), 'theirs', 'the conflicted row shows the new value');
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

  test('server down or refusing: every edit stays (secret field included), the error is shown, a retry saves', async () => {
    await withPanel(async ({ page, host }) => {
      await valueInput(page, 'MaxRetries').fill('8');
      await valueInput(page, 'LaunchDate').fill('2026-01-31');
      await row(page, 'SigningCert').locator('[data-action=set]').click();
      await secretInput(page, 'SigningCert').fill('-----BEGIN CERT-----');
      host.on('stage/save', () => ({
        error: { code: 'unreachable', message: 'Cannot reach the portal at http://127.0.0.1:4650 (ECONNREFUSED). Is the server running?' },
      }));
      await saveButton(page).click();
      await page.locator('#error', { hasText: 'ECONNREFUSED' }).waitFor();
      assert.match(await page.locator('#error').innerText(), /Not saved: Cannot reach the portal.*Your edits are kept/s);
      assert.equal(await valueInput(page, 'MaxRetries').inputValue(), '8');
      assert.equal(await valueInput(page, 'LaunchDate').inputValue(), '2026-01-31');
      assert.equal(await secretInput(page, 'SigningCert').inputValue(), '-----BEGIN CERT-----');
      assert.equal((await saveButton(page).innerText()).trim(), 'Save 3 changes');
      assert.equal(await isDisabled(saveButton(page)), false);

      // A refusal (403) keeps everything too.
      host.on('stage/save', () => ({ error: { code: 'http', status: 403, message: 'your token may not write stage qa' } }));
      await saveButton(page).click();
      await page.locator('#error', { hasText: 'may not write stage qa' }).waitFor();
      assert.equal(await secretInput(page, 'SigningCert').inputValue(), '-----BEGIN CERT-----');

      // 422 from the server: per-row errors, nothing lost.
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
      // Long enough for the stand-in's answers on a busy machine, short enough for a quick test.
      { requestTimeoutMs: 3000 },
    );
  });

  test('a load failure (not signed in) says what to do; host/refresh retries', async () => {
    const s = await openWebview({ setup: (h) => h.on('panel/init', () => ({ error: { code: 'not-signed-in', message: 'Not signed in to the portal at http://127.0.0.1:4650. Run "ODC: Sign In".' } })) });
    try {
      await s.page.locator('#error', { hasText: 'ODC: Sign In' }).waitFor();
      assert.equal(await s.page.locator('#error [data-action=retry]').isVisible(), true);
      s.host.reset('panel/init');
      await s.host.notify('host/refresh', { reason: 'session' });
      await ready(s);
      assert.equal(await s.page.locator('#error').isVisible(), false);
    } finally {
      await s.close();
    }
    assert.deepEqual(s.problems, []);
  });

  test('coverage: every setting in every stage by status, no values', async () => {
    await withPanel(
      async ({ page, host }) => {
        await page.locator('vscode-tab-header[data-tab=coverage]').click();
        const table = page.locator('table.coverage');
        await table.waitFor();
        assert.equal(host.requests('coverage/load').length, 1);
        const status = (name: string, stage: number) => table.locator(`tr[data-setting="${name}"] td`).nth(stage).getAttribute('data-status');
        assert.equal(await status('PaymentApiKey', 0), 'set');
        assert.equal(await status('PaymentApiKey', 1), 'missing');
        assert.equal(await status('MaxRetries', 1), 'default');
        assert.equal(await status('Greeting', 2), 'set');
        assert.equal(await status('LaunchDate', 0), 'unset');
        assert.match(await table.locator('th[data-stage=qa]').innerText(), /2 missing/);
        const text = await page.locator('#coverage').innerText();
        assert.ok(!text.includes('bonjour') && !text.includes('dev-secret'), 'no values in the coverage view');
      },
      {
        setup: (h) => {
          h.store.write('development', 'PaymentApiKey', 'dev-secret');
          h.store.write('production', 'Greeting', 'bonjour');
        },
      },
    );
  });

  test('keyboard: every control is labelled and reachable; Set, type, Ctrl+S without a mouse', async () => {
    await withPanel(async ({ page, host }) => {
      const unlabelled = await page.evaluate(() =>
        Array.from(document.querySelectorAll('vscode-textfield, vscode-single-select'))
          .map((el) => el.shadowRoot?.querySelector('input, [role=combobox]'))
          .filter((inner) => !inner?.getAttribute('aria-label'))
          .map((inner) => inner?.outerHTML ?? 'no inner control'),
      );
      assert.deepEqual(unlabelled, []);
      assert.equal(await valueInput(page, 'MaxRetries').getAttribute('aria-label'), 'Value of MaxRetries in QA');

      // Tab from the stage selector reaches the first row's Set button before its other controls.
      await page.locator('#stage-select').focus();
      const seen: string[] = [];
      for (let i = 0; i < 12; i++) {
        await page.keyboard.press('Tab');
        seen.push(await page.evaluate(() => {
          const a = document.activeElement as HTMLElement | null;
          return a ? `${a.tagName.toLowerCase()}${a.id ? '#' + a.id : ''}${a.dataset.action ? '[' + a.dataset.action + ']' : ''}${a.dataset.role ? '[' + a.dataset.role + ']' : ''}` : 'none';
        }));
      }
      assert.ok(seen.includes('vscode-button#reload'), `toolbar reachable: ${seen.join(' ')}`);
      assert.ok(seen.includes('button[set]'), `row actions reachable: ${seen.join(' ')}`);
      assert.ok(seen.includes('vscode-textfield[value]'), `value fields reachable: ${seen.join(' ')}`);

      await row(page, 'PaymentApiKey').locator('[data-action=set]').focus();
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => (document.activeElement as HTMLElement | null)?.dataset.role === 'secret-input');
      await page.keyboard.type('keyboard-only');
      await page.keyboard.press('Control+s');
      await page.locator('#status', { hasText: 'Saved 1 change' }).waitFor();
      assert.deepEqual(host.requests('stage/save')[0]!.changes, [{ name: 'PaymentApiKey', value: 'keyboard-only', baseVersion: 0 }]);
      // Escape in a value field undoes that row's edit.
      await valueInput(page, 'MaxRetries').fill('6');
      await valueInput(page, 'MaxRetries').press('Escape');
      assert.equal(await valueInput(page, 'MaxRetries').inputValue(), '');
    });
  });

  test('host/showStage switches the stage', async () => {
    await withPanel(async ({ page, host }) => {
      await host.notify('host/showStage', { stage: 'production' });
      await page.waitForFunction(() => (document.querySelector('#stage-select') as HTMLElement & { value: string }).value === 'production');
      assert.deepEqual(host.requests('stage/load').at(-1), { stage: 'production' });
    });
  });
});
