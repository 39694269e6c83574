// Fixtures shared by the reliability tests: definitions that cover every type, and helpers
// to set values and to read what the API shows.
import assert from 'node:assert/strict';
import type { Portal } from '../support/portal';

export const ORDERS = {
  app: { key: 'orders', name: 'Orders' },
  settings: [
    { name: 'PaymentApiKey', type: 'Text', description: 'Key for the payment gateway', isSecret: true },
    { name: 'PinCode', type: 'Integer', isSecret: true },
    { name: 'MaxRetries', type: 'Integer', defaultValue: '3' },
    { name: 'Greeting', type: 'Text', defaultValue: 'hello' },
    { name: 'Endpoint', type: 'Text' },
    { name: 'BigCount', type: 'LongInteger', defaultValue: '9000000000' },
    { name: 'Ratio', type: 'Decimal', defaultValue: '0.5' },
    { name: 'Price', type: 'Currency' },
    { name: 'Enabled', type: 'Boolean', defaultValue: 'True' },
    { name: 'StartDate', type: 'Date' },
    { name: 'StartTime', type: 'Time' },
    { name: 'StartAt', type: 'DateTime' },
    { name: 'Contact', type: 'Email' },
    { name: 'Phone', type: 'PhoneNumber' },
  ],
};

export const BILLING = {
  app: { key: 'billing', name: 'Billing' },
  settings: [
    { name: 'ApiKey', type: 'Text', isSecret: true },
    { name: 'MaxRetries', type: 'Integer', defaultValue: '5' },
  ],
};

type Api = Portal['api'];

export async function publish(api: Api, definitions: unknown, extra: Record<string, unknown> = {}) {
  const key = (definitions as { app: { key: string } }).app.key;
  const res = await api('POST', `/apps/${key}/publish`, { body: { definitions, ...extra } });
  assert.equal(res.status, 200, res.text);
  return res.body as { revision: number; changed: boolean; plan: { deletions: Array<{ setting: string; stage: string; reason: string }> } };
}

export async function versions(api: Api, app: string, stage: string): Promise<Record<string, number>> {
  const res = await api('GET', `/apps/${app}/stages/${stage}/settings`);
  assert.equal(res.status, 200, res.text);
  return Object.fromEntries((res.body.settings as Array<{ name: string; version: number }>).map((s) => [s.name, s.version]));
}

/** Sets values (null clears) at their current versions; asserts 200. */
export async function setValues(api: Api, app: string, stage: string, values: Record<string, string | null>, token?: string) {
  const v = await versions(api, app, stage);
  const changes = Object.entries(values).map(([name, value]) => ({ name, value, baseVersion: v[name] ?? 0 }));
  const res = await api('PATCH', `/apps/${app}/stages/${stage}/settings`, { body: { changes }, ...(token ? { token } : {}) });
  assert.equal(res.status, 200, res.text);
  return res;
}

export async function createToken(api: Api, spec: { name: string; role: string; apps?: unknown; stages?: unknown }) {
  const res = await api('POST', '/tokens', { body: spec });
  assert.equal(res.status, 201, res.text);
  return res.body as { id: string; token: string };
}

/** Everything the API shows people (and the runtime identity) about the store. */
export async function apiView(api: Api, stages: string[], runtimeTokens: string[]): Promise<Record<string, unknown>> {
  const view: Record<string, unknown> = {};
  const get = async (route: string, token?: string) => {
    const res = await api('GET', route, token ? { token } : {});
    return { status: res.status, body: res.body as unknown };
  };
  view.stages = await get('/stages');
  const apps = await get('/apps');
  view.apps = apps;
  for (const a of ((apps.body as { apps?: Array<{ key: string }> }).apps ?? [])) {
    view[`app ${a.key}`] = await get(`/apps/${a.key}`);
    for (const s of stages) view[`values ${a.key}/${s}`] = await get(`/apps/${a.key}/stages/${s}/settings`);
  }
  view.tokens = await get('/tokens');
  for (const [i, t] of runtimeTokens.entries()) view[`runtime #${i}`] = await get('/runtime/settings', t);
  return view;
}
