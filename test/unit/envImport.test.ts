// common/envNames.ts (one mapping for `odc-portal run`, values import and the editor) and
// common/dotenvImport.ts (the .env preview: set / change / unchanged / refused, never a value).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'dotenv';
import { formatImportRow, previewDotenvImport } from '../../common/dotenvImport';
import { envName, indexSettingsByEnv, looseEnvKey, settingNameForEnv } from '../../common/envNames';

test('setting names map to upper snake case with the prefix, and back for the quick fix', () => {
  assert.equal(envName('PaymentApiKey'), 'PAYMENT_API_KEY');
  assert.equal(envName('HTTPTimeout', 'APP_'), 'APP_HTTP_TIMEOUT');
  assert.equal(envName('Oauth2Token'), 'OAUTH2_TOKEN');
  for (const v of ['PAYMENT_API_KEY', 'OAUTH2_TOKEN', 'MAX_RETRIES', 'X']) assert.equal(envName(settingNameForEnv(v)), v);
  assert.equal(settingNameForEnv('PAYMENT_API_KEY'), 'PaymentApiKey');
  assert.equal(looseEnvKey('Payment_ApiKey'), looseEnvKey('PAYMENTAPI_KEY'));
  const idx = indexSettingsByEnv(['ApiKey', 'API_KEY', 'Greeting']);
  assert.deepEqual(idx.byVariable.get('API_KEY'), ['ApiKey', 'API_KEY']);
});

const stage = [
  { name: 'PaymentApiKey', type: 'Text' as const, isSecret: true, hasValue: true, value: '*****', version: 4 },
  { name: 'SigningKey', type: 'Text' as const, isSecret: true, hasValue: false, value: null, version: 0 },
  { name: 'MaxRetries', type: 'Integer' as const, isSecret: false, hasValue: true, value: '3', version: 2 },
  { name: 'Greeting', type: 'Text' as const, isSecret: false, hasValue: true, value: 'hello', version: 1 },
  { name: 'Certificate', type: 'Text' as const, isSecret: true, hasValue: false, value: null, version: 0 },
];

test('the preview sets, changes, leaves alone and refuses with reasons; changes carry the versions', () => {
  const file = 'PAYMENT_API_KEY=canary-one\nSIGNING_KEY="quoted # not a comment"\nMAX_RETRIES=3\nGREETING=hi there # comment\nCERTIFICATE="-----BEGIN X-----\nline two\n-----END X-----"\n';
  const entries = parse(file);
  assert.equal(entries.CERTIFICATE, '-----BEGIN X-----\nline two\n-----END X-----', 'dotenv keeps a multi-line quoted value whole');
  const preview = previewDotenvImport(entries, stage);
  assert.deepEqual(
    preview.rows.map((r) => [r.variable, r.setting, r.action]),
    [
      ['PAYMENT_API_KEY', 'PaymentApiKey', 'change'],
      ['SIGNING_KEY', 'SigningKey', 'set'],
      ['MAX_RETRIES', 'MaxRetries', 'unchanged'],
      ['GREETING', 'Greeting', 'change'],
      ['CERTIFICATE', 'Certificate', 'set'],
    ],
  );
  assert.deepEqual(
    preview.changes.map((c) => [c.name, c.baseVersion]),
    [
      ['PaymentApiKey', 4],
      ['SigningKey', 0],
      ['Greeting', 1],
      ['Certificate', 0],
    ],
  );
  assert.equal(preview.changes[1]!.value, 'quoted # not a comment');
});

test('any refused line (unknown name, invalid value, missing prefix) refuses the whole write; no row shows a value', () => {
  const canary = 'canary-value-not-an-int';
  const preview = previewDotenvImport({ MAX_RETRIES: canary, UNKNOWN_THING: 'x', GREETING: 'hi' }, stage);
  assert.deepEqual(
    preview.rows.map((r) => r.action),
    ['refused', 'refused', 'change'],
  );
  assert.equal(preview.changes.length, 0);
  assert.equal(preview.refused, 2);
  const text = preview.rows.map(formatImportRow).join('\n');
  assert.match(text, /MAX_RETRIES -> MaxRetries: the value must be a whole number/);
  assert.match(text, /UNKNOWN_THING: no setting maps to UNKNOWN_THING/);
  assert.ok(!text.includes(canary));
  const prefixed = previewDotenvImport({ APP_GREETING: 'hi', GREETING: 'hi' }, stage, 'APP_');
  assert.deepEqual(
    prefixed.rows.map((r) => [r.action, r.reason ?? '']),
    [
      ['change', ''],
      ['refused', 'no setting maps to GREETING (names need the prefix APP_)'],
    ],
  );
});
