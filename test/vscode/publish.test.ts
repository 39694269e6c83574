// Sign in and Publish App in a real extension host against a REAL portal server started here
// (node bin/odc-portal.js serve on port 0, its own data dir). The deletion confirmation goes
// through the injectable confirm seam; the real modal is in the workbench UI tests.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { AppResponse, PublishResponse, StageSettingsResponse } from '../../common/api';
import type { PublishOutcome } from '../../extension/commands/publishApp';
import type { SignInOutcome } from '../../extension/commands/signIn';
import { describeFailure } from '../../extension/publish/portalFailures';
import { PortalClient } from '../../extension/services/portalClient';
import type { OdcSettingsApi } from '../../extension/testApi';
import type { ConfirmRequest } from '../../extension/ui/confirm';
import { signInFromAccountsMenu } from './support/auth';
import { startPortal, type TestPortal } from './support/portal';
import { activateExtension, extensionRoot, fixture, readDefinitions, readDefinitionsText, resetDefinitions, waitFor, workspaceFolder } from './support/workspace';

const run = <T>(command: string, ...args: unknown[]) => vscode.commands.executeCommand<T>(command, ...args);

/** Every file under a directory (skipping sockets and the like). */
function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return filesUnder(full);
    return e.isFile() ? [full] : [];
  });
}

suite('Sign in and Publish App against a real portal', () => {
  let api: OdcSettingsApi;
  let portal: TestPortal;
  let asked: ConfirmRequest[];
  let onConfirm: (req: ConfirmRequest) => Promise<boolean>;
  let restore: vscode.Disposable;

  const app = async () => (await portal.api<AppResponse>('GET', '/apps/orders')).body;
  const stage = async (key: string) => (await portal.api<StageSettingsResponse>('GET', `/apps/orders/stages/${key}/settings`)).body;
  const setValue = async (stageKey: string, name: string, value: string) => {
    const current = (await stage(stageKey)).settings.find((s) => s.name === name)!;
    const res = await portal.api('PATCH', `/apps/orders/stages/${stageKey}/settings`, { changes: [{ name, value, baseVersion: current.version }] });
    assert.equal(res.status, 200, JSON.stringify(res.body));
  };
  const publish = () => run<PublishOutcome>('odcSettings.publishApp');

  suiteSetup(async function () {
    this.timeout(60_000);
    api = await activateExtension();
    portal = await startPortal(extensionRoot());
    restore = api.replaceConfirm(async (req) => {
      asked.push(req);
      return onConfirm(req);
    });
    await resetDefinitions(api, fixture('orders/odc-app.json'));
    // Start signed out of this portal, whatever an earlier run left.
    await vscode.workspace.getConfiguration('odcSettings').update('serverUrl', portal.url, vscode.ConfigurationTarget.Global);
    // Let this extension use this portal's account, as a user does once from the Accounts menu
    // (the Sign In command's first-time consent dialog cannot be clicked in extension tests).
    assert.equal((await signInFromAccountsMenu(api, portal.url, portal.adminToken)).error, undefined);
    await run('odcSettings.signOut');
  });

  suiteTeardown(async () => {
    restore?.dispose();
    await portal?.stop();
  });

  setup(() => {
    asked = [];
    onConfirm = async () => true;
  });

  test('publishing while signed out says so and offers Sign In; nothing is sent', async () => {
    const outcome = await publish();
    assert.equal(outcome.status, 'failed');
    assert.equal(outcome.status === 'failed' && outcome.kind, 'not-signed-in');
    assert.equal((await portal.api('GET', '/apps/orders')).status, 404);
    await api.refreshStatus();
    assert.equal(api.status().state, 'signed-out');
  });

  test('a wrong token is refused at sign-in and not stored', async () => {
    const outcome = await run<SignInOutcome>('odcSettings.signIn', { serverUrl: portal.url, token: 'odcp_not-a-real-token' });
    assert.equal(outcome.status, 'failed');
    assert.match(outcome.status === 'failed' ? outcome.message : '', /did not accept that token/);
    await api.refreshStatus();
    assert.equal(api.status().state, 'signed-out');
  });

  test('sign-in verifies the token and stores it only in SecretStorage (not in settings, state or any file)', async () => {
    const outcome = await run<SignInOutcome>('odcSettings.signIn', { serverUrl: portal.url, token: portal.adminToken });
    assert.deepEqual(outcome, { status: 'signed-in', serverUrl: portal.url, stages: ['Development', 'QA', 'Production'] });
    await api.refreshStatus();
    assert.equal(api.status().state, 'unpublished');

    const state = JSON.stringify(api.storedState());
    assert.ok(!state.includes(portal.adminToken), 'not in workspace or global state');
    const userDataDir = path.resolve(api.globalStorageUri.fsPath, '../../..');
    // VS Code writes the extension's log to disk a moment after the fact. Sign-in logs "signed in
    // to <url>" last: once that line is in a file, everything sign-in wrote before it is too, and
    // the scan below cannot run ahead of a late write (as a fixed sleep could on a slow machine).
    const lastLine = `signed in to ${portal.url}`;
    await waitFor(() => assert.ok(filesUnder(userDataDir).some((f) => fs.readFileSync(f, 'utf8').includes(lastLine))), `"${lastLine}" in a log file under ${userDataDir}`, 20_000);
    const places = [...filesUnder(userDataDir), ...filesUnder(workspaceFolder().uri.fsPath)];
    assert.ok(places.some((f) => f.endsWith(path.join('User', 'settings.json'))), `the user settings file is among the files searched (${userDataDir})`);
    const leaks = places.filter((f) => fs.readFileSync(f).includes(portal.adminToken));
    assert.deepEqual(leaks, [], 'no file under the user data dir or the workspace holds the token');
    const userSettings = fs.readFileSync(path.join(userDataDir, 'User', 'settings.json'), 'utf8');
    assert.ok(userSettings.includes(portal.url), 'the server URL (no secret) is a setting');
  });

  test('publish creates revision 1; publishing again changes nothing; the status bar follows', async () => {
    const first = await publish();
    assert.equal(first.status, 'published');
    assert.equal(first.status === 'published' && first.revision, 1);
    assert.deepEqual(first.status === 'published' && first.plan.added, ['PaymentApiKey', 'MaxRetries', 'Greeting']);
    const published = await app();
    assert.equal(published.revision, 1);
    assert.deepEqual(published.settings.map((s) => [s.name, s.isSecret, s.defaultValue]), [
      ['PaymentApiKey', true, null],
      ['MaxRetries', false, '3'],
      ['Greeting', false, 'hello'],
    ]);
    assert.equal(api.status().state, 'in-sync');
    assert.equal(api.status().revision, 1);

    const again = await publish();
    assert.deepEqual(again, { status: 'up-to-date', revision: 1 });
    assert.equal((await app()).revision, 1, 'no new revision');
    assert.equal(asked.length, 0, 'nothing destructive, nothing asked');

    // A local change shows in the status bar until published.
    await run('odcSettings.editDescription', { name: 'Greeting', description: 'Shown on the home page' });
    await waitFor(async () => {
      await api.refreshStatus();
      assert.equal(api.status().state, 'changed');
    }, 'the status bar to see the local change');
    assert.equal((await publish()).status, 'published');
    assert.equal(api.status().state, 'in-sync');
    assert.equal(api.status().revision, 2);
  });

  test('unchecking Is Secret on a setting with stage values lists them; declining leaves the server unchanged; accepting deletes them', async () => {
    await setValue('development', 'PaymentApiKey', 'dev-key-value');
    await setValue('production', 'PaymentApiKey', 'prod-key-value');
    assert.equal(await run('odcSettings.setSecret', { name: 'PaymentApiKey', isSecret: false }), true);
    assert.equal(asked[0]?.kind, 'unmark-secret');

    onConfirm = async () => false;
    const declined = await publish();
    assert.equal(declined.status, 'cancelled');
    const deletion = asked.find((a) => a.kind === 'publish-deletions');
    assert.ok(deletion, 'the deletion confirmation was shown');
    assert.deepEqual(deletion.items, ['PaymentApiKey in Development: no longer secret', 'PaymentApiKey in Production: no longer secret']);
    assert.match(deletion.detail, /• PaymentApiKey in Development: no longer secret\n• PaymentApiKey in Production: no longer secret/);
    assert.ok(!JSON.stringify(asked).includes('key-value'), 'the confirmation shows no value');
    const unchanged = await app();
    assert.equal(unchanged.revision, 2);
    assert.equal(unchanged.settings[0]!.isSecret, true);
    assert.equal((await stage('development')).settings[0]!.hasValue, true);
    assert.equal((await stage('production')).settings[0]!.hasValue, true);

    onConfirm = async () => true;
    const accepted = await publish();
    assert.equal(accepted.status, 'published');
    assert.deepEqual(accepted.status === 'published' && accepted.plan.deletions, [
      { setting: 'PaymentApiKey', stage: 'development', reason: 'secret-to-non-secret' },
      { setting: 'PaymentApiKey', stage: 'production', reason: 'secret-to-non-secret' },
    ]);
    assert.equal((await app()).revision, 3);
    for (const key of ['development', 'production']) {
      const s = (await stage(key)).settings[0]!;
      assert.equal(s.isSecret, false);
      assert.equal(s.hasValue, false, `${key}: the secret's value is gone`);
    }
  });

  test('a publish based on a stale revision is refused with 409 and an offer to plan again; the file is untouched', async () => {
    await setValue('qa', 'MaxRetries', '5');
    await run('odcSettings.deleteSetting', { name: 'MaxRetries' });
    const fileBefore = readDefinitionsText();
    onConfirm = async (req) => {
      if (req.kind !== 'publish-deletions') return true;
      // While the user reads the confirmation, someone else publishes.
      const other = JSON.parse(fixture('orders/odc-app.json'));
      other.app.name = 'Orders (theirs)';
      const res = await portal.api<PublishResponse>('POST', '/apps/orders/publish', { definitions: other });
      assert.equal(res.status, 200);
      return true;
    };
    const outcome = await publish();
    assert.equal(outcome.status, 'failed');
    if (outcome.status !== 'failed') return;
    assert.equal(outcome.kind, 'conflict');
    assert.equal(outcome.httpStatus, 409);
    assert.match(outcome.message, /Someone else published "orders" meanwhile/);
    assert.match(outcome.message, /plan again/);
    assert.equal(outcome.message.match(/meanwhile/g)?.length, 1, `no doubled sentence: ${outcome.message}`);
    assert.equal(outcome.message.match(/plan again/gi)?.length, 1, `no doubled sentence: ${outcome.message}`);
    assert.doesNotMatch(outcome.message, /\.\./);
    const current = await app();
    assert.equal(current.revision, 4, "only the other publish landed");
    assert.equal(current.name, 'Orders (theirs)');
    assert.equal((await stage('qa')).settings.find((s) => s.name === 'MaxRetries')?.hasValue, true, 'the value was not deleted');
    assert.equal(readDefinitionsText(), fileBefore);

    // Planning again shows the deletion against the new revision, and goes through.
    asked = [];
    onConfirm = async () => true;
    const retried = await publish();
    assert.equal(retried.status, 'published');
    assert.equal(retried.status === 'published' && retried.revision, 5);
    assert.deepEqual(asked.find((a) => a.kind === 'publish-deletions')?.items, ['MaxRetries in QA: the setting is removed']);
  });

  test('a file with problems is not sent: the errors are in the Problems panel', async () => {
    const revision = (await app()).revision;
    const doc = readDefinitions();
    doc.settings.push({ name: 'Port', type: 'Integer', defaultValue: 'eighty' });
    fs.writeFileSync(path.join(workspaceFolder().uri.fsPath, 'odc-app.json'), JSON.stringify(doc, null, 2) + '\n');
    await run('odcSettings.refresh');
    const outcome = await publish();
    assert.equal(outcome.status, 'invalid');
    assert.match(outcome.status === 'invalid' ? outcome.problems.join() : '', /settings\.\d\.defaultValue: default value must be a whole number/);
    assert.equal((await app()).revision, revision);
    const problems = vscode.languages.getDiagnostics(vscode.Uri.file(path.join(workspaceFolder().uri.fsPath, 'odc-app.json'))).filter((d) => d.source === 'ODC Settings');
    assert.equal(problems.length, 1);
  });

  test('the portal\'s 401, 403 and 422 answers become clear messages (a 422 names the setting)', async () => {
    // 422 from the real server: publish a rule-breaking document past the local check.
    const client = new PortalClient({ serverUrl: portal.url, token: portal.adminToken });
    const bad = JSON.parse(fixture('orders/odc-app.json'));
    bad.settings[1].defaultValue = 'lots';
    const err422 = await client.publish('orders', { definitions: bad, dryRun: true }).then(() => undefined, (e: unknown) => e);
    const f422 = describeFailure(err422, { serverUrl: portal.url, app: 'orders' });
    assert.equal(f422.kind, 'invalid');
    assert.match(f422.message, /MaxRetries: default value must be a whole number/);
    assert.ok(!f422.message.includes('lots'));

    // 403 through the command: an operator may not publish.
    await resetDefinitions(api, fixture('orders/odc-app.json'));
    const op = await portal.api<{ token: string }>('POST', '/tokens', { name: 'ops', role: 'operator' });
    assert.equal((await run<SignInOutcome>('odcSettings.signIn', { serverUrl: portal.url, token: op.body.token })).status, 'signed-in');
    const forbidden = await publish();
    assert.equal(forbidden.status === 'failed' && forbidden.kind, 'forbidden');
    assert.equal(forbidden.status === 'failed' ? forbidden.message : '', 'An operator token may not publish. Ask an admin for a developer token.');

    // 401 through the command: a developer token revoked after sign-in.
    const dev = await portal.api<{ id: string; token: string }>('POST', '/tokens', { name: 'dev', role: 'developer' });
    assert.equal((await run<SignInOutcome>('odcSettings.signIn', { serverUrl: portal.url, token: dev.body.token })).status, 'signed-in');
    assert.equal((await portal.api('DELETE', `/tokens/${dev.body.id}`)).status, 204);
    const unauthorized = await publish();
    assert.equal(unauthorized.status === 'failed' && unauthorized.kind, 'unauthorized');
    assert.match(unauthorized.status === 'failed' ? unauthorized.message : '', /Sign in again/);
    for (const t of [op.body.token, dev.body.token]) assert.ok(!JSON.stringify([forbidden, unauthorized]).includes(t), 'no token in a message');

    assert.equal((await run<SignInOutcome>('odcSettings.signIn', { serverUrl: portal.url, token: portal.adminToken })).status, 'signed-in');
  });

  test('a long deletion list is capped in the modal with "and N more"; Show All opens the whole plan read-only', async () => {
    const base = JSON.parse(fixture('orders/odc-app.json'));
    const extras = Array.from({ length: 20 }, (_, i) => ({ name: `Extra${String(i + 1).padStart(2, '0')}`, type: 'Text' }));
    await resetDefinitions(api, JSON.stringify({ ...base, settings: [...base.settings, ...extras] }, null, 2) + '\n');
    assert.equal((await publish()).status, 'published');
    const dev = await stage('development');
    const changes = extras.map((e) => ({ name: e.name, value: `v-${e.name}`, baseVersion: dev.settings.find((s) => s.name === e.name)!.version }));
    assert.equal((await portal.api('PATCH', '/apps/orders/stages/development/settings', { changes })).status, 200);
    await resetDefinitions(api, fixture('orders/odc-app.json'));

    let planDoc: vscode.TextDocument | undefined;
    onConfirm = async (req) => {
      if (req.kind !== 'publish-deletions') return true;
      assert.ok(req.more, 'a Show All button');
      assert.equal(req.more.label, 'Show All');
      await req.more.run();
      planDoc = vscode.window.activeTextEditor?.document;
      return false;
    };
    const outcome = await publish();
    assert.equal(outcome.status, 'cancelled');
    const req = asked.find((a) => a.kind === 'publish-deletions')!;
    assert.equal(req.items?.length, 20);
    const bullets = req.detail.split('\n').filter((l) => l.startsWith('• '));
    assert.equal(bullets.length, 14, 'at most 15 lines of the list in the modal');
    assert.match(req.detail, /…and 6 more/);
    assert.ok(planDoc, 'Show All opened a document');
    assert.equal(planDoc.uri.scheme, 'odc-plan', 'a read-only (content provider) document');
    for (const e of extras) assert.ok(planDoc.getText().includes(`${e.name} in Development: the setting is removed`), `the plan lists ${e.name}`);
    assert.ok(!planDoc.getText().includes('v-Extra'), 'the plan holds no value');
    assert.equal((await app()).settings.length, 23, 'cancelled: nothing changed');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    onConfirm = async () => true;
    assert.equal((await publish()).status, 'published');
  });

  test('a rename asks first, saying publishing deletes the old name\'s values in every stage (secrets included); the plan lists them', async () => {
    await resetDefinitions(api, fixture('orders/odc-app.json'));
    assert.equal((await publish()).status !== 'failed', true);
    await setValue('qa', 'PaymentApiKey', 'qa-secret-value');
    await setValue('production', 'PaymentApiKey', 'prod-secret-value');
    onConfirm = async (req) => req.kind !== 'rename-setting';
    assert.equal(await run('odcSettings.renameSetting', { name: 'PaymentApiKey', newName: 'PaymentKey' }), undefined, 'declined: no rename');
    assert.equal(readDefinitions().settings[0]!.name, 'PaymentApiKey');
    const question = asked.find((a) => a.kind === 'rename-setting')!;
    assert.match(question.message, /Rename "PaymentApiKey" to "PaymentKey"\?/);
    assert.match(question.detail, /deletes every stage's values of "PaymentApiKey" \(a secret: its values are gone for good\)/);

    asked = [];
    onConfirm = async (req) => req.kind === 'rename-setting';
    assert.equal(await run('odcSettings.renameSetting', { name: 'PaymentApiKey', newName: 'PaymentKey' }), 'PaymentKey');
    const declined = await publish();
    assert.equal(declined.status, 'cancelled');
    const plan = asked.find((a) => a.kind === 'publish-deletions')!;
    assert.deepEqual(plan.items, ['PaymentApiKey in QA: the setting is removed', 'PaymentApiKey in Production: the setting is removed']);
    assert.match(plan.detail, /renamed setting .* secrets included/);
    assert.ok(!JSON.stringify(asked).includes('secret-value'));
    await resetDefinitions(api, fixture('orders/odc-app.json'));
  });

  test('a stopped server gives a clear "cannot reach" error and leaves the file untouched', async () => {
    await run('odcSettings.editDescription', { name: 'Greeting', description: 'Changed while the server is down' });
    const before = readDefinitionsText();
    await portal.stop();
    const outcome = await publish();
    assert.equal(outcome.status, 'failed');
    if (outcome.status !== 'failed') return;
    assert.equal(outcome.kind, 'unreachable');
    assert.match(outcome.message, /Cannot reach the portal at http:\/\/127\.0\.0\.1:\d+/);
    assert.match(outcome.message, /definitions file is untouched/);
    assert.equal(readDefinitionsText(), before);
    await api.refreshStatus();
    assert.equal(api.status().state, 'error');
  });
});
