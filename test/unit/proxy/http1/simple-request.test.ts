import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSimpleRequest } from '../../../../src/proxy/http1/simple-request.ts';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

test('plain GET and HEAD are simple, with raw headers and the end offset', () => {
  const text = 'GET /a?b=1 HTTP/1.1\r\nHost: x\r\nAccept:  */* \r\n\r\nGET';
  const r = parseSimpleRequest(b(text), 0, 16384);
  assert.ok(typeof r !== 'string');
  assert.equal(r.method, 'GET');
  assert.equal(r.url, '/a?b=1');
  assert.deepEqual(r.rawHeaders, ['Host', 'x', 'Accept', '*/*']);
  assert.equal(r.host, 'x');
  assert.equal(r.end, text.length - 3);
  const h = parseSimpleRequest(b('HEAD / HTTP/1.1\r\nhost: y\r\nConnection: keep-alive\r\n\r\n'), 0, 16384);
  assert.ok(typeof h !== 'string' && h.method === 'HEAD' && h.host === 'y');
});

test('plain: no hop-by-hop header, so the head may be forwarded byte for byte', () => {
  const plain = (head: string): boolean => {
    const r = parseSimpleRequest(b(`GET / HTTP/1.1\r\nHost: x\r\n${head}\r\n`), 0, 16384);
    assert.ok(typeof r !== 'string', head);
    return r.plain;
  };
  assert.equal(plain(''), true);
  assert.equal(plain('Accept: */*\r\nX-Forwarded-For: 1.2.3.4\r\nTEA: 1\r\n'), true);
  for (const hop of ['Connection: keep-alive', 'Keep-Alive: 5', 'TE: trailers', 'Trailer: x', 'Proxy-Connection: keep-alive', 'te: x']) {
    assert.equal(plain(`${hop}\r\n`), false, hop);
  }
});

test('Connection: close is simple: the connection ends after the response; other tokens are not', () => {
  const close = parseSimpleRequest(b('GET / HTTP/1.1\r\nHost: x\r\nConnection: Close\r\n\r\n'), 0, 16384);
  assert.ok(typeof close !== 'string');
  assert.equal(close.close, true);
  assert.equal(close.plain, false);
  const keep = parseSimpleRequest(b('GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n'), 0, 16384);
  assert.ok(typeof keep !== 'string');
  assert.equal(keep.close, false);
});

test('a head not complete yet is incomplete; past the limit it is other', () => {
  assert.equal(parseSimpleRequest(b('GET / HTTP/1.1\r\nHost: x\r\n'), 0, 16384), 'incomplete');
  assert.equal(parseSimpleRequest(b(`GET / HTTP/1.1\r\nHost: x\r\nX: ${'a'.repeat(100)}`), 0, 50), 'other');
  assert.equal(parseSimpleRequest(b(`GET / HTTP/1.1\r\nHost: x\r\nX: ${'a'.repeat(100)}\r\n\r\n`), 0, 50), 'other');
});

test('every other shape goes to node', () => {
  const other = [
    'POST / HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET / HTTP/1.0\r\nHost: x\r\n\r\n',
    'GET http://x/ HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET / HTTP/1.1\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: x\r\nConnection: close, X-Secret\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: x\r\nConnection: TE\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: x\nX: a\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: x\r\nBad Name: a\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: x\r\nX: a\x00b\r\n\r\n',
    'GET /\x7f HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET  / HTTP/1.1\r\nHost: x\r\n\r\n',
  ];
  for (const t of other) assert.equal(parseSimpleRequest(b(t), 0, 16384), 'other', JSON.stringify(t));
});
