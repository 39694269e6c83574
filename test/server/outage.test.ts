// A database outage (SPEC §11): PostgreSQL stopped hard (pg_ctl stop -m immediate) under a
// running instance. Within 1 s the routes that need the store answer 503 problem+json with
// Retry-After and health says degraded; no request hangs past 10 s; the process does not crash;
// when the database is back the instance recovers by itself within 15 s and nothing accepted is lost.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertProblem, createRuntimeToken, defsFor, newCanary, removeDir, startPortal, STORE, tempDir, type Portal } from '../support/portal';
import { testCluster, type PgCluster } from '../support/postgres';
import * as path from 'node:path';

const APP = 'outage';

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await fn();
  return { ms: performance.now() - start, value };
}

describe('database outage', { skip: STORE !== 'postgres' && 'a database outage needs the PostgreSQL store (suite server-postgres)' }, () => {
  let portal: Portal;
  let cluster: PgCluster;
  let work: string;
  let runtime: string;
  const secret = newCanary();

  before(async () => {
    cluster = await testCluster();
    work = tempDir('odc-outage-');
    portal = await startPortal({ dataDir: path.join(work, 'data') });
    assert.equal((await portal.api('POST', `/apps/${APP}/publish`, { body: { definitions: defsFor(APP, [{ name: 'Key', type: 'Text', isSecret: true }, { name: 'Plain', type: 'Text', defaultValue: 'd' }]) } })).status, 200);
    const res = await portal.api('PATCH', `/apps/${APP}/stages/qa/settings`, { body: { changes: [{ name: 'Key', value: secret, baseVersion: 0 }] } });
    assert.equal(res.status, 200, res.text);
    runtime = await createRuntimeToken(portal, APP, 'qa');
    assert.equal((await portal.api('GET', '/runtime/settings', { token: runtime })).body.settings.Key, secret);
  });

  after(async () => {
    // The cluster must be up for the other tests of this process, whatever happened.
    try {
      cluster.start();
    } catch {
      // already running
    }
    await portal?.stop();
    if (work) removeDir(work);
  });

  test('stopped database: 503 with Retry-After within 1 s, health degraded, no hang; back: recovers without a restart', async () => {
    cluster.crash();
    const stoppedAt = performance.now();
    // Within 1 s of the outage every route that needs the store refuses (the caches are not used either).
    const health = await timed(() => portal.api('GET', '/health', { token: null }));
    assert.equal(health.value.status, 503, health.value.text);
    assert.equal(health.value.body.status, 'degraded');
    assert.equal(health.value.body.store, 'postgres');
    const probes = [
      () => portal.api('GET', '/runtime/settings', { token: runtime }),
      () => portal.api('GET', `/apps/${APP}/stages/qa/settings`),
      () => portal.api('PATCH', `/apps/${APP}/stages/qa/settings`, { body: { changes: [{ name: 'Plain', value: 'x', baseVersion: 0 }] } }),
      () => portal.api('GET', '/apps'),
    ];
    for (const probe of probes) {
      const { ms, value } = await timed(probe);
      assertProblem(value, 503);
      assert.ok(Number(value.headers.get('retry-after')) > 0, 'Retry-After');
      assert.ok(ms < 10_000, `a request took ${ms} ms`);
      assert.equal(value.text.includes(secret), false);
    }
    assert.ok(performance.now() - stoppedAt < 5_000, 'the refusals came quickly');
    assert.equal(portal.proc.exitCode, null, 'the instance is still running');

    cluster.start();
    const backAt = performance.now();
    for (;;) {
      const res = await portal.api('GET', '/runtime/settings', { token: runtime });
      if (res.status === 200) {
        assert.equal(res.body.settings.Key, secret, 'the accepted write survived the crash');
        break;
      }
      assert.equal(res.status, 503, res.text);
      assert.ok(performance.now() - backAt < 15_000, 'recovered within 15 s of the database coming back');
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal((await portal.api('GET', '/health', { token: null })).status, 200);
    const write = await portal.api('PATCH', `/apps/${APP}/stages/qa/settings`, { body: { changes: [{ name: 'Plain', value: 'after', baseVersion: 0 }] } });
    assert.equal(write.status, 200, write.text);
    assert.equal((await portal.api('GET', '/runtime/settings', { token: runtime })).body.settings.Plain, 'after');
    assert.equal((await portal.api('GET', '/audit/verify')).body.ok, true);
  });
});
