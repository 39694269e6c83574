// SPEC §8 errors and the unauthenticated routes of §9: every refusal is problem+json with a
// status, title and detail, never a 5xx, and never changes stored data.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import {
  apiFrom,
  assertProblem,
  containsCanary,
  createRuntimeToken,
  defsFor,
  newCanary,
  removeDir,
  ROOT,
  startPortal,
  STORE,
  type ApiResponse,
  type Portal,
} from '../support/portal';

const APP = 'err-app';
const STAGES = ['development', 'qa', 'production'];
const SETTINGS = [
  { name: 'Secret', type: 'Text', isSecret: true },
  { name: 'Count', type: 'Integer', defaultValue: '1' },
  { name: 'Label', type: 'Text' },
];

let portal: Portal;
let runtimeToken: string;
const canary = newCanary();

before(async () => {
  portal = await startPortal();
  const pub = await portal.api('POST', `/apps/${APP}/publish`, { body: { definitions: defsFor(APP, SETTINGS) } });
  assert.equal(pub.status, 200, pub.text);
  const set = await portal.api('PATCH', `/apps/${APP}/stages/qa/settings`, {
    body: {
      changes: [
        { name: 'Secret', value: canary, baseVersion: 0 },
        { name: 'Count', value: '5', baseVersion: 0 },
      ],
    },
  });
  assert.equal(set.status, 200, set.text);
  runtimeToken = await createRuntimeToken(portal, APP, 'qa');
});

after(async () => {
  await portal?.stop();
  if (portal) removeDir(path.dirname(portal.dataDir));
});

/** Everything a user could see of the stored data, as the API answers it. */
async function snapshot(): Promise<string[]> {
  const routes = ['/apps', `/apps/${APP}`, ...STAGES.map((s) => `/apps/${APP}/stages/${s}/settings`), '/tokens'];
  const out: string[] = [];
  for (const r of routes) out.push(`${r} ${(await portal.api('GET', r)).text}`);
  out.push(`runtime ${(await portal.api('GET', '/runtime/settings', { token: runtimeToken })).text}`);
  return out;
}

type Case = [what: string, status: number, send: () => Promise<ApiResponse>];

/** Runs each case: the right problem+json, nothing stored changed, the secret not echoed. */
async function expectRefusals(cases: Case[]): Promise<Array<ReturnType<typeof assertProblem>>> {
  const snapshotBefore = await snapshot();
  const problems = [];
  for (const [what, status, send] of cases) {
    const res = await send();
    assert.ok(res.status < 500, `${what}: a 5xx (${res.status} ${res.text})`);
    try {
      problems.push(assertProblem(res, status));
    } catch (err) {
      throw new Error(`${what}: ${(err as Error).message}`);
    }
    assert.equal(containsCanary(res.text, canary), null, `${what}: echoes the secret`);
  }
  assert.deepEqual(await snapshot(), snapshotBefore, 'the refusals changed stored data');
  return problems;
}

const patchRaw = (raw: string | Buffer, contentType = 'application/json') =>
  portal.api('PATCH', `/apps/${APP}/stages/qa/settings`, { raw, headers: { 'content-type': contentType } });
const publishRaw = (raw: string | Buffer, contentType = 'application/json', app = APP) =>
  portal.api('POST', `/apps/${app}/publish`, { raw, headers: { 'content-type': contentType } });
const patchBody = (body: unknown, stage = 'qa', app = APP) => portal.api('PATCH', `/apps/${app}/stages/${stage}/settings`, { body });
const publishBody = (body: unknown, app = APP) => portal.api('POST', `/apps/${app}/publish`, { body });
const change = (name: string, value: string | null, baseVersion = 0) => ({ name, value, baseVersion });

test('400: a body that is not JSON, or not the request shape (missing, wrong-typed, unknown fields, duplicate names)', async () => {
  await expectRefusals([
    ['PATCH cut short', 400, () => patchRaw(`{"changes":[{"name":"Secret","value":"${canary}"`)],
    ['PATCH not JSON', 400, () => patchRaw('changes=1')],
    ['publish not JSON', 400, () => publishRaw("{'definitions': {}}")],
    ['PATCH invalid UTF-8', 400, () => patchRaw(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]))],
    ['PATCH no body', 400, () => portal.api('PATCH', `/apps/${APP}/stages/qa/settings`)],
    ['PATCH missing changes', 400, () => patchBody({})],
    ['PATCH changes not a list', 400, () => patchBody({ changes: { name: 'Count' } })],
    ['PATCH value a number', 400, () => patchBody({ changes: [{ name: 'Count', value: 7, baseVersion: 1 }] })],
    ['PATCH baseVersion missing', 400, () => patchBody({ changes: [{ name: 'Count', value: '7' }] })],
    ['PATCH baseVersion negative', 400, () => patchBody({ changes: [change('Count', '7', -1)] })],
    ['PATCH unknown top-level field', 400, () => patchBody({ changes: [change('Count', '7', 1)], force: true })],
    ['PATCH unknown change field', 400, () => patchBody({ changes: [{ ...change('Count', '7', 1), note: 'x' }] })],
    ['PATCH duplicate names', 400, () => patchBody({ changes: [change('Count', '7', 1), change('Count', '8', 1)] })],
    ['publish missing definitions', 400, () => publishBody({ dryRun: true })],
    ['publish unknown field', 400, () => publishBody({ definitions: defsFor(APP, SETTINGS), force: true })],
    ['publish dryRun not a boolean', 400, () => publishBody({ definitions: defsFor(APP, SETTINGS), dryRun: 'yes' })],
    ['publish a typo in a definition field', 400, () => publishBody({ definitions: defsFor(APP, [{ name: 'Secret', type: 'Text', isSceret: true }]) })],
    ['publish an unknown type', 400, () => publishBody({ definitions: defsFor(APP, [{ name: 'Secret', type: 'Password' }]) })],
    ['publish settings not a list', 400, () => publishBody({ definitions: { app: { key: APP, name: 'x' }, settings: {} } })],
    ['token create unknown role', 400, () => portal.api('POST', '/tokens', { body: { name: 'x', role: 'root' } })],
  ]);
});

test('400: __proto__, constructor and prototype keys anywhere in a body', async () => {
  const problems = await expectRefusals([
    ['PATCH __proto__ at the top', 400, () => patchRaw('{"changes":[],"__proto__":{"polluted":true}}')],
    ['PATCH __proto__ in a change', 400, () => patchRaw('{"changes":[{"name":"Count","value":"2","baseVersion":1,"__proto__":{"isAdmin":true}}]}')],
    ['PATCH constructor in a change', 400, () => patchRaw('{"changes":[{"name":"Count","value":"2","baseVersion":1,"constructor":{"prototype":{"x":1}}}]}')],
    [
      'publish __proto__ in the definitions',
      400,
      () => publishRaw(`{"definitions":{"app":{"key":"${APP}","name":"x"},"settings":[],"__proto__":{"settings":[]}}}`),
    ],
    ['token create prototype key', 400, () => portal.api('POST', '/tokens', { raw: '{"name":"x","role":"admin","prototype":{}}', headers: { 'content-type': 'application/json' } })],
  ]);
  for (const p of problems) assert.match(p.detail, /__proto__|constructor|prototype/);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal((await portal.api('GET', '/tokens')).body.tokens.length, 2, 'no token was created');
});

test('415: a body that is not JSON by content type', async () => {
  await expectRefusals([
    ['PATCH text/plain', 415, () => patchRaw(JSON.stringify({ changes: [change('Count', '9', 1)] }), 'text/plain')],
    ['publish form-encoded', 415, () => publishRaw('definitions=x', 'application/x-www-form-urlencoded')],
    // A Buffer body makes fetch send no Content-Type at all.
    ['publish without a content type', 415, () => portal.api('POST', `/apps/${APP}/publish`, { raw: Buffer.from(JSON.stringify({ definitions: defsFor(APP, SETTINGS) })) })],
    ['token create as XML', 415, () => portal.api('POST', '/tokens', { raw: '<token/>', headers: { 'content-type': 'application/xml' } })],
  ]);
});

test('413: a body over 1 MiB', async () => {
  const big = 'x'.repeat(1024 * 1024);
  await expectRefusals([
    ['PATCH over 1 MiB', 413, () => patchBody({ changes: [change('Label', big, 0)] })],
    ['publish over 1 MiB', 413, () => publishBody({ definitions: defsFor(APP, [{ name: 'Label', type: 'Text', description: big }]) })],
  ]);
  // Just under the limit is read (and then refused for its own reasons, not its size).
  const res = await patchBody({ changes: [change('Label', 'x'.repeat(1024 * 1024 - 100), 0)] });
  assertProblem(res, 422);
});

test('404: unknown app, stage, setting or route', async () => {
  const problems = await expectRefusals([
    ['GET an app never published', 404, () => portal.api('GET', '/apps/no-such-app')],
    ['GET values of an app never published', 404, () => portal.api('GET', '/apps/no-such-app/stages/qa/settings')],
    ['PATCH values of an app never published', 404, () => patchBody({ changes: [change('Count', '2')] }, 'qa', 'no-such-app')],
    ['GET an unknown stage', 404, () => portal.api('GET', `/apps/${APP}/stages/staging/settings`)],
    ['PATCH an unknown stage', 404, () => patchBody({ changes: [change('Count', '2')] }, 'staging')],
    ['PATCH an unknown setting', 404, () => patchBody({ changes: [change('Count', '6', 1), change('NoSuchSetting', '2')] })],
    ['PATCH a setting in the wrong case', 404, () => patchBody({ changes: [change('count', '6', 1)] })],
    ['revoke an unknown token', 404, () => portal.api('DELETE', '/tokens/tok_0000000000000000')],
    ['an unknown route', 404, () => portal.api('GET', '/no-such-route')],
  ]);
  assert.match(problems[0]!.detail, /no-such-app/);
  assert.match(problems[3]!.detail, /staging/);
  assert.match(problems[5]!.detail, /NoSuchSetting/);
});

test('422: values that break the type rules, naming the setting', async () => {
  const problems = await expectRefusals([
    ['Integer "abc"', 422, () => patchBody({ changes: [change('Count', 'abc', 1)] })],
    ['Integer out of 32-bit range', 422, () => patchBody({ changes: [change('Count', '-2147483649', 1)] })],
    ['a non-secret over 2000 characters', 422, () => patchBody({ changes: [change('Label', 'y'.repeat(2001))] })],
    ['runtime token for two stages', 422, () => portal.api('POST', '/tokens', { body: { name: 'rt', role: 'runtime', apps: [APP], stages: ['qa', 'production'] } })],
    ['token scoped to an unknown stage', 422, () => portal.api('POST', '/tokens', { body: { name: 'op', role: 'operator', stages: ['staging'] } })],
  ]);
  assert.deepEqual(problems[0]!.errors, [{ name: 'Count', detail: (problems[0]!.errors as Array<{ detail: string }>)[0]!.detail }]);
  assert.deepEqual((problems[1]!.errors as Array<{ name: string }>).map((e) => e.name), ['Count']);
  assert.deepEqual((problems[2]!.errors as Array<{ name: string }>).map((e) => e.name), ['Label']);
});

test('422: publish to an :app that is not definitions.app.key, or definitions that break the rules of §2, naming the setting', async () => {
  const withSettings = (settings: unknown[]) => () => publishBody({ definitions: defsFor(APP, [...SETTINGS, ...settings]) });
  const cases: Array<[string, () => Promise<ApiResponse>, string]> = [
    ['a bad setting name', withSettings([{ name: '1stPlace', type: 'Text' }]), '1stPlace'],
    ['a name with a dash', withSettings([{ name: 'Max-Retries', type: 'Text' }]), 'Max-Retries'],
    ['a duplicate name ignoring case', withSettings([{ name: 'count', type: 'Integer' }]), 'count'],
    ['a secret with a defaultValue', withSettings([{ name: 'ApiKey', type: 'Text', isSecret: true, defaultValue: 'leaked' }]), 'ApiKey'],
    ['a default invalid for its type', withSettings([{ name: 'Retries', type: 'Integer', defaultValue: 'three' }]), 'Retries'],
    ['a Boolean default in lower case', withSettings([{ name: 'Enabled', type: 'Boolean', defaultValue: 'true' }]), 'Enabled'],
    ['an impossible Date default', withSettings([{ name: 'Start', type: 'Date', defaultValue: '2023-02-30' }]), 'Start'],
    ['a description over 2000 characters', withSettings([{ name: 'Long', type: 'Text', description: 'd'.repeat(2001) }]), 'Long'],
  ];
  const problems = await expectRefusals([
    ['definitions for another app', 422, () => publishBody({ definitions: defsFor('other-app', SETTINGS) })],
    ['an app key breaking the rules', 422, () => publishBody({ definitions: defsFor('Bad_Key', SETTINGS) }, 'Bad_Key')],
    ...cases.map(([what, send]): Case => [what, 422, send]),
  ]);
  assert.match(problems[0]!.detail, /other-app/);
  assert.ok((problems[1]!.errors as Array<{ name: string }>).some((e) => /app\.key/.test(e.name)), JSON.stringify(problems[1]));
  cases.forEach(([what, , name], i) => {
    const errors = problems[i + 2]!.errors as Array<{ name: string; detail: string }> | undefined;
    assert.deepEqual(
      errors?.map((e) => e.name),
      [name],
      `${what}: ${JSON.stringify(problems[i + 2])}`,
    );
    assert.ok(errors![0]!.detail.length > 0);
    assert.equal(problems[i + 2]!.detail.includes('leaked'), false);
  });
  // A dry run is checked the same way.
  await expectRefusals([['a dry run with a bad default', 422, () => publishBody({ definitions: defsFor(APP, [{ name: 'Retries', type: 'Integer', defaultValue: 'x' }]), dryRun: true })]]);
  // No app was created by any refusal.
  assert.deepEqual(
    (await portal.api('GET', '/apps')).body.apps.map((a: { key: string }) => a.key),
    [APP],
  );
});

test('health and openapi.json answer without a token; every other route needs one (401)', async () => {
  const health = await portal.api('GET', '/health', { token: null });
  assert.equal(health.status, 200);
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
  assert.deepEqual(health.body, { status: 'ok', version: pkg.version, store: STORE });

  const doc = await portal.api('GET', '/openapi.json', { token: null });
  assert.equal(doc.status, 200);
  assert.match(doc.headers.get('content-type') ?? '', /json/);
  assert.equal(doc.body.openapi, '3.1.0');
  const expected: Record<string, string[]> = {
    '/health': ['get'],
    '/openapi.json': ['get'],
    '/stages': ['get'],
    '/apps': ['get'],
    '/apps/{app}': ['get'],
    '/apps/{app}/publish': ['post'],
    '/apps/{app}/stages/{stage}/settings': ['get', 'patch'],
    '/apps/{app}/audit': ['get'],
    '/audit': ['get'],
    '/audit/verify': ['get'],
    '/tokens': ['get', 'post'],
    '/tokens/{id}': ['delete'],
    '/runtime/settings': ['get'],
  };
  for (const [route, methods] of Object.entries(expected)) {
    assert.ok(doc.body.paths?.[route], `openapi.json lists ${route}`);
    for (const m of methods) assert.ok(doc.body.paths[route][m], `openapi.json lists ${m.toUpperCase()} ${route}`);
  }

  const snapshotBefore = await snapshot();
  const routes: Array<[string, string, unknown?]> = [
    ['GET', '/stages'],
    ['GET', '/apps'],
    ['GET', `/apps/${APP}`],
    ['GET', `/apps/${APP}/stages/qa/settings`],
    ['PATCH', `/apps/${APP}/stages/qa/settings`, { changes: [change('Count', '9', 1)] }],
    ['POST', `/apps/${APP}/publish`, { definitions: defsFor(APP, []) }],
    ['GET', '/runtime/settings'],
    ['GET', '/tokens'],
    ['POST', '/tokens', { name: 'sneaky', role: 'admin' }],
    ['GET', '/audit'],
  ];
  // From a loopback address of their own: these failed sign-ins must not bring the client the
  // other tests use near the failed-authentication limiter.
  const from = '127.0.0.41';
  for (const [method, route, body] of routes) {
    assertProblem(await apiFrom(portal, from, method, route, { token: null, body }), 401);
  }
  // A token that is not valid is no better than none.
  assertProblem(await apiFrom(portal, from, 'GET', '/apps', { token: 'odcp_not-a-real-token' }), 401);
  assertProblem(await apiFrom(portal, from, 'GET', '/apps', { token: null, headers: { authorization: 'Basic YWRtaW46YWRtaW4=' } }), 401);
  assert.deepEqual(await snapshot(), snapshotBefore);
});

test('after all of the above the server is still up and logged no unexpected error', async () => {
  assert.equal((await portal.api('GET', '/health', { token: null })).status, 200);
  assert.equal(portal.proc.exitCode, null);
  assert.doesNotMatch(portal.output(), /unexpected error|DECRYPTION FAILED/);
  assert.equal(containsCanary(portal.output(), canary), null);
  const verify = await portal.api('GET', '/audit/verify');
  assert.equal(verify.body.ok, true, 'the audit chain (with the refusals recorded) verifies');
});
