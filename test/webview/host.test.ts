// The panel's host side (StageValuesController), without VS Code: inbound validation with the
// protocol's zod schemas and `{ ok: false, error }` replies, the ready handshake, the mapping of
// portal answers and failures, and the guarantee that nothing it posts carries a secret's value.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import type { AppResponse, StageSettingsResponse, StagesResponse, ValueChange } from '../../common/api';
import { RUNNABLE_COMMANDS, type HostToWebview } from '../../common/protocol';
import { SECRET_MASK } from '../../common/values';
import { PortalError } from '../../extension/services/portalClient';
import { assertNoSecretValues, SecretLeakError, StageValuesController, type StageValuesClient } from '../../extension/webviews/stageValuesController';

const CANARY = 'canary-7f3a9c-do-not-leak';

const APP: AppResponse = {
  key: 'orders',
  name: 'Orders',
  revision: 2,
  publishedAt: '2025-11-01T00:00:00.000Z',
  publishedBy: 'admin',
  settings: [
    { name: 'PaymentApiKey', type: 'Text', description: 'key', defaultValue: null, isSecret: true },
    { name: 'MaxRetries', type: 'Integer', description: '', defaultValue: '3', isSecret: false },
    { name: 'Endpoint', type: 'Text', description: '', defaultValue: null, isSecret: false },
  ],
};

function stage(stageKey: string, over: Partial<Record<string, Partial<StageSettingsResponse['settings'][number]>>> = {}): StageSettingsResponse {
  return {
    app: 'orders',
    stage: stageKey,
    revision: 2,
    settings: APP.settings.map((s) => ({
      name: s.name,
      type: s.type,
      description: s.description,
      isSecret: s.isSecret,
      hasValue: false,
      value: null,
      defaultValue: s.defaultValue,
      missing: s.isSecret,
      version: 0,
      updatedAt: null,
      updatedBy: null,
      ...over[s.name],
    })),
  };
}

class FakeClient implements StageValuesClient {
  patches: Array<{ stage: string; changes: ValueChange[] }> = [];
  patchResult: () => Promise<StageSettingsResponse> = async () => stage('qa', { PaymentApiKey: { hasValue: true, value: SECRET_MASK, missing: false, version: 1 } });
  stageResult: (s: string) => Promise<StageSettingsResponse> = async (s) => stage(s);
  async stages(): Promise<StagesResponse> {
    return { stages: [{ key: 'development', name: 'Development' }, { key: 'qa', name: 'QA' }, { key: 'production', name: 'Production' }] };
  }
  async app(): Promise<AppResponse> {
    return APP;
  }
  stageSettings(_app: string, s: string): Promise<StageSettingsResponse> {
    return this.stageResult(s);
  }
  patchStage(_app: string, s: string, changes: ValueChange[]): Promise<StageSettingsResponse> {
    this.patches.push({ stage: s, changes });
    return this.patchResult();
  }
}

function setup(opts: { client?: () => Promise<StageValuesClient>; initialStage?: string; executeCommand?: (id: string, ...args: unknown[]) => Promise<unknown> } = {}) {
  const client = new FakeClient();
  const posted: HostToWebview[] = [];
  const logs: string[] = [];
  const dirty: number[] = [];
  const c = new StageValuesController({
    appKey: 'orders',
    client: opts.client ?? (async () => client),
    post: (m) => {
      posted.push(JSON.parse(JSON.stringify(m)));
      return true;
    },
    log: (level, line) => logs.push(`${level}: ${line}`),
    onDirtyChange: (n) => dirty.push(n),
    initialStage: opts.initialStage,
    executeCommand: opts.executeCommand,
  });
  let id = 0;
  const request = async (method: string, params: unknown) => {
    const myId = ++id;
    await c.handle({ kind: 'request', id: myId, method, params });
    const reply = posted.find((m) => m.kind === 'response' && m.id === myId);
    assert.ok(reply, `a reply to ${method}`);
    return reply as Extract<HostToWebview, { kind: 'response' }>;
  };
  return { c, client, posted, logs, dirty, request };
}

const ready = { kind: 'notification', method: 'webview/ready', params: { protocol: 1 } };

describe('Stage Values host (controller)', () => {
  test('every inbound message is validated; a bad request gets { ok: false, error } that never quotes its input', async () => {
    const { c, posted, client } = setup();
    await c.handle(ready);
    const bad: Array<[unknown, RegExp]> = [
      [{ kind: 'request', id: 1, method: 'stage/nope', params: {} }, /unknown request/],
      [{ kind: 'request', id: 2, method: '__proto__', params: {} }, /unknown request/],
      [{ kind: 'request', id: 3, method: 'stage/load', params: { stage: 42 } }, /bad params for stage\/load/],
      [{ kind: 'request', id: 4, method: 'stage/save', params: { stage: 'qa', changes: [{ name: 'PaymentApiKey', value: CANARY, baseVersion: -1 }] } }, /changes\.0\.baseVersion/],
      [{ kind: 'request', id: 5, method: 'stage/save', params: { stage: 'qa', changes: [{ name: 'A', value: CANARY, baseVersion: 0 }, { name: 'A', value: 'x', baseVersion: 0 }] } }, /bad params/],
      [{ kind: 'request', id: 6, method: 'stage/save', params: { stage: 'qa', changes: [{ name: 'A', value: CANARY, baseVersion: 0, extra: CANARY }] } }, /bad params/],
      [{ kind: 'request', id: 7, method: 'panel/init', params: { sneaky: true } }, /bad params/],
      [{ kind: 'request', id: 8, method: 'stage/load', params: { stage: 'qa' }, extra: 1 }, /not a protocol message/],
    ];
    for (const [msg] of bad) await c.handle(msg);
    await c.handle('not even an object');
    await c.handle({ kind: 'notification', method: 'webview/dirty', params: { count: -1 } });
    for (const [msg, re] of bad) {
      const id = (msg as { id: number }).id;
      const reply = posted.find((m) => m.kind === 'response' && m.id === id);
      assert.ok(reply && reply.kind === 'response' && !reply.ok, `reply to ${id}`);
      assert.equal(reply.error.code, 'bad-message');
      assert.match(reply.error.message, re);
    }
    assert.ok(!JSON.stringify(posted).includes(CANARY), 'no reply quotes the input');
    assert.equal(client.patches.length, 0, 'nothing reached the portal');
  });

  test('notifications wait for webview/ready; responses answer requests', async () => {
    const { c, posted } = setup();
    c.notify('host/refresh', { reason: 'session' });
    assert.equal(posted.length, 0);
    await c.handle(ready);
    assert.deepEqual(posted, [{ kind: 'notification', method: 'host/refresh', params: { reason: 'session' } }]);
  });

  test('panel/init: the app, the stages, the initial stage if it exists, and that stage\'s settings in the same answer', async () => {
    const { request } = setup({ initialStage: 'production' });
    const reply = await request('panel/init', {});
    assert.ok(reply.ok);
    const result = reply.result as { app: unknown; stages: unknown; stage: string; view: StageSettingsResponse };
    assert.deepEqual(result.app, { key: 'orders', name: 'Orders' });
    assert.deepEqual(result.stages, [{ key: 'development', name: 'Development' }, { key: 'qa', name: 'QA' }, { key: 'production', name: 'Production' }]);
    assert.equal(result.stage, 'production');
    assert.equal(result.view.stage, 'production', 'the first stage comes with the answer');
    assert.deepEqual(result.view.settings.map((s) => s.name), ['PaymentApiKey', 'MaxRetries', 'Endpoint']);
    const other = setup({ initialStage: 'nope' });
    const r2 = await other.request('panel/init', {});
    assert.ok(r2.ok && (r2.result as { stage: string }).stage === 'development');
  });

  test('panel/init with a token scoped to qa and production: opens on qa and lists only the stages it may read', async () => {
    const { request, client } = setup();
    client.stageResult = async (s) => {
      if (s === 'development') throw new PortalError('http', 'your token may not read stage development', 403, { title: 'Forbidden', status: 403 });
      return stage(s);
    };
    const reply = await request('panel/init', {});
    assert.ok(reply.ok, JSON.stringify(reply));
    const result = reply.result as { stages: Array<{ key: string }>; stage: string; view: StageSettingsResponse };
    assert.deepEqual(result.stages.map((s) => s.key), ['qa', 'production']);
    assert.equal(result.stage, 'qa');
    assert.equal(result.view.stage, 'qa');

    // A token that may read none: a clear 403, which the webview answers with "Sign In".
    client.stageResult = async (s) => {
      throw new PortalError('http', `your token may not read stage ${s}`, 403, { title: 'Forbidden', status: 403 });
    };
    const none = await request('panel/init', {});
    assert.ok(!none.ok);
    assert.equal(none.error.status, 403);
    assert.match(none.error.message, /may not read any stage of Orders/);
  });

  test('command/run: only the allow-listed commands run, with the host\'s arguments; anything else is refused before it reaches VS Code', async () => {
    const ran: Array<[string, unknown[]]> = [];
    const { request } = setup({ executeCommand: async (id, ...args) => ran.push([id, args]) });
    for (const command of ['odcSettings.signIn', 'odcSettings.publishApp', 'odcSettings.showLog', 'odcSettings.openServerSettings']) {
      const r = await request('command/run', { command });
      assert.ok(r.ok && (r.result as { ran: boolean }).ran, command);
    }
    assert.deepEqual(ran, [
      ['odcSettings.signIn', []],
      ['odcSettings.publishApp', []],
      ['odcSettings.showLog', []],
      ['odcSettings.openServerSettings', []],
    ]);
    for (const params of [{ command: 'workbench.action.terminal.new' }, { command: 'odcSettings.deleteSetting' }, { command: 'odcSettings.signIn', args: ['x'] }, { command: '__proto__' }]) {
      const r = await request('command/run', params);
      assert.ok(!r.ok && r.error.code === 'bad-message', JSON.stringify(params));
    }
    assert.equal(ran.length, 4, 'nothing else ran');
    // Every odcSettings id on the list is a command the extension contributes.
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '../../package.json'), 'utf8')) as { contributes: { commands: Array<{ command: string }> } };
    const contributed = new Set(pkg.contributes.commands.map((c) => c.command));
    for (const id of RUNNABLE_COMMANDS) assert.ok(id.startsWith('odcSettings.') && contributed.has(id), `${id} is one of this extension's contributed commands`);
    // Without a way to run commands (a test host), the answer says so.
    const bare = setup();
    const r = await bare.request('command/run', { command: 'odcSettings.signIn' });
    assert.ok(r.ok && (r.result as { ran: boolean }).ran === false);
  });

  test('unreachable: the message names the server and the setting, not "npm start"', async () => {
    const { request, client } = setup();
    client.stageResult = async () => {
      throw new PortalError('unreachable', 'Cannot reach the portal at http://127.0.0.1:4650 (ECONNREFUSED). Is the server running? Start it with "npm start" or check odcSettings.serverUrl.');
    };
    const r = await request('stage/load', { stage: 'qa' });
    assert.ok(!r.ok);
    assert.equal(r.error.code, 'unreachable');
    assert.ok(!r.error.message.includes('npm'), r.error.message);
    assert.equal(r.error.message, 'Cannot reach the portal at http://127.0.0.1:4650 (ECONNREFUSED). It may be down, or the server address in Settings (odcSettings.serverUrl) may be wrong.');
  });

  test('stage/save: saved; 409 reloads and names the conflicts; 422 lists the errors; down and not signed in are errors', async () => {
    const { request, client } = setup();
    const changes = [
      { name: 'PaymentApiKey', value: CANARY, baseVersion: 0 },
      { name: 'MaxRetries', value: '5', baseVersion: 0 },
    ];
    let r = await request('stage/save', { stage: 'qa', changes });
    assert.ok(r.ok);
    assert.equal((r.result as { outcome: string }).outcome, 'saved');
    assert.deepEqual(client.patches, [{ stage: 'qa', changes }], 'one PATCH with every change');

    client.patchResult = async () => {
      throw new PortalError('http', 'someone else changed MaxRetries in qa since you loaded it; reload and apply your edit again', 409, { title: 'Conflict', status: 409, conflicts: ['MaxRetries'] });
    };
    client.stageResult = async (s) => stage(s, { MaxRetries: { hasValue: true, value: '9', version: 1, updatedBy: 'alice' } });
    r = await request('stage/save', { stage: 'qa', changes });
    assert.ok(r.ok);
    const conflict = r.result as { outcome: string; conflicts: string[]; view: StageSettingsResponse };
    assert.equal(conflict.outcome, 'conflict');
    assert.deepEqual(conflict.conflicts, ['MaxRetries']);
    assert.equal(conflict.view.settings.find((s) => s.name === 'MaxRetries')!.value, '9', 'the stage was reloaded');

    client.patchResult = async () => {
      throw new PortalError('http', '1 value(s) are not valid for their type; nothing was saved', 422, { title: 'Unprocessable', status: 422, errors: [{ name: 'MaxRetries', detail: 'MaxRetries must be a whole number' }] });
    };
    r = await request('stage/save', { stage: 'qa', changes });
    assert.ok(r.ok);
    assert.deepEqual(r.result, { outcome: 'invalid', message: '1 value(s) are not valid for their type; nothing was saved', errors: [{ name: 'MaxRetries', detail: 'MaxRetries must be a whole number' }] });

    client.patchResult = async () => {
      throw new PortalError('unreachable', 'Cannot reach the portal at http://127.0.0.1:4650 (ECONNREFUSED). Is the server running?');
    };
    r = await request('stage/save', { stage: 'qa', changes });
    assert.ok(!r.ok);
    assert.deepEqual(r.error, { code: 'unreachable', message: 'Cannot reach the portal at http://127.0.0.1:4650 (ECONNREFUSED). It may be down, or the server address in Settings (odcSettings.serverUrl) may be wrong.' });

    client.patchResult = async () => {
      throw new PortalError('http', 'your token may not write stage qa', 403, { title: 'Forbidden', status: 403 });
    };
    r = await request('stage/save', { stage: 'qa', changes });
    assert.ok(!r.ok);
    assert.deepEqual(r.error, { code: 'http', status: 403, message: 'your token may not write stage qa' });

    const notSignedIn = Object.assign(new Error('Not signed in to the portal at http://127.0.0.1:4650. Run "ODC: Sign In".'), { name: 'NotSignedInError' });
    const out = setup({ client: async () => Promise.reject(notSignedIn) });
    r = await out.request('stage/save', { stage: 'qa', changes });
    assert.ok(!r.ok);
    assert.equal(r.error.code, 'not-signed-in');
  });

  test('nothing posted carries a secret value: masked views, a server that leaked is stopped at the host', async () => {
    const { request, client, posted, logs } = setup();
    // A (hypothetically) broken server answering a secret in clear: the host re-masks it.
    client.stageResult = async (s) => stage(s, { PaymentApiKey: { hasValue: true, value: CANARY, missing: false, version: 3 } });
    const r = await request('stage/load', { stage: 'qa' });
    assert.ok(r.ok);
    const view = r.result as StageSettingsResponse;
    assert.equal(view.settings[0]!.value, SECRET_MASK);
    // The save round-trip: the value goes host-ward, never back.
    await request('stage/save', { stage: 'qa', changes: [{ name: 'PaymentApiKey', value: CANARY, baseVersion: 3 }] });
    client.patchResult = async () => {
      throw new PortalError('unreachable', 'Cannot reach the portal');
    };
    await request('stage/save', { stage: 'qa', changes: [{ name: 'PaymentApiKey', value: CANARY, baseVersion: 3 }] });
    assert.ok(!JSON.stringify(posted).includes(CANARY), 'no posted message holds the canary');
    assert.ok(!logs.join('\n').includes(CANARY), 'no log line holds the canary');

    // The guard itself, on any shape.
    assert.throws(() => assertNoSecretValues({ result: { settings: [{ name: 'X', isSecret: true, value: CANARY }] } }), SecretLeakError);
    assert.throws(() => assertNoSecretValues([{ nested: { name: 'X', isSecret: true, value: null, defaultValue: CANARY } }]), SecretLeakError);
    assert.doesNotThrow(() => assertNoSecretValues({ settings: [{ name: 'X', isSecret: true, value: SECRET_MASK, defaultValue: null }, { name: 'Y', isSecret: false, value: 'plain' }] }));
    assert.throws(
      () => assertNoSecretValues({ name: 'X', isSecret: true, value: CANARY }),
      (e: Error) => e instanceof SecretLeakError && !e.message.includes(CANARY),
      'the guard throws, and does not quote the value either',
    );
  });

  test('stage/save passes a PEM and a 48 KiB value to the PATCH byte for byte', async () => {
    const { request, client } = setup();
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    let big = '';
    while (Buffer.byteLength(big + 'é\n😀\tline  \n') <= 48 * 1024) big += 'é\n😀\tline  \n';
    big += 'x'.repeat(48 * 1024 - Buffer.byteLength(big));
    const r = await request('stage/save', { stage: 'qa', changes: [{ name: 'PaymentApiKey', value: pem, baseVersion: 0 }, { name: 'Endpoint', value: big, baseVersion: 0 }] });
    assert.ok(r.ok);
    const sent = client.patches[0]!.changes;
    assert.ok(sent[0]!.value === pem && pem.split('\n').length > 4);
    assert.ok(Buffer.from(sent[1]!.value!).equals(Buffer.from(big)) && Buffer.byteLength(big) === 48 * 1024);
  });

  test('coverage/load: statuses per stage, no values; an unreadable stage is marked', async () => {
    const { request, client } = setup();
    client.stageResult = async (s) => {
      if (s === 'production') throw new PortalError('http', 'your token may not read stage production', 403);
      if (s === 'qa') return stage(s, { PaymentApiKey: { hasValue: true, value: SECRET_MASK, missing: false }, Endpoint: { hasValue: true, value: 'https://qa.example' } });
      return stage(s);
    };
    const r = await request('coverage/load', {});
    assert.ok(r.ok);
    const cov = r.result as { stages: Array<{ key: string; error?: string }>; settings: Array<{ name: string; status: Record<string, string> }> };
    assert.deepEqual(cov.stages.map((s) => [s.key, s.error]), [['development', undefined], ['qa', undefined], ['production', 'your token may not read stage production']]);
    assert.deepEqual(
      cov.settings.map((s) => [s.name, s.status]),
      [
        ['PaymentApiKey', { development: 'missing', qa: 'set' }],
        ['MaxRetries', { development: 'default', qa: 'default' }],
        ['Endpoint', { development: 'unset', qa: 'set' }],
      ],
    );
    const text = JSON.stringify(r);
    assert.ok(!text.includes('qa.example') && !text.includes('"value"'), 'no values in the coverage');
  });

  test('webview/dirty reaches the panel (title marker)', async () => {
    const { c, dirty } = setup();
    await c.handle({ kind: 'notification', method: 'webview/dirty', params: { count: 2 } });
    await c.handle({ kind: 'notification', method: 'webview/dirty', params: { count: 0 } });
    assert.deepEqual(dirty, [2, 0]);
  });
});
