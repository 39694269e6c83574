// Issue 11 items 3, 6, 7, 8, 10, 11: admin tokens have no scope (SPEC §6), an emptied audit is
// broken (§7), a tampered ciphertext header is a loud DecryptionError (§5, §8), text that is
// not well-formed Unicode is refused rather than stored changed, admin.token is always 0600,
// and `odc-portal run` passes a child's death by signal through as 128+N.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, test } from 'node:test';
import {
  assertProblem,
  containsCanary,
  createRuntimeToken,
  defsFor,
  newCanary,
  portalsForThisFile,
  runCliAsync,
  STORE,
  tempDir,
  type Portal,
} from '../support/portal';
import { withStoreDb } from '../support/store';

/** The column of a sealed value: SQLite's `secret`, PostgreSQL's `sealed`. */
const SEALED = STORE === 'postgres' ? 'sealed' : 'secret';

const APP = 'rules-app';
const { start, stop, removeAfter } = portalsForThisFile();

async function poll<T>(what: string, fn: () => T | undefined | false, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('hardening rules on a running portal', () => {
  let portal: Portal;
  let runtime: string;
  const secret = newCanary('rules');

  before(async () => {
    portal = await start();
    const pub = await portal.api('POST', `/apps/${APP}/publish`, {
      body: { definitions: defsFor(APP, [{ name: 'ApiKey', type: 'Text', isSecret: true }, { name: 'Note', type: 'Text', defaultValue: 'n' }]) },
    });
    assert.equal(pub.status, 200, pub.text);
    const set = await portal.api('PATCH', `/apps/${APP}/stages/qa/settings`, { body: { changes: [{ name: 'ApiKey', value: secret, baseVersion: 0 }] } });
    assert.equal(set.status, 200, set.text);
    runtime = await createRuntimeToken(portal, APP, 'qa');
  });

  test('item 3: an admin token with an app or stage scope is refused (422, says why); without one it is created', async () => {
    const before = (await portal.api('GET', '/tokens')).body.tokens.length;
    for (const scope of [{ apps: [APP] }, { stages: ['qa'] }, { apps: [APP], stages: ['qa'] }]) {
      const res = await portal.api('POST', '/tokens', { body: { name: 'scoped admin', role: 'admin', ...scope } });
      const problem = assertProblem(res, 422);
      assert.match(problem.detail, /admin token has no scope|admin.*scope/i, JSON.stringify(scope));
    }
    assert.equal((await portal.api('GET', '/tokens')).body.tokens.length, before, 'no token was created');
    assert.equal((await portal.api('POST', '/tokens', { body: { name: 'second admin', role: 'admin' } })).status, 201);
    assert.equal((await portal.api('POST', '/tokens', { body: { name: 'third admin', role: 'admin', apps: '*', stages: '*' } })).status, 201);
    // The command line refuses it too, before touching the store.
    const cli = await runCliAsync(['token', 'create', '--data-dir', portal.dataDir, '--name', 'cli admin', '--role', 'admin', '--app', APP]);
    assert.equal(cli.code, 2, cli.stdout + cli.stderr);
    assert.match(cli.stderr, /admin token has no scope/);
  });

  test('item 8: a value or definitions text that is not well-formed Unicode (a lone surrogate) is refused, and nothing changes', async () => {
    const before = (await portal.api('GET', `/apps/${APP}/stages/qa/settings`)).body;
    const note = before.settings.find((s: { name: string }) => s.name === 'Note');
    for (const value of ['a\ud800b', 'x\udc00', '\udbff']) {
      const res = await portal.api('PATCH', `/apps/${APP}/stages/qa/settings`, { body: { changes: [{ name: 'Note', value, baseVersion: note.version }] } });
      const problem = assertProblem(res, 400);
      assert.match(problem.detail, /Unicode|UTF/);
    }
    // In a secret and in the definitions too.
    const apiKey = before.settings.find((s: { name: string }) => s.name === 'ApiKey');
    assertProblem(await portal.api('PATCH', `/apps/${APP}/stages/qa/settings`, { body: { changes: [{ name: 'ApiKey', value: 'k\ud83d', baseVersion: apiKey.version }] } }), 400);
    const defs = defsFor(APP, [{ name: 'ApiKey', type: 'Text', isSecret: true, description: 'bad \ud800 text' }, { name: 'Note', type: 'Text', defaultValue: 'n' }]);
    assertProblem(await portal.api('POST', `/apps/${APP}/publish`, { body: { definitions: defs } }), 400);
    assert.deepEqual((await portal.api('GET', `/apps/${APP}/stages/qa/settings`)).body, before, 'nothing was stored');
    // A well-formed pair (an emoji) is stored exactly as sent.
    const emoji = 'ok \ud83d\ude00';
    const ok = await portal.api('PATCH', `/apps/${APP}/stages/qa/settings`, { body: { changes: [{ name: 'Note', value: emoji, baseVersion: note.version }] } });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.body.settings.find((s: { name: string }) => s.name === 'Note').value, emoji);
  });

  test('item 7: a ciphertext whose key-id header was changed is a DecryptionError: a 500 problem, logged loudly with app, stage and setting, never the value', async () => {
    await withStoreDb(portal.dataDir, async (db) => {
      const [row] = await db.all<{ blob: Buffer }>(`SELECT ${SEALED} AS blob FROM stage_values WHERE app_key = ? AND stage = ? AND name = ?`, APP, 'qa', 'ApiKey');
      const tampered = Buffer.from(row!.blob);
      tampered[4] = 255; // the low byte of the data key id: names a key that does not exist
      await db.run(`UPDATE stage_values SET ${SEALED} = ? WHERE app_key = ? AND stage = ? AND name = ?`, tampered, APP, 'qa', 'ApiKey');
    });
    for (const route of ['/runtime/settings', '/runtime/settings?via=express']) {
      const res = await portal.api('GET', route, { token: runtime });
      const problem = assertProblem(res, 500);
      assert.match(problem.detail, /could not be decrypted/);
      assert.equal(containsCanary(res.text, secret), null);
    }
    const line = await poll('the decryption failure in the log', () => portal.output().split('\n').find((l) => l.includes('DECRYPTION FAILED')));
    const logged = JSON.parse(line) as Record<string, unknown>;
    assert.equal(logged.level, 50, 'logged as an error');
    assert.equal(logged.app, APP);
    assert.equal(logged.stage, 'qa');
    assert.equal(logged.setting, 'ApiKey');
    assert.doesNotMatch(portal.output(), /unexpected error/);
    assert.equal(containsCanary(portal.output(), secret), null, 'the log never holds the value');
  });
});

describe('an emptied audit is broken (item 6)', () => {
  test('deleting every record and the head: verify over HTTP and the CLI say broken, not "ok: 0 events"', async () => {
    const portal = await start();
    const dataDir = portal.dataDir;
    const adminToken = portal.adminToken;
    await stop(portal);
    await withStoreDb(dataDir, async (db) => {
      await db.run('DELETE FROM audit');
      await db.run("DELETE FROM meta WHERE key = 'audit_head'");
    });
    const cli = await runCliAsync(['audit', 'verify', '--data-dir', dataDir]);
    assert.equal(cli.code, 1, cli.stdout + cli.stderr);
    assert.match(cli.stdout, /AUDIT CHAIN BROKEN/);
    assert.doesNotMatch(cli.stdout, /chain ok/);
    const again = await start({ dataDir, adminToken });
    const verify = await again.api('GET', '/audit/verify');
    assert.equal(verify.status, 200, verify.text);
    assert.equal(verify.body.ok, false);
    await stop(again);
  });
});

describe('admin.token and the data dir (item 10)', () => {
  test('an existing admin.token readable by others is replaced by a 0600 file; a data dir readable by others is warned about', async () => {
    const dir = tempDir('odc-admintoken-');
    removeAfter(dir);
    const dataDir = path.join(dir, 'data');
    fs.mkdirSync(dataDir, { mode: 0o755 });
    fs.chmodSync(dataDir, 0o755);
    const file = path.join(dataDir, 'admin.token');
    fs.writeFileSync(file, 'left over\n', { mode: 0o644 });
    fs.chmodSync(file, 0o644);
    const portal = await start({ dataDir });
    assert.equal(fs.statSync(file).mode & 0o777, 0o600, 'admin.token is owner-only');
    assert.equal(fs.readFileSync(file, 'utf8').trim(), portal.adminToken);
    // The embedded store's data dir holds the database; with PostgreSQL it holds only admin.token.
    if (STORE === 'sqlite') assert.match(portal.output(), /data dir .* is readable by others.*chmod 700/);
    assert.equal((await portal.api('GET', '/apps')).status, 200);
  });
});

describe('odc-portal run passes a death by signal through (item 11)', () => {
  test('a child killed by SIGTERM gives 143, by SIGKILL 137, as shells do; a normal exit code is passed through', async () => {
    const portal = await start();
    assert.equal((await portal.api('POST', `/apps/${APP}/publish`, { body: { definitions: defsFor(APP, [{ name: 'Note', type: 'Text', defaultValue: 'n' }]) } })).status, 200);
    const token = await createRuntimeToken(portal, APP, 'development');
    const run = (script: string) =>
      runCliAsync(['run', '--app', APP, '--stage', 'development', '--server', portal.url, '--', process.execPath, '-e', script], { ODC_RUNTIME_TOKEN: token });
    assert.equal((await run("process.kill(process.pid, 'SIGTERM')")).code, 143);
    assert.equal((await run("process.kill(process.pid, 'SIGKILL')")).code, 137);
    assert.equal((await run('process.exit(7)')).code, 7);
  });
});
