// SPEC §4 (per-stage values: versions, atomic batches, order of checks) and the rule that a
// secret's value appears in no response but the runtime read (§1, §9), against the real server.
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

let portal: Portal;

before(async () => {
  portal = await startPortal();
});

after(async () => {
  await portal?.stop();
  if (portal) removeDir(path.dirname(portal.dataDir));
});

interface StageSetting {
  name: string;
  isSecret: boolean;
  hasValue: boolean;
  value: string | null;
  defaultValue: string | null;
  missing: boolean;
  version: number;
  updatedAt: string | null;
  updatedBy: string | null;
}
type Change = { name: string; value: string | null; baseVersion: number };

async function publish(app: string, settings: unknown[]): Promise<void> {
  const res = await portal.api('POST', `/apps/${app}/publish`, { body: { definitions: defsFor(app, settings) } });
  assert.equal(res.status, 200, res.text);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function patch(app: string, stage: string, changes: Change[]): Promise<ApiResponse<any>> {
  return portal.api('PATCH', `/apps/${app}/stages/${stage}/settings`, { body: { changes } });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function view(app: string, stage: string): Promise<{ res: ApiResponse<any>; byName: Map<string, StageSetting> }> {
  const res = await portal.api('GET', `/apps/${app}/stages/${stage}/settings`);
  assert.equal(res.status, 200, res.text);
  return { res, byName: new Map((res.body.settings as StageSetting[]).map((s) => [s.name, s])) };
}

const pick = (s: StageSetting | undefined) => s && { hasValue: s.hasValue, value: s.value, version: s.version };

test('every write moves the version on by one: set, replace, same value again, clear, clear of an unset value', async () => {
  const app = 'val-versions';
  await publish(app, [
    { name: 'Url', type: 'Text', defaultValue: 'http://default' },
    { name: 'Plain', type: 'Text' },
  ]);
  const runtimeToken = await createRuntimeToken(portal, app, 'qa');
  const runtime = async () => (await portal.api('GET', '/runtime/settings', { token: runtimeToken })).body.settings;

  const initial = (await view(app, 'qa')).byName;
  assert.deepEqual(pick(initial.get('Url')), { hasValue: false, value: null, version: 0 });
  assert.equal(initial.get('Url')!.updatedAt, null);
  assert.deepEqual(await runtime(), { Url: 'http://default', Plain: null }, 'no value and no default reads as null');

  const steps: Array<[string | null, { hasValue: boolean; value: string | null; version: number }, string | null]> = [
    ['http://one', { hasValue: true, value: 'http://one', version: 1 }, 'http://one'],
    ['http://two', { hasValue: true, value: 'http://two', version: 2 }, 'http://two'],
    ['http://two', { hasValue: true, value: 'http://two', version: 3 }, 'http://two'],
    [null, { hasValue: false, value: null, version: 4 }, 'http://default'],
    [null, { hasValue: false, value: null, version: 5 }, 'http://default'],
  ];
  for (const [value, expected, effective] of steps) {
    const base = (await view(app, 'qa')).byName.get('Url')!.version;
    const res = await patch(app, 'qa', [{ name: 'Url', value, baseVersion: base }]);
    assert.equal(res.status, 200, res.text);
    const answered = (res.body.settings as StageSetting[]).find((s) => s.name === 'Url');
    assert.deepEqual(pick(answered), expected, `PATCH answer after writing ${value}`);
    assert.deepEqual(pick((await view(app, 'qa')).byName.get('Url')), expected, `GET after writing ${value}`);
    assert.equal(answered!.updatedBy, 'initial admin');
    assert.ok(answered!.updatedAt && !Number.isNaN(Date.parse(answered!.updatedAt)));
    assert.equal((await runtime()).Url, effective);
  }

  // Clearing a pair that never had a value is a write too.
  const res = await patch(app, 'qa', [{ name: 'Plain', value: null, baseVersion: 0 }]);
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(pick((await view(app, 'qa')).byName.get('Plain')), { hasValue: false, value: null, version: 1 });
  // Other stages are untouched.
  assert.deepEqual(pick((await view(app, 'development')).byName.get('Url')), { hasValue: false, value: null, version: 0 });
});

test('several edits in one save are applied together; an empty list writes nothing', async () => {
  const app = 'val-batch';
  await publish(app, [
    { name: 'A', type: 'Text' },
    { name: 'B', type: 'Integer' },
    { name: 'S', type: 'Text', isSecret: true },
  ]);
  const res = await patch(app, 'production', [
    { name: 'A', value: 'a', baseVersion: 0 },
    { name: 'B', value: '-7', baseVersion: 0 },
    { name: 'S', value: newCanary(), baseVersion: 0 },
  ]);
  assert.equal(res.status, 200, res.text);
  const after = (await view(app, 'production')).byName;
  assert.deepEqual(
    ['A', 'B', 'S'].map((n) => pick(after.get(n))),
    [
      { hasValue: true, value: 'a', version: 1 },
      { hasValue: true, value: '-7', version: 1 },
      { hasValue: true, value: '*****', version: 1 },
    ],
  );
  const snapshotBefore = (await view(app, 'production')).res.text;
  const empty = await patch(app, 'production', []);
  assert.equal(empty.status, 200, empty.text);
  assert.deepEqual(empty.body, JSON.parse(snapshotBefore), 'the empty save answers as the GET');
  assert.equal((await view(app, 'production')).res.text, snapshotBefore, 'and changed nothing');
});

test('a stale baseVersion is refused with 409 naming the conflicts, and nothing in the batch is applied', async () => {
  const app = 'val-stale';
  await publish(app, [
    { name: 'A', type: 'Text' },
    { name: 'B', type: 'Text' },
  ]);
  assert.equal((await patch(app, 'qa', [{ name: 'A', value: 'first', baseVersion: 0 }])).status, 200);
  const snapshotBefore = (await view(app, 'qa')).res.text;

  // Someone else wrote A (version 1) after this editor loaded it at version 0.
  const res = await patch(app, 'qa', [
    { name: 'B', value: 'fresh', baseVersion: 0 },
    { name: 'A', value: 'lost-edit', baseVersion: 0 },
  ]);
  const problem = assertProblem(res, 409);
  assert.deepEqual(problem.conflicts, ['A']);
  assert.equal((await view(app, 'qa')).res.text, snapshotBefore, 'B was not written either');
  // A version from the future is as stale as one from the past.
  assert.deepEqual(assertProblem(await patch(app, 'qa', [{ name: 'A', value: 'x', baseVersion: 9 }]), 409).conflicts, ['A']);
  assert.equal((await view(app, 'qa')).res.text, snapshotBefore);
});

test('one invalid value in a batch applies none: 422 with errors naming the setting', async () => {
  const app = 'val-invalid';
  await publish(app, [
    { name: 'Retries', type: 'Integer' },
    { name: 'Enabled', type: 'Boolean' },
    { name: 'Start', type: 'Date' },
    { name: 'Label', type: 'Text' },
  ]);
  const snapshotBefore = (await view(app, 'development')).res.text;
  const res = await patch(app, 'development', [
    { name: 'Label', value: 'fine', baseVersion: 0 },
    { name: 'Retries', value: '2147483648', baseVersion: 0 },
    { name: 'Enabled', value: 'True', baseVersion: 0 },
    { name: 'Start', value: '2023-02-29', baseVersion: 0 },
  ]);
  const problem = assertProblem(res, 422) as { errors?: Array<{ name: string; detail: string }> };
  assert.deepEqual(
    problem.errors?.map((e) => e.name).sort(),
    ['Retries', 'Start'],
  );
  for (const e of problem.errors!) assert.ok(e.detail.length > 0, `a detail for ${e.name}`);
  assert.equal((await view(app, 'development')).res.text, snapshotBefore, 'the valid edits in the batch were not applied');

  // Fixing the invalid ones lets the same batch through.
  const ok = await patch(app, 'development', [
    { name: 'Label', value: 'fine', baseVersion: 0 },
    { name: 'Retries', value: '2147483647', baseVersion: 0 },
    { name: 'Enabled', value: 'True', baseVersion: 0 },
    { name: 'Start', value: '2024-02-29', baseVersion: 0 },
  ]);
  assert.equal(ok.status, 200, ok.text);
});

test('PATCH checks in order: unknown setting 404, then stale version 409, then invalid value 422', async () => {
  const app = 'val-order';
  await publish(app, [
    { name: 'Num', type: 'Integer' },
    { name: 'Other', type: 'Integer' },
  ]);
  assert.equal((await patch(app, 'qa', [{ name: 'Other', value: '1', baseVersion: 0 }])).status, 200);
  const snapshotBefore = (await view(app, 'qa')).res.text;

  const stale = { name: 'Other', value: '2', baseVersion: 0 };
  const invalid = { name: 'Num', value: 'not-a-number', baseVersion: 0 };
  const unknown = { name: 'Missing', value: '3', baseVersion: 0 };

  const notFound = assertProblem(await patch(app, 'qa', [invalid, stale, unknown]), 404);
  assert.match(notFound.detail, /Missing/);
  // Names match exactly, case included.
  assertProblem(await patch(app, 'qa', [{ name: 'num', value: '1', baseVersion: 0 }]), 404);

  const conflict = assertProblem(await patch(app, 'qa', [invalid, stale]), 409);
  assert.deepEqual(conflict.conflicts, ['Other']);
  assert.equal(conflict.errors, undefined);

  const bad = assertProblem(await patch(app, 'qa', [invalid, { ...stale, baseVersion: 1 }]), 422);
  assert.deepEqual(
    (bad.errors as Array<{ name: string }>).map((e) => e.name),
    ['Num'],
  );
  assert.equal((await view(app, 'qa')).res.text, snapshotBefore, 'none of the refused batches wrote anything');
});

test("a secret's value is in no response but the runtime read: GET, PATCH answer, 422, 409, 404, 400, 413, audit, log", async () => {
  const app = 'val-secret';
  await publish(app, [
    { name: 'ApiKey', type: 'Text', isSecret: true },
    { name: 'PinCode', type: 'Integer', isSecret: true },
    { name: 'Tiny', type: 'Text', isSecret: true },
    { name: 'Note', type: 'Text' },
  ]);
  const canary = newCanary();
  const pinCanary = newCanary();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const responses: Array<[string, ApiResponse<any>]> = [];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const record = (what: string, res: ApiResponse<any>) => {
    responses.push([what, res]);
    return res;
  };

  const set = record('PATCH set', await patch(app, 'qa', [
    { name: 'ApiKey', value: canary, baseVersion: 0 },
    { name: 'Tiny', value: 'x', baseVersion: 0 },
  ]));
  assert.equal(set.status, 200, set.text);
  const answered = new Map((set.body.settings as StageSetting[]).map((s) => [s.name, s]));
  assert.deepEqual(pick(answered.get('ApiKey')), { hasValue: true, value: '*****', version: 1 });
  // Always five asterisks, whatever the length.
  assert.equal(answered.get('Tiny')!.value, '*****');
  assert.equal(answered.get('ApiKey')!.defaultValue, null);

  const got = record('GET', (await view(app, 'qa')).res);
  assert.equal((got.body.settings as StageSetting[]).find((s) => s.name === 'ApiKey')!.value, '*****');
  assert.match(got.headers.get('cache-control') ?? '', /no-store/);
  assert.match(set.headers.get('cache-control') ?? '', /no-store/);

  // A secret of type Integer with a value that is not a number: refused without echoing it.
  const invalid = record('422', await patch(app, 'qa', [{ name: 'PinCode', value: pinCanary, baseVersion: 0 }]));
  const problem = assertProblem(invalid, 422);
  assert.deepEqual((problem.errors as Array<{ name: string }>).map((e) => e.name), ['PinCode']);
  // Too long for a secret (over 48 KiB): refused without echoing it either.
  record('422 long', await patch(app, 'qa', [{ name: 'ApiKey', value: `${canary}-`.repeat(2000), baseVersion: 1 }]));
  assertProblem(responses.at(-1)![1], 422);
  // Stale version while replacing the secret.
  assertProblem(record('409', await patch(app, 'qa', [{ name: 'ApiKey', value: `${canary}-2`, baseVersion: 0 }])), 409);
  // Unknown setting next to the secret.
  assertProblem(record('404', await patch(app, 'qa', [{ name: 'ApiKey', value: canary, baseVersion: 1 }, { name: 'Nope', value: canary, baseVersion: 0 }])), 404);
  // Shape errors: a duplicate name, an unknown field, a body cut short, a body too large.
  assertProblem(record('400 duplicate', await patch(app, 'qa', [{ name: 'ApiKey', value: canary, baseVersion: 1 }, { name: 'ApiKey', value: canary, baseVersion: 1 }])), 400);
  assertProblem(
    record('400 field', await portal.api('PATCH', `/apps/${app}/stages/qa/settings`, { body: { changes: [{ name: 'ApiKey', value: canary, baseVersion: 1, note: canary }] } })),
    400,
  );
  assertProblem(
    record('400 wrong type', await portal.api('PATCH', `/apps/${app}/stages/qa/settings`, { body: { changes: [{ name: 'ApiKey', value: [canary], baseVersion: 1 }] } })),
    400,
  );
  assertProblem(
    record('400 cut', await portal.api('PATCH', `/apps/${app}/stages/qa/settings`, { raw: `{"changes":[{"name":"ApiKey","value":"${canary}","baseVersion":1}`, headers: { 'content-type': 'application/json' } })),
    400,
  );
  assertProblem(
    record('413', await portal.api('PATCH', `/apps/${app}/stages/qa/settings`, { body: { changes: [{ name: 'ApiKey', value: canary.repeat(40_000), baseVersion: 1 }] } })),
    413,
  );
  assertProblem(
    record('415', await portal.api('PATCH', `/apps/${app}/stages/qa/settings`, { raw: canary, headers: { 'content-type': 'text/plain' } })),
    415,
  );
  // Every other read a person can make.
  record('GET app', await portal.api('GET', `/apps/${app}`));
  record('GET apps', await portal.api('GET', '/apps'));
  record('GET app audit', await portal.api('GET', `/apps/${app}/audit`));
  record('GET audit', await portal.api('GET', '/audit?limit=1000'));
  record('GET tokens', await portal.api('GET', '/tokens'));

  for (const [what, res] of responses) {
    assert.ok(res.status < 500, `${what} is not a 5xx`);
    for (const c of [canary, pinCanary]) {
      assert.equal(containsCanary(res.text, c), null, `${what} (${res.status}) echoes the secret`);
      for (const [name, value] of res.headers) assert.equal(containsCanary(value, c), null, `${what} header ${name}`);
    }
  }

  // The positive control: the stored secret is the canary, readable by the stage's runtime identity only.
  const token = await createRuntimeToken(portal, app, 'qa');
  const rt = await portal.api('GET', '/runtime/settings', { token });
  assert.equal(rt.status, 200, rt.text);
  assert.deepEqual(rt.body.settings, { ApiKey: canary, PinCode: null, Tiny: 'x', Note: null });
  assert.match(rt.headers.get('cache-control') ?? '', /no-store/);
  // The runtime token reads nothing else.
  assertProblem(await portal.api('GET', `/apps/${app}/stages/qa/settings`, { token }), 403);

  for (const c of [canary, pinCanary]) assert.equal(containsCanary(portal.output(), c), null, 'the server log never carries the secret');
});

test('a secret with no value in a stage is shown as missing; one with a value is not', async () => {
  const app = 'val-missing';
  await publish(app, [{ name: 'Password', type: 'Text', isSecret: true }]);
  assert.equal((await patch(app, 'development', [{ name: 'Password', value: newCanary(), baseVersion: 0 }])).status, 200);
  const dev = (await view(app, 'development')).byName.get('Password')!;
  const qa = (await view(app, 'qa')).byName.get('Password')!;
  assert.deepEqual([dev.missing, dev.hasValue, dev.value], [false, true, '*****']);
  assert.deepEqual([qa.missing, qa.hasValue, qa.value], [true, false, null]);
  // Clearing it makes it missing again.
  assert.equal((await patch(app, 'development', [{ name: 'Password', value: null, baseVersion: 1 }])).status, 200);
  const cleared = (await view(app, 'development')).byName.get('Password')!;
  assert.deepEqual([cleared.missing, cleared.hasValue, cleared.value, cleared.version], [true, false, null, 2]);
});

test("the runtime read's ETag follows the revision and the value versions; If-None-Match answers 304", async () => {
  const app = 'val-etag';
  await publish(app, [{ name: 'Secret', type: 'Text', isSecret: true }]);
  const token = await createRuntimeToken(portal, app, 'qa');
  const read = (etag?: string) => portal.api('GET', '/runtime/settings', { token, headers: etag ? { 'if-none-match': etag } : {} });
  const first = await read();
  const etag = first.headers.get('etag')!;
  assert.ok(etag, 'an ETag is sent');
  assert.equal((await read(etag)).status, 304);

  const canary = newCanary();
  assert.equal((await patch(app, 'qa', [{ name: 'Secret', value: canary, baseVersion: 0 }])).status, 200);
  const changed = await read(etag);
  assert.equal(changed.status, 200, 'a new value is not answered 304');
  assert.equal(changed.body.settings.Secret, canary);
  const etag2 = changed.headers.get('etag')!;
  assert.notEqual(etag2, etag);
  assert.equal(containsCanary(etag2, canary), null);
  // Replacing with the same value is a write: a new version, a new ETag.
  assert.equal((await patch(app, 'qa', [{ name: 'Secret', value: canary, baseVersion: 1 }])).status, 200);
  assert.equal((await read(etag2)).status, 200);
});
