import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildRequestHead, forwardedElement, unmapIpv4, type ForwardingOptions, type RequestHeadInput } from '../../../../src/proxy/http1/request-head.ts';
import { compileHeaderOps } from '../../../../src/proxy/http1/header-ops.ts';

const plain: ForwardingOptions = { forwardfor: false, forwarded: false, requestOps: [] };
const fwd: ForwardingOptions = { forwardfor: true, forwarded: true, requestOps: [] };

function build(raw: string[], opts = plain, over: Partial<RequestHeadInput> = {}) {
  return buildRequestHead({ method: 'GET', url: '/p?q', rawHeaders: raw, clientIp: '10.0.0.9', proto: 'http', upgrade: false, ...over }, opts);
}

function headOf(raw: string[], opts = plain, over: Partial<RequestHeadInput> = {}): string {
  const h = build(raw, opts, over);
  assert.ok(h.ok, JSON.stringify(h));
  return h.head;
}

test('plain request is passed with HTTP/1.1 and headers in order', () => {
  assert.equal(headOf(['Host', 'a.example', 'Accept', '*/*']), 'GET /p?q HTTP/1.1\r\nHost: a.example\r\nAccept: */*\r\n\r\n');
});

test('hop-by-hop headers and the ones Connection lists are removed', () => {
  const head = headOf([
    'Host', 'h', 'Connection', 'keep-alive, X-Secret , close', 'Keep-Alive', 'timeout=5', 'TE', 'trailers',
    'Trailer', 'x', 'Upgrade', 'h2c', 'Proxy-Connection', 'keep-alive', 'x-secret', 's', 'X-Keep', 'k', 'Expect', '100-continue',
  ]);
  assert.equal(head, 'GET /p?q HTTP/1.1\r\nHost: h\r\nX-Keep: k\r\n\r\n');
});

test('upgrade path keeps Upgrade and sends Connection: Upgrade', () => {
  const head = headOf(['Host', 'h', 'Connection', 'Upgrade', 'Upgrade', 'websocket', 'Sec-WebSocket-Key', 'k'], plain, { upgrade: true });
  assert.equal(head, 'GET /p?q HTTP/1.1\r\nHost: h\r\nSec-WebSocket-Key: k\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
});

test('body framing: length, chunked, none', () => {
  const l = build(['Host', 'h', 'Content-Length', '5'], plain, { method: 'POST' });
  assert.ok(l.ok);
  assert.equal(l.framing, 'length');
  assert.equal(l.contentLength, 5);
  assert.match(l.head, /Content-Length: 5\r\n/);
  const c = build(['Host', 'h', 'Transfer-Encoding', 'chunked'], plain, { method: 'POST' });
  assert.ok(c.ok);
  assert.equal(c.framing, 'chunked');
  assert.match(c.head, /\r\nTransfer-Encoding: chunked\r\n/);
  const z = build(['Host', 'h', 'Content-Length', '0'], plain, { method: 'POST' });
  assert.ok(z.ok);
  assert.equal(z.framing, 'none');
  assert.doesNotMatch(z.head, /Content-Length/);
});

test('smuggling shapes are rejected', () => {
  assert.deepEqual(build(['Host', 'h', 'Content-Length', '3', 'Transfer-Encoding', 'chunked']), { ok: false, status: 400, reason: 'both Content-Length and Transfer-Encoding' });
  assert.deepEqual(build(['Host', 'h', 'Content-Length', '3', 'Content-Length', '4']), { ok: false, status: 400, reason: 'conflicting Content-Length' });
  assert.deepEqual(build(['Host', 'h', 'Content-Length', '+3']), { ok: false, status: 400, reason: 'invalid Content-Length' });
  assert.deepEqual(build(['Host', 'a', 'Host', 'b']), { ok: false, status: 400, reason: 'more than one Host header' });
  assert.deepEqual(build(['Host', 'h', 'Transfer-Encoding', 'gzip, chunked']), { ok: false, status: 501, reason: 'unsupported Transfer-Encoding' });
  assert.deepEqual(build(['Host', 'h', 'Transfer-Encoding', 'chunked', 'Transfer-Encoding', 'chunked']), { ok: false, status: 501, reason: 'unsupported Transfer-Encoding' });
});

test('X-Forwarded-* appended/replaced, Forwarded appended', () => {
  const head = headOf(['Host', 'shop.example:8080', 'X-Forwarded-For', '1.1.1.1', 'x-forwarded-for', '2.2.2.2', 'X-Forwarded-Proto', 'https', 'Forwarded', 'for=1.1.1.1'], fwd);
  assert.equal(
    head,
    'GET /p?q HTTP/1.1\r\nHost: shop.example:8080\r\n' +
      'X-Forwarded-For: 1.1.1.1, 2.2.2.2, 10.0.0.9\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: shop.example:8080\r\n' +
      'Forwarded: for=1.1.1.1, for=10.0.0.9;proto=http;host="shop.example:8080"\r\n\r\n',
  );
});

test('Forwarded quotes IPv6 and maps v4-in-v6', () => {
  assert.equal(forwardedElement('::1', 'http', 'h'), 'for="[::1]";proto=http;host=h');
  assert.equal(unmapIpv4('::ffff:10.1.2.3'), '10.1.2.3');
  assert.equal(unmapIpv4('::1'), '::1');
  const head = headOf(['Host', 'h'], { forwardfor: true, forwarded: false, requestOps: [] }, { clientIp: '::ffff:192.0.2.1' });
  assert.match(head, /X-Forwarded-For: 192\.0\.2\.1\r\n/);
});

test('HTTP/1.0 request without Host gets an empty Host', () => {
  assert.equal(headOf([]), 'GET /p?q HTTP/1.1\r\nHost: \r\n\r\n');
});

test('user ops run before forwarding headers are added', () => {
  const ops = compileHeaderOps([{ action: 'set', name: 'X-Env', value: 'prod' }, { action: 'del', name: 'cookie' }]);
  const head = headOf(['Host', 'h', 'Cookie', 'a=1', 'X-Env', 'dev'], { forwardfor: true, forwarded: false, requestOps: ops });
  assert.equal(head, 'GET /p?q HTTP/1.1\r\nHost: h\r\nX-Env: prod\r\nX-Forwarded-For: 10.0.0.9\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: h\r\n\r\n');
});

test('client certificate headers: the verified subject and SUCCESS; forged ones from the client removed', () => {
  const cc: ForwardingOptions = { ...plain, clientCert: { dn: 'X-SSL-Client-DN', verify: 'X-SSL-Client-Verify' } };
  const raw = ['Host', 'a', 'x-ssl-client-dn', '/CN=admin', 'X-SSL-Client-Verify', 'SUCCESS', 'Accept', '*/*'];
  const verified = headOf(raw, cc, { tls: { clientDn: '/CN=client one', clientVerified: true } });
  assert.equal(verified, 'GET /p?q HTTP/1.1\r\nHost: a\r\nAccept: */*\r\nX-SSL-Client-Verify: SUCCESS\r\nX-SSL-Client-DN: /CN=client one\r\n\r\n');
  const anonymous = headOf(raw, cc, { tls: { clientDn: undefined, clientVerified: false } });
  assert.equal(anonymous, 'GET /p?q HTTP/1.1\r\nHost: a\r\nAccept: */*\r\nX-SSL-Client-Verify: NONE\r\n\r\n');
  // without mTLS the names mean nothing to halb and pass as they came
  assert.match(headOf(raw, plain), /x-ssl-client-dn: \/CN=admin/);
});
