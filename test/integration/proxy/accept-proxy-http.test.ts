// accept_proxy on an HTTP bind: the address a front load balancer announces in the PROXY header
// is the client for X-Forwarded-For, source hashing and logs; a malformed header closes the
// connection before any server is contacted.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { BackendPool } from '../../../src/pool/backend-pool.ts';
import { encodeProxyV2 } from '../../../src/proxy/tcp/proxy-protocol.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import type { ServerState } from '../../../src/pool/server-state.ts';
import { startBackend, startProxy, backendConfig, frontendConfig, rawExchange, type Backend, type Proxy } from './proxy-harness.ts';

const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of closers.reverse()) await c();
});

async function setup(): Promise<{ proxy: Proxy; backends: Backend[]; reference: BackendPool }> {
  const backends = await Promise.all(['s1', 's2', 's3'].map((n) =>
    startBackend(n, (req, res, b) => {
      req.resume();
      req.on('end', () => res.end(`${b.name} xff=${req.headers['x-forwarded-for'] ?? ''}`));
    }),
  ));
  for (const b of backends) closers.push(() => b.close());
  const be = backendConfig('app', backends.map((b) => ({ name: b.name, port: b.port })), { balance: { algorithm: 'source' } });
  const proxy = await startProxy(frontendConfig({ bind: [{ host: '127.0.0.1', port: 0, acceptProxy: true }] }), [be]);
  closers.push(() => proxy.close());
  return { proxy, backends, reference: new BackendPool(be, { log: silentLogger() }) };
}

const request = 'GET / HTTP/1.1\r\nHost: example\r\nConnection: close\r\n\r\n';

test('PROXY v1 and v2: the announced client is X-Forwarded-For and the source-hash key', async () => {
  const { proxy, reference } = await setup();
  for (let i = 1; i <= 12; i++) {
    const ip = `203.0.113.${i * 7}`;
    const expected = reference.acquire({ sourceIp: ip, uri: '', random: Math.random }) as ServerState;
    reference.release(expected, 'ok');
    const v1 = await rawExchange(proxy.port, `PROXY TCP4 ${ip} 127.0.0.1 40000 80\r\n${request}`);
    assert.match(v1, /^HTTP\/1\.1 200/);
    assert.ok(v1.endsWith(`${expected.name} xff=${ip}`), v1);
    const header = encodeProxyV2({ address: ip, port: 40001 }, { address: '127.0.0.1', port: 80 });
    const v2 = await rawExchange(proxy.port, Buffer.concat([header, Buffer.from(request)]));
    assert.ok(v2.endsWith(`${expected.name} xff=${ip}`), v2);
  }
});

test('a malformed PROXY header closes the connection and reaches no server', async () => {
  const { proxy, backends } = await setup();
  for (const bad of ['PROXY TCP4 300.1.1.1 127.0.0.1 1 2\r\n', 'PROXY NOPE\r\n', 'GET / HTTP/1.1\r\n\r\n']) {
    const reply = await rawExchange(proxy.port, bad + request);
    assert.equal(reply, '', `no answer to ${JSON.stringify(bad)}`);
  }
  assert.equal(backends.reduce((n, b) => n + b.connections, 0), 0);
});
