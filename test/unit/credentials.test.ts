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

const lower = (n: number) => [...randomBytes(n)].map((b) => 'abcdefghijklmnopqrstuvwxyz'[b % 26]).join('');

// Each value pattern: values it must recognise, and near misses (one detail wrong) it must not
// take for that kind. A near miss may still be flagged as something else (say, a random token).
const PATTERNS: Array<{ kind: string; positives: string[]; nearMisses: string[] }> = [
  {
    kind: 'a GitHub token',
    positives: ['ghp_' + alnum(36), 'gho_' + alnum(40), 'ghs_' + alnum(36), 'github_pat_' + alnum(22) + '_' + alnum(59)],
    nearMisses: ['ghx_' + alnum(36), 'ghp_' + alnum(35), 'github_pat_' + alnum(21)],
  },
  { kind: 'a GitLab token', positives: ['glpat-' + alnum(20)], nearMisses: ['glpat-' + alnum(19), 'glpat_' + alnum(20)] },
  {
    kind: 'a Stripe secret key',
    positives: ['sk_live_' + alnum(24), 'rk_test_' + alnum(16)],
    // A publishable key is meant to be public.
    nearMisses: ['pk_live_' + alnum(24), 'sk_live_' + alnum(15), 'sk_prod_' + alnum(24)],
  },
  { kind: 'a Slack token', positives: ['xoxb-' + alnum(12) + '-' + alnum(24), 'xoxp-' + alnum(10)], nearMisses: ['xoxz-' + alnum(12), 'xoxb-' + alnum(9)] },
  { kind: 'an AWS access key id', positives: ['AKIA' + upper(16), 'ASIA' + upper(16)], nearMisses: ['AKIA' + upper(15), 'AKIB' + upper(16), 'AKIA' + lower(16)] },
  { kind: 'a Google API key', positives: ['AIza' + alnum(35)], nearMisses: ['AIza' + alnum(34), 'AIzb' + alnum(35)] },
  { kind: 'an OpenAI API key', positives: ['sk-' + alnum(48), 'sk-proj-' + alnum(40)], nearMisses: ['sk-' + alnum(19), 'sk+' + alnum(48)] },
  { kind: 'an npm token', positives: ['npm_' + alnum(36)], nearMisses: ['npm_' + alnum(35), 'npn_' + alnum(36)] },
  {
    kind: 'a SendGrid API key',
    positives: ['SG.' + alnum(22) + '.' + alnum(43)],
    nearMisses: ['SG.' + alnum(15) + '.' + alnum(43), 'SG.' + alnum(22) + '.' + alnum(15), 'SG-' + alnum(22) + '.' + alnum(43)],
  },
  {
    kind: 'a PEM key or certificate block',
    positives: ['-----BEGIN RSA PRIVATE KEY-----\nMIIB' + alnum(40) + '\n-----END RSA PRIVATE KEY-----', '-----BEGIN CERTIFICATE-----\n' + alnum(64)],
    nearMisses: ['----BEGIN RSA PRIVATE KEY----', '-----BEGIN private key-----', '-----END CERTIFICATE-----'],
  },
  {
    kind: 'a JSON Web Token',
    positives: ['eyJ' + alnum(20) + '.eyJ' + alnum(30) + '.' + alnum(43)],
    nearMisses: ['eyJ' + alnum(20) + '.' + alnum(30) + '.' + alnum(43), 'eyJ' + alnum(20) + '.eyJ' + alnum(30)],
  },
  {
    kind: 'a URL with a password in it',
    positives: ['postgres://app:' + alnum(12) + '@db.example.com:5432/orders', 'https://user:' + alnum(10) + '@example.com/'],
    nearMisses: ['postgres://app@db.example.com:5432/orders', 'https://db.example.com:5432/orders', 'see postgres://app:' + lower(8) + '@db'],
  },
  {
    kind: 'a connection string with a password',
    positives: ['Server=db;Database=orders;User Id=app;Password=' + alnum(12) + ';', 'host=db;pwd=' + alnum(8)],
    nearMisses: ['Server=db;Database=orders;User Id=app;Password=;', 'Server=db;PasswordMinLength=8'],
  },
];

for (const p of PATTERNS) {
  test(`${p.kind}: recognised by its form; near misses are not taken for it`, () => {
    for (const value of p.positives) {
      // Exactly this fixed object: the hint names the kind and never carries any of the value.
      assert.deepEqual(credentialHint('Anything', value), { kind: p.kind, basis: 'value' }, `a hint for ${JSON.stringify(value.slice(0, 12))}...`);
    }
    for (const value of p.nearMisses) {
      assert.notEqual(credentialHint('Anything', value)?.kind, p.kind, `near miss ${JSON.stringify(value)}`);
    }
  });
}

test('long high-entropy strings are flagged; ordinary values are not', () => {
  assert.ok(isHighEntropyToken(alnum(40)));
  assert.ok(isHighEntropyToken(randomBytes(24).toString('base64')));
  assert.ok(isHighEntropyToken(randomBytes(20).toString('hex')));
  for (const random of [alnum(40), randomBytes(24).toString('base64'), randomBytes(20).toString('hex')]) {
    assert.deepEqual(credentialHint('Setting', random), { kind: 'a random key or token', basis: 'value' }, 'a random-looking default is flagged');
  }
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
