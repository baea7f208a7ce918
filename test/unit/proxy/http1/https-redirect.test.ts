import { test } from 'node:test';
import assert from 'node:assert/strict';
import { httpsLocation } from '../../../../src/proxy/http1/https-redirect.ts';

test('https redirect: same host and path, the port dropped, the configured one added when not 443', () => {
  assert.equal(httpsLocation('a.test', '/x?y=1', undefined), 'https://a.test/x?y=1');
  assert.equal(httpsLocation('a.test:8080', '/', undefined), 'https://a.test/');
  assert.equal(httpsLocation('a.test:80', '/p', 443), 'https://a.test/p');
  assert.equal(httpsLocation('a.test', '/p', 8443), 'https://a.test:8443/p');
  assert.equal(httpsLocation('[::1]:80', '/p', 8443), 'https://[::1]:8443/p');
  assert.equal(httpsLocation('A.Test', '/', undefined), 'https://A.Test/');
});

test('https redirect: absolute-form and * targets', () => {
  assert.equal(httpsLocation('a.test', 'http://a.test/q?z', undefined), 'https://a.test/q?z');
  assert.equal(httpsLocation('a.test', 'http://a.test', undefined), 'https://a.test/');
  assert.equal(httpsLocation('a.test', '*', undefined), 'https://a.test/');
});

test('https redirect: no host, or one that could smuggle a header or another URL, gives none', () => {
  assert.equal(httpsLocation(undefined, '/', undefined), undefined);
  assert.equal(httpsLocation('', '/', undefined), undefined);
  assert.equal(httpsLocation('evil.test/x', '/', undefined), undefined);
  assert.equal(httpsLocation('a.test\r\nSet-Cookie: x', '/', undefined), undefined);
  assert.equal(httpsLocation('a@b', '/', undefined), undefined);
});
