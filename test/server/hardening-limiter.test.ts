// Issue 11 item 2 (SPEC §6, §7): the failed-authentication limiter counts and limits only
// failures. A request with a valid token is never refused because of anyone's failures; the
// client is the socket address unless a trusted proxy is configured (--trust-proxy /
// PORTAL_TRUST_PROXY), then the address it forwards; the overflow bucket (more clients than
// the table holds) is itself limited; each window is one aggregated audit record.
// `Authorization: bearer` is accepted in any case (RFC 9110 §11.1).
// Each test uses its own loopback source addresses (127.0.0.x), so limits never leak between tests.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { apiFrom, createRuntimeToken, defsFor, newCanary, removeDir, startPortal, type Portal } from '../support/portal';
import { startInProcess, type InProcessPortal } from '../support/inprocess';

const APP = 'limiter-app';
const cleanup: string[] = [];
const running: Array<{ stop(): Promise<void> }> = [];
after(async () => {
  for (const p of running) await p.stop();
  for (const dir of cleanup) removeDir(dir);
});

async function start(opts: Parameters<typeof startPortal>[0] = {}): Promise<Portal> {
  const p = await startPortal(opts);
  running.push(p);
  cleanup.push(p.dataDir);
  return p;
}

describe('the limiter never refuses a valid token', () => {
  let portal: Portal;
  let runtime: string;
  let secret: string;
  before(async () => {
    portal = await start();
    const pub = await portal.api('POST', `/apps/${APP}/publish`, { body: { definitions: defsFor(APP, [{ name: 'ApiKey', type: 'Text', isSecret: true }]) } });
    assert.equal(pub.status, 200, pub.text);
    secret = newCanary('limiter');
    const set = await portal.api('PATCH', `/apps/${APP}/stages/qa/settings`, { body: { changes: [{ name: 'ApiKey', value: secret, baseVersion: 0 }] } });
    assert.equal(set.status, 200, set.text);
    runtime = await createRuntimeToken(portal, APP, 'qa');
  });

  test('25 requests without a token from one address: failures get 401 then 429, but valid admin and runtime tokens from that address get 200', async () => {
    const from = '127.0.0.31';
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++) statuses.push((await apiFrom(portal, from, 'GET', '/runtime/settings', { token: null })).status);
    assert.deepEqual(statuses, [...Array(20).fill(401), ...Array(5).fill(429)]);
    // The run-time read (fast path and Express route) and an admin read from the same address.
    const fast = await apiFrom(portal, from, 'GET', '/runtime/settings', { token: runtime });
    assert.equal(fast.status, 200, fast.text);
    assert.equal(fast.body.settings.ApiKey, secret);
    const viaExpress = await apiFrom(portal, from, 'GET', '/runtime/settings?via=express', { token: runtime });
    assert.equal(viaExpress.status, 200, viaExpress.text);
    assert.equal((await apiFrom(portal, from, 'GET', '/apps')).status, 200);
    // Failures from that address are still limited.
    assert.equal((await apiFrom(portal, from, 'GET', '/apps', { token: 'odcp_wrong' })).status, 429);
  });

  test('a stale app instance with a revoked token does not lock its neighbours on the same address out', async () => {
    const from = '127.0.0.32';
    const created = await portal.api('POST', '/tokens', { body: { name: 'stale instance', role: 'runtime', apps: [APP], stages: ['qa'] } });
    assert.equal(created.status, 201, created.text);
    const stale = created.body.token as string;
    assert.equal((await portal.api('DELETE', `/tokens/${created.body.id}`)).status, 204);
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) statuses.push((await apiFrom(portal, from, 'GET', '/runtime/settings', { token: stale })).status);
    assert.equal(statuses.filter((s) => s === 401).length, 20);
    assert.equal(statuses.filter((s) => s === 429).length, 10);
    const neighbour = await createRuntimeToken(portal, APP, 'qa');
    const read = await apiFrom(portal, from, 'GET', '/runtime/settings', { token: neighbour });
    assert.equal(read.status, 200, read.text);
    assert.equal(read.body.settings.ApiKey, secret);
  });

  test('the auth scheme is case-insensitive: bearer, BEARER and BeArEr are accepted', async () => {
    for (const scheme of ['bearer', 'BEARER', 'BeArEr']) {
      const rt = await apiFrom(portal, '127.0.0.30', 'GET', '/runtime/settings', { token: null, headers: { authorization: `${scheme} ${runtime}` } });
      assert.equal(rt.status, 200, `${scheme}: ${rt.text}`);
      const apps = await apiFrom(portal, '127.0.0.30', 'GET', '/apps', { token: null, headers: { authorization: `${scheme} ${portal.adminToken}` } });
      assert.equal(apps.status, 200, `${scheme}: ${apps.text}`);
    }
    // Not a different scheme, though.
    assert.equal((await apiFrom(portal, '127.0.0.30', 'GET', '/apps', { token: null, headers: { authorization: `Basic ${portal.adminToken}` } })).status, 401);
  });

  test('without a trusted proxy, X-Forwarded-For is ignored: changing it does not escape the limit', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 22; i++) statuses.push((await apiFrom(portal, '127.0.0.34', 'GET', '/apps', { token: null, headers: { 'x-forwarded-for': `198.51.100.${i + 1}` } })).status);
    assert.equal(statuses.filter((s) => s === 429).length, 2, statuses.join(','));
  });
});

describe('behind a trusted proxy the client is the forwarded address', () => {
  test('--trust-proxy: failures are counted per forwarded client; the audit names the forwarded client; others cannot spoof it', async () => {
    const proxy = '127.0.0.33';
    const portal = await start({ args: ['--trust-proxy', proxy] });
    const via = (client: string, token: string | null = null) => apiFrom(portal, proxy, 'GET', '/apps', { token, headers: { 'x-forwarded-for': `203.0.113.99, ${client}` } });
    const statuses: number[] = [];
    for (let i = 0; i < 21; i++) statuses.push((await via('198.51.100.7')).status);
    assert.deepEqual(statuses, [...Array(20).fill(401), 429]);
    // Another client behind the same proxy has its own count; the proxy itself is not blocked.
    assert.equal((await via('198.51.100.8')).status, 401);
    assert.equal((await via('198.51.100.7', portal.adminToken)).status, 200, 'a valid token through the proxy');
    // A request the proxy forwards for a client is audited under the client's address.
    const created = await apiFrom(portal, proxy, 'POST', '/tokens', { body: { name: 'via proxy', role: 'developer' }, headers: { 'x-forwarded-for': '198.51.100.9' } });
    assert.equal(created.status, 201, created.text);
    const events = (await portal.api('GET', '/audit?limit=1000')).body.events as Array<{ action: string; client: string }>;
    assert.equal(events.find((e: { action: string; client: string }) => e.action === 'token.create' && e.client !== 'cli')?.client, '198.51.100.9');
  });

  test('PORTAL_TRUST_PROXY (a list): a request from an address that is not a listed proxy is counted under its socket address', async () => {
    const portal = await start({ env: { PORTAL_TRUST_PROXY: '127.0.0.36, 127.0.0.37' } });
    const statuses: number[] = [];
    for (let i = 0; i < 21; i++) statuses.push((await apiFrom(portal, '127.0.0.35', 'GET', '/apps', { token: null, headers: { 'x-forwarded-for': `198.51.100.${i + 1}` } })).status);
    assert.equal(statuses[20], 429, 'spoofed forwarded addresses from a non-proxy do not escape the limit');
    for (const proxy of ['127.0.0.36', '127.0.0.37']) {
      const r = await apiFrom(portal, proxy, 'GET', '/apps', { token: null, headers: { 'x-forwarded-for': '198.51.100.50' } });
      assert.equal(r.status, 401, `via ${proxy}`);
    }
  });

  test('a trusted-proxy setting that is not an address list is refused at start', async () => {
    const { startExpectingFailure } = await import('../support/portal');
    const bad = await startExpectingFailure({ args: ['--trust-proxy', 'my-proxy.example'] });
    assert.notEqual(bad.code, 0);
    assert.match(bad.output, /trust-proxy/);
  });
});

describe('aggregated audit records and the overflow bucket', () => {
  let portal: InProcessPortal | undefined;
  after(async () => {
    await portal?.close();
    if (portal) removeDir(portal.dir);
  });

  async function authRecords(p: InProcessPortal) {
    return (await p.portal.audit.list({ limit: 1000 })).filter((e) => e.action === 'auth.failed');
  }

  async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
    const end = Date.now() + ms;
    for (;;) {
      const v = await fn();
      if (v !== undefined) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  test('one record per window with the totals and the 429s; more distinct clients than the table holds share one limited bucket', async () => {
    portal = await startInProcess({ authLimits: { limit: 20, windowMs: 1500, maxClients: 4 } });
    const p = portal;
    const target = { url: p.url, adminToken: p.adminToken };
    const statuses: number[] = [];
    // Two clients that fit the table: one over the limit (25), one under (3).
    for (let i = 0; i < 25; i++) statuses.push((await apiFrom(target, '127.0.0.41', 'GET', '/apps', { token: null })).status);
    for (let i = 0; i < 3; i++) statuses.push((await apiFrom(target, '127.0.0.42', 'GET', '/apps', { token: `odcp_bad${i}` })).status);
    // 30 more distinct clients, one failure each: 2 fit the table (4), 28 share the overflow bucket,
    // which lets 20 through and refuses the rest.
    const overflow: number[] = [];
    for (let i = 1; i <= 30; i++) overflow.push((await apiFrom(target, `127.0.1.${i}`, 'GET', '/apps', { token: null })).status);
    assert.deepEqual(statuses, [...Array(20).fill(401), ...Array(5).fill(429), 401, 401, 401]);
    assert.equal(overflow.filter((s) => s === 401).length, 22, overflow.join(','));
    assert.equal(overflow.filter((s) => s === 429).length, 8, overflow.join(','));
    // A valid token from an overflowed address is still served.
    assert.equal((await apiFrom(target, '127.0.1.30', 'GET', '/apps')).status, 200);
    assert.equal((await authRecords(p)).length, 0, 'nothing is recorded per request');
    // When the window ends, exactly one record holds its totals.
    const [record] = await until('the window record', async () => {
      const records = await authRecords(p);
      return records.length > 0 ? records : undefined;
    });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((await authRecords(p)).length, 1, 'one aggregated record for the window');
    assert.equal(record!.tokenId, null);
    assert.equal(record!.outcome, 'denied');
    const detail = record!.detail as Record<string, unknown>;
    assert.equal(detail.failures, 25 + 3 + 30);
    assert.equal(detail.refused, 5 + 8);
    assert.equal(detail.clients, 4, "the table holds 4 clients; the rest went to the overflow bucket");
    assert.equal(detail.overflowFailures, 28);
    assert.ok(Array.isArray(detail.top) && (detail.top as string[])[0]!.startsWith('127.0.0.41 '), String(detail.top));
    assert.equal((await p.portal.audit.verify()).ok, true);
    // A new window starts clean: the client blocked before gets 401 again, not 429.
    assert.equal((await apiFrom(target, '127.0.0.41', 'GET', '/apps', { token: null })).status, 401);
  });
});
