// Attacks on the web UI's sessions (SPEC §14), against the real server: cross-site request
// forgery from a page on a second loopback port (the same *site*, so SameSite=Strict does not
// stop the cookie: only the origin and CSRF checks do), the cookie's flags, revocation, a flood
// of wrong session ids, and a session id replayed after sign-out.
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { removeDir, startPortal, storeFiles, type Portal } from '../support/portal';
import { ensurePortalBuilt, launch, removeProfile, signInWith, startWorld, type Browser, type World } from './harness';

let world: World;
let browser: Browser;
const extraPortals: Portal[] = [];

before(async () => {
  world = await startWorld();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  if (browser) removeProfile(browser);
  for (const p of [world?.portal, ...extraPortals]) {
    if (!p) continue;
    await p.stop();
    removeDir(path.dirname(p.dataDir));
  }
});

interface Raw {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request with exactly these headers (fetch would add or drop some, like Origin or Cookie). */
function raw(url: string, method: string, headers: Record<string, string>, body?: string): Promise<Raw> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: Number(u.port), path: u.pathname + u.search, method, headers: { ...headers, ...(body ? { 'content-length': String(Buffer.byteLength(body)) } : {}) }, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Signs in over HTTP; returns the cookie pair to send back, the raw Set-Cookie and the CSRF token. */
async function session(portal: Portal, token: string): Promise<{ cookie: string; setCookie: string; csrf: string; id: string }> {
  const res = await raw(`${portal.url}/api/v1/sessions`, 'POST', { 'content-type': 'application/json', origin: portal.url }, JSON.stringify({ token }));
  assert.equal(res.status, 201, res.body);
  const setCookie = ([] as string[]).concat(res.headers['set-cookie'] ?? [])[0] ?? '';
  const cookie = setCookie.split(';')[0]!;
  return { cookie, setCookie, csrf: (JSON.parse(res.body) as { csrfToken: string }).csrfToken, id: cookie.split('=')[1]! };
}

async function auditActions(portal: Portal): Promise<Array<{ action: string; tokenName: string | null; detail: Record<string, unknown> | null }>> {
  const res = await portal.api('GET', '/audit?limit=1000');
  return res.body.events;
}

describe('the portal in a browser: attacks', () => {
  test('CSRF from a page on another loopback port: a form post and a fetch are refused (403) and audited; nothing is created', async () => {
    const { portal } = world;
    const page = await browser.page();
    await signInWith(page, portal.url, portal.adminToken);
    const tokensBefore = (await portal.api('GET', '/tokens')).body.tokens.length;
    const refusedBefore = (await auditActions(portal)).filter((e) => e.action === 'session.refused').length;

    // The attacker's page: same host, another port. Its form posts JSON-looking text/plain, the
    // classic way around "JSON only", and its fetch is a simple (no preflight) request.
    const target = `${portal.url}/api/v1/tokens`;
    const attackerPage = `<!DOCTYPE html><html><body>
      <form id="f" method="POST" action="${target}" enctype="text/plain"><input name='{"name":"evil-form","role":"admin","x":"' value='"}'></form>
      <button id="fetch">fetch</button>
      <script>
        document.getElementById('fetch').onclick = () => fetch(${JSON.stringify(target)}, { method: 'POST', mode: 'no-cors', credentials: 'include', headers: { 'content-type': 'text/plain' }, body: '{"name":"evil-fetch","role":"admin"}' }).then(() => { document.title = 'sent'; }, () => { document.title = 'sent'; });
      </script></body></html>`;
    const attacker = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(attackerPage));
    await new Promise<void>((r) => attacker.listen(0, '127.0.0.1', r));
    const attackerUrl = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}/`;
    try {
      const evil = await browser.context.newPage();
      await evil.goto(attackerUrl);
      await evil.locator('#fetch').click();
      await evil.waitForFunction(() => document.title === 'sent');
      const [response] = await Promise.all([evil.waitForEvent('response', (r) => r.url() === target), evil.evaluate(() => (document.getElementById('f') as HTMLFormElement).submit())]);
      assert.equal(response.status(), 403, 'the form post is refused');
      assert.match(await response.text(), /cross-site or unverified request/);
      await evil.close();
    } finally {
      await new Promise<void>((r) => attacker.close(() => r()));
    }

    const tokens = (await portal.api('GET', '/tokens')).body.tokens as Array<{ name: string }>;
    assert.equal(tokens.length, tokensBefore, 'no token was created');
    assert.ok(!tokens.some((t) => t.name.startsWith('evil')));
    const refused = (await auditActions(portal)).filter((e) => e.action === 'session.refused');
    // Both carried the admin's session cookie (same site): the refusal names the session's token.
    assert.equal(refused.length - refusedBefore, 2, 'both attempts audited');
    for (const e of refused.slice(0, 2)) {
      assert.equal(e.tokenName, 'initial admin');
      assert.equal(e.detail?.reason, 'cross-origin');
    }

    // The portal's own page, same session, same route: allowed (the check is not just "refuse all").
    const created = await page.evaluate(async () => {
      const s = await (await fetch('/api/v1/sessions/current')).json();
      const res = await fetch('/api/v1/tokens', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': s.csrfToken }, body: JSON.stringify({ name: 'made-in-page', role: 'operator' }) });
      return res.status;
    });
    assert.equal(created, 201);
  });

  test('a same-origin write without the CSRF token, or with a wrong one, is refused; with it, allowed', async () => {
    const { portal } = world;
    const s = await session(portal, portal.adminToken);
    const body = JSON.stringify({ name: 'csrf-check', role: 'operator' });
    const base = { cookie: s.cookie, origin: portal.url, 'content-type': 'application/json' };
    assert.equal((await raw(`${portal.url}/api/v1/tokens`, 'POST', base, body)).status, 403, 'no X-CSRF-Token');
    assert.equal((await raw(`${portal.url}/api/v1/tokens`, 'POST', { ...base, 'x-csrf-token': s.csrf.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')) }, body)).status, 403, 'a wrong one');
    const { origin: _o, ...noOrigin } = base;
    assert.equal((await raw(`${portal.url}/api/v1/tokens`, 'POST', { ...noOrigin, 'x-csrf-token': s.csrf }, body)).status, 403, 'no Origin or Sec-Fetch-Site');
    assert.equal((await raw(`${portal.url}/api/v1/tokens`, 'POST', { ...noOrigin, 'sec-fetch-site': 'same-site', 'x-csrf-token': s.csrf }, body)).status, 403, 'same-site is not same-origin');
    assert.equal((await raw(`${portal.url}/api/v1/tokens`, 'POST', { ...base, 'x-csrf-token': s.csrf }, body)).status, 201);
    // Bearer calls are unchanged: no Origin, no CSRF token.
    assert.equal((await portal.api('POST', '/tokens', { body: { name: 'bearer-still-works', role: 'operator' } })).status, 201);
  });

  test('the session cookie: HttpOnly, SameSite=Strict, Path=/, no Secure over http, an opaque id stored only hashed', async () => {
    const { portal } = world;
    const s = await session(portal, world.operator);
    const attrs = s.setCookie.split(';').map((a) => a.trim());
    assert.match(attrs[0]!, /^odc_session=[A-Za-z0-9_-]{43}$/);
    assert.ok(attrs.includes('HttpOnly'));
    assert.ok(attrs.includes('SameSite=Strict'));
    assert.ok(attrs.includes('Path=/'));
    assert.ok(!attrs.some((a) => /^Secure$/i.test(a)), 'plain http: no Secure (the browser would drop the cookie)');
    assert.ok(!s.id.includes(world.operator) && !world.operator.includes(s.id), 'the id is not the token');
    // The store holds the id's hash, never the id.
    for (const { file, bytes } of storeFiles(portal.dataDir)) assert.ok(!bytes.includes(Buffer.from(s.id)), `${path.basename(file)} holds the raw session id`);

    // In the browser: the cookie is there with the same flags, and the page's script cannot read it.
    const page = await browser.page();
    await signInWith(page, portal.url, world.operator);
    const cookie = (await browser.context.cookies(portal.url)).find((c) => c.name === 'odc_session');
    assert.ok(cookie);
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Strict');
    assert.equal(cookie.path, '/');
    assert.equal(await page.evaluate(() => document.cookie.includes('odc_session')), false);
    await page.locator('#sign-out').click();
    await page.waitForURL(/signedOut/);
  });

  test('pages and answers: strict CSP, no framing, no-store, no referrer; assets hashed and cached long', async () => {
    const { portal } = world;
    const page = await raw(`${portal.url}/apps`, 'GET', { accept: 'text/html' });
    assert.equal(page.status, 200);
    const csp = String(page.headers['content-security-policy']);
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(page.headers['cache-control'], 'no-store');
    assert.equal(page.headers['referrer-policy'], 'no-referrer');
    assert.equal(page.headers['x-frame-options'], 'DENY');
    assert.doesNotMatch(page.body, /<script(?![^>]*\ssrc=)[^>]*>/, 'no inline script');
    assert.doesNotMatch(page.body, /\sstyle=/, 'no style attribute');
    const assets = [...page.body.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    assert.equal(assets.length, 3);
    for (const a of assets) {
      assert.match(a, /-[A-Za-z0-9_]{8,}\.(js|css)$/, 'a content-hashed name');
      const res = await raw(portal.url + a, 'GET', {});
      assert.equal(res.status, 200);
      assert.equal(res.headers['cache-control'], 'public, max-age=31536000, immutable');
    }
    const unknown = await raw(`${portal.url}/no/such/page`, 'GET', { accept: 'text/html' });
    assert.equal(unknown.status, 404, 'an unknown page: the shell shows "not found", under the same headers');
    assert.match(String(unknown.headers['content-security-policy']), /frame-ancestors 'none'/);
    const unknownApi = await raw(`${portal.url}/api/v1/no-such-route`, 'GET', { accept: 'text/html' });
    assert.equal(unknownApi.status, 401, 'the API stays the API (problem details), whatever the Accept header');
    assert.match(String(unknownApi.headers['content-type']), /application\/problem\+json/);
    const s = await session(portal, world.operator);
    const values = await raw(`${portal.url}/api/v1/apps/orders/stages/production/settings`, 'GET', { cookie: s.cookie });
    assert.equal(values.status, 200);
    assert.equal(values.headers['cache-control'], 'no-store');
    const apps = await raw(`${portal.url}/api/v1/apps`, 'GET', { cookie: s.cookie });
    assert.equal(apps.headers['cache-control'], 'no-store', 'every answer to a session');
  });

  test('a revoked token’s session ends on its next request', async () => {
    const { portal } = world;
    const made = await portal.api<{ id: string; token: string }>('POST', '/tokens', { body: { name: 'soon revoked', role: 'operator', apps: ['orders'], stages: ['production'] } });
    const s = await session(portal, made.body.token);
    const url = `${portal.url}/api/v1/apps/orders/stages/production/settings`;
    assert.equal((await raw(url, 'GET', { cookie: s.cookie })).status, 200);
    assert.equal((await portal.api('DELETE', `/tokens/${made.body.id}`)).status, 204);
    assert.equal((await raw(url, 'GET', { cookie: s.cookie })).status, 401);
    assert.equal((await raw(`${portal.url}/api/v1/sessions/current`, 'GET', { cookie: s.cookie })).status, 401);
  });

  test('a session id is useless after sign-out', async () => {
    const { portal } = world;
    const s = await session(portal, world.operator);
    const url = `${portal.url}/api/v1/apps/orders/stages/production/settings`;
    assert.equal((await raw(url, 'GET', { cookie: s.cookie })).status, 200);
    const out = await raw(`${portal.url}/api/v1/sessions/current`, 'DELETE', { cookie: s.cookie, origin: portal.url, 'x-csrf-token': s.csrf });
    assert.equal(out.status, 204);
    assert.match(String(out.headers['set-cookie']), /odc_session=; .*Max-Age=0/);
    assert.equal((await raw(url, 'GET', { cookie: s.cookie })).status, 401);
    assert.equal((await raw(`${portal.url}/api/v1/sessions/current`, 'DELETE', { cookie: s.cookie, origin: portal.url, 'x-csrf-token': s.csrf })).status, 401);
    // Other sessions of the same token live on.
    const other = await session(portal, world.operator);
    assert.equal((await raw(url, 'GET', { cookie: other.cookie })).status, 200);
  });

  test('1,000 wrong session ids do not lock out a valid session (same client)', async () => {
    ensurePortalBuilt();
    const portal = await startPortal();
    extraPortals.push(portal);
    const s = await session(portal, portal.adminToken);
    const url = `${portal.url}/api/v1/apps`;
    const statuses = new Map<number, number>();
    for (let i = 0; i < 1000; i++) {
      const wrong = `odc_session=${Buffer.from(`wrong-${i}-`.padEnd(32, 'x')).toString('base64url')}`;
      const res = await raw(url, 'GET', { cookie: wrong });
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    }
    assert.equal(statuses.get(200), undefined, 'no wrong id gets in');
    assert.ok((statuses.get(429) ?? 0) > 900, `the client is limited after its failures (${JSON.stringify([...statuses])})`);
    assert.equal((await raw(url, 'GET', { cookie: s.cookie })).status, 200, 'the valid session still works');
    await session(portal, portal.adminToken); // and a valid token still signs in (201) from the same client
    // Read with the session too: the client's bearer calls are what the limiter holds back.
    const audit = await raw(`${portal.url}/api/v1/audit?limit=1000`, 'GET', { cookie: s.cookie });
    assert.equal(audit.status, 200);
    const failures = (JSON.parse(audit.body) as { events: Array<{ action: string }> }).events.filter((e) => e.action === 'auth.failed');
    assert.ok(failures.length <= 2, 'failed attempts are aggregated in the audit, not one record each');
  });

  test('sign-in from another origin is refused; a runtime token cannot sign in', async () => {
    const { portal } = world;
    const res = await raw(`${portal.url}/api/v1/sessions`, 'POST', { 'content-type': 'application/json', origin: 'http://127.0.0.1:1' }, JSON.stringify({ token: world.operator }));
    assert.equal(res.status, 403);
    assert.equal(res.headers['set-cookie'], undefined);
    const rt = await portal.api<{ token: string }>('POST', '/tokens', { body: { name: 'rt', role: 'runtime', apps: ['orders'], stages: ['production'] } });
    const r2 = await raw(`${portal.url}/api/v1/sessions`, 'POST', { 'content-type': 'application/json' }, JSON.stringify({ token: rt.body.token }));
    assert.equal(r2.status, 403);
    assert.equal(r2.headers['set-cookie'], undefined);
    const bad = await raw(`${portal.url}/api/v1/sessions`, 'POST', { 'content-type': 'application/json' }, JSON.stringify({ token: 'odcp_not-a-token' }));
    assert.equal(bad.status, 401);
  });
});
