// `odc-portal values import` (SPEC §16) against a real portal: the preview, --yes for the one
// all-or-nothing write, exit 1 and nothing written when a line is refused, a write based on the
// versions it previewed, and the file's values nowhere but the store (not the output, the log,
// the audit).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { containsCanary, newCanary, removeDir, runCliAsync, startPortal, tempDir, type Portal } from '../support/portal';

const ORDERS = {
  app: { key: 'orders', name: 'Orders' },
  settings: [
    { name: 'PaymentApiKey', type: 'Text', isSecret: true },
    { name: 'Certificate', type: 'Text', isSecret: true },
    { name: 'MaxRetries', type: 'Integer', defaultValue: '3' },
    { name: 'Greeting', type: 'Text', defaultValue: 'hello' },
  ],
};

describe('odc-portal values import', () => {
  let portal: Portal;
  let work: string;
  let developer: string;
  const secret = newCanary('IMPORTSECRET');
  const certLine = newCanary('CERTLINE');
  const greeting = newCanary('GREETING');

  const importCli = (args: string[], env: Record<string, string | undefined> = {}) =>
    runCliAsync(['values', 'import', '--app', 'orders', '--stage', 'qa', ...args], { ODC_TOKEN: developer, ODC_SERVER: portal.url, ...env }, work);
  const qa = async () => (await portal.api('GET', '/apps/orders/stages/qa/settings')).body.settings as Array<{ name: string; hasValue: boolean; value: string | null; version: number }>;
  const versions = async () => Object.fromEntries((await qa()).map((s) => [s.name, s.version]));
  const writeEnv = (name: string, text: string) => {
    const file = path.join(work, name);
    fs.writeFileSync(file, text);
    return file;
  };

  before(async () => {
    work = tempDir('odc-import-');
    portal = await startPortal({ dataDir: path.join(work, 'data') });
    assert.equal((await portal.api('POST', '/apps/orders/publish', { body: { definitions: ORDERS } })).status, 200);
    const dev = await portal.api('POST', '/tokens', { body: { name: 'dev', role: 'developer', apps: ['orders'], stages: ['qa'] } });
    developer = dev.body.token;
    const cur = await qa();
    const res = await portal.api('PATCH', '/apps/orders/stages/qa/settings', { body: { changes: ['MaxRetries', 'Greeting'].map((name, i) => ({ name, value: ['5', 'hi'][i], baseVersion: cur.find((s) => s.name === name)!.version })) } });
    assert.equal(res.status, 200, res.text);
  });

  after(async () => {
    await portal?.stop();
    if (work) removeDir(work);
  });

  test('previews without --yes (nothing written), then writes everything at once with --yes', async () => {
    const file = writeEnv(
      'good.env',
      `# a comment\nPAYMENT_API_KEY=${secret}\nCERTIFICATE="-----BEGIN CERT-----\n${certLine}\n-----END CERT-----"\nMAX_RETRIES=5\nexport GREETING='${greeting}'\n`,
    );
    const before = await versions();
    const preview = await importCli([file]);
    assert.equal(preview.code, 0, preview.stderr);
    assert.match(preview.stdout, /set\s+PAYMENT_API_KEY -> PaymentApiKey \(secret\)/);
    assert.match(preview.stdout, /set\s+CERTIFICATE -> Certificate \(secret\)/);
    assert.match(preview.stdout, /unchanged MAX_RETRIES -> MaxRetries/);
    assert.match(preview.stdout, /change\s+GREETING -> Greeting/);
    assert.match(preview.stdout, /2 to set, 1 to change, 1 unchanged, 0 refused/);
    assert.match(preview.stdout, /nothing written/i);
    assert.deepEqual(await versions(), before, 'a preview writes nothing');

    const written = await importCli(['--yes', file]);
    assert.equal(written.code, 0, written.stderr);
    assert.match(written.stdout, /Wrote 3 value\(s\)/);
    const after = await qa();
    const by = Object.fromEntries(after.map((s) => [s.name, s]));
    assert.equal(by.Greeting!.value, greeting);
    assert.equal(by.PaymentApiKey!.hasValue, true);
    assert.equal(by.Certificate!.hasValue, true);
    assert.equal(by.MaxRetries!.version, before.MaxRetries, 'an unchanged value is not rewritten');
    // The multi-line value arrived whole: the runtime read sees it as dotenv parsed it.
    const runtime = await portal.api('POST', '/tokens', { body: { name: 'rt', role: 'runtime', apps: ['orders'], stages: ['qa'] } });
    const read = await portal.api('GET', '/runtime/settings', { token: runtime.body.token });
    assert.equal(read.body.settings.Certificate, `-----BEGIN CERT-----\n${certLine}\n-----END CERT-----`);
    assert.equal(read.body.settings.PaymentApiKey, secret);

    // The values are nowhere but the store: not in the command's output, the server's log, the audit.
    const audit = await portal.api('GET', '/apps/orders/audit?limit=50');
    for (const canary of [secret, certLine, greeting]) {
      for (const [where, text] of [
        ['preview output', preview.stdout + preview.stderr],
        ['write output', written.stdout + written.stderr],
        ['server log', portal.output()],
        ['audit', audit.text],
      ] as const) {
        assert.equal(containsCanary(text, canary), null, `${where} holds a value from the file`);
      }
    }
  });

  test('any refused line (unknown name, invalid value) exits 1 and writes nothing, even with --yes', async () => {
    const bad = newCanary('BADVALUE');
    const file = writeEnv('bad.env', `GREETING=${newCanary('WOULDSET')}\nMAX_RETRIES=${bad}\nNOT_A_SETTING=1\n`);
    const before = await versions();
    const res = await importCli(['--yes', file]);
    assert.equal(res.code, 1, res.stdout);
    assert.match(res.stdout, /refused\s+MAX_RETRIES -> MaxRetries: the value must be a whole number/);
    assert.match(res.stdout, /refused\s+NOT_A_SETTING: no setting maps to NOT_A_SETTING/);
    assert.match(res.stdout, /Nothing written/);
    assert.equal(containsCanary(res.stdout + res.stderr, bad), null, 'a refused value is not echoed');
    assert.deepEqual(await versions(), before);
  });

  test('--prefix maps names as `odc-portal run --prefix` does', async () => {
    const file = writeEnv('prefixed.env', 'APP_GREETING=prefixed\n');
    assert.equal((await importCli(['--yes', file])).code, 1, 'without --prefix APP_GREETING is unknown');
    const res = await importCli(['--prefix', 'APP_', '--yes', file]);
    assert.equal(res.code, 0, res.stdout + res.stderr);
    assert.equal((await qa()).find((s) => s.name === 'Greeting')!.value, 'prefixed');
  });

  test('no token, a token outside the stage, or a missing file: a clear message and nothing written', async () => {
    const file = writeEnv('ok.env', 'GREETING=never-written\n');
    const before = await versions();
    const noToken = await importCli([file], { ODC_TOKEN: undefined });
    assert.equal(noToken.code, 2);
    assert.match(noToken.stderr, /ODC_TOKEN/);
    const other = await portal.api('POST', '/tokens', { body: { name: 'prod only', role: 'operator', stages: ['production'] } });
    const outside = await importCli(['--yes', file], { ODC_TOKEN: other.body.token });
    assert.equal(outside.code, 1);
    assert.match(outside.stdout, /refused \(403\)/);
    const missing = await importCli([path.join(work, 'nope.env')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read .*nope\.env \(ENOENT\)/);
    assert.deepEqual(await versions(), before);
  });
});
