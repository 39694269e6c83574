// SPEC §5 encryption at rest: fresh nonces, no plaintext in the store's files, deleted values
// do not linger, and a tampered or moved ciphertext fails loudly (a 500 with nothing derived
// from the value, and a DECRYPTION FAILED line in the server's log).
import Database from 'better-sqlite3';
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
  storeFiles,
  type Portal,
} from '../support/portal';

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

/** Which of the store's files hold the canary in any encoding (file names relative to the data dir). */
function filesWithCanary(dataDir: string, canary: string): string[] {
  return storeFiles(dataDir)
    .filter(({ bytes }) => containsCanary(bytes, canary) !== null)
    .map(({ file }) => path.basename(file));
}

function filesWithBytes(dataDir: string, needle: Buffer): string[] {
  return storeFiles(dataDir)
    .filter(({ bytes }) => bytes.includes(needle))
    .map(({ file }) => path.basename(file));
}

/** Reads rows with a short-lived read-only connection (closed at once, so the server's WAL checkpoints are not held up). */
function readRows<T>(dataDir: string, sql: string, ...args: unknown[]): T[] {
  const db = new Database(path.join(dataDir, 'portal.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...args) as T[];
  } finally {
    db.close();
  }
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

  // Positive control: a non-secret value is plainly in the files, so the scan would see a secret too.
  assert.notDeepEqual(filesWithCanary(p.dataDir, plainCanary), []);
  assert.deepEqual(filesWithCanary(p.dataDir, canary), [], 'the secret is stored in clear');

  const rows = readRows<{ stage: string; plain: string | null; secret: Buffer | null }>(p.dataDir, "SELECT stage, plain, secret FROM stage_values WHERE app_key = ? AND name = 'ApiKey'", app);
  assert.equal(rows.length, 3);
  for (const row of rows) {
    assert.equal(row.plain, null, 'a secret never sits in the plain column');
    assert.ok(Buffer.isBuffer(row.secret));
    // version | key id | 12-byte nonce | ciphertext as long as the UTF-8 value | 16-byte tag
    assert.equal(row.secret.length, 1 + 4 + 12 + Buffer.byteLength(canary) + 16);
  }
  assert.equal(new Set(rows.map((r) => r.secret!.toString('hex'))).size, 3, 'the same value in three stages gives three ciphertexts');

  await p.stop();
  assert.deepEqual(filesWithCanary(p.dataDir, canary), [], 'nor after a clean shutdown');
  assert.equal(containsCanary(p.output(), canary), null);
});

test('deleted values do not linger in portal.db, -wal or -journal: made secret by publish, removed by publish, cleared', async () => {
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
    assert.notDeepEqual(filesWithCanary(p.dataDir, c), [], 'positive control: the plaintext value is in the store before the deletion');
  }
  const [{ secret: oldCiphertext }] = readRows<{ secret: Buffer }>(p.dataDir, "SELECT secret FROM stage_values WHERE app_key = ? AND stage = 'qa' AND name = 'SecretCleared'", app) as [{ secret: Buffer }];
  assert.notDeepEqual(filesWithBytes(p.dataDir, oldCiphertext), []);

  // A clear of a non-secret and of a secret.
  await patch(p, app, 'qa', [
    { name: 'Cleared', value: null, baseVersion: 1 },
    { name: 'SecretCleared', value: null, baseVersion: 1 },
  ]);
  assert.deepEqual(filesWithCanary(p.dataDir, cleared), [], 'a cleared value lingers');
  assert.deepEqual(filesWithBytes(p.dataDir, oldCiphertext), [], "a cleared secret's ciphertext lingers");

  // One publish: Becomes turns secret (its plaintext is deleted everywhere) and Removed goes away.
  const body = await publish(p, app, [
    { name: 'Becomes', type: 'Text', isSecret: true },
    { name: 'Cleared', type: 'Text' },
    { name: 'SecretCleared', type: 'Text', isSecret: true },
  ]);
  assert.equal(body.plan.deletions.length, 4);
  for (const [stage, c] of Object.entries(canaries)) {
    assert.deepEqual(filesWithCanary(p.dataDir, c), [], `the plaintext that ${stage} held before the setting became secret lingers`);
  }
  assert.deepEqual(filesWithCanary(p.dataDir, removed), [], "a removed setting's value lingers");

  await p.stop();
  for (const c of [...Object.values(canaries), removed, cleared]) assert.deepEqual(filesWithCanary(p.dataDir, c), [], 'nor after shutdown');
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

  const db = new Database(path.join(p1.dataDir, 'portal.db'));
  const row = (app: string, stage: string) =>
    db.prepare("SELECT version, secret FROM stage_values WHERE app_key = ? AND stage = ? AND name = 'Key'").get(app, stage) as { version: number; secret: Buffer };
  const write = (app: string, stage: string, blob: Buffer) =>
    assert.equal(db.prepare("UPDATE stage_values SET secret = ? WHERE app_key = ? AND stage = ? AND name = 'Key'").run(blob, app, stage).changes, 1);
  const flip = (app: string, index: (len: number) => number) => {
    const blob = Buffer.from(row(app, 'development').secret);
    const i = index(blob.length);
    blob[i] = blob[i]! ^ 0x01;
    write(app, 'development', blob);
  };
  const source = row('enc-tamper-copy', 'development');
  assert.equal(row('enc-tamper-copy', 'qa').version, source.version, 'same version: only the row binding differs');
  write('enc-tamper-copy', 'qa', source.secret);
  flip('enc-tamper-nonce', () => 5 + 7); // nonce: bytes 5..16
  flip('enc-tamper-body', () => 17); // ciphertext: from byte 17 to length - 16
  flip('enc-tamper-tag', (len) => len - 1); // tag: the last 16 bytes
  db.close();

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
