// Web sessions across instances (SPEC §11, §14): two `odc-portal serve` processes on one
// PostgreSQL database. A session made on one is good on the other; signing out or revoking the
// token on one ends it on the other at its next request.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { removeDir, startPortal, tempDir, type Portal } from '../support/portal';
import { postgresAvailable, testCluster } from '../support/postgres';

const instances: Portal[] = [];
let work = '';
after(async () => {
  await Promise.all(instances.map((p) => p.stop()));
  if (work) removeDir(work);
});

async function signIn(p: Portal, token: string): Promise<{ cookie: string; csrf: string }> {
  const res = await fetch(`${p.url}/api/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
  assert.equal(res.status, 201);
  return { cookie: res.headers.get('set-cookie')!.split(';')[0]!, csrf: ((await res.json()) as { csrfToken: string }).csrfToken };
}
const apps = async (p: Portal, cookie: string) => (await fetch(`${p.url}/api/v1/apps`, { headers: { cookie } })).status;

describe('web sessions on two instances sharing PostgreSQL', { skip: !postgresAvailable() && 'PostgreSQL binaries not installed (run the setup suite)' }, () => {
  test('one session, two instances: sign-out and revocation on one end it on the other', async () => {
    work = tempDir('odc-web-instances-');
    const env = { PORTAL_DATABASE_URL: await (await testCluster()).createDatabase('websessions'), PORTAL_MASTER_KEY: randomBytes(32).toString('base64') };
    const [a, b] = await Promise.all([0, 1].map((i) => startPortal({ dataDir: path.join(work, `i${i}`, 'data'), env })));
    instances.push(a!, b!);
    const admin = a!.adminToken || b!.adminToken;
    const made = await fetch(`${a!.url}/api/v1/tokens`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'op', role: 'operator' }) });
    const { id, token } = (await made.json()) as { id: string; token: string };

    const s1 = await signIn(a!, token);
    assert.equal(await apps(b!, s1.cookie), 200, 'made on A, good on B');
    const out = await fetch(`${b!.url}/api/v1/sessions/current`, { method: 'DELETE', headers: { cookie: s1.cookie, origin: b!.url, 'x-csrf-token': s1.csrf } });
    assert.equal(out.status, 204);
    assert.equal(await apps(a!, s1.cookie), 401, 'signed out on B, gone on A');

    const s2 = await signIn(a!, token);
    assert.equal(await apps(a!, s2.cookie), 200);
    const revoked = await fetch(`${b!.url}/api/v1/tokens/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${admin}` } });
    assert.equal(revoked.status, 204);
    assert.equal(await apps(a!, s2.cookie), 401, 'revoked on B, ended on A at its next request');
  });
});
