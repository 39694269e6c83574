// Part 4, canary hunt (server surfaces): a recognisable secret value goes through every
// server path a value can take (set, replace, a batch refused for another change, a stale
// write, a publish body, invalid and oversized values, refused sign-ins, wrong content types,
// broken JSON, a body over the limit...), then every encoded form of it is searched for in
// every answer (bodies and headers, errors too), the server log, the audit records, the
// store's files (db, WAL, SHM, journal) while running and after stop, and every file under
// the data dir. Found nowhere. Plaintext values that a publish or a clear deleted must not
// linger in the files either. Positive controls prove the hunt sees what it should.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { apiFrom, removeDir, startPortal, type Portal } from '../support/portal';
import { describeHits, fileSurface, huntCanary, makeCanary, recordingApi, ResponseRecorder, serverSurfaces, textSurface, type HuntReport } from './canary';
import { createToken, publish, versions } from './fixtures';
import { reportFigures } from './lib';

const VAULT = {
  app: { key: 'vault', name: 'Vault' },
  settings: [
    { name: 'ApiKey', type: 'Text', isSecret: true },
    { name: 'Pin', type: 'Integer', isSecret: true },
    { name: 'Cert', type: 'Text', isSecret: true },
    { name: 'Count', type: 'Integer', defaultValue: '1' },
    { name: 'Plain', type: 'Text' },
    { name: 'Flip', type: 'Text' },
    { name: 'Control', type: 'Text' },
  ],
};

let portal: Portal | null = null;
after(async () => {
  if (portal) {
    await portal.stop();
    removeDir(path.dirname(portal.dataDir));
  }
});

test('canary hunt: a secret set through every server path is found nowhere', { timeout: 5 * 60_000 }, async () => {
  portal = await startPortal();
  const p = portal;
  const recorder = new ResponseRecorder();
  const api = recordingApi(p, recorder);
  const c = {
    set: makeCanary('SET'),
    replace: makeCanary('REPLACE'),
    batch422: makeCanary('BATCH422'),
    stale409: makeCanary('STALE409'),
    publishDefault: makeCanary('PUBDEFAULT'),
    publishDryRun: makeCanary('PUBDRY'),
    invalidType: makeCanary('BADTYPE'),
    oversize: makeCanary('OVERSIZE'),
    unknown404: makeCanary('UNKNOWN404'),
    shape400: makeCanary('SHAPE400'),
    extraField: makeCanary('EXTRAFIELD'),
    forbidden403: makeCanary('FORBIDDEN403'),
    unauth401: makeCanary('UNAUTH401'),
    type415: makeCanary('TYPE415'),
    json400: makeCanary('JSON400'),
    large413: makeCanary('LARGE413'),
    cleared: makeCanary('CLEARED'),
    production: makeCanary('PROD'),
  };
  const plaintextDeleted = { flip: makeCanary('FLIPPLAIN'), plainCleared: makeCanary('PLAINCLEARED'), plainReplaced: makeCanary('PLAINREPLACED') };
  const control = makeCanary('CONTROL');
  const status = (res: { status: number }, expected: number, what: string) => assert.equal(res.status, expected, `${what}: expected ${expected}, got ${res.status}`);
  const v = async (stage: string) => versions(api, 'vault', stage);

  await publish(api, VAULT);
  const operator = await createToken(api, { name: 'operator qa only', role: 'operator', apps: ['vault'], stages: ['qa'] });
  const runtime = await createToken(api, { name: 'runtime vault/qa', role: 'runtime', apps: ['vault'], stages: ['qa'] });
  const patch = (stage: string, changes: unknown[], opts: { token?: string } = {}) => api('PATCH', `/apps/vault/stages/${stage}/settings`, { body: { changes }, ...opts });

  // ---- phase A: the secret paths ----
  status(await patch('qa', [{ name: 'ApiKey', value: c.set, baseVersion: 0 }]), 200, 'set');
  status(await patch('qa', [{ name: 'ApiKey', value: c.replace, baseVersion: 1 }]), 200, 'replace');
  status(await patch('qa', [{ name: 'Cert', value: c.batch422, baseVersion: 0 }, { name: 'Count', value: 'not a number', baseVersion: 0 }]), 422, 'batch with a failing change');
  assert.equal((await v('qa')).Cert, 0, 'the refused batch wrote Cert');
  status(await patch('qa', [{ name: 'ApiKey', value: c.stale409, baseVersion: 0 }]), 409, 'stale write');
  const withDefault = { ...VAULT, settings: VAULT.settings.map((s) => (s.name === 'ApiKey' ? { ...s, defaultValue: c.publishDefault } : s)) };
  status(await api('POST', '/apps/vault/publish', { body: { definitions: withDefault } }), 422, 'publish with a default on a secret');
  const withDefaultDry = { ...VAULT, settings: VAULT.settings.map((s) => (s.name === 'Cert' ? { ...s, defaultValue: c.publishDryRun } : s)) };
  status(await api('POST', '/apps/vault/publish', { body: { definitions: withDefaultDry, dryRun: true } }), 422, 'dry-run publish with a default on a secret');
  status(await patch('qa', [{ name: 'Pin', value: c.invalidType, baseVersion: 0 }]), 422, 'secret invalid for its type');
  status(await patch('qa', [{ name: 'Cert', value: c.oversize.repeat(Math.ceil((48 * 1024 + 10) / c.oversize.length)), baseVersion: 0 }]), 422, 'secret over 48 KiB');
  status(await patch('qa', [{ name: 'ApiKey', value: c.unknown404, baseVersion: 2 }, { name: 'NoSuchSetting', value: 'x', baseVersion: 0 }]), 404, 'batch with an unknown setting');
  status(await patch('qa', [{ name: 'ApiKey', value: c.shape400, baseVersion: 'two' }]), 400, 'wrong-typed version');
  status(await patch('qa', [{ name: 'ApiKey', value: 'x', baseVersion: 2, comment: c.extraField }]), 400, 'value in an unknown field');
  status(await patch('production', [{ name: 'ApiKey', value: c.forbidden403, baseVersion: 0 }], { token: operator.token }), 403, 'operator outside its stage');
  const unauth = await apiFrom(p, '127.0.0.9', 'PATCH', '/apps/vault/stages/qa/settings', { token: 'odcp_not-a-token', body: { changes: [{ name: 'ApiKey', value: c.unauth401, baseVersion: 2 }] } });
  recorder.record('PATCH (bad token) /apps/vault/stages/qa/settings', unauth);
  status(unauth, 401, 'bad token');
  status(await api('PATCH', '/apps/vault/stages/qa/settings', { raw: JSON.stringify({ changes: [{ name: 'ApiKey', value: c.type415, baseVersion: 2 }] }), headers: { 'content-type': 'text/plain' } }), 415, 'text/plain body');
  status(await api('PATCH', '/apps/vault/stages/qa/settings', { raw: `{"changes":[{"name":"ApiKey","value":"${c.json400.replace(/["\\]/g, '')}",}]`, headers: { 'content-type': 'application/json' } }), 400, 'broken JSON');
  status(await api('PATCH', '/apps/vault/stages/qa/settings', { body: { changes: [{ name: 'ApiKey', value: c.large413.repeat(Math.ceil((1024 * 1024 + 10) / c.large413.length)), baseVersion: 2 }] } }), 413, 'body over 1 MiB');
  status(await patch('production', [{ name: 'ApiKey', value: c.production, baseVersion: 0 }]), 200, 'set in production');
  status(await patch('development', [{ name: 'ApiKey', value: c.cleared, baseVersion: 0 }]), 200, 'set in development');
  status(await patch('development', [{ name: 'ApiKey', value: null, baseVersion: 1 }]), 200, 'clear in development');
  // Reads people make: masked.
  for (const stage of ['development', 'qa', 'production']) status(await api('GET', `/apps/vault/stages/${stage}/settings`), 200, `read ${stage}`);
  status(await api('GET', '/apps/vault'), 200, 'read app');

  const secretCanaries = Object.values(c);
  const running = (name: string) => fileSurface(`${name} (while running)`, () => [path.join(p.dataDir, 'portal.db'), path.join(p.dataDir, 'portal.db-wal'), path.join(p.dataDir, 'portal.db-shm'), path.join(p.dataDir, 'portal.db-journal')]);
  const hunts: Array<{ when: string; report: HuntReport }> = [];
  hunts.push({ when: 'mid-run, store files while running', report: await huntCanary({ canary: secretCanaries, surfaces: [running('store files'), textSurface('server log so far', () => p.output())] }) });

  // ---- phase B: plaintext that a publish or a clear deletes ----
  status(await patch('qa', [{ name: 'Flip', value: plaintextDeleted.flip, baseVersion: 0 }, { name: 'Plain', value: plaintextDeleted.plainCleared, baseVersion: 0 }, { name: 'Control', value: control, baseVersion: 0 }]), 200, 'plain values');
  status(await patch('qa', [{ name: 'Plain', value: null, baseVersion: 1 }]), 200, 'clear a plain value');
  status(await patch('production', [{ name: 'Plain', value: plaintextDeleted.plainReplaced, baseVersion: 0 }]), 200, 'set a plain value');
  status(await patch('production', [{ name: 'Plain', value: 'replacement', baseVersion: 1 }]), 200, 'replace a plain value');
  const flipped = { ...VAULT, settings: VAULT.settings.map((s) => (s.name === 'Flip' ? { ...s, isSecret: true } : s)) };
  const published = await publish(api, flipped, { baseRevision: 1 });
  assert.deepEqual(published.plan.deletions, [{ setting: 'Flip', stage: 'qa', reason: 'non-secret-to-secret' }]);

  // Positive controls: the runtime read carries the secret; the store's files carry a kept plain value.
  const rt = await p.api('GET', '/runtime/settings', { token: runtime.token });
  status(rt, 200, 'runtime read');
  const controlRuntime = await huntCanary({ canary: c.replace, surfaces: [textSurface('runtime answer (control)', () => rt.text)] });
  assert.ok(controlRuntime.hits.length > 0, 'control: the hunt does not see the secret in the runtime answer');
  const controlFiles = await huntCanary({ canary: control, surfaces: [running('store files')] });
  assert.ok(controlFiles.hits.length > 0, 'control: the hunt does not see a stored plain value in the store files');
  const b64 = Buffer.from(`xy${c.set}`).toString('base64');
  assert.ok((await huntCanary({ canary: c.set, surfaces: [textSurface('base64 control', () => `prefix ${b64} suffix`)] })).hits.length > 0, 'control: a misaligned base64 form is not found');

  // While running: everything (answers, log, audit through the API, store files, data dir).
  hunts.push({ when: 'end of run, all surfaces while running', report: await huntCanary({ canary: secretCanaries, surfaces: serverSurfaces({ portal: p, recorder }) }) });
  hunts.push({ when: 'deleted plaintext, store files while running', report: await huntCanary({ canary: Object.values(plaintextDeleted), surfaces: [running('store files'), fileSurface('data dir (while running)', () => [p.dataDir])] }) });

  // After a stop: answers, log, every file.
  await p.stop();
  const stopped = serverSurfaces({ portal: p, recorder, audit: false });
  hunts.push({ when: 'after stop, all surfaces', report: await huntCanary({ canary: secretCanaries, surfaces: stopped }) });
  hunts.push({ when: 'deleted plaintext, every file after stop', report: await huntCanary({ canary: Object.values(plaintextDeleted), surfaces: [fileSurface('every file under the data dir', () => [p.dataDir])] }) });

  const all = hunts.flatMap((h) => h.report.hits.map((hit) => ({ ...hit, surface: `${h.when}: ${hit.surface}` })));
  const surfaces = new Map<string, { items: number; bytes: number }>();
  for (const h of hunts) for (const s of h.report.surfaces) surfaces.set(`${s.name}`, { items: Math.max(s.items, surfaces.get(s.name)?.items ?? 0), bytes: Math.max(s.bytes, surfaces.get(s.name)?.bytes ?? 0) });
  reportFigures('4. canary hunt', {
    'secret canaries (value paths)': secretCanaries.length,
    'deleted-plaintext canaries': Object.keys(plaintextDeleted).length,
    'encoded forms per canary': hunts[1]!.report.forms / secretCanaries.length,
    hunts: hunts.length,
    'surfaces searched': [...surfaces.entries()].map(([name, s]) => `${name} [${s.items} items, ${(s.bytes / 1024).toFixed(0)} KiB]`).join('; '),
    'responses recorded': recorder.items.length / 2,
    'bytes searched (all hunts)': hunts.reduce((n, h) => n + h.report.bytesSearched, 0),
    'positive controls': 'runtime answer, stored plain value, misaligned base64: all found',
    hits: all.length,
  });
  assert.equal(all.length, 0, `canaries found:\n${describeHits(all)}`);
});
