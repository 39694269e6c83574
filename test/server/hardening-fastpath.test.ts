// Issue 11 item 12 and issue 18 item 3: the run-time read's fast path and its Express route
// answer alike. The same requests go to an app with the fast path and one without it (same
// store): every header, status, body and log field must match, so a step added to Express
// alone (a header, a check, a log field) fails here. Both paths answer ETag/304.
import assert from 'node:assert/strict';
import * as http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { startInProcess, type InProcessPortal } from '../support/inprocess';
import { apiFrom, createRuntimeToken, defsFor, newCanary, removeDir, startPortal, type Portal } from '../support/portal';

const APP = 'fastpath-app';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(port: number, path: string, headers: Record<string, string>, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The parts of an answer that must not depend on the path taken (Date and connection handling aside). */
function comparable(a: Answer) {
  const { date: _date, connection: _connection, 'keep-alive': _keepAlive, ...headers } = a.headers;
  return { status: a.status, headers, body: a.body };
}

describe('the fast path and the Express route answer alike', () => {
  let fast: InProcessPortal;
  let slow: InProcessPortal;
  let runtime: string;
  let secret: string;

  before(async () => {
    fast = await startInProcess();
    // The same store, served without the fast path: every request goes through Express.
    slow = await startInProcess({ portal: fast.portal, dir: fast.dir, fastPath: false });
    const actor = { tokenId: null, tokenName: 'test', client: 'test' };
    const { normalizeDefinitions } = await import('../../common/definitions');
    const defs = defsFor(APP, [
      { name: 'ApiKey', type: 'Text', isSecret: true },
      { name: 'Retries', type: 'Integer', defaultValue: '3' },
    ]);
    await fast.portal.apps.publish(normalizeDefinitions(defs as Parameters<typeof normalizeDefinitions>[0]), {}, actor);
    secret = newCanary('fastpath');
    await fast.portal.values.patchStage(APP, 'qa', [{ name: 'ApiKey', value: secret, baseVersion: 0 }], actor);
    runtime = (await fast.portal.tokens.create({ name: 'rt', role: 'runtime', apps: [APP], stages: ['qa'] }, actor)).token;
  });
  after(async () => {
    await slow.close().catch(() => {});
    await fast.close().catch(() => {});
    removeDir(fast.dir);
  });

  test('every header, status, body and log field is the same on both paths (200, 304, changed ETag, 401, 403, lower-case scheme)', async () => {
    const first = await get(fast.port, '/api/v1/runtime/settings', { authorization: `Bearer ${runtime}` });
    assert.equal(first.status, 200, first.body);
    assert.equal(JSON.parse(first.body).settings.ApiKey, secret);
    const etag = String(first.headers.etag);
    const cases: Array<[string, Record<string, string>]> = [
      ['200', { authorization: `Bearer ${runtime}` }],
      ['304', { authorization: `Bearer ${runtime}`, 'if-none-match': etag }],
      ['304 weak, in a list', { authorization: `Bearer ${runtime}`, 'if-none-match': `"x", W/${etag}` }],
      ['200 stale ETag', { authorization: `Bearer ${runtime}`, 'if-none-match': '"r0-old"' }],
      ['200 lower-case scheme', { authorization: `bearer ${runtime}` }],
      ['401 no token', {}],
      ['401 bad token', { authorization: 'Bearer odcp_not-a-token' }],
      ['403 admin token', { authorization: `Bearer ${fast.adminToken}` }],
    ];
    for (const [label, headers] of cases) {
      const logsBefore = [fast.logs().length, slow.logs().length];
      const a = await get(fast.port, '/api/v1/runtime/settings', headers);
      const b = await get(slow.port, '/api/v1/runtime/settings', headers);
      assert.deepEqual(comparable(a), comparable(b), `${label}: the fast path's answer differs from Express's`);
      assert.equal(a.status, Number(label.slice(0, 3)), `${label}: status`);
      // The request's log line: the same fields and values, timing aside.
      const line = (p: InProcessPortal, from: number) => {
        const lines = p.logs().slice(from).filter((l) => l.msg === 'request');
        assert.equal(lines.length, 1, `${label}: one log line per request`);
        const { time: _t, ms, pid: _p, ...rest } = lines[0]!;
        assert.equal(typeof ms, 'number');
        return rest;
      };
      assert.deepEqual(line(fast, logsBefore[0]!), line(slow, logsBefore[1]!), `${label}: the log lines differ`);
    }
    // The security headers are there at all (so "equal" is not "both empty").
    assert.equal(first.headers['x-content-type-options'], 'nosniff');
    assert.equal(first.headers['cache-control'], 'no-store');
  });
});

describe('ETag and 304 on the real server, on both paths', () => {
  let portal: Portal;
  after(async () => {
    await portal?.stop();
    if (portal) removeDir(portal.dataDir);
  });

  test('the fast path (plain GET) and the Express route (GET with a query) both answer 304 to a matching If-None-Match, and a new ETag after a change', async () => {
    portal = await startPortal();
    assert.equal((await portal.api('POST', `/apps/${APP}/publish`, { body: { definitions: defsFor(APP, [{ name: 'Greeting', type: 'Text', defaultValue: 'hi' }]) } })).status, 200);
    const token = await createRuntimeToken(portal, APP, 'development');
    const routes = { fast: '/runtime/settings', express: '/runtime/settings?via=express' };
    const etags: Record<string, string> = {};
    for (const [path, route] of Object.entries(routes)) {
      const first = await apiFrom(portal, '127.0.0.80', 'GET', route, { token });
      assert.equal(first.status, 200, `${path}: ${first.text}`);
      etags[path] = first.headers.get('etag') ?? '';
      assert.match(etags[path]!, /^"r1-/, `${path}: an ETag`);
      const again = await apiFrom(portal, '127.0.0.80', 'GET', route, { token, headers: { 'if-none-match': etags[path]! } });
      assert.equal(again.status, 304, `${path}: If-None-Match with the current ETag answers 304`);
      assert.equal(again.text, '', `${path}: a 304 has no body`);
      assert.equal(again.headers.get('etag'), etags[path]);
    }
    assert.equal(etags.fast, etags.express, 'both paths give the same ETag');
    const set = await portal.api('PATCH', `/apps/${APP}/stages/development/settings`, { body: { changes: [{ name: 'Greeting', value: 'hello', baseVersion: 0 }] } });
    assert.equal(set.status, 200, set.text);
    for (const [path, route] of Object.entries(routes)) {
      const changed = await apiFrom(portal, '127.0.0.80', 'GET', route, { token, headers: { 'if-none-match': etags[path]! } });
      assert.equal(changed.status, 200, `${path}: after a change the old ETag no longer matches`);
      assert.notEqual(changed.headers.get('etag'), etags[path]);
      assert.equal(changed.body.settings.Greeting, 'hello');
    }
  });
});
