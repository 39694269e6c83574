// Session lifetimes (SPEC §14) on real stores with a controlled clock: 30 minutes idle, 8 hours
// at most however active, gone when the token is revoked, the id kept only as a hash. Each runs
// on the embedded SQLite store and on PostgreSQL (a private cluster, when its binaries are here:
// the session table lives beside the store so every instance sees a revocation). The HTTP paths
// are in attacks.test.ts; waiting half an hour there is not an option, so the clock is set here.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import pino from 'pino';
import { SESSION_IDLE_MS, SESSION_MAX_MS } from '../../common/session';
import { Portal } from '../../server/services/portal';
import { PgStorage } from '../../server/store/postgres/pgStorage';
import { SqliteStorage } from '../../server/store/sqlite/sqliteStorage';
import type { Storage } from '../../server/store/storage';
import { sessionStorageFor, type SessionStorage } from '../../server/web/sessionStorage';
import { WebSessions } from '../../server/web/sessions';
import { postgresAvailable, testCluster } from '../support/postgres';
import { removeDir, tempDir } from '../support/portal';

const dir = tempDir('odc-sessions-');
const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
  removeDir(dir);
});

const STORES: Record<string, () => Promise<Storage>> = {
  sqlite: async () => new SqliteStorage(path.join(dir, `${randomBytes(4).toString('hex')}.db`)),
  postgres: async () => new PgStorage({ url: await (await testCluster()).createDatabase('sessions'), logger: pino({ level: 'silent' }), noFeed: true, create: true }),
};

async function setup(kind: string) {
  const storage = await STORES[kind]!();
  const portal = await Portal.open({ storage, masterKey: randomBytes(32), stages: [{ key: 'production', name: 'Production' }] });
  const sessionStorage: SessionStorage = sessionStorageFor(storage);
  cleanups.push(async () => {
    await sessionStorage.close();
    await storage.close();
  });
  const actor = { tokenId: null, tokenName: 'test', client: 'test' };
  await portal.tokens.create({ name: 'admin', role: 'admin', apps: '*', stages: '*' }, actor);
  const { token: secret, id: tokenId } = await portal.tokens.create({ name: 'olivia', role: 'operator', apps: '*', stages: ['production'] }, actor);
  const token = (await portal.tokens.find(secret))!;
  let t = Date.parse('2026-01-01T08:00:00Z');
  const sessions = new WebSessions({ storage: sessionStorage, audit: (a, e) => portal.audit.recordRefusal(a, e), now: () => t });
  // A request as the session code reads it: headers, method, URL and the socket's address only.
  const request = (id: string) => ({ headers: { cookie: `other=1; odc_session=${id}` }, method: 'GET', url: '/api/v1/apps', socket: { remoteAddress: '127.0.0.1' } }) as unknown as IncomingMessage;
  return { portal, sessions, token, tokenId, request, actor, advance: (ms: number) => (t += ms) };
}

for (const kind of Object.keys(STORES)) {
  describe(`web sessions on ${kind}: lifetimes`, { skip: kind === 'postgres' && !postgresAvailable() ? 'PostgreSQL binaries not installed (run the setup suite)' : false }, () => {
    test('ends after 30 minutes idle; activity keeps it alive', async () => {
      const { sessions, token, request, advance } = await setup(kind);
      const { id } = await sessions.create(token);
      advance(SESSION_IDLE_MS - 60_000);
      assert.equal(((await sessions.resolve(request(id))) as { id: string }).id, token.id, 'used within 30 minutes');
      advance(SESSION_IDLE_MS - 60_000);
      assert.ok(await sessions.resolve(request(id)), 'the idle clock restarted with the last use');
      advance(SESSION_IDLE_MS);
      assert.equal(await sessions.resolve(request(id)), null, '30 minutes without use: ended');
      assert.equal(await sessions.resolve(request(id)), null, 'and deleted');
    });

    test('ends 8 hours after sign-in however active', async () => {
      const { sessions, token, request, advance } = await setup(kind);
      const { id } = await sessions.create(token);
      for (let used = 20; used < SESSION_MAX_MS / 60_000; used += 20) {
        advance(20 * 60_000);
        assert.ok(await sessions.resolve(request(id)), `alive after ${used} minutes`);
      }
      advance(20 * 60_000);
      assert.equal(await sessions.resolve(request(id)), null, 'past 8 hours: ended');
    });

    test('ends when its token is revoked; a wrong id is nobody', async () => {
      const { sessions, token, request, portal, tokenId, actor } = await setup(kind);
      const { id } = await sessions.create(token);
      assert.ok(await sessions.resolve(request(id)));
      assert.equal(await sessions.resolve(request(randomBytes(32).toString('base64url'))), null);
      await portal.tokens.revoke(tokenId, actor);
      assert.equal(await sessions.resolve(request(id)), null);
    });
  });
}
