// `odc-portal migrate --data-dir DIR --to postgres://...` (SPEC §11): an embedded store with
// apps, revisions, values (secret and not, set, cleared and deleted by a publish), tokens (one
// revoked) and an audit chain is copied into an empty PostgreSQL database under the same master
// key. There: an instance on it shows the same as the embedded server did, old tokens work,
// the revoked one does not, every secret decrypts at run time, the chain verifies and ends with
// one store.migrated event, and no value (secret or not, defaults included) is in the cluster's
// files in any form. The key is never printed unless asked for; a target with portal tables,
// a wrong key and a store with a table migrate does not know are refused without a change.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { Client } from 'pg';
import {
  containsCanary,
  createRuntimeToken,
  defsFor,
  newCanary,
  registerPgStore,
  removeDir,
  runCliAsync,
  startPortal,
  STORE,
  tempDir,
  type Portal,
} from '../support/portal';
import { testCluster, type PgCluster } from '../support/postgres';
import { storeFilesAtRest } from '../support/store';

const APP = 'moving';
const OTHER = 'second';

async function tableCount(url: string): Promise<number> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ n: number }>("SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'odc_portal'")).rows[0]!.n;
  } finally {
    await client.end();
  }
}

describe('odc-portal migrate: the embedded store into PostgreSQL', { skip: STORE !== 'postgres' && 'migrate needs a PostgreSQL target (suite server-postgres)' }, () => {
  let work: string;
  let cluster: PgCluster;
  let sourceDir: string;
  let key: string;
  let admin: string;
  let runtime: string;
  let revokedToken: string;
  const secret = newCanary('SECRET');
  const plain = newCanary('PLAIN');
  const defaultValue = newCanary('DEFAULT');
  const deletedSecret = newCanary('DELETED');
  /** What the embedded server showed before the move. */
  const shown: Record<string, unknown> = {};
  let sourceAuditEvents = 0;
  let target: Portal | null = null;

  const view = async (p: Portal) => ({
    apps: (await p.api('GET', '/apps')).body,
    app: (await p.api('GET', `/apps/${APP}`)).body,
    qa: (await p.api('GET', `/apps/${APP}/stages/qa/settings`)).body,
    production: (await p.api('GET', `/apps/${APP}/stages/production/settings`)).body,
    other: (await p.api('GET', `/apps/${OTHER}/stages/development/settings`)).body,
    tokens: (await p.api('GET', '/tokens')).body,
    endpointHistory: (await p.api('GET', `/apps/${APP}/stages/qa/settings/Endpoint/history`)).body,
    keyHistory: (await p.api('GET', `/apps/${APP}/stages/qa/settings/ApiKey/history`)).body,
  });

  before(async () => {
    cluster = await testCluster();
    work = tempDir('odc-migrate-');
    sourceDir = path.join(work, 'embedded', 'data');
    const source = await startPortal({ dataDir: sourceDir, sqlite: true });
    admin = source.adminToken;
    const publish = async (app: string, settings: unknown[]) => {
      const res = await source.api('POST', `/apps/${app}/publish`, { body: { definitions: defsFor(app, settings) } });
      assert.equal(res.status, 200, res.text);
    };
    const write = async (app: string, stage: string, changes: unknown[]) => {
      const res = await source.api('PATCH', `/apps/${app}/stages/${stage}/settings`, { body: { changes } });
      assert.equal(res.status, 200, res.text);
    };
    await publish(APP, [
      { name: 'ApiKey', type: 'Text', isSecret: true },
      { name: 'Endpoint', type: 'Text', defaultValue },
      { name: 'Limit', type: 'Integer', defaultValue: '10' },
      { name: 'OldKey', type: 'Text', isSecret: true },
    ]);
    await write(APP, 'qa', [
      { name: 'ApiKey', value: secret, baseVersion: 0 },
      { name: 'Endpoint', value: plain, baseVersion: 0 },
      { name: 'Limit', value: '20', baseVersion: 0 },
      { name: 'OldKey', value: deletedSecret, baseVersion: 0 },
    ]);
    await write(APP, 'qa', [{ name: 'Limit', value: null, baseVersion: 1 }]);
    // Previous values (history): the first Endpoint and ApiKey values are kept there.
    await write(APP, 'qa', [
      { name: 'Endpoint', value: `${plain}-2`, baseVersion: 1 },
      { name: 'ApiKey', value: `${secret}-2`, baseVersion: 1 },
    ]);
    await write(APP, 'production', [{ name: 'ApiKey', value: `${secret}-prod`, baseVersion: 0 }]);
    // Revision 2 removes OldKey: its value is deleted (its row and version stay).
    await publish(APP, [
      { name: 'ApiKey', type: 'Text', isSecret: true },
      { name: 'Endpoint', type: 'Text', defaultValue },
      { name: 'Limit', type: 'Integer', defaultValue: '10' },
    ]);
    await publish(OTHER, [{ name: 'Flag', type: 'Boolean', defaultValue: 'True' }]);
    await write(OTHER, 'development', [{ name: 'Flag', value: 'False', baseVersion: 0 }]);
    runtime = await createRuntimeToken(source, APP, 'qa');
    const revoked = await source.api('POST', '/tokens', { body: { name: 'leaver', role: 'developer', apps: '*', stages: '*' } });
    assert.equal(revoked.status, 201, revoked.text);
    revokedToken = revoked.body.token;
    assert.equal((await source.api('DELETE', `/tokens/${revoked.body.id}`)).status, 204);
    // A refusal is audited too.
    assert.equal((await source.api('GET', '/apps', { token: 'odcp_not-a-real-token' })).status, 401);
    Object.assign(shown, await view(source));
    assert.equal((await source.api('GET', '/audit/verify')).body.ok, true);
    await source.stop();
    key = fs.readFileSync(path.join(sourceDir, 'master.key'), 'utf8').trim();
    const db = new Database(path.join(sourceDir, 'portal.db'), { readonly: true });
    sourceAuditEvents = (db.prepare('SELECT count(*) AS n FROM audit').get() as { n: number }).n;
    db.close();
  });

  after(async () => {
    await target?.stop();
    if (work) removeDir(work);
  });

  test('copies everything into an empty database; an instance there shows the same, every secret decrypts, the chain verifies and ends with store.migrated', async () => {
    const url = await cluster.createDatabase('migrated');
    const moved = await runCliAsync(['migrate', '--data-dir', sourceDir, '--to', url]);
    assert.equal(moved.code, 0, moved.stderr + moved.stdout);
    const printed = moved.stdout + moved.stderr;
    assert.match(printed, /3 revisions/);
    assert.match(printed, /audit chain verifies/);
    // The key is not printed: the command says where it is and how to pass it.
    assert.ok(!printed.includes(key), 'the master key was printed');
    assert.ok(printed.includes(`export PORTAL_MASTER_KEY="$(cat ${path.join(sourceDir, 'master.key')})"`), printed);
    for (const canary of [secret, plain, defaultValue, deletedSecret]) assert.equal(containsCanary(printed, canary), null);

    const targetDir = path.join(work, 'postgres', 'data');
    registerPgStore(targetDir, { url, masterKey: key });
    target = await startPortal({ dataDir: targetDir, adminToken: admin });
    assert.ok(!/First start: an admin token was created/.test(target.output()), 'the migrated store has its admin tokens');
    assert.equal((await target.api('GET', '/health', { token: null })).body.store, 'postgres');
    assert.deepEqual(await view(target), shown);

    const read = await target.api('GET', '/runtime/settings', { token: runtime });
    assert.equal(read.status, 200, read.text);
    assert.deepEqual(read.body.settings, { ApiKey: `${secret}-2`, Endpoint: `${plain}-2`, Limit: '10' });
    assert.ok(JSON.stringify(shown.endpointHistory).includes(plain), 'the history of a non-secret shows its previous value');
    assert.equal((await target.api('GET', '/apps', { token: revokedToken })).status, 401, 'a revoked token stays revoked');

    const verified = await runCliAsync(['audit', 'verify', '--data-dir', targetDir]);
    assert.equal(verified.code, 0, verified.stderr);
    assert.match(verified.stdout, /audit chain ok/);
    const events = (await target.api('GET', '/audit?limit=500')).body.events as Array<{ id: number; action: string; client: string | null }>;
    const migrated = events.filter((e) => e.action === 'store.migrated');
    assert.equal(migrated.length, 1);
    assert.equal(migrated[0]!.id, sourceAuditEvents + 1, 'store.migrated ends the copied chain');

    // Writes go on there, the chain with them.
    const write = await target.api('PATCH', `/apps/${APP}/stages/qa/settings`, { body: { changes: [{ name: 'Limit', value: '30', baseVersion: 2 }] } });
    assert.equal(write.status, 200, write.text);
    assert.equal((await target.api('GET', '/audit/verify')).body.ok, true);

    // At rest: no value in any form anywhere in the cluster, secret or not, old or current.
    const files = await storeFilesAtRest(targetDir);
    assert.ok(files.some((f) => f.file.includes('pg_wal')), 'the hunt covers the WAL');
    for (const canary of [secret, plain, defaultValue, deletedSecret]) {
      const hits = files.filter((f) => containsCanary(f.bytes, canary) !== null).map((f) => path.relative(cluster.dataDir!, f.file));
      assert.deepEqual(hits, [], `${canary.split('-')[0]} found in the cluster's files`);
    }
  });

  test('refuses a database that has portal tables, and changes nothing there', async () => {
    const url = await cluster.createDatabase('taken');
    assert.equal((await runCliAsync(['migrate', '--data-dir', sourceDir, '--to', url])).code, 0);
    const client = new Client({ connectionString: url, options: '-c search_path=odc_portal' });
    await client.connect();
    try {
      const before = (await client.query('SELECT count(*)::int AS n, max(id)::int AS last FROM audit')).rows[0];
      const again = await runCliAsync(['migrate', '--data-dir', sourceDir, '--to', url]);
      assert.notEqual(again.code, 0);
      assert.match(again.stderr, /already has portal tables/);
      assert.deepEqual((await client.query('SELECT count(*)::int AS n, max(id)::int AS last FROM audit')).rows[0], before);
    } finally {
      await client.end();
    }
  });

  test('--key-out writes the key to a new 0600 file; --print-key puts it alone on stdout', async () => {
    const keyFile = path.join(work, 'moved.key');
    const out = await runCliAsync(['migrate', '--data-dir', sourceDir, '--to', await cluster.createDatabase('keyout'), '--key-out', keyFile]);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(fs.readFileSync(keyFile, 'utf8').trim(), key);
    assert.equal(fs.statSync(keyFile).mode & 0o777, 0o600);
    assert.ok(!(out.stdout + out.stderr).includes(key));
    assert.ok(out.stdout.includes(keyFile));

    const printed = await runCliAsync(['migrate', '--data-dir', sourceDir, '--to', await cluster.createDatabase('printed'), '--print-key']);
    assert.equal(printed.code, 0, printed.stderr);
    assert.equal(printed.stdout, `${key}\n`, 'stdout is the key alone');
    assert.ok(!printed.stderr.includes(key));
    assert.match(printed.stderr, /Copied the embedded store/);
  });

  test('a master key that does not open the store is refused, and the target stays empty', async () => {
    const url = await cluster.createDatabase('wrongkey');
    const res = await runCliAsync(['migrate', '--data-dir', sourceDir, '--to', url], { PORTAL_MASTER_KEY: Buffer.alloc(32, 7).toString('base64') });
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /does not match/);
    assert.equal(await tableCount(url), 0);
  });

  test('a table that migrate does not know how to copy stops it before anything is written', async () => {
    const copyDir = path.join(work, 'extra', 'data');
    fs.cpSync(sourceDir, copyDir, { recursive: true });
    const db = new Database(path.join(copyDir, 'portal.db'));
    db.exec('CREATE TABLE unknown_things (id INTEGER PRIMARY KEY, what TEXT)');
    db.close();
    const url = await cluster.createDatabase('unknown');
    const res = await runCliAsync(['migrate', '--data-dir', copyDir, '--to', url]);
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /unknown_things/);
    assert.equal(await tableCount(url), 0);
  });
});
