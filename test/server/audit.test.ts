// The audit log (SPEC §7): one record per change and per refusal, naming who and what but
// never a value or a token; failed sign-ins aggregated; the chain detects deleted, edited
// and reordered records (HTTP and `odc-portal audit verify`); and a change whose audit
// record cannot be written does not happen.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { apiFrom, containsCanary, newCanary, removeDir, runCliAsync, startPortal, tempDir, type ApiResponse, type Portal } from '../support/portal';
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

    test('an edit of any other field is detected by the CLI', async () => {
      const edits: Array<[string, unknown]> = [
        ['token_name', 'someone else'],
        ['at', '2000-01-01T00:00:00.000Z'],
        ['app', 'billing'],
        ['setting', 'Other'],
        ['detail', '{"status":200}'],
        ['mac', 'f'.repeat(64)],
      ];
      const dirs: string[] = [];
      for (const [field, value] of edits) dirs.push(await copy(`field-${field}`, (db) => db.run(`UPDATE audit SET ${field} = ? WHERE id = ?`, value, ids.middle)));
      const results = await Promise.all(dirs.map((dir) => runCliAsync(['audit', 'verify', '--data-dir', dir])));
      for (const [i, [field]] of edits.entries()) {
        const cli = results[i]!;
        assert.equal(cli.code, 1, `editing ${field}: ${cli.stdout}${cli.stderr}`);
        assert.match(cli.stdout, new RegExp(`event ${ids.middle}\\b`), `editing ${field}`);
      }
    });

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
