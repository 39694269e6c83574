// SPEC §13: promote, against the real server (both stores). The dry run is the preview (and
// changes nothing); the apply copies effective values inside the server as one all-or-nothing
// write checked against the preview's versions; a secret never leaves the server; each setting
// is audited as a promote with its from and to stages.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { assertProblem, containsCanary, createRuntimeToken, newCanary, portalsForThisFile, STORE, type Portal } from '../support/portal';
import { withStoreDb } from '../support/store';
import { publishApp, setValues, stageView } from '../support/values';

const portals = portalsForThisFile();
let portal: Portal;

before(async () => {
  portal = await portals.start();
});

const SETTINGS = [
  { name: 'Retries', type: 'Integer', defaultValue: '3' },
  { name: 'Url', type: 'Text' },
  { name: 'Same', type: 'Text' },
  { name: 'ApiKey', type: 'Text', isSecret: true },
  { name: 'NoSource', type: 'Text', isSecret: true },
  { name: 'Zeta', type: 'Text' },
];

function promote(app: string, body: Record<string, unknown>, token?: string) {
  return portal.api('POST', `/apps/${app}/promote`, { body, ...(token === undefined ? {} : { token }) });
}

async function snapshot(app: string, stage: string) {
  return [...(await stageView(portal, app, stage)).values()].map((s) => [s.name, s.hasValue, s.value, s.version]);
}

async function prepare(app: string) {
  await publishApp(portal, app, SETTINGS);
  const key = newCanary('QAKEY');
  const prodKey = newCanary('PRODKEY');
  await setValues(portal, app, 'qa', { Url: 'http://qa', Same: 's', ApiKey: key, Zeta: 'z' });
  await setValues(portal, app, 'production', { Retries: '9', Same: 's', NoSource: prodKey, Url: 'http://old' });
  return { key, prodKey };
}

test('the dry run previews set, clear, unchanged and skipped with the target versions, and changes nothing', async () => {
  const app = 'pro-preview';
  const { key, prodKey } = await prepare(app);
  const before = await snapshot(app, 'production');
  const res = await promote(app, { from: 'qa', to: 'production', dryRun: true });
  assert.equal(res.status, 200, res.text);
  for (const c of [key, prodKey]) assert.equal(containsCanary(res.text, c), null);
  const body = res.body;
  assert.equal(body.dryRun, true);
  assert.deepEqual(
    body.changes.map((c: Record<string, unknown>) => [c.name, c.action, c.fromStatus, c.toStatus, c.fromValue, c.toValue]),
    [
      ['Retries', 'clear', 'default', 'own', '9', '3'],
      ['Url', 'set', 'own', 'own', 'http://old', 'http://qa'],
      ['ApiKey', 'set', 'own', 'missing', undefined, undefined],
      ['Zeta', 'set', 'own', 'unset', null, 'z'],
    ],
  );
  assert.deepEqual(body.unchanged, ['Same']);
  assert.deepEqual(body.skipped.map((s: { name: string }) => s.name), ['NoSource']);
  assert.deepEqual(body.baseVersions, { Retries: 1, Url: 1, ApiKey: 0, Zeta: 0 });
  assert.deepEqual(await snapshot(app, 'production'), before, 'a dry run changes nothing');
});

test('the apply copies the values inside the server, all at once, audited per setting as a promote from/to', async () => {
  const app = 'pro-apply';
  const { key, prodKey } = await prepare(app);
  const preview = await promote(app, { from: 'qa', to: 'production', dryRun: true });
  const res = await promote(app, { from: 'qa', to: 'production', baseVersions: preview.body.baseVersions });
  assert.equal(res.status, 200, res.text);
  for (const c of [key, prodKey]) assert.equal(containsCanary(res.text, c), null);
  assert.deepEqual(res.body.baseVersions, { Retries: 2, Url: 2, ApiKey: 1, Zeta: 1 });
  const prod = await stageView(portal, app, 'production');
  assert.deepEqual(
    ['Retries', 'Url', 'ApiKey', 'NoSource', 'Zeta'].map((n) => [prod.get(n)!.hasValue, prod.get(n)!.value]),
    [
      [false, null],
      [true, 'http://qa'],
      [true, '*****'],
      [true, '*****'],
      [true, 'z'],
    ],
  );
  const runtime = await createRuntimeToken(portal, app, 'production');
  const settings = (await portal.api('GET', '/runtime/settings', { token: runtime })).body.settings;
  assert.deepEqual([settings.ApiKey, settings.NoSource, settings.Retries], [key, prodKey, '3'], 'the secret arrived; the skipped one is untouched');
  // Compare now says equal for everything the promote touched.
  const cmp = await portal.api('GET', `/apps/${app}/compare?stages=qa,production`);
  assert.deepEqual(
    cmp.body.settings.filter((s: { equal: boolean }) => !s.equal).map((s: { name: string }) => s.name),
    ['NoSource'],
  );
  const audit = await portal.api('GET', `/apps/${app}/audit`);
  const promotes = (audit.body.events as Array<{ action: string; setting: string; stage: string; detail: { from: string; to: string } }>).filter((e) => e.action === 'value.promote');
  assert.deepEqual(promotes.map((e) => [e.setting, e.stage, e.detail.from, e.detail.to]).sort(), [
    ['ApiKey', 'production', 'qa', 'production'],
    ['Retries', 'production', 'qa', 'production'],
    ['Url', 'production', 'qa', 'production'],
    ['Zeta', 'production', 'qa', 'production'],
  ]);
  for (const c of [key, prodKey]) {
    assert.equal(containsCanary(audit.text, c), null);
    assert.equal(containsCanary(portal.output(), c), null);
  }
  // History of the target records the writes.
  const h = await portal.api('GET', `/apps/${app}/stages/production/settings/ApiKey/history`);
  assert.deepEqual(h.body.entries.map((e: { action: string; value: string }) => [e.action, e.value]), [['set', '*****']]);
});

test('an apply whose target moved since the preview is refused with 409 and writes nothing', async () => {
  const app = 'pro-stale';
  await prepare(app);
  const preview = await promote(app, { from: 'qa', to: 'production', dryRun: true });
  await setValues(portal, app, 'production', { Zeta: 'someone else' });
  const before = await snapshot(app, 'production');
  const refused = assertProblem(await promote(app, { from: 'qa', to: 'production', baseVersions: preview.body.baseVersions }), 409);
  assert.deepEqual(refused.conflicts, ['Zeta']);
  assert.deepEqual(await snapshot(app, 'production'), before);
});

test('a failure in the middle of an apply leaves the target as it was (all or nothing)', async () => {
  const app = 'pro-atomic';
  await prepare(app);
  const before = await snapshot(app, 'production');
  // A fault that cannot be caused from outside: the store refuses the history entry of the last
  // setting written (Zeta), after the others' writes went through in the same transaction.
  await withStoreDb(portal.dataDir, async (db) => {
    if (STORE === 'sqlite') {
      await db.run("CREATE TRIGGER fail_zeta BEFORE INSERT ON value_history WHEN NEW.name = 'Zeta' BEGIN SELECT RAISE(ABORT, 'forced'); END");
    } else {
      await db.run("CREATE FUNCTION fail_zeta() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.name = 'Zeta' THEN RAISE EXCEPTION 'forced'; END IF; RETURN NEW; END $$");
      await db.run('CREATE TRIGGER fail_zeta BEFORE INSERT ON value_history FOR EACH ROW EXECUTE FUNCTION fail_zeta()');
    }
  });
  try {
    const res = await promote(app, { from: 'qa', to: 'production' });
    assert.equal(res.status, 500, res.text);
    assert.deepEqual(await snapshot(app, 'production'), before, 'nothing of the promote stayed');
  } finally {
    await withStoreDb(portal.dataDir, (db) => db.run('DROP TRIGGER fail_zeta' + (STORE === 'postgres' ? ' ON value_history' : '')));
  }
  assert.equal((await promote(app, { from: 'qa', to: 'production' })).status, 200, 'and it works once the store does');
});

test('promote of chosen settings; unknown setting 404, unknown stage 404, same stage 422, bad body 400; scopes on from and to', async () => {
  const app = 'pro-rules';
  await prepare(app);
  const res = await promote(app, { from: 'qa', to: 'production', settings: ['Url'] });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.body.changes.map((c: { name: string }) => c.name), ['Url']);
  assert.equal((await stageView(portal, app, 'production')).get('Zeta')!.hasValue, false, 'settings not chosen are untouched');
  assertProblem(await promote(app, { from: 'qa', to: 'production', settings: ['Nope'] }), 404);
  assertProblem(await promote(app, { from: 'qa', to: 'staging' }), 404);
  assertProblem(await promote(app, { from: 'qa', to: 'qa' }), 422);
  assertProblem(await promote(app, { from: 'qa', to: 'production', extra: 1 }), 400);
  assertProblem(await promote(app, { from: 'qa', to: 'production', baseVersions: { Url: -1 } }), 400);
  // Read scope on from, write scope on to: a token for production only may not read qa.
  const prodOnly = await portal.api('POST', '/tokens', { body: { name: 'prod op', role: 'operator', apps: [app], stages: ['production'] } });
  assertProblem(await promote(app, { from: 'qa', to: 'production', dryRun: true }, prodOnly.body.token), 403);
  const both = await portal.api('POST', '/tokens', { body: { name: 'qa+prod op', role: 'operator', apps: [app], stages: ['qa', 'production'] } });
  assert.equal((await promote(app, { from: 'qa', to: 'production', dryRun: true }, both.body.token)).status, 200);
});
