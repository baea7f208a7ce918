import { test } from 'node:test';
import assert from 'node:assert/strict';
import { h1RawHeaders, h2ResponseHeaders } from '../../../../src/proxy/h2/h2-exchange.ts';

test('h1RawHeaders: pseudo-headers dropped, :authority as Host first, cookies joined, chunked for a body without content-length', () => {
  const raw = [':method', 'POST', ':path', '/x', ':scheme', 'https', ':authority', 'a.test', 'cookie', 'a=1', 'user-agent', 'ua', 'cookie', 'b=2', 'te', 'trailers'];
  assert.deepEqual(h1RawHeaders(raw, 'a.test', true), ['host', 'a.test', 'user-agent', 'ua', 'cookie', 'a=1; b=2', 'transfer-encoding', 'chunked']);
  assert.deepEqual(h1RawHeaders([':path', '/', 'content-length', '3'], 'a.test', true), ['host', 'a.test', 'content-length', '3'], 'a length is kept, no chunked');
  assert.deepEqual(h1RawHeaders([':path', '/', 'host', 'h.test'], 'a.test', false), ['host', 'h.test'], 'a Host the client sent wins');
  assert.deepEqual(h1RawHeaders([':path', '/'], undefined, false), []);
});

test('h2ResponseHeaders: lower-case names, repeated ones as arrays, hop-by-hop and Connection-named ones dropped', () => {
  const h = h2ResponseHeaders(['Content-Type', 'text/plain', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'Set-Cookie', 'c=3', 'Connection', 'keep-alive, X-Hop', 'Keep-Alive', 'timeout=5', 'X-Hop', '1', 'Transfer-Encoding', 'chunked', 'X-Ok', 'y']);
  assert.deepEqual(h, { 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2', 'c=3'], 'x-ok': 'y' });
});
