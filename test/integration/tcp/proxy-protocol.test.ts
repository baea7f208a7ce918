// PROXY protocol through the TCP frontend: send-proxy to servers, accept-proxy from clients,
// and rejection of malformed headers. Servers decode with our own parser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import { encodeProxyV1, encodeProxyV2, parseProxyHeader, type ProxyParseResult } from '../../../src/proxy/tcp/proxy-protocol.ts';
import { readProxyHeader } from '../../../src/proxy/accept-proxy.ts';
import { BackendPool } from '../../../src/pool/backend-pool.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import { backendCfg, connect, frontendCfg, listenServer, readAll, serverCfg, startFrontend } from './fixtures.ts';

/** A server that reads its whole input, splits off the PROXY header and reports both parts. */
async function proxyAwareServer(): Promise<{ port: number; got: Promise<{ header: ProxyParseResult; payload: string }>[]; close(): Promise<void> }> {
  const got: Promise<{ header: ProxyParseResult; payload: string }>[] = [];
  const srv = await listenServer((s) => {
    got.push(
      readAll(s).then((b) => {
        const header = parseProxyHeader(b);
        const payload = header.status === 'ok' ? b.subarray(header.consumed).toString() : b.toString();
        return { header, payload };
      }),
    );
    s.end('ack');
  });
  return { port: srv.port, got, close: () => srv.close() };
}

for (const version of ['v1', 'v2'] as const) {
  test(`send-proxy ${version}: the server learns the real client address first, then the payload`, async () => {
    const srv = await proxyAwareServer();
    const h = await startFrontend(backendCfg([serverCfg('s1', srv.port, { sendProxy: version })]));
    try {
      const c = await connect(h.port);
      const myPort = c.localPort;
      const reply = readAll(c);
      c.end('payload bytes');
      assert.equal((await reply).toString(), 'ack');
      const { header, payload } = await srv.got[0]!;
      assert.equal(header.status, 'ok');
      if (header.status !== 'ok') return;
      assert.equal(header.version, version === 'v1' ? 1 : 2);
      assert.deepEqual(header.source, { family: 4, address: '127.0.0.1', port: myPort });
      assert.deepEqual(header.dest, { family: 4, address: '127.0.0.1', port: h.port });
      assert.equal(payload, 'payload bytes');
    } finally {
      await h.close();
      await srv.close();
    }
  });

  test(`accept-proxy ${version}: the server sees only the payload; log and send-proxy carry the announced client`, async () => {
    const srv = await proxyAwareServer();
    const h = await startFrontend(backendCfg([serverCfg('s1', srv.port, { sendProxy: 'v2' })]), frontendCfg({}, true));
    try {
      const c = await connect(h.port);
      const reply = readAll(c);
      const enc = version === 'v1' ? encodeProxyV1 : encodeProxyV2;
      // Header and payload in one segment: the bytes after the header must not be lost.
      c.write(Buffer.concat([enc({ address: '203.0.113.7', port: 4321 }, { address: '198.51.100.1', port: 443 }), Buffer.from('hello ')]));
      setTimeout(() => c.end('world'), 20);
      assert.equal((await reply).toString(), 'ack');
      const { header, payload } = await srv.got[0]!;
      assert.equal(payload, 'hello world');
      assert.equal(header.status, 'ok');
      if (header.status !== 'ok') return;
      assert.deepEqual(header.source, { family: 4, address: '203.0.113.7', port: 4321 });
      assert.deepEqual(header.dest, { family: 4, address: '198.51.100.1', port: 443 });
      const rec = await h.logs.nextAccess(1);
      assert.equal(rec.client, '203.0.113.7:4321');
      assert.equal(rec.termination, 'closed');
    } finally {
      await h.close();
      await srv.close();
    }
  });
}

test('accept-proxy: source hashing uses the announced client address', async () => {
  const servers = await Promise.all([0, 1, 2].map(() => listenServer((s) => s.end())));
  const be = backendCfg(
    servers.map((s, i) => serverCfg(`s${i}`, s.port)),
    { balance: { algorithm: 'source' } },
  );
  // A second pool with the same config tells which server each address hashes to.
  const oracle = new BackendPool(be, { log: silentLogger() });
  const h = await startFrontend(be, frontendCfg({}, true));
  try {
    const seen = new Set<string>();
    for (let i = 1; i <= 12; i++) {
      const ip = `192.0.2.${i * 17}`;
      const expect = oracle.acquire({ sourceIp: ip, uri: '', random: Math.random });
      assert.ok(typeof expect === 'object' && !(expect instanceof Promise));
      oracle.release(expect, 'ok');
      const c = await connect(h.port);
      c.end(encodeProxyV1({ address: ip, port: 1000 + i }, { address: '127.0.0.1', port: h.port }));
      await readAll(c);
      const rec = await h.logs.nextAccess(i);
      assert.equal(rec.client, `${ip}:${1000 + i}`);
      assert.equal(rec.server, expect.name, `client ${ip}`);
      seen.add(rec.server);
    }
    // The real peer is always 127.0.0.1: more than one server proves the announced address was hashed.
    assert.ok(seen.size > 1, `all 12 clients went to ${[...seen].join()}`);
  } finally {
    oracle.close();
    await h.close();
    for (const s of servers) await s.close();
  }
});

test('accept-proxy: malformed headers close the connection before any server is contacted', async () => {
  let contacted = 0;
  const srv = await listenServer((s) => {
    contacted++;
    s.end();
  });
  const h = await startFrontend(backendCfg([serverCfg('s1', srv.port)]), frontendCfg({}, true));
  try {
    const bad = [
      'GET / HTTP/1.1\r\nHost: x\r\n\r\n',
      'PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n',
      'PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n',
      `PROXY UNKNOWN ${'x'.repeat(120)}\r\n`,
      '\r\n\r\n\x00\r\nQUIT\n\x21\x41\x00\x0c' + 'x'.repeat(12),
    ];
    for (let i = 0; i < bad.length; i++) {
      const c = await connect(h.port);
      c.write(Buffer.from(bad[i]!, 'latin1'));
      assert.equal((await readAll(c)).length, 0);
      const rec = await h.logs.nextAccess(i + 1);
      assert.equal(rec.termination, 'bad-proxy-header');
    }
    assert.equal(contacted, 0);
    assert.equal(h.logs.lines.filter((l) => l.msg === 'PROXY header rejected, connection closed').length, bad.length);
  } finally {
    await h.close();
    await srv.close();
  }
});

test('accept-proxy: a client that never completes the header is cut at the header timeout', async () => {
  const srv = await listenServer((s) => s.end());
  const h = await startFrontend(backendCfg([serverCfg('s1', srv.port)]), frontendCfg({}, true), { proxyHeaderTimeoutMs: 200 });
  try {
    const c = await connect(h.port);
    c.write('PROXY TCP4 1.2.3.4');
    const t0 = Date.now();
    await readAll(c);
    assert.ok(Date.now() - t0 >= 150);
    const rec = await h.logs.nextAccess(1);
    assert.equal(rec.termination, 'bad-proxy-header');
    assert.match(rec.error ?? '', /within 200 ms/);
  } finally {
    await h.close();
    await srv.close();
  }
});

test('readProxyHeader hands an HTTP server the request that followed the header', async () => {
  // The contract the HTTP frontend relies on: emit('connection') then resume().
  const hs = http.createServer((req, res) => res.end(`${String((req.socket as net.Socket & { realClient?: string }).realClient)} ${req.url}`));
  const srv = net.createServer({ pauseOnConnect: true }, (sock) => {
    void readProxyHeader(sock, 1000).then((h) => {
      if (!h.ok) return;
      (sock as net.Socket & { realClient?: string }).realClient = h.client.address;
      hs.emit('connection', sock);
      sock.resume();
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  try {
    const c = await connect((srv.address() as net.AddressInfo).port);
    c.write(encodeProxyV2({ address: '2001:db8::9', port: 5 }, { address: '2001:db8::1', port: 80 }));
    c.write('GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const res = (await readAll(c)).toString();
    assert.match(res, /^HTTP\/1\.1 200/);
    assert.match(res, /2001:db8::9 \/a$/);
  } finally {
    srv.close();
    hs.close();
  }
});
