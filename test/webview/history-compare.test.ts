// The History dialog and the Compare tab of the Stage Values webview (SPEC §12, §13): the real
// bundle in Chromium against the stand-in host (standin.ts), which answers history, restore,
// compare and promote the way the extension host does (secrets only as the mask, no values in
// compare for secrets). Assertions read what a user sees and what the host receives.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { CompareView, HistoryView, PromoteView } from '../../common/protocol';
import { everythingInPage, openWebview, shutdown, type Session } from './standin';
import { applyTheme, seriousAxeViolations } from './themes';

after(shutdown);

const row = (page: Page, name: string) => page.locator(`.rows [data-setting="${name}"]`);

async function until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function withPanel(fn: (s: Session) => Promise<void>): Promise<void> {
  const s = await openWebview();
  try {
    await row(s.page, 'MaxRetries').waitFor();
    // A real theme's colours (as in VS Code), so the accessibility checks measure real contrast.
    await applyTheme(s.page, 'light');
    await fn(s);
  } finally {
    await s.close();
  }
  assert.deepEqual(s.problems, [], 'no CSP violation or page error');
  assert.deepEqual(s.host.invalid, [], 'every message the webview sent matched the protocol');
}

/** The history the stand-in's store has for a setting (it keeps none itself): three writes. */
function historyOf(s: Session, stage: string, name: string, isSecret: boolean): HistoryView {
  const current = s.host.store.get(stage, name).version;
  const values = ['5', '7', '9'];
  return {
    stage,
    name,
    isSecret,
    version: current,
    entries: [3, 2, 1].map((version) => ({
      version,
      action: version === 2 ? 'clear' : 'set',
      at: `2025-11-2${version}T10:00:00.000Z`,
      by: version === 3 ? 'alice' : 'bob',
      hasValue: version !== 2,
      value: version === 2 ? null : isSecret ? '*****' : values[version - 1]!,
      current: version === current,
      isSecret,
    })),
  };
}

test('History shows who, when, action and non-secret old values; ***** for a secret; Restore asks first, then restores', async () => {
  await withPanel(async (s) => {
    const { page, host } = s;
    for (let i = 0; i < 3; i++) host.store.write('qa', 'MaxRetries', ['5', null, '9'][i]!, 'bob');
    host.store.write('qa', 'PaymentApiKey', 'stored-secret', 'alice');
    await page.locator('#reload').click();
    await row(page, 'MaxRetries').locator('[data-role=value]').waitFor();
    host.on('value/history', ({ stage, name }) => historyOf(s, stage, name, name === 'PaymentApiKey'));
    host.on('value/restore', ({ stage, name, version }) => {
      host.store.write(stage, name, version === 1 ? '5' : '9', 'me');
      return { outcome: 'saved', view: host.store.view(stage) };
    });

    await row(page, 'MaxRetries').locator('[data-action=history]').click();
    const dialog = page.locator('dialog[data-history=MaxRetries]');
    await dialog.locator('tr[data-version="1"]').waitFor();
    assert.match(await dialog.locator('h2').innerText(), /History of MaxRetries in QA/);
    const cells = async (v: number) => (await dialog.locator(`tr[data-version="${v}"] td`).allInnerTexts()).map((t) => t.trim());
    assert.deepEqual((await cells(3)).slice(0, 3), ['3', 'Set', 'alice']);
    assert.equal((await cells(3))[4], '9');
    assert.equal((await cells(2))[1], 'Cleared');
    assert.equal((await cells(1))[4], '5');
    assert.match((await cells(3))[5]!, /Current/);
    assert.deepEqual(await seriousAxeViolations(s), [], 'the dialog has no serious accessibility violation');

    // Restore asks first; Cancel sends nothing.
    await dialog.locator('tr[data-version="1"] [data-action=restore]').click();
    assert.match(await dialog.locator('tr[data-version="1"]').innerText(), /Restore version 1 of MaxRetries to QA\?/);
    await dialog.locator('[data-action=cancel-restore]').click();
    assert.equal(host.requests('value/restore').length, 0);
    await dialog.locator('tr[data-version="1"] [data-action=restore]').click();
    await dialog.locator('[data-action=confirm-restore]').click();
    await until(() => host.requests('value/restore').length === 1, 'the restore was sent');
    assert.deepEqual(host.requests('value/restore')[0], { stage: 'qa', name: 'MaxRetries', version: 1, baseVersion: 3 });
    await dialog.locator('.history-message', { hasText: 'Restored version 1.' }).waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    assert.equal(await row(page, 'MaxRetries').locator('[data-role=value]').inputValue(), '5', 'the restored value shows in the row');

    // A secret's history: the mask only.
    await row(page, 'PaymentApiKey').locator('[data-action=history]').click();
    const secret = page.locator('dialog[data-history=PaymentApiKey]');
    await secret.locator('tr[data-version="3"]').waitFor();
    assert.equal((await secret.locator('tr[data-version="3"] td').allInnerTexts())[4]!.trim(), '*****');
    assert.match(await secret.innerText(), /never shown/);
    assert.ok(!(await everythingInPage(page)).includes('stored-secret'));
  });
});

const COMPARE: CompareView = {
  app: 'orders',
  revision: 4,
  stages: [
    { key: 'qa', name: 'QA' },
    { key: 'production', name: 'Production' },
  ],
  settings: [
    { name: 'PaymentApiKey', isSecret: true, equal: true, cells: { qa: { status: 'own', sameAs: undefined }, production: { status: 'own', sameAs: 'qa' } } },
    { name: 'SigningCert', isSecret: true, equal: false, cells: { qa: { status: 'own', dueForRotation: true }, production: { status: 'missing' } } },
    { name: 'MaxRetries', isSecret: false, equal: false, cells: { qa: { status: 'own', value: '5' }, production: { status: 'default', value: '3' } } },
    { name: 'Greeting', isSecret: false, equal: true, cells: { qa: { status: 'default', value: 'hello' }, production: { status: 'default', value: 'hello' } } },
  ],
  warnings: [
    { setting: 'PaymentApiKey', stage: 'production', kind: 'same-as-lower-stage', lowerStage: 'qa', detail: 'PaymentApiKey in Production is the same secret as in QA: give Production its own' },
    { setting: 'SigningCert', stage: 'production', kind: 'missing', detail: 'SigningCert has no value in Production: set it before you deploy' },
    { setting: 'SigningCert', stage: 'qa', kind: 'rotation-due', detail: 'SigningCert in QA is older than 30 days: rotate it' },
  ],
};

test('Compare: stages side by side, equal or different, the warnings; Promote QA → Production previews, then applies with the preview versions', async () => {
  await withPanel(async (s) => {
    const { page, host } = s;
    // The stand-in copies undefined keys away: JSON has none.
    const view = JSON.parse(JSON.stringify(COMPARE)) as CompareView;
    host.on('compare/load', () => view);
    const preview: PromoteView = {
      app: 'orders',
      from: 'qa',
      to: 'production',
      dryRun: true,
      changes: [
        { name: 'SigningCert', isSecret: true, action: 'set', fromStatus: 'own', toStatus: 'missing' },
        { name: 'MaxRetries', isSecret: false, action: 'set', fromStatus: 'own', toStatus: 'default', fromValue: '3', toValue: '5' },
      ],
      unchanged: ['Greeting'],
      skipped: [],
      baseVersions: { SigningCert: 0, MaxRetries: 2 },
    };
    host.on('promote/preview', () => preview);
    host.on('promote/apply', () => ({ outcome: 'promoted', result: { ...preview, dryRun: false, baseVersions: { SigningCert: 1, MaxRetries: 3 } } }));

    await page.locator('vscode-tab-header[data-tab=compare]').click();
    const grid = page.locator('table.compare-grid');
    await grid.waitFor();
    await until(() => host.requests('compare/load').length >= 1, 'the comparison was asked for');
    assert.deepEqual(host.requests('compare/load')[0], { stages: ['qa', 'production'] }, 'the last two stages by default');
    const cell = (name: string, stage: string) => grid.locator(`tr[data-setting="${name}"] td[data-stage="${stage}"]`);
    assert.match(await cell('MaxRetries', 'qa').innerText(), /Set\s*5/);
    assert.match(await cell('MaxRetries', 'production').innerText(), /Default\s*3/);
    assert.match(await cell('PaymentApiKey', 'production').innerText(), /same as QA/);
    assert.match(await cell('SigningCert', 'qa').innerText(), /rotation due/);
    assert.match(await grid.locator('tr[data-setting="MaxRetries"] [data-role=equal]').innerText(), /Different/);
    assert.match(await grid.locator('tr[data-setting="Greeting"] [data-role=equal]').innerText(), /Equal/);
    const warnings = await page.locator('ul.warnings li').allInnerTexts();
    assert.equal(warnings.length, 3);
    assert.ok(warnings.some((w) => /same secret as in QA/.test(w)));

    // Choosing a third stage compares three.
    await page.locator('#cmp-development').check();
    await until(() => host.requests('compare/load').some((p) => p.stages.length === 3), 'three stages were compared');
    assert.deepEqual(host.requests('compare/load').at(-1), { stages: ['development', 'qa', 'production'] });

    const promote = page.locator('[data-action=promote-preview]');
    assert.equal((await promote.innerText()).trim(), 'Promote QA → Production…');
    await promote.click();
    const box = page.locator('.promote-preview');
    await box.locator('li[data-setting=MaxRetries]').waitFor();
    assert.match(await box.locator('li[data-setting=MaxRetries]').innerText(), /3\s*→\s*5/);
    assert.match(await box.locator('li[data-setting=SigningCert]').innerText(), /copied inside the portal/);
    assert.equal(host.requests('promote/apply').length, 0, 'nothing applied before the user confirms');
    assert.deepEqual(await seriousAxeViolations(s), [], 'the compare tab has no serious accessibility violation');
    await box.locator('[data-action=promote-apply]').click();
    await box.locator('[data-role=promote-done]').waitFor();
    assert.deepEqual(host.requests('promote/apply'), [{ from: 'qa', to: 'production', baseVersions: { SigningCert: 0, MaxRetries: 2 } }]);
    assert.match(await box.innerText(), /Promoted 2 setting\(s\) from QA to Production/);
  });
});
