import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkRequest, type CheckedRequest } from '../../../../src/proxy/http1/request-checks.ts';

const WS = ['Connection', 'Upgrade', 'Upgrade', 'websocket'];
const KEY = ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version', '13'];

function check(over: Partial<CheckedRequest> & { upgrade?: boolean }) {
  const { upgrade, ...r } = over;
  return checkRequest({ method: 'GET', httpVersionMajor: 1, httpVersionMinor: 1, url: '/', rawHeaders: ['Host', 'a'], ...r }, upgrade);
}

test('ordinary requests pass', () => {
  assert.equal(check({}), undefined);
  assert.equal(check({ httpVersionMinor: 0, rawHeaders: [] }), undefined);
  assert.equal(check({ rawHeaders: ['Host', 'a.example:8080'] }), undefined);
  assert.equal(check({ rawHeaders: ['Host', '[::1]:80'] }), undefined);
  assert.equal(check({ rawHeaders: ['Host', ''] }), undefined);
  assert.equal(check({ url: '*', method: 'OPTIONS' }), undefined);
});

test('HTTP/0.9 and HTTP/2.0 request lines are refused', () => {
  assert.deepEqual(check({ httpVersionMajor: 0, httpVersionMinor: 9, rawHeaders: [] }), { status: 400, reason: 'HTTP/0.9 request' });
  assert.deepEqual(check({ httpVersionMajor: 2, httpVersionMinor: 0 }), { status: 505, reason: 'HTTP/2.0 on an HTTP/1 connection' });
});

test('absolute-form: the authority must name the Host', () => {
  assert.equal(check({ url: 'http://a/x' }), undefined);
  assert.equal(check({ url: 'http://A:80/x' }), undefined, 'case and the default port do not matter');
  assert.equal(check({ url: 'https://a:443/', rawHeaders: ['Host', 'a'] }), undefined);
  assert.equal(check({ url: 'http://a:8080/', rawHeaders: ['Host', 'a:8080'] }), undefined);
  assert.deepEqual(check({ url: 'http://evil/' }), { status: 400, reason: 'request target authority differs from Host' });
  assert.deepEqual(check({ url: 'http://a:8080/' }), { status: 400, reason: 'request target authority differs from Host' });
  assert.deepEqual(check({ url: 'http://u@a/' }), { status: 400, reason: 'userinfo in the request target' });
  assert.deepEqual(check({ url: 'ftp://a/' }), { status: 400, reason: 'request target with scheme ftp' });
  assert.deepEqual(check({ url: 'http:///x' }), { status: 400, reason: 'invalid authority in the request target' });
  assert.deepEqual(check({ url: 'http://a/', httpVersionMinor: 0, rawHeaders: [] }), { status: 400, reason: 'absolute-form request target without Host' });
});

test('HTTP/1.1 needs a Host; HTTP/1.0 may omit it', () => {
  assert.deepEqual(check({ rawHeaders: [] }), { status: 400, reason: 'HTTP/1.1 request without Host' });
  assert.equal(check({ httpVersionMinor: 0, rawHeaders: [] }), undefined);
});

test('a Host that is no host is refused', () => {
  for (const h of ['a b', 'a/b', 'a:b', 'a\\b', 'a:123456', '[::1']) {
    assert.deepEqual(check({ rawHeaders: ['Host', h] }), { status: 400, reason: 'invalid Host header' }, h);
  }
});

test('WebSocket upgrades need one key and a version, and GET', () => {
  assert.equal(check({ upgrade: true, rawHeaders: ['Host', 'a', ...WS, ...KEY] }), undefined);
  assert.deepEqual(check({ upgrade: true, rawHeaders: ['Host', 'a', ...WS] }), { status: 400, reason: 'WebSocket upgrade without Sec-WebSocket-Key' });
  assert.deepEqual(check({ upgrade: true, rawHeaders: ['Host', 'a', ...WS, 'Sec-WebSocket-Key', 'k'] }), {
    status: 400,
    reason: 'WebSocket upgrade without Sec-WebSocket-Version',
  });
  assert.deepEqual(check({ upgrade: true, rawHeaders: ['Host', 'a', ...WS, ...KEY, 'sec-websocket-key', 'k2'] }), { status: 400, reason: 'more than one Sec-WebSocket-Key' });
  assert.deepEqual(check({ upgrade: true, method: 'POST', rawHeaders: ['Host', 'a', ...WS, ...KEY] }), {
    status: 400,
    reason: 'WebSocket upgrade with a method other than GET',
  });
  // Upgrade lists: websocket among others still counts; other protocols are not checked here
  assert.deepEqual(check({ upgrade: true, rawHeaders: ['Host', 'a', 'Connection', 'upgrade', 'Upgrade', 'foo, WebSocket'] }), {
    status: 400,
    reason: 'WebSocket upgrade without Sec-WebSocket-Key',
  });
  assert.equal(check({ upgrade: true, rawHeaders: ['Host', 'a', 'Connection', 'upgrade', 'Upgrade', 'h2c'] }), undefined);
  // not an upgrade to node (no Connection: upgrade): the Upgrade header is dropped as hop-by-hop
  assert.equal(check({ upgrade: false, rawHeaders: ['Host', 'a', 'Upgrade', 'websocket'] }), undefined);
});
