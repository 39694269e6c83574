// `odc-portal check --app A --stage S [--json]` (SPEC §13) against a real portal (both stores):
// the deploy gate exits 1 on a missing secret or a Production secret equal to a lower stage's,
// 0 otherwise (a due rotation is a warning); --json for machines; never a value in its output.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { containsCanary, newCanary, removeDir, runCliAsync, startPortal, tempDir, type Portal } from '../support/portal';
import { withStoreDb } from '../support/store';
import { publishApp, setValues } from '../support/values';

let portal: Portal;
let work: string;
let developer: string;
const testKey = newCanary('TESTKEY');

before(async () => {
  work = tempDir('odc-check-');
  portal = await startPortal();
  await publishApp(portal, 'shop', [
    { name: 'ApiKey', type: 'Text', isSecret: true, rotationDays: 30 },
    { name: 'DbPassword', type: 'Text', isSecret: true },
    { name: 'Url', type: 'Text' },
  ]);
  const dev = await portal.api('POST', '/tokens', { body: { name: 'ci', role: 'developer', apps: ['shop'] } });
  developer = dev.body.token;
});

after(async () => {
  await portal?.stop();
  if (portal) removeDir(path.dirname(portal.dataDir));
  removeDir(work);
});

const check = (args: string[], env: Record<string, string | undefined> = {}) =>
  runCliAsync(['check', '--app', 'shop', ...args], { ODC_TOKEN: developer, ODC_SERVER: portal.url, ...env }, work);

test('exit 1 with the missing secrets named; --json gives the same verdict for machines', async () => {
  const res = await check(['--stage', 'qa']);
  assert.equal(res.code, 1, res.stdout + res.stderr);
  assert.match(res.stdout, /ERROR\s+ApiKey has no value in QA/);
  assert.match(res.stdout, /ERROR\s+DbPassword has no value in QA/);
  const json = await check(['--stage', 'qa', '--json']);
  assert.equal(json.code, 1);
  const body = JSON.parse(json.stdout);
  assert.equal(body.ok, false);
  assert.deepEqual(body.warnings.map((w: { kind: string; setting: string }) => `${w.kind}:${w.setting}`).sort(), ['missing:ApiKey', 'missing:DbPassword']);
});

test('exit 1 when Production reuses a lower stage secret; 0 once it has its own; a due rotation only warns', async () => {
  await setValues(portal, 'shop', 'development', { ApiKey: testKey });
  await setValues(portal, 'shop', 'production', { ApiKey: testKey, DbPassword: newCanary() });
  const reused = await check(['--stage', 'production']);
  assert.equal(reused.code, 1, reused.stdout + reused.stderr);
  assert.match(reused.stdout, /ApiKey in Production is the same secret as in Development/);
  assert.equal(containsCanary(reused.stdout + reused.stderr, testKey), null);

  await setValues(portal, 'shop', 'production', { ApiKey: newCanary() });
  await withStoreDb(portal.dataDir, (db) =>
    db.run("UPDATE stage_values SET updated_at = ? WHERE app_key = 'shop' AND stage = 'production' AND name = 'ApiKey'", new Date(Date.now() - 40 * 86_400_000).toISOString()),
  );
  const ok = await check(['--stage', 'production']);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /warn\s+ApiKey in Production is older than 30 days/);
  const json = JSON.parse((await check(['--stage', 'production', '--json'])).stdout);
  assert.deepEqual([json.ok, json.comparedWith], [true, ['development', 'qa']]);
});

test('a token scoped to the stage alone still gets that stage checked; usage errors exit 2; a refusal exits 1', async () => {
  const prodOnly = await portal.api('POST', '/tokens', { body: { name: 'prod ci', role: 'operator', apps: ['shop'], stages: ['production'] } });
  const res = await check(['--stage', 'production'], { ODC_TOKEN: prodOnly.body.token });
  assert.equal(res.code, 0, res.stdout + res.stderr);
  assert.match(res.stdout, /lower stages/);
  assert.equal((await check(['--stage', 'production'], { ODC_TOKEN: undefined })).code, 2);
  assert.equal((await runCliAsync(['check', '--stage', 'qa'], { ODC_TOKEN: developer, ODC_SERVER: portal.url }, work)).code, 2);
  assert.equal((await check(['--stage', 'staging'])).code, 2);
  const other = await runCliAsync(['check', '--app', 'not-mine', '--stage', 'qa'], { ODC_TOKEN: prodOnly.body.token, ODC_SERVER: portal.url }, work);
  assert.equal(other.code, 1);
  assert.match(other.stdout, /refused \(403\)/);
});
