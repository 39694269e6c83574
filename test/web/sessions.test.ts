// Session lifetimes (SPEC §14) on a real SQLite store with a controlled clock: 30 minutes idle,
// 8 hours at most however active, and gone when the token is revoked. The HTTP paths are in
// attacks.test.ts; waiting half an hour there is not an option, so the clock is set here.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { SESSION_IDLE_MS, SESSION_MAX_MS } from '../../common/session';
import { Store } from '../../server/store/store';
import { SqliteSessionStorage } from '../../server/web/sessionStorage';
import { WebSessions } from '../../server/web/sessions';
import { removeDir, tempDir } from '../support/portal';

const dir = tempDir('odc-sessions-');
after(() => removeDir(dir));

function setup() {
  const store = new Store({ file: path.join(dir, `${randomBytes(4).toString('hex')}.db`), masterKey: randomBytes(32), stages: [{ key: 'production', name: 'Production' }] });
  const actor = { tokenId: null, tokenName: 'test', client: 'test' };
  const { id: tokenId } = store.createToken({ name: 'olivia', role: 'operator', apps: '*', stages: ['production'] }, actor);
  let t = Date.parse('2026-01-01T08:00:00Z');
  const sessions = new WebSessions({ storage: new SqliteSessionStorage(store.db), audit: (a, e) => store.recordRefusal(a, e), now: () => t });
  const token = store.listTokens().find((x) => x.id === tokenId)!;
  // A request as the session code reads it: headers, method and the socket's address only.
  const request = (id: string) => ({ headers: { cookie: `other=1; odc_session=${id}` }, method: 'GET', url: '/api/v1/apps', socket: { remoteAddress: '127.0.0.1' } }) as unknown as IncomingMessage;
  return { store, sessions, token, request, tokenId, advance: (ms: number) => (t += ms), actor };
}

describe('web sessions: lifetimes', () => {
  test('ends after 30 minutes idle; activity keeps it alive', () => {
    const { sessions, token, request, advance, store } = setup();
    const { id } = sessions.create({ id: token.id, name: token.name, role: token.role, apps: token.apps, stages: token.stages });
    advance(SESSION_IDLE_MS - 60_000);
    assert.equal((sessions.resolve(request(id)) as { id: string }).id, token.id, 'used within 30 minutes');
    advance(SESSION_IDLE_MS - 60_000);
    assert.ok(sessions.resolve(request(id)), 'the idle clock restarted with the last use');
    advance(SESSION_IDLE_MS);
    assert.equal(sessions.resolve(request(id)), null, '30 minutes without use: ended');
    assert.equal(sessions.resolve(request(id)), null, 'and deleted');
    store.close();
  });

  test('ends 8 hours after sign-in however active', () => {
    const { sessions, token, request, advance, store } = setup();
    const { id } = sessions.create({ id: token.id, name: token.name, role: token.role, apps: token.apps, stages: token.stages });
    for (let used = 0; used + 20 * 60_000 < SESSION_MAX_MS; used += 20 * 60_000) {
      advance(20 * 60_000);
      assert.ok(sessions.resolve(request(id)), `alive after ${used / 60_000 + 20} minutes`);
    }
    advance(20 * 60_000);
    assert.equal(sessions.resolve(request(id)), null, 'past 8 hours: ended');
    store.close();
  });

  test('ends when its token is revoked; the id is stored only as a hash', () => {
    const { sessions, token, request, store, tokenId, actor } = setup();
    const { id } = sessions.create({ id: token.id, name: token.name, role: token.role, apps: token.apps, stages: token.stages });
    const rows = store.db.prepare('SELECT * FROM web_sessions').all() as Array<Record<string, unknown>>;
    assert.equal(rows.length, 1);
    assert.ok(!JSON.stringify(rows).includes(id), 'no raw id in the table');
    assert.ok(sessions.resolve(request(id)));
    store.createToken({ name: 'admin', role: 'admin', apps: '*', stages: '*' }, actor); // the last admin cannot be revoked; this one is not it
    store.revokeToken(tokenId, actor);
    assert.equal(sessions.resolve(request(id)), null);
    store.close();
  });
});
