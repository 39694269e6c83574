// A restart keeps everything: definitions, revisions, values and their versions, secrets
// (readable through the runtime read), tokens and the audit chain; a crash (SIGKILL) loses
// no acknowledged write.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { containsCanary, createRuntimeToken, defsFor, newCanary, removeDir, startPortal, tempDir, type Portal } from '../support/portal';

const cleanup: string[] = [];
const running: Portal[] = [];

after(async () => {
  for (const p of running) await p.stop();
  for (const dir of cleanup) removeDir(dir);
});

async function start(dataDir: string, adminToken?: string): Promise<Portal> {
  const p = await startPortal({ dataDir, adminToken });
  running.push(p);
  return p;
}

async function ok(p: Portal, method: string, route: string, body?: unknown, token?: string) {
  const res = await p.api(method, route, { body, token });
  assert.ok(res.status >= 200 && res.status < 300, `${method} ${route}: ${res.status} ${res.text}`);
  return res;
}

const STAGES = ['development', 'qa', 'production'];

/** Everything a person and the runtime identities can read. */
async function everything(p: Portal, apps: string[], runtimeTokens: string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const get = async (route: string, token?: string) => (out[`${route} ${token ? token.slice(0, 12) : ''}`] = (await ok(p, 'GET', route, undefined, token)).text);
  await get('/apps');
  await get('/stages');
  await get('/tokens');
  for (const app of apps) {
    await get(`/apps/${app}`);
    for (const stage of STAGES) await get(`/apps/${app}/stages/${stage}/settings`);
  }
  for (const t of runtimeTokens) await get('/runtime/settings', t);
  return out;
}

test('stop and start again on the same data dir: definitions, values, versions, secrets, tokens and the audit chain are all there', async () => {
  const dataDir = path.join(tempDir('odc-restart-'), 'data');
  cleanup.push(path.dirname(dataDir));
  const p1 = await start(dataDir);
  const admin = p1.adminToken;
  const secrets = { orders: newCanary(), billing: newCanary(), billingProd: newCanary() };

  await ok(p1, 'POST', '/apps/orders/publish', {
    definitions: defsFor('orders', [
      { name: 'PaymentApiKey', type: 'Text', isSecret: true },
      { name: 'MaxRetries', type: 'Integer', defaultValue: '3' },
      { name: 'Greeting', type: 'Text', defaultValue: 'hello' },
    ]),
  });
  // A second revision, so the restart has history to keep.
  await ok(p1, 'POST', '/apps/orders/publish', {
    definitions: defsFor('orders', [
      { name: 'PaymentApiKey', type: 'Text', isSecret: true, description: 'gateway' },
      { name: 'MaxRetries', type: 'Integer', defaultValue: '3' },
      { name: 'Greeting', type: 'Text', defaultValue: 'hello' },
    ]),
  });
  await ok(p1, 'POST', '/apps/billing/publish', {
    definitions: defsFor('billing', [
      { name: 'DbPassword', type: 'Text', isSecret: true },
      { name: 'Cutoff', type: 'Date' },
    ]),
  });
  await ok(p1, 'PATCH', '/apps/orders/stages/qa/settings', {
    changes: [
      { name: 'PaymentApiKey', value: secrets.orders, baseVersion: 0 },
      { name: 'MaxRetries', value: '7', baseVersion: 0 },
    ],
  });
  await ok(p1, 'PATCH', '/apps/orders/stages/qa/settings', { changes: [{ name: 'MaxRetries', value: '8', baseVersion: 1 }] });
  await ok(p1, 'PATCH', '/apps/orders/stages/production/settings', { changes: [{ name: 'Greeting', value: null, baseVersion: 0 }] });
  await ok(p1, 'PATCH', '/apps/billing/stages/development/settings', {
    changes: [
      { name: 'DbPassword', value: secrets.billing, baseVersion: 0 },
      { name: 'Cutoff', value: '2025-12-31', baseVersion: 0 },
    ],
  });
  await ok(p1, 'PATCH', '/apps/billing/stages/production/settings', { changes: [{ name: 'DbPassword', value: secrets.billingProd, baseVersion: 0 }] });

  const runtimeTokens = [
    await createRuntimeToken(p1, 'orders', 'qa'),
    await createRuntimeToken(p1, 'orders', 'production'),
    await createRuntimeToken(p1, 'billing', 'development'),
    await createRuntimeToken(p1, 'billing', 'production'),
  ];
  const dev = (await ok(p1, 'POST', '/tokens', { name: 'dev', role: 'developer', apps: ['orders'] })).body as { id: string; token: string };
  const revoked = (await ok(p1, 'POST', '/tokens', { name: 'leaver', role: 'operator' })).body as { id: string; token: string };
  await ok(p1, 'DELETE', `/tokens/${revoked.id}`);

  const snapshotBefore = await everything(p1, ['orders', 'billing'], runtimeTokens);
  const verifyBefore = (await ok(p1, 'GET', '/audit/verify')).body as { ok: boolean; events: number };
  assert.equal(verifyBefore.ok, true);
  // The secrets really are there before the restart (so the comparison below means something).
  assert.equal(JSON.parse(snapshotBefore[`/runtime/settings ${runtimeTokens[0]!.slice(0, 12)}`]!).settings.PaymentApiKey, secrets.orders);
  const adminFile = fs.readFileSync(path.join(dataDir, 'admin.token'), 'utf8');

  await p1.stop();
  assert.equal(p1.proc.exitCode, 0, 'a clean shutdown on SIGTERM');
  running.splice(running.indexOf(p1), 1);

  const p2 = await start(dataDir, admin);
  assert.doesNotMatch(p2.output(), /First start|odcp_/, 'no new admin token on a store that has one');
  assert.equal(fs.readFileSync(path.join(dataDir, 'admin.token'), 'utf8'), adminFile);
  assert.deepEqual(await everything(p2, ['orders', 'billing'], runtimeTokens), snapshotBefore);

  const rt = async (i: number) => (await ok(p2, 'GET', '/runtime/settings', undefined, runtimeTokens[i])).body.settings;
  assert.deepEqual(await rt(0), { PaymentApiKey: secrets.orders, MaxRetries: '8', Greeting: 'hello' });
  assert.deepEqual(await rt(1), { PaymentApiKey: null, MaxRetries: '3', Greeting: 'hello' });
  assert.deepEqual(await rt(2), { DbPassword: secrets.billing, Cutoff: '2025-12-31' });
  assert.deepEqual(await rt(3), { DbPassword: secrets.billingProd, Cutoff: null });

  // Tokens: the developer token still works, the revoked one still does not.
  assert.equal((await p2.api('GET', '/apps/orders', { token: dev.token })).status, 200);
  assert.equal((await p2.api('GET', '/apps', { token: revoked.token })).status, 401);

  // The audit chain carried over and still verifies.
  const verifyAfter = (await ok(p2, 'GET', '/audit/verify')).body as { ok: boolean; events: number };
  assert.equal(verifyAfter.ok, true);
  assert.ok(verifyAfter.events >= verifyBefore.events);

  // Work continues where it stopped: the next revision and the next version.
  const pub = await ok(p2, 'POST', '/apps/orders/publish', {
    definitions: defsFor('orders', [
      { name: 'PaymentApiKey', type: 'Text', isSecret: true, description: 'gateway' },
      { name: 'MaxRetries', type: 'Integer', defaultValue: '4' },
      { name: 'Greeting', type: 'Text', defaultValue: 'hello' },
    ]),
    baseRevision: 2,
  });
  assert.equal(pub.body.revision, 3);
  const patched = await ok(p2, 'PATCH', '/apps/orders/stages/qa/settings', { changes: [{ name: 'MaxRetries', value: '9', baseVersion: 2 }] });
  assert.equal(patched.body.settings.find((s: { name: string }) => s.name === 'MaxRetries').version, 3);

  for (const c of Object.values(secrets)) {
    assert.equal(containsCanary(p1.output() + p2.output(), c), null, 'no secret in the log of either run');
  }
});

test('a crash (SIGKILL) right after a write loses nothing that was acknowledged', async () => {
  const dataDir = path.join(tempDir('odc-restart-'), 'data');
  cleanup.push(path.dirname(dataDir));
  const p1 = await start(dataDir);
  await ok(p1, 'POST', '/apps/crash/publish', {
    definitions: defsFor('crash', [
      { name: 'Key', type: 'Text', isSecret: true },
      { name: 'Level', type: 'Integer' },
    ]),
  });
  const token = await createRuntimeToken(p1, 'crash', 'production');
  const secret = newCanary();
  await ok(p1, 'PATCH', '/apps/crash/stages/production/settings', {
    changes: [
      { name: 'Key', value: secret, baseVersion: 0 },
      { name: 'Level', value: '42', baseVersion: 0 },
    ],
  });
  await p1.kill9();
  running.splice(running.indexOf(p1), 1);

  const p2 = await start(dataDir, p1.adminToken);
  const res = await ok(p2, 'GET', '/runtime/settings', undefined, token);
  assert.deepEqual(res.body.settings, { Key: secret, Level: '42' });
  const view = await ok(p2, 'GET', '/apps/crash/stages/production/settings');
  assert.deepEqual(
    view.body.settings.map((s: { name: string; value: string; version: number }) => [s.name, s.value, s.version]),
    [
      ['Key', '*****', 1],
      ['Level', '42', 1],
    ],
  );
  assert.equal((await ok(p2, 'GET', '/audit/verify')).body.ok, true);
});
