// SPEC §13: compare, the warnings and rotationDays, against the real server (both stores).
// Stages side by side (own/default/missing/unset, non-secret values shown, equal or not);
// secrets compared by keyed fingerprints that never leave the server and without opening a
// secret; missing / same-as-lower-stage / rotation-due warnings; rotationDays' rules.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { assertProblem, containsCanary, createRuntimeToken, defsFor, newCanary, portalsForThisFile, STORE, type Portal } from '../support/portal';
import { withStoreDb } from '../support/store';
import { publishApp, setValues, stageView } from '../support/values';

interface Cell {
  status: string;
  value?: string | null;
  version: number;
  dueForRotation?: boolean;
  sameAs?: string;
}
interface CompareBody {
  app: string;
  stages: string[];
  settings: Array<{ name: string; isSecret: boolean; stages: Record<string, Cell>; equal: boolean }>;
  warnings: Array<{ setting: string; stage: string; kind: string; lowerStage?: string; detail: string }>;
}

const SEALED = STORE === 'postgres' ? 'sealed' : 'secret';
const portals = portalsForThisFile();
let portal: Portal;

before(async () => {
  portal = await portals.start();
});

async function compare(app: string, stages: string, token?: string) {
  const res = await portal.api('GET', `/apps/${app}/compare?stages=${stages}`, token === undefined ? {} : { token });
  return res;
}

test('compare shows own/default/missing/unset per stage, non-secret values, and equal across the stages', async () => {
  const app = 'cmp-states';
  await publishApp(portal, app, [
    { name: 'Retries', type: 'Integer', defaultValue: '3' },
    { name: 'Url', type: 'Text' },
    { name: 'Same', type: 'Text' },
    { name: 'ApiKey', type: 'Text', isSecret: true },
    { name: 'Shared', type: 'Text', isSecret: true },
    { name: 'Unset', type: 'Text', isSecret: true },
  ]);
  const [qaKey, prodKey, shared] = [newCanary('QAKEY'), newCanary('PRODKEY'), newCanary('SHARED')];
  await setValues(portal, app, 'qa', { Retries: '5', Url: 'http://qa', Same: 'x', ApiKey: qaKey, Shared: shared });
  await setValues(portal, app, 'production', { Same: 'x', ApiKey: prodKey, Shared: shared });
  const res = await compare(app, 'production,qa');
  assert.equal(res.status, 200, res.text);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  const body = res.body as CompareBody;
  assert.deepEqual(body.stages, ['qa', 'production'], 'stages in the configured order');
  const by = new Map(body.settings.map((s) => [s.name, s]));
  const cells = (name: string) => ['qa', 'production'].map((st) => {
    const c = by.get(name)!.stages[st]!;
    return 'value' in c ? [c.status, c.value] : [c.status];
  });
  assert.deepEqual(cells('Retries'), [['own', '5'], ['default', '3']]);
  assert.deepEqual(cells('Url'), [['own', 'http://qa'], ['unset', null]]);
  assert.deepEqual(cells('Same'), [['own', 'x'], ['own', 'x']]);
  assert.deepEqual(cells('ApiKey'), [['own'], ['own']], 'a secret has no value field at all');
  assert.deepEqual(cells('Unset'), [['missing'], ['missing']]);
  assert.deepEqual(
    Object.fromEntries(body.settings.map((s) => [s.name, s.equal])),
    { Retries: false, Url: false, Same: true, ApiKey: false, Shared: true, Unset: true },
  );
  assert.equal(by.get('Shared')!.stages.production!.sameAs, 'qa');
  assert.equal(by.get('ApiKey')!.stages.production!.sameAs, undefined);
  for (const c of [qaKey, prodKey, shared]) assert.equal(containsCanary(res.text, c), null, 'a secret in the compare answer');

  // The fingerprints themselves never leave the server (searched in every encoding).
  const prints = await withStoreDb(portal.dataDir, (db) => db.all<{ fingerprint: Buffer }>('SELECT fingerprint FROM stage_values WHERE app_key = ? AND fingerprint IS NOT NULL', app), { readonly: true });
  assert.equal(prints.length, 4, 'each stored secret carries a fingerprint');
  for (const { fingerprint } of prints) {
    for (const form of [fingerprint.toString('hex'), fingerprint.toString('base64'), fingerprint.toString('base64url')]) {
      assert.ok(!res.text.includes(form), 'a fingerprint in the compare answer');
      assert.ok(!portal.output().includes(form), 'a fingerprint in the log');
    }
  }
  // Fingerprints are keyed and bound to the app and setting: the same secret under another name differs.
  const sharedPrints = await withStoreDb(portal.dataDir, (db) => db.all<{ fingerprint: Buffer }>("SELECT fingerprint FROM stage_values WHERE app_key = ? AND name = 'Shared'", app), { readonly: true });
  assert.ok(sharedPrints[0]!.fingerprint.equals(sharedPrints[1]!.fingerprint));
});

test('compare opens no secret: one whose ciphertext is damaged still compares (the run-time read fails loudly)', async () => {
  const app = 'cmp-nodecrypt';
  await publishApp(portal, app, [{ name: 'ApiKey', type: 'Text', isSecret: true }]);
  const key = newCanary('KEY');
  await setValues(portal, app, 'qa', { ApiKey: key });
  await setValues(portal, app, 'production', { ApiKey: key });
  await withStoreDb(portal.dataDir, (db) => db.run(`UPDATE stage_values SET ${SEALED} = ? WHERE app_key = ? AND stage = 'production'`, Buffer.alloc(60, 7), app));
  const runtime = await createRuntimeToken(portal, app, 'production');
  assert.equal((await portal.api('GET', '/runtime/settings', { token: runtime })).status, 500, 'positive control: opening it fails');
  const res = await compare(app, 'qa,production');
  assert.equal(res.status, 200, res.text);
  assert.equal((res.body as CompareBody).settings[0]!.equal, true);
});

test('warnings: a secret missing in a stage, a Production secret the same as a lower stage, a secret older than rotationDays', async () => {
  const app = 'cmp-warn';
  await publishApp(portal, app, [
    { name: 'Missing', type: 'Text', isSecret: true },
    { name: 'TestKey', type: 'Text', isSecret: true },
    { name: 'Old', type: 'Text', isSecret: true, rotationDays: 30 },
    { name: 'Fresh', type: 'Text', isSecret: true, rotationDays: 30 },
    { name: 'Plain', type: 'Text' },
  ]);
  const testKey = newCanary('TESTKEY');
  await setValues(portal, app, 'development', { TestKey: testKey, Missing: newCanary() });
  await setValues(portal, app, 'production', { TestKey: testKey, Old: newCanary(), Fresh: newCanary() });
  await setValues(portal, app, 'qa', { TestKey: newCanary(), Missing: newCanary(), Old: newCanary(), Fresh: newCanary() });
  // Time cannot be moved in a running server: the value's write time is moved back instead.
  const longAgo = new Date(Date.now() - 31 * 86_400_000).toISOString();
  await withStoreDb(portal.dataDir, (db) => db.run("UPDATE stage_values SET updated_at = ? WHERE app_key = ? AND name = 'Old' AND stage = 'production'", longAgo, app));

  const res = await compare(app, 'development,qa,production');
  assert.equal(res.status, 200, res.text);
  const warnings = (res.body as CompareBody).warnings.map((w) => [w.kind, w.setting, w.stage, w.lowerStage ?? null]);
  assert.deepEqual(
    warnings.sort(),
    [
      ['missing', 'Fresh', 'development', null],
      ['missing', 'Missing', 'production', null],
      ['missing', 'Old', 'development', null],
      ['rotation-due', 'Old', 'production', null],
      ['same-as-lower-stage', 'TestKey', 'production', 'development'],
    ].sort(),
  );
  for (const w of (res.body as CompareBody).warnings) assert.ok(w.detail.length > 10);
  assert.equal(containsCanary(res.text, testKey), null);

  // The stage view carries dueForRotation for secrets with rotationDays only.
  const prod = await stageView(portal, app, 'production');
  assert.equal(prod.get('Old')!.dueForRotation, true);
  assert.equal(prod.get('Fresh')!.dueForRotation, false);
  assert.equal(prod.get('TestKey')!.dueForRotation, undefined);
  assert.equal(prod.get('Plain')!.dueForRotation, undefined);
  // A new write resets the clock.
  await setValues(portal, app, 'production', { Old: newCanary() });
  assert.equal((await stageView(portal, app, 'production')).get('Old')!.dueForRotation, false);
});

test('rotationDays: an integer 1-3650 on secrets only (422 otherwise), kept in the published definitions', async () => {
  const app = 'cmp-rotation';
  const bad: Array<[unknown, RegExp]> = [
    [{ name: 'P', type: 'Text', rotationDays: 30 }, /secrets only/],
    [{ name: 'S', type: 'Text', isSecret: true, rotationDays: 0 }, /1 to 3650/],
    [{ name: 'S', type: 'Text', isSecret: true, rotationDays: 3651 }, /1 to 3650/],
    [{ name: 'S', type: 'Text', isSecret: true, rotationDays: 1.5 }, /1 to 3650/],
  ];
  for (const [setting, message] of bad) {
    const res = await portal.api('POST', `/apps/${app}/publish`, { body: { definitions: defsFor(app, [setting]) } });
    const problem = assertProblem(res, 422);
    assert.match(JSON.stringify(problem.errors), message);
  }
  assertProblem(await portal.api('POST', `/apps/${app}/publish`, { body: { definitions: defsFor(app, [{ name: 'S', type: 'Text', isSecret: true, rotationDays: '30' }]) } }), 400);
  await publishApp(portal, app, [{ name: 'S', type: 'Text', isSecret: true, rotationDays: 90 }]);
  const published = await portal.api('GET', `/apps/${app}`);
  assert.equal(published.body.settings[0].rotationDays, 90);
  // Changing it is a definitions change (plan lists the field); the same document again is no change.
  const again = await portal.api('POST', `/apps/${app}/publish`, { body: { definitions: defsFor(app, [{ name: 'S', type: 'Text', isSecret: true, rotationDays: 90 }]) } });
  assert.equal(again.body.changed, false);
  const changed = await portal.api('POST', `/apps/${app}/publish`, { body: { definitions: defsFor(app, [{ name: 'S', type: 'Text', isSecret: true, rotationDays: 60 }]), dryRun: true } });
  assert.deepEqual(changed.body.plan.changed, [{ name: 'S', changes: ['rotationDays'] }]);
});

test('compare needs read scope on every stage named; unknown stage 404; a repeated query is 400', async () => {
  const app = 'cmp-scope';
  await publishApp(portal, app, [{ name: 'A', type: 'Text' }]);
  const qaOnly = await portal.api('POST', '/tokens', { body: { name: 'qa dev', role: 'developer', apps: [app], stages: ['qa'] } });
  assert.equal((await compare(app, 'qa', qaOnly.body.token)).status, 200);
  const refused = assertProblem(await compare(app, 'qa,production', qaOnly.body.token), 403);
  assert.match(refused.detail, /production/);
  assertProblem(await compare(app, 'qa,staging'), 404);
  assertProblem(await portal.api('GET', `/apps/${app}/compare?stages=qa&stages=production`), 400);
  assertProblem(await compare('cmp-never-published', 'qa'), 404);
});
