// SPEC §3 (publish: plan, deletions, revisions) and the version rules of §4, against the
// real server over HTTP. Each test uses its own app so the tests do not depend on each other.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import {
  assertProblem,
  containsCanary,
  createRuntimeToken,
  defsFor,
  newCanary,
  removeDir,
  startPortal,
  type ApiResponse,
  type Portal,
} from '../support/portal';

const STAGES = ['development', 'qa', 'production'] as const;
type StageKey = (typeof STAGES)[number];

let portal: Portal;
const runtimeTokens = new Map<string, string>();

before(async () => {
  portal = await startPortal();
});

after(async () => {
  await portal?.stop();
  if (portal) removeDir(path.dirname(portal.dataDir));
});

type Defs = ReturnType<typeof defsFor>;
interface Deletion {
  setting: string;
  stage: string;
  reason: string;
}
interface PublishBody {
  revision: number;
  changed: boolean;
  dryRun: boolean;
  plan: { added: string[]; removed: string[]; changed: Array<{ name: string; changes: string[] }>; deletions: Deletion[] };
}
interface StageSetting {
  name: string;
  type: string;
  isSecret: boolean;
  hasValue: boolean;
  value: string | null;
  defaultValue: string | null;
  missing: boolean;
  version: number;
}

async function publish(defs: Defs, extra: { baseRevision?: number; dryRun?: boolean } = {}): Promise<ApiResponse<PublishBody>> {
  return portal.api<PublishBody>('POST', `/apps/${defs.app.key}/publish`, { body: { definitions: defs, ...extra } });
}

async function publishOk(defs: Defs, extra: { baseRevision?: number; dryRun?: boolean } = {}): Promise<PublishBody> {
  const res = await publish(defs, extra);
  assert.equal(res.status, 200, res.text);
  return res.body;
}

async function stageView(app: string, stage: StageKey): Promise<{ revision: number; settings: StageSetting[]; raw: string }> {
  const res = await portal.api('GET', `/apps/${app}/stages/${stage}/settings`);
  assert.equal(res.status, 200, res.text);
  return { revision: res.body.revision, settings: res.body.settings, raw: res.text };
}

async function setting(app: string, stage: StageKey, name: string): Promise<StageSetting> {
  const view = await stageView(app, stage);
  const s = view.settings.find((x) => x.name === name);
  assert.ok(s, `setting ${name} is listed in ${app}/${stage}`);
  return s;
}

/** Sets values in one stage, each based on the version the server shows now. */
async function setValues(app: string, stage: StageKey, values: Record<string, string | null>): Promise<void> {
  const view = await stageView(app, stage);
  const changes = Object.entries(values).map(([name, value]) => {
    const s = view.settings.find((x) => x.name === name);
    assert.ok(s, `setting ${name} exists in ${app}`);
    return { name, value, baseVersion: s.version };
  });
  const res = await portal.api('PATCH', `/apps/${app}/stages/${stage}/settings`, { body: { changes } });
  assert.equal(res.status, 200, res.text);
}

async function runtime(app: string, stage: StageKey): Promise<Record<string, string | null>> {
  const id = `${app}/${stage}`;
  let token = runtimeTokens.get(id);
  if (!token) {
    token = await createRuntimeToken(portal, app, stage);
    runtimeTokens.set(id, token);
  }
  const res = await portal.api('GET', '/runtime/settings', { token });
  assert.equal(res.status, 200, res.text);
  return res.body.settings;
}

const sortDeletions = (list: Deletion[]) => [...list].sort((a, b) => `${a.setting}/${a.stage}`.localeCompare(`${b.setting}/${b.stage}`));

/** The value and version of one setting in every stage, for compact assertions. */
async function acrossStages(app: string, name: string): Promise<Record<StageKey, { hasValue: boolean; value: string | null; version: number }>> {
  const out = {} as Record<StageKey, { hasValue: boolean; value: string | null; version: number }>;
  for (const stage of STAGES) {
    const s = await setting(app, stage, name);
    out[stage] = { hasValue: s.hasValue, value: s.value, version: s.version };
  }
  return out;
}

test('setting added: no stored value changes, and a new secret starts with no value in every stage', async () => {
  const app = 'pub-added';
  await publishOk(defsFor(app, [{ name: 'Existing', type: 'Text', defaultValue: 'd' }]));
  await setValues(app, 'development', { Existing: 'dev-value' });

  const body = await publishOk(
    defsFor(app, [
      { name: 'Existing', type: 'Text', defaultValue: 'd' },
      { name: 'NewSecret', type: 'Text', isSecret: true },
      { name: 'NewPlain', type: 'Integer', defaultValue: '5' },
    ]),
  );
  assert.equal(body.revision, 2);
  assert.equal(body.changed, true);
  assert.deepEqual(body.plan, { added: ['NewSecret', 'NewPlain'], removed: [], changed: [], deletions: [] });

  for (const stage of STAGES) {
    const secret = await setting(app, stage, 'NewSecret');
    assert.deepEqual(
      { hasValue: secret.hasValue, value: secret.value, missing: secret.missing, version: secret.version, defaultValue: secret.defaultValue },
      { hasValue: false, value: null, missing: true, version: 0, defaultValue: null },
      `new secret in ${stage}`,
    );
    const plain = await setting(app, stage, 'NewPlain');
    assert.equal(plain.hasValue, false);
    assert.equal(plain.defaultValue, '5');
  }
  const existing = await acrossStages(app, 'Existing');
  assert.deepEqual(existing.development, { hasValue: true, value: 'dev-value', version: 1 });
  assert.equal(existing.qa.hasValue, false);
  assert.deepEqual(await runtime(app, 'development'), { Existing: 'dev-value', NewSecret: null, NewPlain: '5' });
});

test('setting removed: its values in every stage are deleted, other settings keep theirs; re-adding it does not bring values or versions back', async () => {
  const app = 'pub-removed';
  const canary = newCanary();
  const v1 = defsFor(app, [
    { name: 'Keep', type: 'Text' },
    { name: 'Gone', type: 'Text' },
    { name: 'GoneSecret', type: 'Text', isSecret: true },
  ]);
  await publishOk(v1);
  await setValues(app, 'development', { Keep: 'keep-dev', Gone: 'gone-dev' });
  await setValues(app, 'production', { Gone: 'gone-prod' });
  await setValues(app, 'qa', { GoneSecret: canary });

  const body = await publishOk(defsFor(app, [{ name: 'Keep', type: 'Text' }]));
  assert.equal(body.revision, 2);
  assert.deepEqual(body.plan.added, []);
  assert.deepEqual(body.plan.removed, ['Gone', 'GoneSecret']);
  assert.deepEqual(body.plan.changed, []);
  assert.deepEqual(
    sortDeletions(body.plan.deletions),
    sortDeletions([
      { setting: 'Gone', stage: 'development', reason: 'removed' },
      { setting: 'Gone', stage: 'production', reason: 'removed' },
      { setting: 'GoneSecret', stage: 'qa', reason: 'removed' },
    ]),
  );
  assert.equal(containsCanary(JSON.stringify(body), canary), null, 'the plan never carries a secret value');

  const dev = await stageView(app, 'development');
  assert.deepEqual(
    dev.settings.map((s) => [s.name, s.value]),
    [['Keep', 'keep-dev']],
  );
  assert.deepEqual(await runtime(app, 'qa'), { Keep: null });

  // Added again: no value anywhere, and each pair's version continues from the deletion (never back to 0 or 1).
  const readd = await publishOk(v1);
  assert.equal(readd.revision, 3);
  assert.deepEqual(readd.plan.added, ['Gone', 'GoneSecret']);
  assert.deepEqual(readd.plan.deletions, []);
  assert.deepEqual(await acrossStages(app, 'Gone'), {
    development: { hasValue: false, value: null, version: 2 },
    qa: { hasValue: false, value: null, version: 0 },
    production: { hasValue: false, value: null, version: 2 },
  });
  assert.deepEqual(await acrossStages(app, 'GoneSecret'), {
    development: { hasValue: false, value: null, version: 0 },
    qa: { hasValue: false, value: null, version: 2 },
    production: { hasValue: false, value: null, version: 0 },
  });
  assert.equal((await setting(app, 'qa', 'GoneSecret')).missing, true);
  assert.deepEqual(await runtime(app, 'qa'), { Keep: null, Gone: null, GoneSecret: null });

  // A write based on the version from before the removal (or on "never set") is stale.
  for (const baseVersion of [0, 1]) {
    const stale = await portal.api('PATCH', `/apps/${app}/stages/development/settings`, { body: { changes: [{ name: 'Gone', value: 'again', baseVersion }] } });
    assertProblem(stale, 409);
  }
  const ok = await portal.api('PATCH', `/apps/${app}/stages/development/settings`, { body: { changes: [{ name: 'Gone', value: 'again', baseVersion: 2 }] } });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.body.settings.find((s: StageSetting) => s.name === 'Gone').version, 3);
});

test('secret -> non-secret: its values in every stage are deleted (the default applies afterwards)', async () => {
  const app = 'pub-secret-to-plain';
  const devCanary = newCanary();
  const qaCanary = newCanary();
  await publishOk(
    defsFor(app, [
      { name: 'Api', type: 'Text', isSecret: true },
      { name: 'Other', type: 'Text' },
    ]),
  );
  await setValues(app, 'development', { Api: devCanary, Other: 'other-dev' });
  await setValues(app, 'qa', { Api: qaCanary });
  assert.equal((await runtime(app, 'development')).Api, devCanary);

  const body = await publishOk(
    defsFor(app, [
      { name: 'Api', type: 'Text', defaultValue: 'public-default' },
      { name: 'Other', type: 'Text' },
    ]),
  );
  assert.equal(body.revision, 2);
  assert.deepEqual(body.plan.changed, [{ name: 'Api', changes: ['isSecret', 'defaultValue'] }]);
  assert.deepEqual(
    sortDeletions(body.plan.deletions),
    sortDeletions([
      { setting: 'Api', stage: 'development', reason: 'secret-to-non-secret' },
      { setting: 'Api', stage: 'qa', reason: 'secret-to-non-secret' },
    ]),
  );

  assert.deepEqual(await acrossStages(app, 'Api'), {
    development: { hasValue: false, value: null, version: 2 },
    qa: { hasValue: false, value: null, version: 2 },
    production: { hasValue: false, value: null, version: 0 },
  });
  for (const stage of STAGES) {
    const view = await stageView(app, stage);
    assert.equal(containsCanary(view.raw, devCanary) ?? containsCanary(view.raw, qaCanary), null, `no former secret shows in ${stage}`);
    const api = view.settings.find((s) => s.name === 'Api')!;
    assert.equal(api.isSecret, false);
    assert.equal(api.defaultValue, 'public-default');
  }
  // The former secret is gone at run time too: the new default is what the app reads.
  assert.deepEqual(await runtime(app, 'development'), { Api: 'public-default', Other: 'other-dev' });
  assert.deepEqual(await runtime(app, 'qa'), { Api: 'public-default', Other: null });
});

test('non-secret -> secret: its plaintext values in every stage are deleted; each stage then needs the secret set', async () => {
  const app = 'pub-plain-to-secret';
  const canary = newCanary();
  await publishOk(
    defsFor(app, [
      { name: 'Token', type: 'Text', defaultValue: 'dflt' },
      { name: 'Other', type: 'Text' },
    ]),
  );
  await setValues(app, 'development', { Token: canary });
  await setValues(app, 'production', { Token: `${canary}-prod` });
  await setValues(app, 'qa', { Other: 'other-qa' });

  const body = await publishOk(
    defsFor(app, [
      { name: 'Token', type: 'Text', isSecret: true },
      { name: 'Other', type: 'Text' },
    ]),
  );
  assert.deepEqual(body.plan.changed, [{ name: 'Token', changes: ['isSecret', 'defaultValue'] }]);
  assert.deepEqual(
    sortDeletions(body.plan.deletions),
    sortDeletions([
      { setting: 'Token', stage: 'development', reason: 'non-secret-to-secret' },
      { setting: 'Token', stage: 'production', reason: 'non-secret-to-secret' },
    ]),
  );

  assert.deepEqual(await acrossStages(app, 'Token'), {
    development: { hasValue: false, value: null, version: 2 },
    qa: { hasValue: false, value: null, version: 0 },
    production: { hasValue: false, value: null, version: 2 },
  });
  for (const stage of STAGES) {
    const token = await setting(app, stage, 'Token');
    assert.equal(token.missing, true, `Token is missing in ${stage}`);
    assert.equal(token.defaultValue, null, 'a secret has no default');
  }
  // Neither the old plaintext nor the old default reaches the app.
  assert.deepEqual(await runtime(app, 'production'), { Token: null, Other: null });
  assert.deepEqual(await runtime(app, 'qa'), { Token: null, Other: 'other-qa' });

  // Setting the secret afterwards works from the version the stage shows.
  await setValues(app, 'development', { Token: `${canary}-new` });
  const dev = await setting(app, 'development', 'Token');
  assert.deepEqual([dev.hasValue, dev.value, dev.version], [true, '*****', 3]);
});

test('type changed: values invalid for the new type are deleted, valid ones kept (secrets included)', async () => {
  const app = 'pub-type';
  const canary = newCanary();
  await publishOk(
    defsFor(app, [
      { name: 'Count', type: 'Text' },
      { name: 'Pin', type: 'Text', isSecret: true },
      { name: 'Ratio', type: 'Decimal' },
    ]),
  );
  await setValues(app, 'development', { Count: '42', Pin: '1234', Ratio: '2.5' });
  await setValues(app, 'qa', { Count: 'forty-two', Pin: canary, Ratio: '3' });

  const body = await publishOk(
    defsFor(app, [
      { name: 'Count', type: 'Integer' },
      { name: 'Pin', type: 'Integer', isSecret: true },
      { name: 'Ratio', type: 'Integer' },
    ]),
  );
  assert.deepEqual(body.plan.changed, [
    { name: 'Count', changes: ['type'] },
    { name: 'Pin', changes: ['type'] },
    { name: 'Ratio', changes: ['type'] },
  ]);
  assert.deepEqual(
    sortDeletions(body.plan.deletions),
    sortDeletions([
      { setting: 'Count', stage: 'qa', reason: 'invalid-for-type' },
      { setting: 'Pin', stage: 'qa', reason: 'invalid-for-type' },
      { setting: 'Ratio', stage: 'development', reason: 'invalid-for-type' },
    ]),
  );
  assert.equal(containsCanary(JSON.stringify(body), canary), null, 'the plan does not carry the secret it checked');

  assert.deepEqual(await acrossStages(app, 'Count'), {
    development: { hasValue: true, value: '42', version: 1 },
    qa: { hasValue: false, value: null, version: 2 },
    production: { hasValue: false, value: null, version: 0 },
  });
  assert.deepEqual(await acrossStages(app, 'Pin'), {
    development: { hasValue: true, value: '*****', version: 1 },
    qa: { hasValue: false, value: null, version: 2 },
    production: { hasValue: false, value: null, version: 0 },
  });
  assert.deepEqual(await acrossStages(app, 'Ratio'), {
    development: { hasValue: false, value: null, version: 2 },
    qa: { hasValue: true, value: '3', version: 1 },
    production: { hasValue: false, value: null, version: 0 },
  });
  // The kept secret still decrypts; the deleted one is gone.
  assert.deepEqual(await runtime(app, 'development'), { Count: '42', Pin: '1234', Ratio: null });
  assert.deepEqual(await runtime(app, 'qa'), { Count: null, Pin: null, Ratio: '3' });
});

test('description or default changed: values are kept and the new default applies where a stage has none', async () => {
  const app = 'pub-describe';
  const canary = newCanary();
  await publishOk(
    defsFor(app, [
      { name: 'Mode', type: 'Text', description: 'old', defaultValue: 'a' },
      { name: 'Key', type: 'Text', description: 'old', isSecret: true },
    ]),
  );
  await setValues(app, 'qa', { Mode: 'q', Key: canary });

  const body = await publishOk(
    defsFor(app, [
      { name: 'Mode', type: 'Text', description: 'new', defaultValue: 'b' },
      { name: 'Key', type: 'Text', description: 'new', isSecret: true },
    ]),
  );
  assert.equal(body.revision, 2);
  assert.deepEqual(body.plan, {
    added: [],
    removed: [],
    changed: [
      { name: 'Mode', changes: ['description', 'defaultValue'] },
      { name: 'Key', changes: ['description'] },
    ],
    deletions: [],
  });
  const qa = await stageView(app, 'qa');
  assert.deepEqual(
    qa.settings.map((s) => [s.name, s.value, s.version]),
    [
      ['Mode', 'q', 1],
      ['Key', '*****', 1],
    ],
  );
  assert.deepEqual(await runtime(app, 'qa'), { Mode: 'q', Key: canary });
  assert.deepEqual(await runtime(app, 'development'), { Mode: 'b', Key: null });
});

test('a dry run answers the plan and changes nothing (revision, definitions, values, versions)', async () => {
  const app = 'pub-dry';
  const canary = newCanary();
  const v1 = defsFor(app, [
    { name: 'A', type: 'Text' },
    { name: 'S', type: 'Text', isSecret: true },
  ]);
  await publishOk(v1);
  await setValues(app, 'development', { A: 'a-dev' });
  await setValues(app, 'production', { S: canary });

  const snapshot = async () => ({
    app: (await portal.api('GET', `/apps/${app}`)).text,
    stages: await Promise.all(STAGES.map(async (s) => (await stageView(app, s)).raw)),
    runtime: await runtime(app, 'production'),
  });
  const snapshotBefore = await snapshot();

  const destructive = defsFor(app, [{ name: 'S', type: 'Text', defaultValue: 'plain' }]);
  const dry = await publishOk(destructive, { dryRun: true, baseRevision: 1 });
  assert.equal(dry.dryRun, true);
  assert.equal(dry.revision, 1, 'a dry run answers the current revision');
  assert.equal(dry.changed, true, 'and whether it would change');
  assert.deepEqual(dry.plan.removed, ['A']);
  assert.deepEqual(dry.plan.changed, [{ name: 'S', changes: ['isSecret', 'defaultValue'] }]);
  assert.deepEqual(
    sortDeletions(dry.plan.deletions),
    sortDeletions([
      { setting: 'A', stage: 'development', reason: 'removed' },
      { setting: 'S', stage: 'production', reason: 'secret-to-non-secret' },
    ]),
  );
  assert.deepEqual(await snapshot(), snapshotBefore, 'nothing changed after the dry run');

  const same = await publishOk(v1, { dryRun: true });
  assert.deepEqual([same.revision, same.changed, same.dryRun], [1, false, true]);

  // A dry run checks the base revision too.
  assertProblem(await publish(destructive, { dryRun: true, baseRevision: 0 }), 409);
  assert.deepEqual(await snapshot(), snapshotBefore);

  // The real publish of the same plan then does what the dry run said.
  const real = await publishOk(destructive, { baseRevision: 1 });
  assert.deepEqual(real.plan, dry.plan);
  assert.equal(real.revision, 2);
});

test('publishing identical definitions creates no revision; order and app name changes do', async () => {
  const app = 'pub-same';
  const v1 = defsFor(
    app,
    [
      { name: 'First', type: 'Text' },
      { name: 'Second', type: 'Integer', defaultValue: '1', description: 'two' },
    ],
    'Same App',
  );
  const first = await publishOk(v1);
  assert.equal(first.revision, 1);
  const published = (await portal.api('GET', `/apps/${app}`)).body;

  const again = await publishOk(v1);
  assert.deepEqual(again, { revision: 1, changed: false, dryRun: false, plan: { added: [], removed: [], changed: [], deletions: [] } });

  // Absent isSecret = false and absent description = "": the same definitions after normalising.
  const normalized = defsFor(
    app,
    [
      { name: 'First', type: 'Text', isSecret: false, description: '' },
      { name: 'Second', type: 'Integer', defaultValue: '1', description: 'two', isSecret: false },
    ],
    'Same App',
  );
  const same = await publishOk(normalized);
  assert.deepEqual([same.revision, same.changed], [1, false]);
  const unchanged = (await portal.api('GET', `/apps/${app}`)).body;
  assert.deepEqual(unchanged, published, 'no new revision, same publishedAt');

  const reordered = defsFor(app, [v1.settings[1], v1.settings[0]], 'Same App');
  const order = await publishOk(reordered);
  assert.deepEqual([order.revision, order.changed], [2, true]);
  assert.deepEqual(order.plan, { added: [], removed: [], changed: [], deletions: [] });
  assert.deepEqual(
    (await portal.api('GET', `/apps/${app}`)).body.settings.map((s: { name: string }) => s.name),
    ['Second', 'First'],
  );
  const stageOrder = await stageView(app, 'qa');
  assert.deepEqual(
    stageOrder.settings.map((s) => s.name),
    ['Second', 'First'],
  );

  const renamed = defsFor(app, reordered.settings, 'Renamed App');
  const name = await publishOk(renamed);
  assert.deepEqual([name.revision, name.changed], [3, true]);
  const appBody = (await portal.api('GET', `/apps/${app}`)).body;
  assert.deepEqual([appBody.name, appBody.revision], ['Renamed App', 3]);
  const listed = (await portal.api('GET', '/apps')).body.apps.find((a: { key: string }) => a.key === app);
  assert.deepEqual([listed.name, listed.revision], ['Renamed App', 3]);
});

test('a stale baseRevision is refused with 409 and nothing changes', async () => {
  const app = 'pub-stale';
  const v1 = defsFor(app, [{ name: 'A', type: 'Text' }]);
  // Never published = revision 0.
  assert.equal((await publishOk(v1, { baseRevision: 0 })).revision, 1);
  await setValues(app, 'development', { A: 'a-dev' });
  const v2 = defsFor(app, [
    { name: 'A', type: 'Text' },
    { name: 'B', type: 'Text' },
  ]);
  assert.equal((await publishOk(v2, { baseRevision: 1 })).revision, 2);

  const appBefore = (await portal.api('GET', `/apps/${app}`)).text;
  const stagesBefore = await Promise.all(STAGES.map(async (s) => (await stageView(app, s)).raw));

  // Planned against revision 1 (removing A), but revision 2 landed meanwhile.
  const res = await publish(defsFor(app, [{ name: 'B', type: 'Text' }]), { baseRevision: 1 });
  const problem = assertProblem(res, 409);
  assert.equal(problem.currentRevision, 2);
  assert.equal((await portal.api('GET', `/apps/${app}`)).text, appBefore);
  assert.deepEqual(await Promise.all(STAGES.map(async (s) => (await stageView(app, s)).raw)), stagesBefore);
  assert.equal((await setting(app, 'development', 'A')).value, 'a-dev');

  // A base revision from the future is just as stale.
  assertProblem(await publish(defsFor(app, [{ name: 'B', type: 'Text' }]), { baseRevision: 7 }), 409);
  assert.equal((await portal.api('GET', `/apps/${app}`)).text, appBefore);
});

test('a deletion by publish is a write: it bumps the version, and a PATCH based on the old version is refused', async () => {
  const app = 'pub-version';
  await publishOk(defsFor(app, [{ name: 'N', type: 'Text' }]));
  await setValues(app, 'qa', { N: 'one' });
  await setValues(app, 'qa', { N: 'two' });
  assert.equal((await setting(app, 'qa', 'N')).version, 2);

  await publishOk(defsFor(app, [{ name: 'N', type: 'Boolean' }]));
  const after = await setting(app, 'qa', 'N');
  assert.deepEqual([after.hasValue, after.version], [false, 3]);
  assertProblem(await portal.api('PATCH', `/apps/${app}/stages/qa/settings`, { body: { changes: [{ name: 'N', value: 'True', baseVersion: 2 }] } }), 409);
  assert.equal((await setting(app, 'qa', 'N')).hasValue, false);
  const ok = await portal.api('PATCH', `/apps/${app}/stages/qa/settings`, { body: { changes: [{ name: 'N', value: 'True', baseVersion: 3 }] } });
  assert.equal(ok.status, 200, ok.text);
  assert.equal((await setting(app, 'qa', 'N')).version, 4);
});
