// SPEC §5 encryption at rest: fresh nonces, no plaintext in the store's files, deleted values
// do not linger, and a tampered or moved ciphertext fails loudly (a 500 with nothing derived
// from the value, and a DECRYPTION FAILED line in the server's log).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { DecryptionError, newKey, open, seal, valueAad } from '../../server/crypto/envelope';
import {
  assertProblem,
  containsCanary,
  createRuntimeToken,
  defsFor,
  newCanary,
  removeDir,
  pollUntil,
  startPortal,
  STORE,
  type Portal,
} from '../support/portal';
import { storeFilesAtRest, withStoreDb } from '../support/store';

/** The column of a sealed value: `secret` in SQLite (which keeps non-secrets in `plain`), `sealed` in PostgreSQL. */
const SEALED = STORE === 'postgres' ? 'sealed' : 'secret';
const PLAIN = STORE === 'postgres' ? 'NULL' : 'plain';

const cleanup: string[] = [];
const running: Portal[] = [];

after(async () => {
  for (const p of running) await p.stop();
  for (const dir of cleanup) removeDir(dir);
});

async function start(opts: Parameters<typeof startPortal>[0] = {}): Promise<Portal> {
  const p = await startPortal(opts);
  running.push(p);
  if (!opts.dataDir) cleanup.push(path.dirname(p.dataDir));
  return p;
}

async function publish(p: Portal, app: string, settings: unknown[]) {
  const res = await p.api('POST', `/apps/${app}/publish`, { body: { definitions: defsFor(app, settings) } });
  assert.equal(res.status, 200, res.text);
  return res.body;
}

async function patch(p: Portal, app: string, stage: string, changes: Array<{ name: string; value: string | null; baseVersion: number }>) {
  const res = await p.api('PATCH', `/apps/${app}/stages/${stage}/settings`, { body: { changes } });
  assert.equal(res.status, 200, res.text);
  return res.body;
}

/** Which of the store's files hold the canary in any encoding (SQLite's database, WAL, journal; PostgreSQL's heap and WAL). */
async function filesWithCanary(dataDir: string, canary: string): Promise<string[]> {
  return (await storeFilesAtRest(dataDir)).filter(({ bytes }) => containsCanary(bytes, canary) !== null).map(({ file }) => path.basename(file));
}

async function filesWithBytes(dataDir: string, needle: Buffer): Promise<string[]> {
  return (await storeFilesAtRest(dataDir)).filter(({ bytes }) => bytes.includes(needle)).map(({ file }) => path.basename(file));
}

/** Reads rows with a short-lived read-only connection (closed at once, so the server's WAL checkpoints are not held up). */
function readRows<T>(dataDir: string, sql: string, ...args: unknown[]): Promise<T[]> {
  return withStoreDb(dataDir, (db) => db.all<T>(sql, ...args), { readonly: true });
}

test('10,000 encryptions of one value use 10,000 distinct nonces (and each still decrypts)', () => {
  const key = newKey();
  const aad = valueAad('orders', 'qa', 'PaymentApiKey', 1);
  const value = 'the-same-value';
  const nonces = new Set<string>();
  const blobs = new Set<string>();
  for (let i = 0; i < 10_000; i++) {
    const blob = seal(1, key, value, aad);
    nonces.add(blob.subarray(5, 17).toString('hex'));
    blobs.add(blob.toString('hex'));
    if (i % 1000 === 0) assert.equal(open(key, blob, aad), value);
  }
  assert.equal(nonces.size, 10_000);
  assert.equal(blobs.size, 10_000, 'no two ciphertexts of the same value are equal');
});

test('unit: the associated data binds a ciphertext to its app, stage, setting and version', () => {
  const key = newKey();
  const blob = seal(1, key, 'v', valueAad('a', 'qa', 'S', 3));
  assert.equal(open(key, blob, valueAad('a', 'qa', 'S', 3)), 'v');
  for (const other of [valueAad('b', 'qa', 'S', 3), valueAad('a', 'production', 'S', 3), valueAad('a', 'qa', 'T', 3), valueAad('a', 'qa', 'S', 4)]) {
    assert.throws(() => open(key, blob, other), DecryptionError);
  }
  assert.throws(() => open(newKey(), blob, valueAad('a', 'qa', 'S', 3)), DecryptionError, 'another key');
  assert.throws(() => open(key, blob.subarray(0, 20), valueAad('a', 'qa', 'S', 3)), DecryptionError, 'a truncated blob');
});

test('a stored secret is not in the database or its WAL in any encoding; a non-secret is (the scan works)', async () => {
  const p = await start();
  const app = 'enc-at-rest';
  await publish(p, app, [
    { name: 'ApiKey', type: 'Text', isSecret: true },
    { name: 'Note', type: 'Text' },
  ]);
  const canary = newCanary();
  const plainCanary = newCanary('PLAIN');
  for (const stage of ['development', 'qa', 'production']) await patch(p, app, stage, [{ name: 'ApiKey', value: `${canary}`, baseVersion: 0 }]);
  await patch(p, app, 'qa', [{ name: 'Note', value: plainCanary, baseVersion: 0 }]);

  if (STORE === 'sqlite') {
    // Positive control: a non-secret value is plainly in the files, so the scan would see a secret too.
    assert.notDeepEqual(await filesWithCanary(p.dataDir, plainCanary), []);
  } else {
    // PostgreSQL seals every value, a non-secret too (SPEC §11). Positive control: a token's
    // name is no value and is stored in clear, so the scan would see a value in clear too.
    assert.deepEqual(await filesWithCanary(p.dataDir, plainCanary), [], 'a non-secret value is stored in clear');
    const named = newCanary('NAME');
    assert.equal((await p.api('POST', '/tokens', { body: { name: named, role: 'operator' } })).status, 201);
    assert.notDeepEqual(await filesWithCanary(p.dataDir, named), []);
  }
  assert.deepEqual(await filesWithCanary(p.dataDir, canary), [], 'the secret is stored in clear');

  const rows = await readRows<{ stage: string; plain: string | null; secret: Buffer | null }>(
    p.dataDir,
    `SELECT stage, ${PLAIN} AS plain, ${SEALED} AS secret FROM stage_values WHERE app_key = ? AND name = 'ApiKey'`,
    app,
  );
  assert.equal(rows.length, 3);
  for (const row of rows) {
    assert.equal(row.plain, null, 'a secret never sits in the plain column');
    assert.ok(Buffer.isBuffer(row.secret));
    // version | key id | 12-byte nonce | ciphertext as long as the UTF-8 value | 16-byte tag
    assert.equal(row.secret.length, 1 + 4 + 12 + Buffer.byteLength(canary) + 16);
  }
  assert.equal(new Set(rows.map((r) => r.secret!.toString('hex'))).size, 3, 'the same value in three stages gives three ciphertexts');

  await p.stop();
  assert.deepEqual(await filesWithCanary(p.dataDir, canary), [], 'nor after a clean shutdown');
  assert.equal(containsCanary(p.output(), canary), null);
});

test('deleted values do not linger in portal.db, -wal or -journal: made secret by publish, removed by publish, cleared', async () => {
  // History (SPEC §12) keeps a cleared value among the last writes, for restore, but only sealed:
  // no readable copy of it may linger (§5), with the default number of kept writes.
  const p = await start();
  const app = 'enc-linger';
  await publish(p, app, [
    { name: 'Becomes', type: 'Text' },
    { name: 'Removed', type: 'Text' },
    { name: 'Cleared', type: 'Text' },
    { name: 'SecretCleared', type: 'Text', isSecret: true },
  ]);
  const canaries: Record<string, string> = {};
  for (const [i, stage] of ['development', 'qa', 'production'].entries()) {
    const c = (canaries[stage] = newCanary(`PLAIN${i}`));
    await patch(p, app, stage, [{ name: 'Becomes', value: c, baseVersion: 0 }]);
  }
  const removed = newCanary('REMOVED');
  const cleared = newCanary('CLEARED');
  await patch(p, app, 'qa', [
    { name: 'Removed', value: removed, baseVersion: 0 },
    { name: 'Cleared', value: cleared, baseVersion: 0 },
    { name: 'SecretCleared', value: newCanary(), baseVersion: 0 },
  ]);
  for (const c of [...Object.values(canaries), removed, cleared]) {
    if (STORE === 'sqlite') assert.notDeepEqual(await filesWithCanary(p.dataDir, c), [], 'positive control: the plaintext value is in the store before the deletion');
    // PostgreSQL keeps old row versions and WAL segments it cannot scrub: no value is ever there in clear (SPEC §11).
    else assert.deepEqual(await filesWithCanary(p.dataDir, c), [], 'a non-secret value is stored in clear');
  }
  const [{ secret: oldCiphertext }] = (await readRows<{ secret: Buffer }>(
    p.dataDir,
    `SELECT ${SEALED} AS secret FROM stage_values WHERE app_key = ? AND stage = 'qa' AND name = 'SecretCleared'`,
    app,
  )) as [{ secret: Buffer }];
  assert.notDeepEqual(await filesWithBytes(p.dataDir, oldCiphertext), []);

  // A clear of a non-secret and of a secret.
  await patch(p, app, 'qa', [
    { name: 'Cleared', value: null, baseVersion: 1 },
    { name: 'SecretCleared', value: null, baseVersion: 1 },
  ]);
  assert.deepEqual(await filesWithCanary(p.dataDir, cleared), [], 'a cleared value lingers');
  // The cleared secret's ciphertext lives on only as its kept write (SPEC §12, for restore); the value row holds none.
  const held = await readRows<{ n: number }>(p.dataDir, `SELECT count(*) AS n FROM stage_values WHERE app_key = ? AND stage = 'qa' AND name = 'SecretCleared' AND ${SEALED} IS NOT NULL`, app);
  assert.equal(Number(held[0]!.n), 0, "a cleared secret's row still holds a ciphertext");

  // One publish: Becomes turns secret (its plaintext is deleted everywhere) and Removed goes away.
  const body = await publish(p, app, [
    { name: 'Becomes', type: 'Text', isSecret: true },
    { name: 'Cleared', type: 'Text' },
    { name: 'SecretCleared', type: 'Text', isSecret: true },
  ]);
  assert.equal(body.plan.deletions.length, 4);
  for (const [stage, c] of Object.entries(canaries)) {
    assert.deepEqual(await filesWithCanary(p.dataDir, c), [], `the plaintext that ${stage} held before the setting became secret lingers`);
  }
  assert.deepEqual(await filesWithCanary(p.dataDir, removed), [], "a removed setting's value lingers");

  await p.stop();
  for (const c of [...Object.values(canaries), removed, cleared]) assert.deepEqual(await filesWithCanary(p.dataDir, c), [], 'nor after shutdown');
});

test('a ciphertext copied to another row, or with a flipped byte in nonce, ciphertext or tag, fails loudly', async () => {
  const p1 = await start();
  const canaries: Record<string, string> = {};
  const tokens: Record<string, string> = {};
  const cases = ['copy', 'nonce', 'body', 'tag', 'control'] as const;
  for (const c of cases) {
    const app = `enc-tamper-${c}`;
    await publish(p1, app, [
      { name: 'Key', type: 'Text', isSecret: true },
      { name: 'Plain', type: 'Text', defaultValue: 'p' },
    ]);
    canaries[c] = newCanary();
    await patch(p1, app, 'development', [{ name: 'Key', value: canaries[c]!, baseVersion: 0 }]);
    tokens[c] = await createRuntimeToken(p1, app, 'development');
  }
  // The copy target: the same setting in another stage, at the same version, holding another secret.
  const qaCanary = newCanary();
  await patch(p1, 'enc-tamper-copy', 'qa', [{ name: 'Key', value: qaCanary, baseVersion: 0 }]);
  const copyQaToken = await createRuntimeToken(p1, 'enc-tamper-copy', 'qa');
  for (const c of cases) {
    const res = await p1.api('GET', '/runtime/settings', { token: tokens[c] });
    assert.equal(res.body.settings.Key, canaries[c], 'before tampering every secret reads back');
  }
  await p1.stop();

  await withStoreDb(p1.dataDir, async (db) => {
    const row = async (app: string, stage: string) =>
      (await db.all<{ version: number; secret: Buffer }>(`SELECT version, ${SEALED} AS secret FROM stage_values WHERE app_key = ? AND stage = ? AND name = 'Key'`, app, stage))[0]!;
    const write = async (app: string, stage: string, blob: Buffer) =>
      assert.equal(await db.run(`UPDATE stage_values SET ${SEALED} = ? WHERE app_key = ? AND stage = ? AND name = 'Key'`, blob, app, stage), 1);
    const flip = async (app: string, index: (len: number) => number) => {
      const blob = Buffer.from((await row(app, 'development')).secret);
      const i = index(blob.length);
      blob[i] = blob[i]! ^ 0x01;
      await write(app, 'development', blob);
    };
    const source = await row('enc-tamper-copy', 'development');
    assert.equal((await row('enc-tamper-copy', 'qa')).version, source.version, 'same version: only the row binding differs');
    await write('enc-tamper-copy', 'qa', source.secret);
    await flip('enc-tamper-nonce', () => 5 + 7); // nonce: bytes 5..16
    await flip('enc-tamper-body', () => 17); // ciphertext: from byte 17 to length - 16
    await flip('enc-tamper-tag', (len) => len - 1); // tag: the last 16 bytes
  });

  const p2 = await start({ dataDir: p1.dataDir, adminToken: p1.adminToken });
  const allCanaries = [...Object.values(canaries), qaCanary];
  const failing: Array<[string, string]> = [
    ['copy', copyQaToken],
    ['nonce', tokens.nonce!],
    ['body', tokens.body!],
    ['tag', tokens.tag!],
  ];
  for (const [what, token] of failing) {
    const logBefore = p2.output().length;
    const res = await p2.api('GET', '/runtime/settings', { token });
    assertProblem(res, 500);
    assert.equal(res.body.settings, undefined, `${what}: no settings, no garbage, no empty string`);
    for (const c of allCanaries) assert.equal(containsCanary(res.text, c), null, `${what}: the 500 carries nothing of a value`);
    assert.match(res.headers.get('cache-control') ?? '', /no-store/);
    // The log line is written after the answer is sent: wait for it rather than for a fixed time.
    await pollUntil(`${what}: the DECRYPTION FAILED log line`, () => /DECRYPTION FAILED/.test(p2.output().slice(logBefore)));
  }
  // The untouched secret still reads: the failures above come from the tampering alone.
  const control = await p2.api('GET', '/runtime/settings', { token: tokens.control });
  assert.equal(control.status, 200, control.text);
  assert.deepEqual(control.body.settings, { Key: canaries.control, Plain: 'p' });

  // A publish that must read a tampered secret (a type change) fails loudly too, and changes nothing.
  const snapshotBefore = (await p2.api('GET', '/apps/enc-tamper-nonce')).text;
  const res = await p2.api('POST', '/apps/enc-tamper-nonce/publish', {
    body: { definitions: defsFor('enc-tamper-nonce', [{ name: 'Key', type: 'Integer', isSecret: true }, { name: 'Plain', type: 'Text', defaultValue: 'p' }]) },
  });
  assertProblem(res, 500);
  assert.equal((await p2.api('GET', '/apps/enc-tamper-nonce')).text, snapshotBefore);

  for (const c of allCanaries) assert.equal(containsCanary(p2.output(), c), null, 'the log never carries a value');
});

test('a value of many kinds round-trips exactly through encryption (unicode, empty, 48 KiB)', async () => {
  const p = await start();
  const app = 'enc-roundtrip';
  await publish(p, app, [
    { name: 'Unicode', type: 'Text', isSecret: true },
    { name: 'Empty', type: 'Text', isSecret: true },
    { name: 'Big', type: 'Text', isSecret: true },
  ]);
  const unicode = `pässwörd-🔑-${randomBytes(4).toString('hex')}\n"quoted"\\`;
  const big = 'x'.repeat(48 * 1024 - 4) + '🔑';
  await patch(p, app, 'qa', [
    { name: 'Unicode', value: unicode, baseVersion: 0 },
    { name: 'Empty', value: '', baseVersion: 0 },
    { name: 'Big', value: big, baseVersion: 0 },
  ]);
  const token = await createRuntimeToken(p, app, 'qa');
  const res = await p.api('GET', '/runtime/settings', { token });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.body.settings, { Unicode: unicode, Empty: '', Big: big });
  const view = await p.api('GET', `/apps/${app}/stages/qa/settings`);
  assert.deepEqual(
    view.body.settings.map((s: { name: string; hasValue: boolean; value: string }) => [s.name, s.hasValue, s.value]),
    [
      ['Unicode', true, '*****'],
      ['Empty', true, '*****'],
      ['Big', true, '*****'],
    ],
  );
  // One byte more than 48 KiB is refused.
  const tooBig = await p.api('PATCH', `/apps/${app}/stages/qa/settings`, { body: { changes: [{ name: 'Big', value: big + 'x', baseVersion: 1 }] } });
  assertProblem(tooBig, 422);
});
