// SPEC §12: history and restore, against the real server (both stores: ODC_TEST_STORE).
// Who, when, action and version per write; non-secret old values shown, a secret's never (not
// to admins either); the last PORTAL_HISTORY_VERSIONS writes; restore as a new, version-checked,
// audited write that keeps a secret inside the server; a publish deletion takes the pair's whole
// history with it and leaves it nowhere in the store's files.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { assertProblem, containsCanary, createRuntimeToken, newCanary, removeDir, startPortal, STORE, type Portal } from '../support/portal';
import { storeFilesAtRest, withStoreDb } from '../support/store';
import { publishApp, setValues, stageView } from '../support/values';

interface Entry {
  version: number;
  action: string;
  at: string;
  by: string | null;
  hasValue: boolean;
  value: string | null;
  current: boolean;
}

let portal: Portal;

before(async () => {
  portal = await startPortal({ env: { PORTAL_HISTORY_VERSIONS: '5' } });
});

after(async () => {
  await portal?.stop();
  if (portal) removeDir(path.dirname(portal.dataDir));
});

async function history(app: string, stage: string, name: string, token?: string) {
  const res = await portal.api('GET', `/apps/${app}/stages/${stage}/settings/${name}/history`, token === undefined ? {} : { token });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  return res.body as { version: number; isSecret: boolean; entries: Entry[] };
}

function restore(app: string, stage: string, name: string, version: number, baseVersion: number, token?: string) {
  return portal.api('POST', `/apps/${app}/stages/${stage}/settings/${name}/restore`, { body: { version, baseVersion }, ...(token === undefined ? {} : { token }) });
}

test('history lists each write newest first with version, action, who and when; non-secret values shown', async () => {
  const app = 'hist-list';
  await publishApp(portal, app, [{ name: 'Url', type: 'Text', defaultValue: 'http://default' }]);
  const op = await portal.api('POST', '/tokens', { body: { name: 'ops person', role: 'operator', apps: [app], stages: ['qa'] } });
  assert.equal(op.status, 201);
  await setValues(portal, app, 'qa', { Url: 'http://one' });
  await setValues(portal, app, 'qa', { Url: 'http://two' }, op.body.token);
  await setValues(portal, app, 'qa', { Url: null });
  const h = await history(app, 'qa', 'Url');
  assert.equal(h.version, 3);
  assert.deepEqual(
    h.entries.map((e) => [e.version, e.action, e.by, e.hasValue, e.value, e.current]),
    [
      [3, 'clear', 'initial admin', false, null, true],
      [2, 'set', 'ops person', true, 'http://two', false],
      [1, 'set', 'initial admin', true, 'http://one', false],
    ],
  );
  for (const e of h.entries) assert.ok(!Number.isNaN(Date.parse(e.at)));
  // Another stage and a never-written pair have none.
  assert.deepEqual((await history(app, 'production', 'Url')).entries, []);
  // Unknown setting and stage: 404.
  assertProblem(await portal.api('GET', `/apps/${app}/stages/qa/settings/Nope/history`), 404);
  assertProblem(await portal.api('GET', `/apps/${app}/stages/staging/settings/Url/history`), 404);
});

test('only the last PORTAL_HISTORY_VERSIONS writes are kept; an older version cannot be restored', async () => {
  const app = 'hist-keep';
  await publishApp(portal, app, [{ name: 'N', type: 'Integer' }]);
  for (let i = 1; i <= 8; i++) await setValues(portal, app, 'qa', { N: String(i) });
  const h = await history(app, 'qa', 'N');
  assert.deepEqual(
    h.entries.map((e) => e.version),
    [8, 7, 6, 5, 4],
  );
  assert.equal(STORE === 'sqlite' ? await countHistoryRows(app) : await countHistoryRows(app), 5, 'the store itself keeps no more');
  const refused = assertProblem(await restore(app, 'qa', 'N', 2, 8), 404);
  assert.match(refused.detail, /only the last 5 writes are kept/);
});

async function countHistoryRows(app: string): Promise<number> {
  return withStoreDb(portal.dataDir, async (db) => Number((await db.all<{ n: number }>('SELECT count(*) AS n FROM value_history WHERE app_key = ?', app))[0]!.n), { readonly: true });
}

test("a secret's old values are never shown, not even to an admin; restoring one keeps it in the server", async () => {
  const app = 'hist-secret';
  await publishApp(portal, app, [{ name: 'ApiKey', type: 'Text', isSecret: true }]);
  const first = newCanary('FIRST');
  const second = newCanary('SECOND');
  await setValues(portal, app, 'production', { ApiKey: first });
  await setValues(portal, app, 'production', { ApiKey: second });
  await setValues(portal, app, 'production', { ApiKey: null });
  const res = await portal.api('GET', `/apps/${app}/stages/production/settings/ApiKey/history`);
  assert.equal(res.status, 200);
  for (const c of [first, second]) assert.equal(containsCanary(res.text, c), null, 'a secret in the history answer');
  const h = res.body as { isSecret: boolean; entries: Entry[] };
  assert.equal(h.isSecret, true);
  assert.deepEqual(
    h.entries.map((e) => [e.version, e.action, e.value]),
    [
      [3, 'clear', null],
      [2, 'set', '*****'],
      [1, 'set', '*****'],
    ],
  );

  const restored = await restore(app, 'production', 'ApiKey', 1, 3);
  assert.equal(restored.status, 200, restored.text);
  for (const c of [first, second]) assert.equal(containsCanary(restored.text, c), null, 'a secret in the restore answer');
  const row = (restored.body.settings as Array<{ name: string; version: number; value: string }>).find((s) => s.name === 'ApiKey')!;
  assert.deepEqual([row.version, row.value], [4, '*****']);
  const runtime = await createRuntimeToken(portal, app, 'production');
  assert.equal((await portal.api('GET', '/runtime/settings', { token: runtime })).body.settings.ApiKey, first, 'the runtime read gets version 1 back');
  assert.deepEqual(
    (await history(app, 'production', 'ApiKey')).entries.slice(0, 1).map((e) => [e.version, e.action, e.value, e.current]),
    [[4, 'restore', '*****', true]],
  );
  // The audit says restore, never the value.
  const audit = await portal.api('GET', `/apps/${app}/audit`);
  const event = (audit.body.events as Array<{ action: string; version: number; detail: { restoredVersion?: number } }>).find((e) => e.action === 'value.restore')!;
  assert.deepEqual([event.version, event.detail.restoredVersion], [4, 1]);
  for (const c of [first, second]) assert.equal(containsCanary(audit.text, c), null);
  for (const c of [first, second]) assert.equal(containsCanary(portal.output(), c), null, 'a secret in the log');
});

test('restore is a version-checked write: stale baseVersion 409, unknown version 404, bad body 400, invalid for the type now 422', async () => {
  const app = 'hist-restore';
  await publishApp(portal, app, [
    { name: 'Url', type: 'Text', defaultValue: 'http://d' },
    { name: 'Port', type: 'Text' },
  ]);
  await setValues(portal, app, 'qa', { Url: 'http://one', Port: 'eighty' });
  await setValues(portal, app, 'qa', { Url: 'http://two', Port: '80' });
  const conflict = assertProblem(await restore(app, 'qa', 'Url', 1, 1), 409);
  assert.deepEqual(conflict.conflicts, ['Url']);
  assertProblem(await restore(app, 'qa', 'Url', 9, 2), 404);
  assertProblem(await portal.api('POST', `/apps/${app}/stages/qa/settings/Url/restore`, { body: { version: 1 } }), 400);
  assertProblem(await portal.api('POST', `/apps/${app}/stages/qa/settings/Url/restore`, { body: { version: 1, baseVersion: 2, value: 'x' } }), 400);
  assert.equal((await stageView(portal, app, 'qa')).get('Url')!.version, 2, 'nothing changed');

  const ok = await restore(app, 'qa', 'Url', 1, 2);
  assert.equal(ok.status, 200, ok.text);
  const url = (await stageView(portal, app, 'qa')).get('Url')!;
  assert.deepEqual([url.value, url.version], ['http://one', 3]);
  // Restoring a clear clears.
  await setValues(portal, app, 'qa', { Url: null });
  await setValues(portal, app, 'qa', { Url: 'http://five' });
  assert.equal((await restore(app, 'qa', 'Url', 4, 5)).status, 200);
  assert.deepEqual([(await stageView(portal, app, 'qa')).get('Url')!.hasValue, (await stageView(portal, app, 'qa')).get('Url')!.version], [false, 6]);

  // Port becomes an Integer: "80" stays valid and is kept, version 1 ("eighty") is no longer valid.
  await publishApp(portal, app, [
    { name: 'Url', type: 'Text', defaultValue: 'http://d' },
    { name: 'Port', type: 'Integer' },
  ]);
  const invalid = assertProblem(await restore(app, 'qa', 'Port', 1, 2), 422);
  assert.equal((invalid.errors as Array<{ name: string }>)[0]!.name, 'Port');
  assert.equal((await stageView(portal, app, 'qa')).get('Port')!.version, 2);
});

test("a publish deletion deletes the pair's whole history, in every stage, and leaves it nowhere (canary hunt)", async () => {
  const app = 'hist-deleted';
  await publishApp(portal, app, [
    { name: 'Removed', type: 'Text' },
    { name: 'Flips', type: 'Text', isSecret: true },
    { name: 'Kept', type: 'Text' },
  ]);
  const removed = [newCanary('REMOVED1'), newCanary('REMOVED2')];
  const flipped = [newCanary('FLIP1'), newCanary('FLIP2')];
  const kept = newCanary('KEPT');
  for (const v of removed) await setValues(portal, app, 'qa', { Removed: v });
  for (const v of flipped) await setValues(portal, app, 'production', { Flips: v });
  // Flips has no value now, only history: the publish must still take its old secrets away.
  await setValues(portal, app, 'production', { Flips: null });
  await setValues(portal, app, 'qa', { Kept: kept });
  if (STORE === 'sqlite') {
    const files = await storeFilesAtRest(portal.dataDir);
    assert.ok(files.some(({ bytes }) => containsCanary(bytes, removed[1]!)), 'positive control: the current non-secret value is in the store in clear before the deletion');
    // Kept writes are sealed, a non-secret's too (SPEC §5 with §12): the replaced value is nowhere in clear.
    assert.ok(!files.some(({ bytes }) => containsCanary(bytes, removed[0]!)), 'a replaced non-secret value is kept only as ciphertext');
  }
  const res = await portal.api('POST', `/apps/${app}/publish`, {
    body: {
      definitions: {
        app: { key: app, name: app },
        settings: [
          { name: 'Flips', type: 'Text' },
          { name: 'Kept', type: 'Text' },
        ],
      },
    },
  });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual((await history(app, 'production', 'Flips')).entries, [], 'the flipped setting keeps no secret history');
  assert.equal((await history(app, 'qa', 'Kept')).entries.length, 1, 'other settings keep theirs');
  // Re-adding the removed setting brings nothing back.
  await publishApp(portal, app, [
    { name: 'Flips', type: 'Text' },
    { name: 'Kept', type: 'Text' },
    { name: 'Removed', type: 'Text' },
  ]);
  assert.deepEqual((await history(app, 'qa', 'Removed')).entries, []);
  const rows = await withStoreDb(portal.dataDir, (db) => db.all<{ name: string }>("SELECT name FROM value_history WHERE app_key = ? AND name <> 'Kept'", app), { readonly: true });
  assert.deepEqual(rows, []);
  if (STORE === 'sqlite') {
    const files = await storeFilesAtRest(portal.dataDir);
    for (const c of [...removed, ...flipped]) {
      const found = files.filter(({ bytes }) => containsCanary(bytes, c) !== null).map(({ file }) => path.basename(file));
      assert.deepEqual(found, [], `a deleted old value lingers in ${found.join(', ')}`);
    }
  }
});
