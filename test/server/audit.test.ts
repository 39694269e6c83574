// The audit log (SPEC §7): one record per change and per refusal, naming who and what but
// never a value or a token; failed sign-ins aggregated; the chain detects deleted, edited
// and reordered records (HTTP and `odc-portal audit verify`); and a change whose audit
// record cannot be written does not happen.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { apiFrom, assertProblem, containsCanary, newCanary, removeDir, runCliAsync, startPortal, STORE, tempDir, type ApiResponse, type Portal } from '../support/portal';
import { copyStore, withStoreDb, type StoreDb } from '../support/store';

interface AuditEvent {
  id: number;
  at: string;
  tokenId: string | null;
  tokenName: string | null;
  action: string;
  outcome: string;
  app: string | null;
  stage: string | null;
  setting: string | null;
  revision: number | null;
  version: number | null;
  detail: Record<string, unknown> | null;
}

const ORDERS = {
  app: { key: 'orders', name: 'Orders' },
  settings: [
    { name: 'PaymentApiKey', type: 'Text', isSecret: true },
    { name: 'PinCode', type: 'Integer', isSecret: true },
    { name: 'MaxRetries', type: 'Integer', defaultValue: '3' },
    { name: 'Greeting', type: 'Text', defaultValue: 'hello' },
  ],
};

describe('audit', () => {
  let portal: Portal;
  let work: string;
  let adminId: string;
  const dev = { id: '', token: '', name: 'dev alice' };
  const op = { id: '', token: '', name: 'op bob' };
  const rt = { id: '', token: '', name: 'orders qa runtime' };
  /** Every secret or plain value written, and every token seen: none may be in a record. */
  const values: string[] = [];
  const tokens: string[] = [];

  async function events(p: Portal = portal): Promise<AuditEvent[]> {
    const res = await p.api('GET', '/audit?limit=1000');
    assert.equal(res.status, 200, res.text);
    return res.body.events as AuditEvent[];
  }

  /** Runs one request and returns its answer and the audit records it added (oldest first). */
  async function recorded(request: () => Promise<ApiResponse<any>>): Promise<{ res: ApiResponse<any>; added: AuditEvent[] }> {
    const before = await events();
    const top = before[0]?.id ?? 0;
    const res = await request();
    const added = (await events()).filter((e) => e.id > top).reverse();
    return { res, added };
  }

  function assertClean(ev: unknown, label: string) {
    const text = JSON.stringify(ev);
    for (const v of values) assert.equal(containsCanary(text, v), null, `${label}: a value is in the audit record`);
    for (const t of tokens) assert.equal(containsCanary(text, t), null, `${label}: a token is in the audit record`);
  }

  async function version(name: string, stage = 'qa') {
    const res = await portal.api('GET', `/apps/orders/stages/${stage}/settings`);
    return (res.body.settings as Array<{ name: string; version: number }>).find((s) => s.name === name)!.version;
  }

  before(async () => {
    work = tempDir('odc-audit-');
    portal = await startPortal({ dataDir: path.join(work, 'data') });
    tokens.push(portal.adminToken);
    const list = await portal.api('GET', '/tokens');
    adminId = list.body.tokens[0].id;
    assert.equal((await portal.api('POST', '/apps/orders/publish', { body: { definitions: ORDERS } })).status, 200);
    for (const [who, spec] of [
      [dev, { role: 'developer', apps: ['orders'], stages: '*' }],
      [op, { role: 'operator', apps: ['orders'], stages: ['qa'] }],
      [rt, { role: 'runtime', apps: ['orders'], stages: ['qa'] }],
    ] as const) {
      const res = await portal.api('POST', '/tokens', { body: { name: who.name, ...spec } });
      assert.equal(res.status, 201, res.text);
      Object.assign(who, { id: res.body.id, token: res.body.token });
      tokens.push(res.body.token);
    }
  });

  after(async () => {
    await portal?.stop();
    if (work) removeDir(work);
  });

  test('each change adds exactly one record naming who, what, where, the revision/version and the outcome', async () => {
    const s1 = newCanary();
    const s2 = newCanary();
    const plain = newCanary('PLAIN');
    values.push(s1, s2, plain);
    const patch = (token: string, name: string, value: string | null, baseVersion: number) =>
      portal.api('PATCH', '/apps/orders/stages/qa/settings', { token, body: { changes: [{ name, value, baseVersion }] } });

    const cases: Array<{ label: string; request: () => Promise<ApiResponse<any>>; status: number; expect: Partial<AuditEvent> & { who: { id: string; name: string } } }> = [
      {
        label: 'publish',
        request: () => portal.api('POST', '/apps/orders/publish', { token: dev.token, body: { definitions: { ...ORDERS, settings: [...ORDERS.settings, { name: 'Added', type: 'Text' }] } } }),
        status: 200,
        expect: { who: dev, action: 'app.publish', app: 'orders', revision: 2, outcome: 'ok' },
      },
      {
        label: 'secret set',
        request: () => patch(dev.token, 'PaymentApiKey', s1, 0),
        status: 200,
        expect: { who: dev, action: 'value.set', app: 'orders', stage: 'qa', setting: 'PaymentApiKey', revision: 2, version: 1, outcome: 'ok' },
      },
      {
        label: 'secret replace',
        request: () => patch(op.token, 'PaymentApiKey', s2, 1),
        status: 200,
        expect: { who: op, action: 'value.replace', app: 'orders', stage: 'qa', setting: 'PaymentApiKey', revision: 2, version: 2, outcome: 'ok' },
      },
      {
        label: 'secret clear',
        request: () => patch(op.token, 'PaymentApiKey', null, 2),
        status: 200,
        expect: { who: op, action: 'value.clear', app: 'orders', stage: 'qa', setting: 'PaymentApiKey', revision: 2, version: 3, outcome: 'ok' },
      },
      {
        label: 'plain set',
        request: () => patch(dev.token, 'Greeting', plain, 0),
        status: 200,
        expect: { who: dev, action: 'value.set', app: 'orders', stage: 'qa', setting: 'Greeting', revision: 2, version: 1, outcome: 'ok' },
      },
      {
        label: 'secret set again after a clear',
        request: () => patch(dev.token, 'PaymentApiKey', s1, 3),
        status: 200,
        expect: { who: dev, action: 'value.set', app: 'orders', stage: 'qa', setting: 'PaymentApiKey', version: 4, outcome: 'ok' },
      },
      {
        // Greeting becomes a secret: its plaintext value is deleted by the publish, still one record.
        label: 'destructive publish',
        request: () =>
          portal.api('POST', '/apps/orders/publish', {
            token: dev.token,
            body: { definitions: { ...ORDERS, settings: [...ORDERS.settings.filter((s) => s.name !== 'Greeting'), { name: 'Added', type: 'Text' }, { name: 'Greeting', type: 'Text', isSecret: true }] } },
          }),
        status: 200,
        expect: { who: dev, action: 'app.publish', app: 'orders', revision: 3, outcome: 'ok' },
      },
      {
        label: 'token create',
        request: () => portal.api('POST', '/tokens', { body: { name: 'ci bot', role: 'operator' } }),
        status: 201,
        expect: { who: { id: '', name: 'initial admin' }, action: 'token.create', outcome: 'ok' },
      },
    ];
    for (const c of cases) {
      const { res, added } = await recorded(c.request);
      assert.equal(res.status, c.status, `${c.label}: ${res.text}`);
      if (c.label === 'token create') tokens.push(res.body.token);
      assert.equal(added.length, 1, `${c.label} adds exactly one record, got ${JSON.stringify(added)}`);
      const ev = added[0]!;
      const { who, ...fields } = c.expect;
      assert.equal(ev.tokenId, who.id || adminId, `${c.label}: the token id`);
      assert.equal(ev.tokenName, who.name, `${c.label}: the token name`);
      for (const [k, v] of Object.entries(fields)) assert.equal(ev[k as keyof AuditEvent], v, `${c.label}: ${k}`);
      assert.ok(!Number.isNaN(Date.parse(ev.at)), 'when');
      assertClean(ev, c.label);
    }
    // The destructive publish really deleted the plaintext (so the record was about a real deletion).
    const g = await portal.api('GET', '/apps/orders/stages/qa/settings');
    assert.equal(g.body.settings.find((s: { name: string }) => s.name === 'Greeting').hasValue, false);

    // Revoking: one record, naming the revoked token's id, never its secret.
    const created = await portal.api('POST', '/tokens', { body: { name: 'short lived', role: 'developer' } });
    tokens.push(created.body.token);
    const { res, added } = await recorded(() => portal.api('DELETE', `/tokens/${created.body.id}`));
    assert.equal(res.status, 204);
    assert.equal(added.length, 1);
    assert.deepEqual([added[0]!.action, added[0]!.outcome, added[0]!.tokenId], ['token.revoke', 'ok', adminId]);
    assert.ok(JSON.stringify(added[0]).includes(created.body.id), 'the record names the revoked token by id');
    assertClean(added[0], 'token revoke');

    // A batch of two edits records each setting.
    const batch = await recorded(() =>
      portal.api('PATCH', '/apps/orders/stages/qa/settings', {
        token: dev.token,
        body: { changes: [{ name: 'MaxRetries', value: '9', baseVersion: 0 }, { name: 'Added', value: 'x', baseVersion: 0 }] },
      }),
    );
    assert.equal(batch.res.status, 200);
    assert.deepEqual(batch.added.map((e) => e.setting).sort(), ['Added', 'MaxRetries']);
  });

  test('each refusal adds exactly one record with who, where and the outcome, never the value', async () => {
    const bad = newCanary();
    values.push(bad);
    const pay = await version('PaymentApiKey');
    const cases: Array<{ label: string; status: number; who: { id: string; name: string }; app?: string; stage?: string; request: () => Promise<ApiResponse<any>> }> = [
      {
        label: 'operator publishes (role)',
        status: 403,
        who: op,
        app: 'orders',
        request: () => portal.api('POST', '/apps/orders/publish', { token: op.token, body: { definitions: ORDERS } }),
      },
      {
        label: 'operator writes outside its stage scope',
        status: 403,
        who: op,
        app: 'orders',
        stage: 'production',
        request: () => portal.api('PATCH', '/apps/orders/stages/production/settings', { token: op.token, body: { changes: [{ name: 'PaymentApiKey', value: bad, baseVersion: 0 }] } }),
      },
      {
        label: 'stale version',
        status: 409,
        who: op,
        app: 'orders',
        stage: 'qa',
        request: () => portal.api('PATCH', '/apps/orders/stages/qa/settings', { token: op.token, body: { changes: [{ name: 'PaymentApiKey', value: bad, baseVersion: pay - 1 }] } }),
      },
      {
        label: 'invalid value',
        status: 422,
        who: dev,
        app: 'orders',
        stage: 'qa',
        request: () => portal.api('PATCH', '/apps/orders/stages/qa/settings', { token: dev.token, body: { changes: [{ name: 'PinCode', value: bad, baseVersion: 0 }] } }),
      },
      {
        label: 'unknown setting',
        status: 404,
        who: dev,
        app: 'orders',
        stage: 'qa',
        request: () => portal.api('PATCH', '/apps/orders/stages/qa/settings', { token: dev.token, body: { changes: [{ name: 'Nope', value: bad, baseVersion: 0 }] } }),
      },
      {
        label: 'malformed body',
        status: 400,
        who: dev,
        app: 'orders',
        stage: 'qa',
        request: () => portal.api('PATCH', '/apps/orders/stages/qa/settings', { token: dev.token, body: { changes: [{ name: 'PaymentApiKey', value: bad, baseVersion: 'zero' }] } }),
      },
      {
        label: 'runtime token on a person route',
        status: 403,
        who: rt,
        request: () => portal.api('GET', '/apps', { token: rt.token }),
      },
      {
        label: 'runtime token without one app and one stage',
        status: 422,
        who: { id: '', name: 'initial admin' },
        request: () => portal.api('POST', '/tokens', { body: { name: 'x', role: 'runtime' } }),
      },
      {
        label: 'revoke the last admin',
        status: 409,
        who: { id: '', name: 'initial admin' },
        request: () => portal.api('DELETE', `/tokens/${adminId}`),
      },
    ];
    for (const c of cases) {
      const { res, added } = await recorded(c.request);
      assert.equal(res.status, c.status, `${c.label}: ${res.text}`);
      assert.equal(containsCanary(res.text, bad), null, `${c.label}: the answer echoes the value`);
      assert.equal(added.length, 1, `${c.label} adds exactly one record, got ${JSON.stringify(added)}`);
      const ev = added[0]!;
      assert.equal(ev.tokenId, c.who.id || adminId, `${c.label}: token id`);
      assert.equal(ev.tokenName, c.who.name, `${c.label}: token name`);
      assert.notEqual(ev.outcome, 'ok', `${c.label}: the outcome says it was refused`);
      assert.equal(ev.detail?.status, c.status, `${c.label}: the record says how it was refused`);
      if (c.app) assert.equal(ev.app, c.app, `${c.label}: app`);
      if (c.stage) assert.equal(ev.stage, c.stage, `${c.label}: stage`);
      assertClean(ev, c.label);
    }
    // Nothing was written by any of them.
    assert.equal(await version('PaymentApiKey'), pay);
    assert.equal(await version('PinCode'), 0);
  });

  test('failed authentications are aggregated: 50 bad tokens add at most two records', async () => {
    const { added } = await recorded(async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 50; i++) {
        const bogus = `odcp_${newCanary('bogus')}`;
        tokens.push(bogus);
        statuses.push((await apiFrom(portal, '127.0.0.60', 'GET', '/apps', { token: bogus })).status);
      }
      assert.ok(statuses.every((s) => s === 401 || s === 429), statuses.join(','));
      assert.equal(statuses.filter((s) => s === 401).length, 20, 'the limiter lets 20 through, then 429');
      return { status: 0, headers: new Headers(), text: '', body: undefined };
    });
    // One aggregated record per window, written when the window ends (test/server/hardening-limiter.test.ts).
    assert.ok(added.length <= 1, `50 failures gave ${added.length} records`);
    if (added[0]) assert.equal(added[0].tokenId, null);
    assertClean(added, 'failed sign-ins');
  });

  test('no record anywhere holds a value or a token', async () => {
    const all = await events();
    assert.ok(all.length > 20);
    assertClean(all, 'GET /audit');
    const app = await portal.api('GET', '/apps/orders/audit?limit=1000', { token: dev.token });
    assert.equal(app.status, 200);
    assert.ok(app.body.events.length > 5);
    assert.ok(app.body.events.every((e: AuditEvent) => e.app === 'orders'));
    assertClean(app.body, 'GET /apps/orders/audit');
    const verify = await portal.api('GET', '/audit/verify');
    assert.deepEqual(verify.body, { ok: true, events: all.length });
  });

  test('GET /audit pages newest first: limit takes the newest, before= continues strictly below an id', async () => {
    const all = await events();
    assert.ok(all.length > 12, `enough events to page through (${all.length})`);
    const ids = all.map((e) => e.id);
    assert.deepEqual(ids, [...ids].sort((a, b) => b - a), 'newest first');
    assert.equal(ids[0], all.length, 'ids count from 1 with no gap');

    const first = await portal.api('GET', '/audit?limit=5');
    assert.equal(first.status, 200, first.text);
    assert.deepEqual(first.body.events.map((e: AuditEvent) => e.id), ids.slice(0, 5));

    // `before` is exclusive: the page starts just below the given id, never at it.
    const pivot = ids[4]!;
    const next = await portal.api('GET', `/audit?limit=5&before=${pivot}`);
    assert.equal(next.status, 200, next.text);
    assert.deepEqual(next.body.events.map((e: AuditEvent) => e.id), ids.slice(5, 10));

    // Paging with each page's last id visits every event exactly once.
    const seen: number[] = [];
    let before: number | undefined;
    for (let pages = 0; pages < 100; pages++) {
      const res = await portal.api('GET', `/audit?limit=4${before === undefined ? '' : `&before=${before}`}`);
      assert.equal(res.status, 200, res.text);
      const page = (res.body.events as AuditEvent[]).map((e) => e.id);
      assert.ok(page.length <= 4, `a page holds at most limit events (${page.length})`);
      if (page.length === 0) break;
      seen.push(...page);
      before = page[page.length - 1];
    }
    assert.deepEqual(seen, ids, 'every event once, in order, across pages');
    assert.deepEqual((await portal.api('GET', '/audit?before=1')).body.events, [], 'nothing comes before the first event');

    // The same paging on an app's audit, for a developer scoped to that app.
    const appAll = (await portal.api('GET', '/apps/orders/audit?limit=1000', { token: dev.token })).body.events as AuditEvent[];
    const appPivot = appAll[2]!.id;
    const appPage = await portal.api('GET', `/apps/orders/audit?limit=3&before=${appPivot}`, { token: dev.token });
    assert.equal(appPage.status, 200, appPage.text);
    assert.deepEqual(
      appPage.body.events.map((e: AuditEvent) => e.id),
      appAll.slice(3, 6).map((e) => e.id),
    );
  });

  test('GET /audit refuses paging parameters out of bounds with a 400 problem; the bounds themselves work', async () => {
    for (const query of ['limit=0', 'limit=1001', 'limit=-5', 'limit=2.5', 'limit=ten', 'before=0', 'before=-1', 'before=abc', 'page=2']) {
      const res = await portal.api('GET', `/audit?${query}`);
      assertProblem(res, 400);
      const app = await portal.api('GET', `/apps/orders/audit?${query}`, { token: dev.token });
      assertProblem(app, 400);
    }
    // (Each refusal above was itself recorded, so count after them.)
    const total = (await events()).length;
    assert.equal((await portal.api('GET', '/audit?limit=1')).body.events.length, 1);
    assert.equal((await portal.api('GET', '/audit?limit=1000')).body.events.length, total);
    // Without a limit, the newest 100.
    assert.equal((await portal.api('GET', '/audit')).body.events.length, Math.min(total, 100));
  });

  test("token events carry no app or stage, and an app's audit does not show them", async () => {
    const all = await events();
    const tokenEvents = all.filter((e) => e.action.startsWith('token.'));
    assert.ok(tokenEvents.length >= 4, `token events recorded (${tokenEvents.length})`);
    for (const e of tokenEvents) {
      assert.equal(e.app, null, `${e.action} #${e.id} names an app`);
      assert.equal(e.stage, null, `${e.action} #${e.id} names a stage`);
    }
    const app = (await portal.api('GET', '/apps/orders/audit?limit=1000')).body.events as AuditEvent[];
    assert.deepEqual(app.filter((e) => e.action.startsWith('token.')), [], "token events in an app's audit");
  });

  describe('tampering with the stored records is detected', () => {
    let dataDir: string;
    let count: number;
    let ids: { denied: number; middle: number };

    before(async () => {
      const all = await events();
      count = all.length;
      ids = { denied: all.find((e) => e.outcome === 'denied')!.id, middle: Math.floor(count / 2) };
      dataDir = portal.dataDir;
      await portal.stop();
      // Stopping writes the limiter's last window record (failed sign-ins): count what is stored.
      count = await withStoreDb(dataDir, async (db) => Number((await db.all<{ n: number }>('SELECT count(*) AS n FROM audit'))[0]!.n), { readonly: true });
    });

    /** A fresh copy of the stopped store, changed by `edit` through the database directly. */
    async function copy(label: string, edit?: (db: StoreDb) => Promise<unknown>): Promise<string> {
      const dir = path.join(work, `copy-${label}`);
      await copyStore(dataDir, dir);
      if (edit) await withStoreDb(dir, edit);
      return dir;
    }

    async function verifyOverHttp(dir: string) {
      const p = await startPortal({ dataDir: dir, adminToken: portal.adminToken });
      try {
        const res = await p.api('GET', '/audit/verify');
        assert.equal(res.status, 200, res.text);
        return res.body as { ok: boolean; events: number; firstBadEvent?: number };
      } finally {
        await p.stop();
      }
    }

    test('an untouched store verifies ok (HTTP and CLI)', async () => {
      const dir = await copy('untouched');
      assert.deepEqual(await verifyOverHttp(dir), { ok: true, events: count });
      const cli = await runCliAsync(['audit', 'verify', '--data-dir', dir]);
      assert.equal(cli.code, 0, cli.stderr);
      assert.match(cli.stdout, new RegExp(`ok: ${count} events`));
    });

    const scenarios: Array<{ label: string; edit: (db: StoreDb, ids: { denied: number; middle: number }) => Promise<unknown>; firstBad: (ids: { denied: number; middle: number }) => number }> = [
      {
        label: 'a deleted middle record',
        edit: (db, { middle }) => db.run('DELETE FROM audit WHERE id = ?', middle),
        // The record after the gap no longer follows its predecessor.
        firstBad: ({ middle }) => middle + 1,
      },
      {
        label: 'the newest records cut off (truncated)',
        edit: (db) => db.run('DELETE FROM audit WHERE id > ?', count - 2),
        // The chain itself is intact up to there; the signed head says more should follow.
        firstBad: () => count - 1,
      },
      {
        label: 'an edited outcome (denied -> ok)',
        edit: (db, { denied }) => db.run("UPDATE audit SET outcome = 'ok' WHERE id = ?", denied),
        firstBad: ({ denied }) => denied,
      },
      {
        label: 'two records swapped (reordered)',
        edit: async (db, { middle }) => {
          const cols = (await db.columns('audit')).filter((c) => c !== 'id');
          const get = async (id: number) => (await db.all(`SELECT ${cols.join(', ')} FROM audit WHERE id = ?`, id))[0]!;
          const a = await get(middle);
          const b = await get(middle + 1);
          const set = `UPDATE audit SET ${cols.map((c) => `${c} = ?`).join(', ')} WHERE id = ?`;
          await db.run(set, ...cols.map((c) => b[c]), middle);
          await db.run(set, ...cols.map((c) => a[c]), middle + 1);
        },
        firstBad: ({ middle }) => middle,
      },
    ];

    for (const s of scenarios) {
      test(`${s.label} is reported with the first bad event id (HTTP and CLI exit 1)`, async () => {
        const dir = await copy(s.label.replace(/\W+/g, '-'), (db) => s.edit(db, ids));
        const want = s.firstBad(ids);
        const http = await verifyOverHttp(dir);
        assert.equal(http.ok, false, JSON.stringify(http));
        assert.equal(http.firstBadEvent, want);
        const cli = await runCliAsync(['audit', 'verify', '--data-dir', dir]);
        assert.equal(cli.code, 1, `${cli.stdout}${cli.stderr}`);
        assert.match(cli.stdout + cli.stderr, new RegExp(`\\b${want}\\b`));
        assert.doesNotMatch(cli.stdout, /chain ok/);
      });
    }

    test('an edit of any column of a record, or deleting the first record, is detected (CLI exit 1)', async () => {
      const { columns, row } = await withStoreDb(
        dataDir,
        async (db) => ({ columns: await db.columns('audit'), row: (await db.all<Record<string, string | number | null>>('SELECT * FROM audit WHERE id = ?', ids.middle))[0]! }),
        { readonly: true },
      );
      assert.equal(columns.length, 14, `the audit table's columns changed (${columns.join(', ')}): extend this list`);
      // A value that differs from the stored one for each column (null or not), of the column's type.
      const tampered: Record<string, string | number> = {
        at: '2000-01-01T00:00:00.000Z',
        token_id: 'tok_0000000000000000',
        token_name: 'someone else',
        client: 'tampered-client',
        action: row.action === 'value.set' ? 'value.clear' : 'value.set',
        outcome: row.outcome === 'ok' ? 'denied' : 'ok',
        app: 'billing',
        stage: 'tampered-stage',
        setting: 'Other',
        revision: typeof row.revision === 'number' ? row.revision + 1 : 7,
        version: typeof row.version === 'number' ? row.version + 1 : 7,
        detail: JSON.stringify({ tampered: true }),
        mac: 'f'.repeat(64),
      };
      assert.deepEqual(Object.keys(tampered).sort(), columns.filter((c) => c !== 'id').sort(), 'every column but id is edited');
      const edits: Array<{ label: string; firstBad: number; edit: (db: StoreDb) => Promise<unknown> }> = [
        ...Object.entries(tampered).map(([column, value]) => ({
          label: `editing ${column}`,
          firstBad: ids.middle,
          edit: (db: StoreDb) => db.run(`UPDATE audit SET ${column} = ? WHERE id = ?`, value, ids.middle),
        })),
        // A renumbered record leaves a gap where it was.
        { label: 'editing id', firstBad: ids.middle + 1, edit: (db) => db.run('UPDATE audit SET id = ? WHERE id = ?', count + 100, ids.middle) },
        { label: 'deleting the first record', firstBad: 2, edit: (db) => db.run('DELETE FROM audit WHERE id = 1') },
      ];
      const dirs: string[] = [];
      for (const e of edits) dirs.push(await copy(e.label.replace(/\W+/g, '-'), e.edit));
      const results = await Promise.all(dirs.map((dir) => runCliAsync(['audit', 'verify', '--data-dir', dir])));
      for (const [i, e] of edits.entries()) {
        const cli = results[i]!;
        assert.equal(cli.code, 1, `${e.label}: ${cli.stdout}${cli.stderr}`);
        assert.match(cli.stdout, new RegExp(`BROKEN at event ${e.firstBad}\\b`), e.label);
      }
    });

    test(
      'a key rotation is recorded without an app or a stage, and the chain still verifies',
      { skip: STORE === 'postgres' && 'rotate-key under PostgreSQL takes its new key from the environment; the record itself is the same as on SQLite' },
      async () => {
      const dir = await copy('rotated');
      const rotated = await runCliAsync(['rotate-key', '--data-dir', dir]);
      assert.equal(rotated.code, 0, rotated.stderr);
      const p = await startPortal({ dataDir: dir, adminToken: portal.adminToken });
      try {
        const all = (await p.api('GET', '/audit?limit=1000')).body.events as AuditEvent[];
        const key = all.filter((e) => e.action === 'key.rotate');
        assert.equal(key.length, 1, JSON.stringify(all.slice(0, 3)));
        assert.equal(key[0]!.app, null, 'a key event names an app');
        assert.equal(key[0]!.stage, null, 'a key event names a stage');
        const app = (await p.api('GET', '/apps/orders/audit?limit=1000')).body.events as AuditEvent[];
        assert.deepEqual(app.filter((e) => e.action === 'key.rotate'), [], "the key event in an app's audit");
        assert.deepEqual((await p.api('GET', '/audit/verify')).body, { ok: true, events: count + 1 });
      } finally {
        await p.stop();
      }
      },
    );

    test('a change whose audit record cannot be written does not happen (forced write failure)', async () => {
      const dir = await copy('no-audit', (db) => db.failInserts('audit'));
      const p = await startPortal({ dataDir: dir, adminToken: portal.adminToken });
      const secret = newCanary();
      try {
        const app = await p.api('GET', '/apps/orders');
        const qa = await p.api('GET', '/apps/orders/stages/qa/settings');
        const toks = await p.api('GET', '/tokens');
        const pay = qa.body.settings.find((s: { name: string }) => s.name === 'PaymentApiKey');

        const attempts: Array<[string, ApiResponse<any>]> = [
          ['publish', await p.api('POST', '/apps/orders/publish', { body: { definitions: { ...ORDERS, settings: ORDERS.settings.slice(1) } } })],
          ['secret write', await p.api('PATCH', '/apps/orders/stages/qa/settings', { body: { changes: [{ name: 'PaymentApiKey', value: secret, baseVersion: pay.version }] } })],
          ['plain write', await p.api('PATCH', '/apps/orders/stages/qa/settings', { body: { changes: [{ name: 'MaxRetries', value: '42', baseVersion: 1 }] } })],
          ['token create', await p.api('POST', '/tokens', { body: { name: 'unrecorded', role: 'admin' } })],
          ['token revoke', await p.api('DELETE', `/tokens/${op.id}`)],
        ];
        for (const [label, res] of attempts) {
          assert.ok(res.status >= 500 && res.status < 600, `${label}: ${res.status} ${res.text}`);
          assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/, label);
          assert.equal(res.body.status, res.status);
          assert.equal(containsCanary(res.text, secret), null, `${label} echoes the value`);
          assert.equal(res.body.token, undefined);
        }
        // Refusals stay what they are when their record cannot be written: still refused, not a 5xx.
        const badToken = await apiFrom(p, '127.0.0.70', 'GET', '/apps', { token: `odcp_${newCanary('bad')}` });
        assert.equal(badToken.status, 401, badToken.text);
        const noRole = await p.api('POST', '/apps/orders/publish', { token: op.token, body: { definitions: ORDERS } });
        assert.equal(noRole.status, 403, noRole.text);
        assert.deepEqual((await p.api('GET', '/apps/orders')).body, app.body, 'the published revision is unchanged');
        assert.deepEqual((await p.api('GET', '/apps/orders/stages/qa/settings')).body, qa.body, 'the values are unchanged');
        assert.deepEqual((await p.api('GET', '/tokens')).body, toks.body, 'no token was created or revoked');
        assert.equal((await p.api('GET', '/apps', { token: op.token })).status, 200, 'the token that was to be revoked still works');
        const runtime = await p.api('GET', '/runtime/settings', { token: rt.token });
        assert.equal(runtime.status, 200);
        assert.notEqual(runtime.body.settings.PaymentApiKey, secret);
        assert.equal(runtime.body.settings.MaxRetries, '9');
        assert.equal(containsCanary(p.output(), secret), null, 'the server log holds the value');
      } finally {
        await p.stop();
      }
      const n = (await withStoreDb(dir, (db) => db.all<{ n: number | string }>('SELECT count(*) AS n FROM audit'), { readonly: true }))[0]!.n;
      assert.equal(Number(n), count, 'no record was added');
    });
  });
});
