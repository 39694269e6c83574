// Who may do what (SPEC §6, §9): every route x every role x in/out of scope, from a route
// table and a role table, with the expected answer computed from the SPEC's rules (not from
// the server's code). Then: nobody but the runtime identity ever reads a secret in clear,
// the runtime read itself, token rules, and the failed-authentication limiter.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { apiFrom, containsCanary, newCanary, removeDir, startPortal, type ApiResponse, type Portal } from '../support/portal';

type Role = 'admin' | 'developer' | 'operator' | 'runtime';
type Scope = '*' | string[];

const APP_IN = 'orders';
const APP_OUT = 'billing';
const STAGE_IN = 'qa';
const STAGE_OUT = 'production';
const PERSONS: Role[] = ['admin', 'developer', 'operator'];

const ORDERS = {
  app: { key: 'orders', name: 'Orders' },
  settings: [
    { name: 'PaymentApiKey', type: 'Text', description: 'Key for the payment gateway', isSecret: true },
    { name: 'PinCode', type: 'Integer', isSecret: true },
    { name: 'MaxRetries', type: 'Integer', defaultValue: '3' },
    { name: 'Greeting', type: 'Text', defaultValue: 'hello' },
    { name: 'Banner', type: 'Text', defaultValue: '' },
    { name: 'Endpoint', type: 'Text' },
  ],
};
const BILLING = {
  app: { key: 'billing', name: 'Billing' },
  settings: [
    { name: 'PaymentApiKey', type: 'Text', isSecret: true },
    { name: 'MaxRetries', type: 'Integer', defaultValue: '5' },
  ],
};
const definitionsOf = (app: string) => (app === 'orders' ? ORDERS : app === 'billing' ? BILLING : { app: { key: app, name: app }, settings: [] });

// ---- the role table ------------------------------------------------------------------

interface RoleCase {
  label: string;
  role: Role;
  apps: Scope;
  stages: Scope;
  token: string;
  id: string;
}

const ROLE_TABLE: Array<Omit<RoleCase, 'token' | 'id'>> = [
  { label: 'admin', role: 'admin', apps: '*', stages: '*' },
  { label: 'dev[orders/qa]', role: 'developer', apps: [APP_IN], stages: [STAGE_IN] },
  { label: 'dev[*]', role: 'developer', apps: '*', stages: '*' },
  { label: 'op[orders/qa]', role: 'operator', apps: [APP_IN], stages: [STAGE_IN] },
  { label: 'op[*]', role: 'operator', apps: '*', stages: '*' },
  { label: 'rt[orders/qa]', role: 'runtime', apps: [APP_IN], stages: [STAGE_IN] },
];

// ---- the route table (SPEC §9) ---------------------------------------------------------

interface Target {
  app: string;
  stage: string;
}

interface RouteCase {
  route: string;
  method: string;
  /** Which of the target's names the route carries in its URL. */
  uses: Array<'app' | 'stage'>;
  /** Roles the SPEC allows; 'anyone' needs no token at all. */
  who: Role[] | 'anyone';
  ok: number;
  path(t: Target, ctx: { id?: string }): string;
  body?(t: Target): unknown;
  /** Every stage the route needs in scope (default: the target's). */
  stagesOf?(t: Target): string[];
  /** Work a cell needs first (e.g. a token to revoke). */
  prepare?(): Promise<{ id?: string }>;
}

const otherStage = (stage: string) => (stage === STAGE_IN ? STAGE_OUT : STAGE_IN);

function buildRoutes(portal: () => Portal): RouteCase[] {
  return [
    { route: 'GET /health', method: 'GET', uses: [], who: 'anyone', ok: 200, path: () => '/health' },
    { route: 'GET /openapi.json', method: 'GET', uses: [], who: 'anyone', ok: 200, path: () => '/openapi.json' },
    { route: 'GET /stages', method: 'GET', uses: [], who: PERSONS, ok: 200, path: () => '/stages' },
    { route: 'GET /apps', method: 'GET', uses: [], who: PERSONS, ok: 200, path: () => '/apps' },
    { route: 'GET /apps/:app', method: 'GET', uses: ['app'], who: PERSONS, ok: 200, path: (t) => `/apps/${t.app}` },
    {
      route: 'POST /apps/:app/publish',
      method: 'POST',
      uses: ['app'],
      who: ['admin', 'developer'],
      ok: 200,
      path: (t) => `/apps/${t.app}/publish`,
      // A dry run: the same answer codes as a real publish, and the matrix changes nothing.
      body: (t) => ({ definitions: definitionsOf(t.app), dryRun: true }),
    },
    { route: 'GET /apps/:app/stages/:stage/settings', method: 'GET', uses: ['app', 'stage'], who: PERSONS, ok: 200, path: (t) => `/apps/${t.app}/stages/${t.stage}/settings` },
    {
      route: 'PATCH /apps/:app/stages/:stage/settings',
      method: 'PATCH',
      uses: ['app', 'stage'],
      who: PERSONS,
      ok: 200,
      path: (t) => `/apps/${t.app}/stages/${t.stage}/settings`,
      // An empty list writes nothing (SPEC §9) but goes through every check.
      body: () => ({ changes: [] }),
    },
    {
      route: 'GET /apps/:app/stages/:stage/settings/:name/history',
      method: 'GET',
      uses: ['app', 'stage'],
      who: PERSONS,
      ok: 200,
      path: (t) => `/apps/${t.app}/stages/${t.stage}/settings/PaymentApiKey/history`,
    },
    {
      route: 'POST /apps/:app/stages/:stage/settings/:name/restore',
      method: 'POST',
      uses: ['app', 'stage'],
      who: PERSONS,
      ok: 404,
      path: (t) => `/apps/${t.app}/stages/${t.stage}/settings/Endpoint/restore`,
      // A version no pair has (Endpoint is never written; billing has none): every check but the
      // last (404: nothing kept), so the matrix writes nothing.
      body: () => ({ version: 999_999, baseVersion: 0 }),
    },
    {
      route: 'GET /apps/:app/compare?stages=:stage',
      method: 'GET',
      uses: ['app', 'stage'],
      who: PERSONS,
      ok: 200,
      path: (t) => `/apps/${t.app}/compare?stages=${t.stage}`,
    },
    {
      // A dry run from the target's stage to the other one: read scope on from, write scope on to.
      route: 'POST /apps/:app/promote {from: :stage, to: other}',
      method: 'POST',
      uses: ['app', 'stage'],
      stagesOf: (t) => [t.stage, otherStage(t.stage)],
      who: PERSONS,
      ok: 200,
      path: (t) => `/apps/${t.app}/promote`,
      body: (t) => ({ from: t.stage, to: otherStage(t.stage), dryRun: true }),
    },
    { route: 'GET /apps/:app/audit', method: 'GET', uses: ['app'], who: ['admin', 'developer'], ok: 200, path: (t) => `/apps/${t.app}/audit` },
    { route: 'GET /audit', method: 'GET', uses: [], who: ['admin'], ok: 200, path: () => '/audit' },
    { route: 'GET /audit/verify', method: 'GET', uses: [], who: ['admin'], ok: 200, path: () => '/audit/verify' },
    {
      route: 'POST /tokens',
      method: 'POST',
      uses: [],
      who: ['admin'],
      ok: 201,
      path: () => '/tokens',
      body: () => ({ name: 'matrix cell', role: 'operator', apps: [APP_IN], stages: [STAGE_IN] }),
    },
    { route: 'GET /tokens', method: 'GET', uses: [], who: ['admin'], ok: 200, path: () => '/tokens' },
    {
      route: 'DELETE /tokens/:id',
      method: 'DELETE',
      uses: [],
      who: ['admin'],
      ok: 204,
      path: (_t, ctx) => `/tokens/${ctx.id}`,
      prepare: async () => {
        const created = await portal().api('POST', '/tokens', { body: { name: 'to revoke', role: 'operator' } });
        assert.equal(created.status, 201, created.text);
        return { id: created.body.id as string };
      },
    },
    { route: 'GET /runtime/settings', method: 'GET', uses: [], who: ['runtime'], ok: 200, path: () => '/runtime/settings' },
  ];
}

/** The SPEC's rules, §6 and §9: role first, then app scope, then stage scope. */
function inScope(scope: Scope, name: string): boolean {
  return scope === '*' || scope.includes(name);
}
function expectedStatus(route: RouteCase, role: Omit<RoleCase, 'token' | 'id'>, t: Target): number {
  if (route.who === 'anyone') return route.ok;
  if (!route.who.includes(role.role)) return 403;
  if (route.uses.includes('app') && !inScope(role.apps, t.app)) return 403;
  if (route.uses.includes('stage') && !(route.stagesOf?.(t) ?? [t.stage]).every((s) => inScope(role.stages, s))) return 403;
  return route.ok;
}

function targetsFor(route: RouteCase): Target[] {
  const apps = route.uses.includes('app') ? [APP_IN, APP_OUT] : [APP_IN];
  const stages = route.uses.includes('stage') ? [STAGE_IN, STAGE_OUT] : [STAGE_IN];
  return apps.flatMap((app) => stages.map((stage) => ({ app, stage })));
}

function isProblem(res: ApiResponse<any>, status: number) {
  assert.equal(res.status, status, res.text);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.equal((res.body as { status: number }).status, status);
}

describe('access: who may do what', () => {
  let portal: Portal;
  const roles: RoleCase[] = [];
  let runtimeProd: RoleCase;
  const canary = { qa: newCanary(), production: newCanary(), development: newCanary(), billing: newCanary() };
  const tokenOf = (label: string) => roles.find((r) => r.label === label)!;

  async function createToken(spec: { name: string; role: Role; apps: Scope; stages: Scope }) {
    const res = await portal.api('POST', '/tokens', { body: spec });
    assert.equal(res.status, 201, res.text);
    return res.body as { id: string; token: string };
  }

  async function setValues(app: string, stage: string, values: Record<string, string | null>) {
    const current = await portal.api('GET', `/apps/${app}/stages/${stage}/settings`);
    assert.equal(current.status, 200, current.text);
    const version = (name: string) => (current.body.settings as Array<{ name: string; version: number }>).find((s) => s.name === name)!.version;
    const changes = Object.entries(values).map(([name, value]) => ({ name, value, baseVersion: version(name) }));
    const res = await portal.api('PATCH', `/apps/${app}/stages/${stage}/settings`, { body: { changes } });
    assert.equal(res.status, 200, res.text);
    return res;
  }

  before(async () => {
    portal = await startPortal();
    for (const defs of [ORDERS, BILLING]) {
      const res = await portal.api('POST', `/apps/${defs.app.key}/publish`, { body: { definitions: defs } });
      assert.equal(res.status, 200, res.text);
    }
    for (const r of ROLE_TABLE) {
      if (r.label === 'admin') {
        const list = await portal.api('GET', '/tokens');
        const admin = (list.body.tokens as Array<{ id: string; role: string }>).find((t) => t.role === 'admin')!;
        roles.push({ ...r, token: portal.adminToken, id: admin.id });
      } else {
        const { id, token } = await createToken({ name: r.label, role: r.role, apps: r.apps, stages: r.stages });
        roles.push({ ...r, token, id });
      }
    }
    const rp = await createToken({ name: 'rt[orders/production]', role: 'runtime', apps: [APP_IN], stages: [STAGE_OUT] });
    runtimeProd = { label: 'rt[orders/production]', role: 'runtime', apps: [APP_IN], stages: [STAGE_OUT], ...rp };
    await setValues(APP_IN, 'qa', { PaymentApiKey: canary.qa, Greeting: 'hi from qa' });
    await setValues(APP_IN, 'production', { PaymentApiKey: canary.production });
    await setValues(APP_IN, 'development', { PaymentApiKey: canary.development });
    await setValues(APP_OUT, 'qa', { PaymentApiKey: canary.billing });
  });

  after(async () => {
    await portal?.stop();
    if (portal) removeDir(path.dirname(portal.dataDir));
  });

  test('every route x every role x in/out-of-scope app and stage answers as SPEC §6/§9 say', async () => {
    const routes = buildRoutes(() => portal);
    const mismatches: string[] = [];
    const rows: string[][] = [];
    let cells = 0;
    for (const route of routes) {
      const row = [route.route];
      for (const role of roles) {
        const statuses: string[] = [];
        for (const t of targetsFor(route)) {
          const ctx = route.prepare ? await route.prepare() : {};
          const res = await portal.api(route.method, route.path(t, ctx), { token: role.token, body: route.body?.(t) });
          const want = expectedStatus(route, role, t);
          cells++;
          statuses.push(String(res.status));
          if (res.status !== want) mismatches.push(`${route.route} as ${role.label} on ${t.app}/${t.stage}: got ${res.status}, SPEC says ${want} (${res.text.slice(0, 160)})`);
          if (res.status >= 400) assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/, `${route.route} error is problem+json`);
        }
        row.push(statuses.join(' '));
      }
      rows.push(row);
    }
    const header = ['route', ...roles.map((r) => r.label)];
    const widths = header.map((h, i) => Math.max(i === 0 ? 40 : h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cols: string[]) => cols.map((c, i) => c.padEnd(widths[i]!)).join(' | ');
    console.log(
      `\naccess matrix, ${cells} cells; a cell lists the status per target: app+stage routes orders/qa orders/production billing/qa billing/production, app routes orders billing\n` +
        `${line(header)}\n${rows.map(line).join('\n')}\n`,
    );
    assert.deepEqual(mismatches, [], `${mismatches.length} of ${cells} cells differ from the SPEC`);
    assert.ok(cells > 100, 'the matrix covers every route, role and scope combination');
  });

  test('missing, garbage, malformed and revoked tokens get 401 on every authenticated route', async () => {
    const revoked = await createToken({ name: 'soon revoked', role: 'developer', apps: '*', stages: '*' });
    assert.equal((await portal.api('GET', '/apps', { token: revoked.token })).status, 200, 'works before revocation');
    assert.equal((await portal.api('DELETE', `/tokens/${revoked.id}`)).status, 204);
    const routes = buildRoutes(() => portal).filter((r) => r.who !== 'anyone');
    const badTokens: Array<[string, Record<string, string>]> = [
      ['missing', {}],
      ['garbage', { authorization: `Bearer odcp_${newCanary('garbage')}` }],
      ['not bearer', { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` }],
      ['revoked', { authorization: `Bearer ${revoked.token}` }],
    ];
    let n = 0;
    for (const [i, route] of routes.entries()) {
      // Each route from its own loopback address: 4 failures per client, far below the limiter's 20.
      const from = `127.0.0.${20 + i}`;
      for (const [label, headers] of badTokens) {
        const res = await apiFrom(portal, from, route.method, route.path({ app: APP_IN, stage: STAGE_IN }, { id: revoked.id }), { token: null, headers, body: route.body?.({ app: APP_IN, stage: STAGE_IN }) });
        assert.equal(res.status, 401, `${route.route} with a ${label} token: ${res.text}`);
        isProblem(res, 401);
        assert.equal(containsCanary(res.text, revoked.token), null, 'a 401 never echoes the token');
        n++;
      }
    }
    assert.ok(n >= 40);
  });

  test('a token scoped to app A is refused on app B, one scoped to qa is refused on production (403)', async () => {
    for (const label of ['dev[orders/qa]', 'op[orders/qa]']) {
      const { token } = tokenOf(label);
      assert.equal((await portal.api('GET', `/apps/${APP_IN}/stages/qa/settings`, { token })).status, 200);
      isProblem(await portal.api('GET', `/apps/${APP_OUT}/stages/qa/settings`, { token }), 403);
      isProblem(await portal.api('GET', `/apps/${APP_OUT}`, { token }), 403);
      isProblem(await portal.api('GET', `/apps/${APP_IN}/stages/production/settings`, { token }), 403);
      const prod = await portal.api('GET', `/apps/${APP_IN}/stages/production/settings`, { token: tokenOf('admin').token });
      const version = prod.body.settings.find((s: { name: string }) => s.name === 'Greeting').version;
      const write = await portal.api('PATCH', `/apps/${APP_IN}/stages/production/settings`, { token, body: { changes: [{ name: 'Greeting', value: 'sneaky', baseVersion: version }] } });
      isProblem(write, 403);
      const after = await portal.api('GET', `/apps/${APP_IN}/stages/production/settings`, { token: tokenOf('admin').token });
      assert.deepEqual(after.body, prod.body, 'a refused write changes nothing');
    }
    isProblem(await portal.api('POST', `/apps/${APP_OUT}/publish`, { token: tokenOf('dev[orders/qa]').token, body: { definitions: BILLING } }), 403);
    // The app list shows only the apps in the token's scope.
    const listed = await portal.api('GET', '/apps', { token: tokenOf('op[orders/qa]').token });
    assert.deepEqual(listed.body.apps.map((a: { key: string }) => a.key), [APP_IN]);
    const all = await portal.api('GET', '/apps', { token: tokenOf('op[*]').token });
    assert.deepEqual(all.body.apps.map((a: { key: string }) => a.key).sort(), [APP_OUT, APP_IN].sort());
  });

  test('scope is checked before existence: an unknown name outside the scope is 403, inside it 404', async () => {
    const scoped = tokenOf('dev[orders/qa]').token;
    const admin = tokenOf('admin').token;
    const cases: Array<[string, string, unknown?]> = [
      ['GET', '/apps/ghost'],
      ['GET', '/apps/ghost/stages/qa/settings'],
      ['PATCH', '/apps/ghost/stages/qa/settings', { changes: [] }],
      ['GET', '/apps/ghost/audit'],
      ['GET', `/apps/${APP_IN}/stages/staging/settings`],
      ['PATCH', `/apps/${APP_IN}/stages/staging/settings`, { changes: [] }],
    ];
    for (const [method, route, body] of cases) {
      isProblem(await portal.api(method, route, { token: scoped, body }), 403);
      isProblem(await portal.api(method, route, { token: admin, body }), 404);
    }
    // Publishing to an app outside the scope is 403 even though the app does not exist yet.
    isProblem(await portal.api('POST', '/apps/ghost/publish', { token: scoped, body: { definitions: definitionsOf('ghost') } }), 403);
    // A scope may name an app that is not published yet: inside it, the answer is 404.
    const future = await createToken({ name: 'future app', role: 'developer', apps: ['ghost'], stages: '*' });
    isProblem(await portal.api('GET', '/apps/ghost', { token: future.token }), 404);
    isProblem(await portal.api('GET', '/apps/ghost/stages/qa/settings', { token: future.token }), 404);
    isProblem(await portal.api('GET', `/apps/${APP_IN}`, { token: future.token }), 403);
  });

  test('a runtime token is refused on every person route, a person token on the runtime route (403)', async () => {
    const routes = buildRoutes(() => portal).filter((r) => r.who !== 'anyone');
    for (const rt of [tokenOf('rt[orders/qa]'), runtimeProd]) {
      for (const route of routes.filter((r) => r.route !== 'GET /runtime/settings')) {
        const ctx = route.prepare ? await route.prepare() : {};
        // Its own app and stage: the role alone decides.
        const t = { app: APP_IN, stage: rt.stages[0] as string };
        isProblem(await portal.api(route.method, route.path(t, ctx), { token: rt.token, body: route.body?.(t) }), 403);
      }
    }
    for (const label of ['admin', 'dev[*]', 'op[*]', 'dev[orders/qa]', 'op[orders/qa]']) {
      const res = await portal.api('GET', '/runtime/settings', { token: tokenOf(label).token });
      isProblem(res, 403);
    }
  });

  test('no role but runtime reads a secret in clear: the canary never appears, ***** does', async () => {
    const everyToken = [...roles, runtimeProd];
    const all = Object.values(canary);
    const reads: Array<[string, string]> = [['GET', '/stages'], ['GET', '/apps'], ['GET', '/audit'], ['GET', '/audit/verify'], ['GET', '/tokens']];
    for (const app of [APP_IN, APP_OUT, 'ghost']) {
      reads.push(['GET', `/apps/${app}`], ['GET', `/apps/${app}/audit`]);
      for (const stage of ['development', 'qa', 'production']) reads.push(['GET', `/apps/${app}/stages/${stage}/settings`], ['PATCH', `/apps/${app}/stages/${stage}/settings`]);
    }
    reads.push(['GET', '/runtime/settings']);
    let masked = 0;
    for (const tok of everyToken) {
      for (const [method, route] of reads) {
        const res = await portal.api(method, route, { token: tok.token, body: method === 'PATCH' ? { changes: [] } : undefined });
        let allowed: string[] = [];
        if (route === '/runtime/settings' && tok.role === 'runtime') allowed = [canary[tok.stages[0] as 'qa' | 'production']];
        for (const c of all) {
          if (allowed.includes(c)) assert.notEqual(containsCanary(res.text, c), null, `${tok.label} reads its own secret at run time`);
          else assert.equal(containsCanary(res.text, c), null, `${method} ${route} as ${tok.label} leaks a secret (${res.status})`);
        }
        const m = /^\/apps\/(\w+)\/stages\/(\w+)\/settings$/.exec(route);
        if (m && res.status === 200) {
          const secret = res.body.settings.find((s: { name: string }) => s.name === 'PaymentApiKey');
          const hasOne = m[1] === APP_IN || (m[1] === APP_OUT && m[2] === 'qa');
          assert.equal(secret.value, hasOne ? '*****' : null, `${route} as ${tok.label}`);
          assert.equal(secret.hasValue, hasOne);
          assert.equal(secret.missing, !hasOne);
          assert.equal(secret.defaultValue, null);
          if (hasOne) masked++;
          const pin = res.body.settings.find((s: { name: string }) => s.name === 'PinCode');
          if (pin) assert.deepEqual([pin.value, pin.missing], [null, true]);
        }
      }
    }
    assert.ok(masked >= 10, `the mask was seen ${masked} times`);

    // Refusals of writes that carry a secret never echo it (422 invalid, 409 stale, 403 scope, 413/422 too long).
    const admin = tokenOf('admin').token;
    const bad = newCanary();
    const refusals: Array<[string, unknown, string, number]> = [
      [admin, { changes: [{ name: 'PinCode', value: bad, baseVersion: 0 }] }, 'qa', 422],
      [admin, { changes: [{ name: 'PaymentApiKey', value: bad, baseVersion: 0 }] }, 'qa', 409],
      [tokenOf('op[orders/qa]').token, { changes: [{ name: 'PaymentApiKey', value: bad, baseVersion: 1 }] }, 'production', 403],
      [admin, { changes: [{ name: 'PaymentApiKey', value: bad + 'x'.repeat(48 * 1024), baseVersion: 1 }] }, 'qa', 422],
      [admin, { changes: [{ name: 'NoSuchSetting', value: bad, baseVersion: 0 }] }, 'qa', 404],
    ];
    for (const [token, body, stage, status] of refusals) {
      const res = await portal.api('PATCH', `/apps/${APP_IN}/stages/${stage}/settings`, { token, body });
      isProblem(res, status);
      assert.equal(containsCanary(res.text, bad), null, `a ${status} echoes the value`);
    }
    const runtime = await portal.api('GET', '/runtime/settings', { token: tokenOf('rt[orders/qa]').token });
    assert.equal(runtime.body.settings.PaymentApiKey, canary.qa, 'the refused writes changed nothing');
    // Nor does the server's own output (its log) hold any of them.
    for (const c of [...all, bad]) assert.equal(containsCanary(portal.output(), c), null, 'the server log holds a secret');
  });

  test('the runtime read returns the decrypted effective settings of exactly its one app and stage', async () => {
    const qa = await portal.api('GET', '/runtime/settings', { token: tokenOf('rt[orders/qa]').token });
    assert.equal(qa.status, 200, qa.text);
    assert.deepEqual(qa.body, {
      app: APP_IN,
      stage: 'qa',
      revision: 1,
      settings: { PaymentApiKey: canary.qa, PinCode: null, MaxRetries: '3', Greeting: 'hi from qa', Banner: '', Endpoint: null },
    });
    const prod = await portal.api('GET', '/runtime/settings', { token: runtimeProd.token });
    assert.deepEqual(prod.body, {
      app: APP_IN,
      stage: 'production',
      revision: 1,
      settings: { PaymentApiKey: canary.production, PinCode: null, MaxRetries: '3', Greeting: 'hello', Banner: '', Endpoint: null },
    });
    for (const res of [qa, prod]) {
      assert.equal(res.headers.get('cache-control'), 'no-store');
      assert.ok(res.headers.get('etag'), 'an ETag');
    }
    // A runtime token for the other app sees that app only.
    const bill = await createToken({ name: 'rt billing', role: 'runtime', apps: [APP_OUT], stages: ['qa'] });
    const b = await portal.api('GET', '/runtime/settings', { token: bill.token });
    assert.deepEqual(b.body, { app: APP_OUT, stage: 'qa', revision: 1, settings: { PaymentApiKey: canary.billing, MaxRetries: '5' } });
  });

  test('the runtime ETag: If-None-Match answers 304, a value change gives a new ETag', async () => {
    const token = tokenOf('rt[orders/qa]').token;
    const first = await portal.api('GET', '/runtime/settings', { token });
    const etag = first.headers.get('etag')!;
    assert.ok(etag);
    assert.ok(!etag.includes(canary.qa));
    const again = await portal.api('GET', '/runtime/settings', { token });
    assert.equal(again.headers.get('etag'), etag, 'stable while nothing changes');
    const cached = await portal.api('GET', '/runtime/settings', { token, headers: { 'if-none-match': etag } });
    assert.equal(cached.status, 304);
    assert.equal(cached.text, '');
    assert.equal(cached.headers.get('cache-control'), 'no-store');
    const stale = await portal.api('GET', '/runtime/settings', { token, headers: { 'if-none-match': '"r0-nothing"' } });
    assert.equal(stale.status, 200);

    await setValues(APP_IN, 'qa', { Greeting: 'changed greeting' });
    const changed = await portal.api('GET', '/runtime/settings', { token, headers: { 'if-none-match': etag } });
    assert.equal(changed.status, 200, 'the old ETag no longer matches');
    assert.equal(changed.body.settings.Greeting, 'changed greeting');
    const etag2 = changed.headers.get('etag')!;
    assert.notEqual(etag2, etag);

    // Replacing a secret with a new value changes it too, and so does a publish.
    await setValues(APP_IN, 'qa', { PaymentApiKey: canary.qa });
    const replaced = await portal.api('GET', '/runtime/settings', { token, headers: { 'if-none-match': etag2 } });
    assert.equal(replaced.status, 200, 'a rewrite (even to the same value) is a new version');
    const etag3 = replaced.headers.get('etag')!;
    const republished = await portal.api('POST', `/apps/${APP_IN}/publish`, {
      body: { definitions: { ...ORDERS, settings: [...ORDERS.settings, { name: 'Added', type: 'Boolean', defaultValue: 'True' }] } },
    });
    assert.equal(republished.status, 200, republished.text);
    const afterPublish = await portal.api('GET', '/runtime/settings', { token, headers: { 'if-none-match': etag3 } });
    assert.equal(afterPublish.status, 200);
    assert.equal(afterPublish.body.revision, 2);
    assert.equal(afterPublish.body.settings.Added, 'True');
    assert.notEqual(afterPublish.headers.get('etag'), etag3);
  });

  test('stage-value answers are Cache-Control: no-store (read, write, empty write)', async () => {
    for (const label of ['admin', 'dev[orders/qa]', 'op[orders/qa]']) {
      const token = tokenOf(label).token;
      const read = await portal.api('GET', `/apps/${APP_IN}/stages/qa/settings`, { token });
      assert.equal(read.status, 200);
      assert.equal(read.headers.get('cache-control'), 'no-store', `GET as ${label}`);
      const empty = await portal.api('PATCH', `/apps/${APP_IN}/stages/qa/settings`, { token, body: { changes: [] } });
      assert.equal(empty.status, 200);
      assert.equal(empty.headers.get('cache-control'), 'no-store', `empty PATCH as ${label}`);
      assert.deepEqual(empty.body, read.body, 'an empty list writes nothing');
    }
    const write = await setValues(APP_IN, 'qa', { Endpoint: 'https://qa.example.com' });
    assert.equal(write.headers.get('cache-control'), 'no-store');
    const runtime = await portal.api('GET', '/runtime/settings', { token: tokenOf('rt[orders/qa]').token });
    assert.equal(runtime.headers.get('cache-control'), 'no-store');
  });

  test('a runtime token needs exactly one app and one stage (422 otherwise)', async () => {
    const before = (await portal.api('GET', '/tokens')).body.tokens.length;
    const wrong: Array<Record<string, unknown>> = [
      {},
      { apps: [APP_IN] },
      { stages: ['qa'] },
      { apps: '*', stages: ['qa'] },
      { apps: [APP_IN], stages: '*' },
      { apps: [APP_IN, APP_OUT], stages: ['qa'] },
      { apps: [APP_IN], stages: ['qa', 'production'] },
      { apps: [], stages: ['qa'] },
      { apps: [APP_IN], stages: [] },
    ];
    for (const scope of wrong) {
      const res = await portal.api('POST', '/tokens', { body: { name: 'bad runtime', role: 'runtime', ...scope } });
      isProblem(res, 422);
      assert.equal(res.body.token, undefined);
    }
    // A stage that does not exist is refused too.
    isProblem(await portal.api('POST', '/tokens', { body: { name: 'bad runtime', role: 'runtime', apps: [APP_IN], stages: ['staging'] } }), 422);
    assert.equal((await portal.api('GET', '/tokens')).body.tokens.length, before, 'no token was created');
    const ok = await portal.api('POST', '/tokens', { body: { name: 'good runtime', role: 'runtime', apps: [APP_IN], stages: ['development'] } });
    assert.equal(ok.status, 201);
    const dev = await portal.api('GET', '/runtime/settings', { token: ok.body.token });
    assert.equal(dev.body.settings.PaymentApiKey, canary.development);
  });

  test('repeated failed authentications from one client get 429 (20 failures a minute allowed)', async () => {
    const from = '127.0.0.250';
    for (let i = 1; i <= 20; i++) {
      const res = await apiFrom(portal, from, 'GET', '/apps', { token: `odcp_wrong${i}` });
      assert.equal(res.status, 401, `failure ${i} of 20 is still a 401`);
    }
    const limited = await apiFrom(portal, from, 'GET', '/apps', { token: 'odcp_wrong21' });
    isProblem(limited, 429);
    isProblem(await apiFrom(portal, from, 'GET', '/stages', { token: null }), 429);
    // Another client is not affected.
    const other = await apiFrom(portal, '127.0.0.251', 'GET', '/apps', { token: tokenOf('admin').token });
    assert.equal(other.status, 200);
    assert.equal((await portal.api('GET', '/apps')).status, 200);
  });

  test('revoking the last admin token is refused (409) and the token keeps working', async () => {
    const admin = tokenOf('admin');
    const activeAdmins = async () =>
      (await portal.api('GET', '/tokens', { token: admin.token })).body.tokens.filter((t: { role: string; revokedAt: string | null }) => t.role === 'admin' && !t.revokedAt);
    assert.equal((await activeAdmins()).length, 1, 'the first-start admin is the only admin');
    isProblem(await portal.api('DELETE', `/tokens/${admin.id}`, { token: admin.token }), 409);
    assert.equal((await portal.api('GET', '/tokens', { token: admin.token })).status, 200, 'still works');

    const second = await createToken({ name: 'second admin', role: 'admin', apps: '*', stages: '*' });
    assert.equal((await portal.api('DELETE', `/tokens/${admin.id}`, { token: second.token })).status, 204, 'with another admin it may go');
    isProblem(await portal.api('GET', '/tokens', { token: admin.token }), 401);
    isProblem(await portal.api('DELETE', `/tokens/${second.id}`, { token: second.token }), 409);
    assert.equal((await portal.api('GET', '/apps', { token: second.token })).status, 200);
  });
});
