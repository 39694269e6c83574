// The portal URL check that runs before a token is ever sent: plain http only to loopback
// unless odcSettings.allowInsecureHttp is on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkServerUrl } from '../../extension/services/serverUrl';

test('plain http to loopback is allowed, trailing slashes dropped', () => {
  for (const url of ['http://127.0.0.1:4650', 'http://localhost:4650/', 'http://[::1]:4650', 'http://127.1.2.3:80']) {
    const r = checkServerUrl(url, false);
    assert.equal(r.ok, true, url);
  }
  assert.deepEqual(checkServerUrl('http://127.0.0.1:4650/', false), { ok: true, url: 'http://127.0.0.1:4650' });
});

test('plain http to another host is refused unless the setting is on; https is fine', () => {
  const refused = checkServerUrl('http://portal.example.com', false);
  assert.equal(refused.ok, false);
  assert.match(refused.ok ? '' : refused.message, /odcSettings\.allowInsecureHttp/);
  assert.equal(checkServerUrl('http://portal.example.com', true).ok, true);
  assert.equal(checkServerUrl('https://portal.example.com', false).ok, true);
  // A name that only starts like loopback is not loopback.
  assert.equal(checkServerUrl('http://127.0.0.1.evil.example', false).ok, false);
});

test('not a URL, another scheme, or credentials in the URL are refused', () => {
  for (const url of ['portal', 'ftp://127.0.0.1', 'file:///etc/passwd', 'http://user:pw@127.0.0.1:4650']) {
    assert.equal(checkServerUrl(url, true).ok, false, url);
  }
});
