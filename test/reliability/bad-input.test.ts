// Part 1, bad input (SPEC §8): generated malformed requests across every route, from a
// seeded PRNG. No 5xx, no crash, every error is problem+json, the store is unchanged
// (every table but audit, and everything the API shows), the audit only gained refusal
// records and its chain still verifies.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { removeDir, tempDir, type Portal } from '../support/portal';
import { CaseGenerator, ROUTES, type BadCase, type Fixture } from './badInput';
import { apiView, BILLING, createToken, ORDERS, publish, setValues, versions } from './fixtures';
import { BASE_SEED, formatHistogram, histogram, HttpClientError, problemIssue, rawRequest, reportFigures, Rng, SIZES, type RawResponse } from './lib';
import { STORES, storeUnderTest, type StoreKind, type StoreUnderTest } from './stores';

const STAGES = ['development', 'qa', 'production'];
const started: Array<{ portal: Portal; work: string }> = [];

after(async () => {
  for (const { portal, work } of started) {
    await portal.stop();
    removeDir(work);
  }
});

/** A portal on `kind` with the fixture: two apps, values and tokens of every role. */
async function setUp(kind: StoreKind): Promise<{ portal: Portal; store: StoreUnderTest; fx: Fixture; runtimeTokens: string[] }> {
  const work = tempDir('odc-bad-input-');
  const store = await storeUnderTest(kind, path.join(work, 'data'));
  const portal = await store.start();
  started.push({ portal, work });
  const api = portal.api.bind(portal);
  await publish(api, ORDERS);
  await publish(api, BILLING);
  await setValues(api, 'orders', 'qa', { PaymentApiKey: 'qa-secret-value', PinCode: '1234', MaxRetries: '5', Greeting: 'hi', Contact: 'ops@example.com' });
  await setValues(api, 'orders', 'qa', { Greeting: 'hi again' });
  await setValues(api, 'orders', 'production', { PaymentApiKey: 'prod-secret-value', Enabled: 'False' });
  await setValues(api, 'orders', 'development', { Greeting: 'dev', PaymentApiKey: 'dev-secret' });
  await setValues(api, 'orders', 'development', { PaymentApiKey: null });
  await setValues(api, 'billing', 'development', { ApiKey: 'billing-secret' });
  const dev = await createToken(api, { name: 'dev orders/qa', role: 'developer', apps: ['orders'], stages: ['qa'] });
  const op = await createToken(api, { name: 'operator', role: 'operator' });
  const rt = await createToken(api, { name: 'runtime orders/qa', role: 'runtime', apps: ['orders'], stages: ['qa'] });
  const rtProd = await createToken(api, { name: 'runtime orders/production', role: 'runtime', apps: ['orders'], stages: ['production'] });
  const revoked = await createToken(api, { name: 'revoked', role: 'operator' });
  assert.equal((await portal.api('DELETE', `/tokens/${revoked.id}`)).status, 204);
  const list = await portal.api('GET', '/tokens');
  const adminId = (list.body.tokens as Array<{ id: string; role: string }>).find((t) => t.role === 'admin')!.id;
  const runtimeTokens = [rt.token, rtProd.token];
  const vers: Record<string, number> = {};
  for (const app of ['orders', 'billing']) {
    for (const stage of STAGES) for (const [name, v] of Object.entries(await versions(api, app, stage))) vers[`${app}/${stage}/${name}`] = v;
  }
  const fx: Fixture = {
    apps: ['orders', 'billing'],
    stages: STAGES,
    settings: Object.fromEntries(ORDERS.settings.map((s) => [s.name, { type: s.type, isSecret: !!s.isSecret }])),
    versions: vers,
    revision: { orders: 1, billing: 1 },
    definitions: { orders: ORDERS, billing: BILLING },
    tokens: { admin: portal.adminToken, dev: dev.token, op: op.token, rt: rt.token, revoked: revoked.token },
    tokenIds: { admin: adminId, dev: dev.id, op: op.id, rt: rt.id, revoked: revoked.id },
  };
  return { portal, store, fx, runtimeTokens };
}

function tokenFor(fx: Fixture, c: BadCase): string | null {
  switch (c.auth) {
    case 'admin':
      return fx.tokens.admin;
    case 'dev':
      return fx.tokens.dev;
    case 'op':
      return fx.tokens.op;
    case 'rt':
      return fx.tokens.rt;
    default:
      return null; // 'none' / 'bad': the case carries its own Authorization header (or none)
  }
}

for (const kind of STORES) test(`bad input on ${kind}: ${SIZES.badRequests} generated malformed requests, every route (seed ${BASE_SEED})`, { timeout: 15 * 60_000 }, async () => {
  const { portal, store, fx, runtimeTokens } = await setUp(kind);
  // The same seed sends the same requests to both stores.
  const rng = new Rng(BASE_SEED).fork(1);
  const port = Number(new URL(portal.url).port);
  const auditBefore = await store.maxAuditId();
  const dumpBefore = await store.dump();
  const viewBefore = await apiView(portal.api.bind(portal), STAGES, runtimeTokens);
  const errorLogBefore = (portal.output().match(/"msg":"unexpected error"/g) ?? []).length;

  const gen = new CaseGenerator(rng, fx);
  const cases: BadCase[] = [];
  for (let i = 0; i < SIZES.badRequests; i++) cases.push(gen.next(ROUTES[i % ROUTES.length]!));

  const failures: string[] = [];
  const statuses: number[] = [];
  const byKind: string[] = [];
  const byRoute = new Map<string, number>();
  let refusedSignedIn = 0;
  const slowest: Array<[number, string]> = [];
  let clientErrors = 0;
  const started = Date.now();
  const describe = (c: BadCase) => {
    const headers = c.headers.filter(([k]) => k.toLowerCase() !== 'authorization').map(([k, v]) => `${k}: ${v.slice(0, 60)}`);
    const body = c.body ? ` body(${c.body.length}B)=${JSON.stringify(c.body.subarray(0, 80).toString('latin1'))}` : '';
    return `#${c.id} [${c.route}] ${c.kind} ${c.method} ${String(c.path).slice(0, 100)} auth=${c.auth}${c.from ? ` from ${c.from}` : ''}${headers.length ? ` ${JSON.stringify(headers)}` : ''}${body}`;
  };

  async function run(c: BadCase) {
    const headers: Array<[string, string]> = [...c.headers];
    const token = tokenFor(fx, c);
    if (token && !c.headers.some(([k]) => k.toLowerCase() === 'authorization')) headers.push(['Authorization', `Bearer ${token}`]);
    let res: RawResponse;
    try {
      res = await rawRequest({ port, method: c.method, path: c.path, headers, body: c.body, autoLength: c.autoLength, localAddress: c.from, rawBytes: c.rawBytes, timeoutMs: 30_000 });
    } catch (err) {
      clientErrors++;
      failures.push(`${describe(c)}: no answer (${err instanceof HttpClientError ? err.code : ''} ${(err as Error).message})`);
      return;
    }
    statuses.push(res.status);
    slowest.push([res.ms, describe(c).slice(0, 160)]);
    byKind.push(c.kind.split(':')[0]!);
    byRoute.set(c.route, (byRoute.get(c.route) ?? 0) + 1);
    if (res.status >= 400 && res.status < 500 && !c.from && c.auth !== 'none' && c.auth !== 'bad') refusedSignedIn++;
    if (res.status >= 500) failures.push(`${describe(c)}: ${res.status} ${res.text.slice(0, 200)}`);
    else if (c.expect === 'error' && (res.status < 400 || res.status >= 500)) failures.push(`${describe(c)}: expected a 4xx refusal, got ${res.status} ${res.text.slice(0, 200)}`);
    if (res.status >= 400) {
      const issue = problemIssue(res, c.method);
      if (issue) failures.push(`${describe(c)}: ${res.status} is not problem+json: ${issue}`);
    }
  }

  // A few at a time; generation is seeded, so the same seed sends the same requests.
  const CONCURRENCY = 4;
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < cases.length) {
        const c = cases[next++]!;
        await run(c);
        if (portal.proc.exitCode !== null || portal.proc.signalCode !== null) {
          failures.push(`server exited after ${describe(c)}`);
          next = cases.length;
        }
      }
    }),
  );
  const seconds = (Date.now() - started) / 1000;

  // Still answering, store unchanged, audit only gained refusals and still verifies.
  const health = await portal.api('GET', '/health', { token: null });
  const dumpAfter = await store.dump();
  const viewAfter = await apiView(portal.api.bind(portal), STAGES, runtimeTokens);
  const gained = await store.auditRows(auditBefore);
  const verify = await portal.api('GET', '/audit/verify');
  const errorLogAfter = (portal.output().match(/"msg":"unexpected error"/g) ?? []).length;
  const badAudit = gained.filter((r) => r.outcome !== 'refused' && r.outcome !== 'denied');

  const changedTables = [...new Set([...Object.keys(dumpBefore), ...Object.keys(dumpAfter)])].filter((t) => JSON.stringify(dumpBefore[t]) !== JSON.stringify(dumpAfter[t]));
  const hist = histogram(statuses);
  reportFigures(`1. bad input (${kind})`, {
    'requests tried': cases.length,
    'requests answered': statuses.length,
    'connection errors': clientErrors,
    'status histogram': formatHistogram(hist),
    '5xx': statuses.filter((s) => s >= 500).length,
    'kinds': formatHistogram(histogram(byKind)),
    'routes covered': `${byRoute.size}/${ROUTES.length}`,
    'audit records gained (refused/denied)': `${gained.length} (${gained.length - badAudit.length} refused/denied; ${refusedSignedIn} 4xx answers to requests carrying a valid token)`,
    'audit chain verifies': verify.body?.ok === true,
    'store unchanged (tables but audit)': changedTables.length === 0 ? true : `no: ${changedTables.join(', ')}`,
    'API view unchanged': JSON.stringify(viewAfter) === JSON.stringify(viewBefore),
    'unexpected-error log lines': errorLogAfter - errorLogBefore,
    'duration s': seconds.toFixed(1),
    failures: failures.length,
  });
  if (process.env.RELIABILITY_DEBUG) console.log(slowest.sort((a, b) => b[0] - a[0]).slice(0, 15).map(([ms, d]) => `${ms.toFixed(0)} ms ${d}`).join('\n'));
  if (failures.length) console.log(`first failures (reproduce with RELIABILITY_SEED=${BASE_SEED}):\n${failures.slice(0, 40).join('\n')}`);

  assert.equal(portal.proc.exitCode, null, 'the server exited');
  assert.equal(health.status, 200, 'the server no longer answers health');
  for (const r of ROUTES) assert.ok((byRoute.get(r) ?? 0) > 0, `no request reached ${r}`);
  assert.deepEqual(failures, [], `${failures.length} requests misbehaved (seed ${BASE_SEED})`);
  assert.deepEqual(dumpAfter, dumpBefore, `the store changed (${changedTables.join(', ')})`);
  assert.deepEqual(viewAfter, viewBefore, 'what the API shows changed');
  assert.deepEqual(
    badAudit.map((r) => `${r.id} ${r.action} ${r.outcome}`),
    [],
    'the audit gained records that are not refusals',
  );
  assert.equal(verify.status, 200, verify.text);
  assert.equal(verify.body.ok, true, `audit chain broken: ${verify.text}`);
  assert.equal(errorLogAfter - errorLogBefore, 0, 'the server logged unexpected errors');
});
