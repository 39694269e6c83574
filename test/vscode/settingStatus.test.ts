// Issue 14 item 9: signed in, the Settings tree shows per setting the portal's compact status
// ("missing in Production", "rotation due", "same as QA") in the description and the tooltip,
// never a value; one round of requests per refresh (not one per tree item); nothing signed out.
// Against a REAL portal (node bin/odc-portal.js serve) in a real extension host.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { StageSettingsResponse } from '../../common/api';
import type { OdcSettingsApi } from '../../extension/testApi';
import type { TreeNode } from '../../extension/views/treeNodes';
import { signInFromAccountsMenu } from './support/auth';
import { projectNode, startPortal, type TestPortal } from './support/portal';
import { activateExtension, extensionRoot, resetDefinitions, treeSettings, waitFor } from './support/workspace';

const run = <T = unknown>(command: string, ...args: unknown[]) => vscode.commands.executeCommand<T>(command, ...args);

const CANARY = 'CANARY-tree-status-7f3a91';
const PLAIN_VALUE = 'plain-stage-value-55821';
const EXTRA = Array.from({ length: 20 }, (_, i) => ({ name: `Extra${i}`, type: 'Text', defaultValue: 'x' }));
const DEFINITIONS = {
  app: { key: 'orders', name: 'Orders' },
  settings: [
    { name: 'PaymentApiKey', type: 'Text', isSecret: true, rotationDays: 30 },
    { name: 'TestKey', type: 'Text', isSecret: true },
    { name: 'MaxRetries', type: 'Integer', defaultValue: '3' },
    ...EXTRA,
  ],
};

/** Each shown setting as "Name: description", and every tooltip's text. */
function shown(api: OdcSettingsApi): { rows: string[]; tooltips: string } {
  const rows = treeSettings(api).map((s) => `${s.label}: ${s.description}`);
  const roots = api.settingsTree.getChildren() as TreeNode[];
  const nodes = (api.settingsTree.getChildren(roots[0]) as TreeNode[]).filter((n) => n.kind === 'setting');
  const tooltips = nodes
    .map((n) => {
      const t = (api.settingsTree.getTreeItem(n) as vscode.TreeItem).tooltip;
      // The Markdown's text as the user reads it (its escapes removed).
      return (typeof t === 'string' ? t : (t?.value ?? '')).replace(/\\(.)/g, '$1');
    })
    .join('\n');
  return { rows, tooltips };
}

suite('Settings tree: the portal status per setting', () => {
  let api: OdcSettingsApi;
  /** Waits until no status fetch is under way (a render starts one when the cache is empty). */
  const settled = () => waitFor(() => assert.equal(api.settingStatus().settled, true), 'the status fetch to finish');
  let portal: TestPortal;

  const setValue = async (stage: string, name: string, value: string) => {
    const current = (await portal.api<StageSettingsResponse>('GET', `/apps/orders/stages/${stage}/settings`)).body.settings.find((s) => s.name === name)!;
    const res = await portal.api('PATCH', `/apps/orders/stages/${stage}/settings`, { changes: [{ name, value, baseVersion: current.version }] });
    assert.equal(res.status, 200, JSON.stringify(res.body));
  };

  suiteSetup(async function () {
    this.timeout(60_000);
    api = await activateExtension();
    portal = await startPortal(extensionRoot());
    await vscode.workspace.getConfiguration('odcSettings').update('serverUrl', portal.url, vscode.ConfigurationTarget.Global);
    await run('odcSettings.signOut');
    await resetDefinitions(api, JSON.stringify(DEFINITIONS, null, 2) + '\n');
    assert.equal((await portal.api('POST', '/apps/orders/publish', { definitions: DEFINITIONS })).status, 200);
    // TestKey: the same secret in Development and Production, none in QA. PaymentApiKey: none in
    // Development; Production's is older than its rotationDays. A plain value in QA.
    await setValue('development', 'TestKey', CANARY);
    await setValue('production', 'TestKey', CANARY);
    await setValue('qa', 'PaymentApiKey', `${CANARY}-qa`);
    await setValue('production', 'PaymentApiKey', `${CANARY}-prod`);
    await setValue('qa', 'MaxRetries', '55821');
    await setValue('qa', 'Extra0', PLAIN_VALUE);
    // Time cannot be moved in a running portal: the value's write time is moved back instead
    // (with the project's Node, whose better-sqlite3 build this is).
    const longAgo = new Date(Date.now() - 31 * 86_400_000).toISOString();
    execFileSync(
      projectNode(),
      ['-e', "const D = require('better-sqlite3'); const db = new D(process.argv[1]); db.prepare(\"UPDATE stage_values SET updated_at = ? WHERE app_key = 'orders' AND name = 'PaymentApiKey' AND stage = 'production'\").run(process.argv[2]); db.close();", path.join(portal.dataDir, 'portal.db'), longAgo],
      { cwd: extensionRoot() },
    );
  });

  suiteTeardown(async () => {
    await run('odcSettings.signOut');
    await portal?.stop();
  });

  test('signed out: no status and no request to the portal', async () => {
    const before = api.settingStatus().requests;
    await run('odcSettings.refresh');
    const { rows } = await waitFor(() => {
      const s = shown(api);
      assert.equal(s.rows.length, 23);
      return s;
    }, 'the tree to list the settings');
    await settled();
    assert.deepEqual(shown(api).rows.slice(0, 3), ['PaymentApiKey: Text · *****', 'TestKey: Text · *****', 'MaxRetries: Integer · 3']);
    assert.deepEqual(rows.slice(0, 3), shown(api).rows.slice(0, 3));
    assert.equal(api.settingStatus().requests, before, 'no request while signed out');
  });

  test('signed in: "missing in", "rotation due" and "same as" in the description and the tooltip, never a value; one round per refresh', async () => {
    assert.equal((await signInFromAccountsMenu(api, portal.url, portal.adminToken)).error, undefined);
    await run('odcSettings.refresh');
    const expected = ['PaymentApiKey: Text · ***** · missing in Development · rotation due', 'TestKey: Text · ***** · missing in QA · same as Development', 'MaxRetries: Integer · 3'];
    await waitFor(() => assert.deepEqual(shown(api).rows.slice(0, 3), expected), 'the portal status in the tree', 15_000);
    const { rows, tooltips } = shown(api);
    assert.ok(rows.slice(3).every((r) => /^Extra\d+: Text · "x"$/.test(r)), `no status on settings without a warning: ${rows.slice(3).join(', ')}`);
    assert.match(tooltips, /No value in Development: set it before you deploy\./);
    assert.match(tooltips, /Production has the same secret as Development: give Production its own\./);
    assert.match(tooltips, /Older than its rotationDays in Production: rotate it\./);
    const everything = JSON.stringify({ rows, tooltips });
    for (const value of [CANARY, PLAIN_VALUE, '55821']) assert.ok(!everything.includes(value), `the tree shows no value (${value})`);

    // Rendering again (every item, several times) asks nothing more: the status was one round.
    const afterFirst = api.settingStatus().requests;
    for (let i = 0; i < 5; i++) shown(api);
    await settled();
    assert.equal(api.settingStatus().requests, afterFirst);

    // A change in the portal shows after the next refresh, which is again one round (2 requests at once).
    await setValue('development', 'PaymentApiKey', `${CANARY}-dev`);
    await setValue('qa', 'TestKey', `${CANARY}-qa2`);
    await run('odcSettings.refresh');
    await waitFor(() => assert.deepEqual(shown(api).rows.slice(0, 2), ['PaymentApiKey: Text · ***** · rotation due', 'TestKey: Text · ***** · same as Development']), 'the refreshed status', 15_000);
    assert.equal(api.settingStatus().requests - afterFirst, 2, 'stages + compare, not one request per setting');
  });

  test('a publish asks again, keeps the status shown meanwhile, and renders the tree again only when the answer differs', async () => {
    // A re-render under the pointer can swallow a click on an Is Secret box: none without a reason.
    const withStatus = ['PaymentApiKey: Text · ***** · rotation due', 'TestKey: Text · ***** · same as Development'];
    const described = { ...DEFINITIONS, settings: DEFINITIONS.settings.map((s) => (s.name === 'MaxRetries' ? { ...s, description: 'Retries before giving up' } : s)) };
    await resetDefinitions(api, JSON.stringify(described, null, 2) + '\n');
    await waitFor(() => assert.deepEqual(shown(api).rows.slice(0, 2), withStatus), 'the status after the reset');
    await settled();
    // Quiet first: no render left over from the reset.
    let lastRender = Date.now();
    const renders: number[] = [];
    const sub = api.settingsTree.onDidChangeTreeData!(() => ((lastRender = Date.now()), renders.push(lastRender)));
    try {
      await waitFor(() => assert.ok(Date.now() - lastRender >= 600), 'the tree to be quiet');
      renders.length = 0;
      const before = api.settingStatus().requests;
      const outcome = await run<{ status: string }>('odcSettings.publishApp');
      assert.equal(outcome?.status, 'published');
      assert.deepEqual(shown(api).rows.slice(0, 2), withStatus, 'the status stays shown while it is asked again');
      await waitFor(() => assert.equal(api.settingStatus().requests, before + 2), 'the status to be asked again after the publish');
      await settled();
      assert.equal(renders.length, 0, 'the same answer renders nothing again');

      // A different answer does render: Production gets its own TestKey.
      await setValue('production', 'TestKey', `${CANARY}-prod-own`);
      const publishedAgain = await (async () => {
        const again = { ...described, settings: described.settings.map((s) => (s.name === 'MaxRetries' ? { ...s, description: 'Retries, then give up' } : s)) };
        await resetDefinitions(api, JSON.stringify(again, null, 2) + '\n');
        return run<{ status: string }>('odcSettings.publishApp');
      })();
      assert.equal(publishedAgain?.status, 'published');
      await waitFor(() => assert.deepEqual(shown(api).rows.slice(0, 2), ['PaymentApiKey: Text · ***** · rotation due', 'TestKey: Text · *****']), 'the new status', 15_000);
    } finally {
      sub.dispose();
    }
  });

  test('signing out takes the status away at once and asks nothing more', async () => {
    const before = api.settingStatus().requests;
    await run('odcSettings.signOut');
    await waitFor(() => assert.deepEqual(shown(api).rows.slice(0, 2), ['PaymentApiKey: Text · *****', 'TestKey: Text · *****']), 'the status to go');
    await run('odcSettings.refresh');
    shown(api);
    await settled();
    assert.deepEqual(shown(api).rows.slice(0, 2), ['PaymentApiKey: Text · *****', 'TestKey: Text · *****']);
    assert.equal(api.settingStatus().requests, before);
  });
});
