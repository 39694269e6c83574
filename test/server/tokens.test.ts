// Tokens (SPEC §6, §10): `odc-portal token create/list/revoke`, shown once, listed never,
// working over HTTP until revoked, and stored only as a hash.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { containsCanary, filesUnder, removeDir, runCliAsync, startPortal, tempDir, type Portal } from '../support/portal';
import { storeFilesAtRest } from '../support/store';

const TOKEN_PATTERN = /odcp_[A-Za-z0-9_-]{20,}/g;

describe('tokens', () => {
  let portal: Portal;
  let work: string;
  let dataDir: string;
  /** Every token string this test has seen; none may be in the store's files. */
  const seen: string[] = [];
  let secondAdmin = '';

  const cli = (...args: string[]) => runCliAsync(['token', ...args, '--data-dir', dataDir]);

  /** Creates a token with the CLI and returns its id and the token it printed. */
  async function cliCreate(...args: string[]) {
    const res = await cli('create', ...args);
    assert.equal(res.code, 0, res.stderr);
    const printed = res.stdout.match(TOKEN_PATTERN) ?? [];
    assert.equal(printed.length, 1, `the token is printed exactly once: ${res.stdout}`);
    const token = printed[0]!;
    assert.equal(res.stderr.includes(token), false, 'the token is not in the log');
    const id = /\b(tok_[0-9a-f]+)\b/.exec(res.stdout)?.[1];
    assert.ok(id, `create prints the id: ${res.stdout}`);
    seen.push(token);
    return { id, token };
  }

  before(async () => {
    work = tempDir('odc-tokens-');
    dataDir = path.join(work, 'data');
    portal = await startPortal({ dataDir });
    seen.push(portal.adminToken);
    const defs = { app: { key: 'orders', name: 'Orders' }, settings: [{ name: 'ApiKey', type: 'Text', isSecret: true }] };
    assert.equal((await portal.api('POST', '/apps/orders/publish', { body: { definitions: defs } })).status, 200);
  });

  after(async () => {
    await portal?.stop();
    if (work) removeDir(work);
  });

  test('the first start writes the admin token to DIR/admin.token, readable by its owner only', () => {
    const file = path.join(dataDir, 'admin.token');
    assert.equal(fs.readFileSync(file, 'utf8').trim(), portal.adminToken);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  });

  test('token create prints the token once; it works over HTTP with its role and scope', async () => {
    const dev = await cliCreate('--name', 'ci developer', '--role', 'developer', '--app', 'orders', '--stage', 'qa');
    assert.equal((await portal.api('GET', '/apps/orders/stages/qa/settings', { token: dev.token })).status, 200);
    assert.equal((await portal.api('GET', '/apps/orders/stages/production/settings', { token: dev.token })).status, 403, 'its stage scope holds');
    assert.equal((await portal.api('GET', '/tokens', { token: dev.token })).status, 403, 'its role holds');

    const rt = await cliCreate('--name', 'orders qa', '--role', 'runtime', '--app', 'orders', '--stage', 'qa');
    const read = await portal.api('GET', '/runtime/settings', { token: rt.token });
    assert.equal(read.status, 200, read.text);
    assert.deepEqual(read.body.settings, { ApiKey: null });

    const admin = await cliCreate('--name', 'second admin', '--role', 'admin');
    secondAdmin = admin.token;
    assert.equal((await portal.api('GET', '/tokens', { token: admin.token })).status, 200);

    // Two creates never give the same token.
    assert.equal(new Set(seen).size, seen.length);
  });

  test('token create refuses a runtime token without exactly one app and one stage, and unknown roles or stages', async () => {
    const before = (await portal.api('GET', '/tokens')).body.tokens.length;
    const wrong = [
      ['--name', 'x', '--role', 'runtime'],
      ['--name', 'x', '--role', 'runtime', '--app', 'orders'],
      ['--name', 'x', '--role', 'runtime', '--stage', 'qa'],
      ['--name', 'x', '--role', 'runtime', '--app', 'orders', '--app', 'billing', '--stage', 'qa'],
      ['--name', 'x', '--role', 'runtime', '--app', 'orders', '--stage', 'qa', '--stage', 'production'],
      ['--name', 'x', '--role', 'root'],
      ['--role', 'admin'],
      ['--name', 'x', '--role', 'operator', '--stage', 'staging'],
    ];
    const results = await Promise.all(wrong.map((args) => cli('create', ...args)));
    for (const [i, args] of wrong.entries()) {
      const res = results[i]!;
      assert.notEqual(res.code, 0, `${args.join(' ')}: ${res.stdout}`);
      assert.ok(res.stderr.length > 0, 'says why');
      assert.equal(TOKEN_PATTERN.test(res.stdout), false, 'no token printed');
      TOKEN_PATTERN.lastIndex = 0;
    }
    assert.equal((await portal.api('GET', '/tokens')).body.tokens.length, before, 'none was created');
  });

  test('token list shows ids, names, roles and scopes, never a token', async () => {
    const res = await cli('list');
    assert.equal(res.code, 0, res.stderr);
    for (const t of seen) assert.equal(containsCanary(res.stdout + res.stderr, t), null, 'list shows a token');
    assert.equal(TOKEN_PATTERN.test(res.stdout), false);
    TOKEN_PATTERN.lastIndex = 0;
    const http = await portal.api('GET', '/tokens');
    for (const t of http.body.tokens as Array<{ id: string; name: string; role: string }>) {
      assert.ok(res.stdout.includes(t.id), `list has ${t.id}`);
      assert.ok(res.stdout.includes(t.name));
    }
    assert.match(res.stdout, /runtime\s+orders qa\s+apps=orders\s+stages=qa/);
    for (const t of seen) assert.equal(containsCanary(http.text, t), null, 'GET /tokens shows a token');
  });

  test('token revoke: the token gets 401 at once; revoking the last admin is refused', async () => {
    const op = await cliCreate('--name', 'temp operator', '--role', 'operator');
    assert.equal((await portal.api('GET', '/apps', { token: op.token })).status, 200);
    const res = await cli('revoke', op.id);
    assert.equal(res.code, 0, res.stderr);
    assert.equal((await portal.api('GET', '/apps', { token: op.token })).status, 401);
    const list = await cli('list');
    assert.match(list.stdout, new RegExp(`${op.id}\\t.*revoked`));
    const again = await cli('revoke', op.id);
    assert.notEqual(again.code, 0, 'revoking twice is an error');
    const unknown = await cli('revoke', 'tok_0000000000000000');
    assert.notEqual(unknown.code, 0);

    // Leave one admin, then try to revoke it.
    const tokens = (await portal.api('GET', '/tokens')).body.tokens as Array<{ id: string; role: string; name: string; revokedAt: string | null }>;
    const admins = tokens.filter((t) => t.role === 'admin' && !t.revokedAt);
    assert.equal(admins.length, 2);
    const initial = admins.find((t) => t.name === 'initial admin')!;
    const second = admins.find((t) => t.name === 'second admin')!;
    assert.equal((await cli('revoke', initial.id)).code, 0);
    assert.equal((await portal.api('GET', '/apps')).status, 401, 'the revoked first admin is refused');
    const last = await cli('revoke', second.id);
    assert.notEqual(last.code, 0, 'the last admin token cannot be revoked');
    assert.match(last.stderr, /last admin/);
    assert.equal((await portal.api('GET', '/tokens', { token: secondAdmin })).status, 200, 'and it keeps working');
  });

  test('tokens are stored only as a hash: no token is in any file of the store', async () => {
    // Tokens created over HTTP, too.
    const created = await portal.api('POST', '/tokens', { token: secondAdmin, body: { name: 'http made', role: 'operator' } });
    assert.equal(created.status, 201, created.text);
    seen.push(created.body.token);
    assert.equal((await portal.api('GET', '/apps', { token: created.body.token })).status, 200);
    await portal.stop();
    const files = filesUnder(dataDir)
      .filter((f) => path.basename(f) !== 'admin.token')
      .map((file) => ({ file, bytes: fs.readFileSync(file) }));
    // The store's files (SQLite's database and WAL, or PostgreSQL's heap and WAL) are searched too.
    const store = await storeFilesAtRest(dataDir);
    assert.ok(store.length > 0, 'the store is among the files searched');
    for (const { file, bytes } of [...files, ...store]) {
      for (const t of seen) assert.equal(containsCanary(bytes, t), null, `${path.basename(file)} holds a token`);
    }
    assert.ok(seen.length >= 5);
  });
});
