// The ALPN list of a ClientHello (RFC 7301), read before the handshake: how halb tells an ACME
// TLS-ALPN-01 validation (acme-tls/1, RFC 8737) from a client. ClientHellos written by node's TLS client.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { duplexPair } from 'node:stream';
import tls from 'node:tls';
import { clientHelloAlpn, clientHelloName } from '../../../../src/proxy/tls/client-hello.ts';

function hello(opts: tls.ConnectionOptions): Promise<Buffer> {
  const [a, b] = duplexPair();
  return new Promise((resolve) => {
    b.once('data', (d: Buffer) => {
      resolve(d);
      s.destroy();
    });
    const s = tls.connect({ socket: a, rejectUnauthorized: false, ...opts });
    s.on('error', () => undefined);
  });
}

test('ALPN protocols in offer order, beside the server name', async () => {
  const h = await hello({ servername: 'a.test', ALPNProtocols: ['acme-tls/1'] });
  assert.deepEqual(clientHelloAlpn(h), ['acme-tls/1']);
  assert.deepEqual(clientHelloName(h), { done: true, servername: 'a.test' });
  assert.deepEqual(clientHelloAlpn(await hello({ servername: 'a.test', ALPNProtocols: ['h2', 'http/1.1'] })), ['h2', 'http/1.1']);
});

test('no ALPN, a cut hello, or no TLS at all: none', async () => {
  const h = await hello({ servername: 'a.test' });
  assert.deepEqual(clientHelloAlpn(h), []);
  const withAlpn = await hello({ servername: 'a.test', ALPNProtocols: ['acme-tls/1'] });
  assert.deepEqual(clientHelloAlpn(withAlpn.subarray(0, withAlpn.length - 1)), []);
  assert.deepEqual(clientHelloAlpn(Buffer.from('GET / HTTP/1.1\r\n\r\n')), []);
});
