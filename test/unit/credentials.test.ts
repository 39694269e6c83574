// common/credentials.ts: which non-secret defaults look like credentials, and that the hint
// never carries the value.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { credentialHint, entropy, isHighEntropyToken } from '../../common/credentials';

// Built at run time from random bytes, so no token-shaped literal sits in the repository.
const alnum = (n: number) => {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(n)].map((b) => chars[b % chars.length]).join('');
};
const upper = (n: number) => [...randomBytes(n)].map((b) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'[b % 32]).join('');

test('well-known token prefixes are recognised by their form', () => {
  const cases: Array<[string, RegExp]> = [
    ['ghp_' + alnum(36), /GitHub/],
    ['github_pat_' + alnum(22) + '_' + alnum(59), /GitHub/],
    ['sk_live_' + alnum(24), /Stripe/],
    ['xoxb-' + alnum(12) + '-' + alnum(24), /Slack/],
    ['AKIA' + upper(16), /AWS/],
    ['AIza' + alnum(35), /Google/],
    ['glpat-' + alnum(20), /GitLab/],
    ['-----BEGIN RSA PRIVATE KEY-----\nMIIB' + alnum(40) + '\n-----END RSA PRIVATE KEY-----', /PEM/],
    ['-----BEGIN CERTIFICATE-----\n' + alnum(64), /PEM/],
    ['eyJ' + alnum(20) + '.eyJ' + alnum(30) + '.' + alnum(43), /JSON Web Token/],
    ['postgres://app:' + alnum(12) + '@db.example.com:5432/orders', /password/],
    ['Server=db;Database=orders;User Id=app;Password=' + alnum(12) + ';', /password/],
  ];
  for (const [value, kind] of cases) {
    const hint = credentialHint('Anything', value);
    assert.ok(hint, `expected a hint for a ${kind} value`);
    assert.match(hint.kind, kind);
    assert.equal(hint.basis, 'value');
    assert.ok(!hint.kind.includes(value.slice(0, 8)), 'the hint never carries the value');
  }
});

test('long high-entropy strings are flagged; ordinary values are not', () => {
  assert.ok(isHighEntropyToken(alnum(40)));
  assert.ok(isHighEntropyToken(randomBytes(24).toString('base64')));
  assert.ok(isHighEntropyToken(randomBytes(20).toString('hex')));
  for (const ordinary of [
    'https://api.example.com/v1/orders',
    'hello world',
    'orders-service',
    'ThisIsAVeryLongButOrdinaryIdentifierName',
    '12345678901234567890123456789',
    'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1',
    '2025-01-31T10:00:00Z',
    'name@example.com',
    '3',
    'True',
  ]) {
    assert.equal(credentialHint('Setting', ordinary), undefined, `no hint for ${JSON.stringify(ordinary)}`);
  }
  assert.ok(entropy('abcd') > entropy('aaab'));
});

test('credential-like names with a non-empty default are flagged by name', () => {
  for (const name of ['DbPassword', 'ClientSecret', 'AccessToken', 'PaymentApiKey', 'SMTP_PASSWORD', 'Password', 'AwsAccessKey']) {
    assert.deepEqual(credentialHint(name, 'changeme'), { kind: 'a credential (by its name)', basis: 'name' }, name);
  }
  // Empty or absent defaults, flags, and names that only contain the word are not.
  assert.equal(credentialHint('DbPassword', ''), undefined);
  assert.equal(credentialHint('DbPassword', undefined), undefined);
  assert.equal(credentialHint('UseToken', 'True'), undefined);
  assert.equal(credentialHint('PasswordMinLength', '8'), undefined);
  assert.equal(credentialHint('TokenLifetimeMinutes', '30'), undefined);
  assert.equal(credentialHint('MaxRetries', '3'), undefined);
});
