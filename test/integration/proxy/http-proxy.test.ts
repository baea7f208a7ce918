import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { Writable } from 'node:stream';
import { backendConfig, closedPort, frontendConfig, rawExchange, request, startBackend, startProxy, type Backend, type Proxy } from './proxy-harness.ts';
import { AccessLog } from '../../../src/proxy/access-log.ts';
import { createLogger } from '../../../src/log/logger.ts';

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function backends(names: string[], handler?: Parameters<typeof startBackend>[1]): Promise<Backend[]> {
  const bs = await Promise.all(names.map((n) => startBackend(n, handler)));
  for (const b of bs) cleanups.push(() => b.close());
  return bs;
}

async function proxy(...args: Parameters<typeof startProxy>): Promise<Proxy> {
  const p = await startProxy(...args);
  cleanups.push(() => p.close());
  return p;
}

const servers = (bs: Backend[]) => bs.map((b) => ({ name: b.name, port: b.port }));

test('round robin spreads requests over 3 servers and reuses upstream connections', async () => {
  const bs = await backends(['s1', 's2', 's3']);
  const p = await proxy(frontendConfig(), [backendConfig('app', servers(bs))]);
  const seen: Record<string, number> = {};
  for (let i = 0; i < 30; i++) {
    const r = await request(p.port);
    assert.equal(r.status, 200);
    seen[r.body] = (seen[r.body] ?? 0) + 1;
  }
  assert.deepEqual(seen, { s1: 10, s2: 10, s3: 10 });
  // sequential requests: one pooled connection per server is enough
  for (const b of bs) assert.equal(b.connections, 1, `${b.name} connections`);
});

test('connect failures are retried and redispatched to a live server', async () => {
  const [live] = await backends(['live']);
  const dead1 = await closedPort();
  const dead2 = await closedPort();
  const p = await proxy(frontendConfig(), [
    backendConfig('app', [
      { name: 'dead1', port: dead1 },
      { name: 'dead2', port: dead2 },
      { name: 'live', port: live!.port },
    ]),
  ]);
  for (let i = 0; i < 9; i++) {
    const r = await request(p.port);
    assert.equal(r.status, 200);
    assert.equal(r.body, 'live');
  }
});

test('503 when every server is down, at once, and after connect retries are exhausted', async () => {
  const p = await proxy(frontendConfig(), [backendConfig('app', [{ name: 'x', port: await closedPort() }], { retries: 2 })]);
  const r = await request(p.port);
  assert.equal(r.status, 503);
  assert.match(r.body, /503/);
  const pool = p.pools.get('app')!;
  pool.setHealth('x', false, 'test');
  const t0 = performance.now();
  const r2 = await request(p.port);
  assert.equal(r2.status, 503);
  assert.ok(performance.now() - t0 < 500, 'no waiting when nothing is usable');
  assert.equal(pool.servers[0]!.active, 0, 'slots released');
});

test('504 when the server does not answer within timeouts.server', async () => {
  const [slow] = await backends(['slow'], (req) => req.resume());
  const be = backendConfig('app', servers([slow!]));
  be.timeouts.server = 300;
  const p = await proxy(frontendConfig(), [be]);
  const r = await request(p.port);
  assert.equal(r.status, 504);
  assert.equal(p.pools.get('app')!.servers[0]!.active, 0);
});

test('502 when the server resets or sends garbage', async () => {
  const [bad] = await backends(['bad'], (req, res) => {
    if (req.url === '/reset') req.socket.destroy();
    else {
      req.socket.write('HTTP/1.1 2OO Bogus\r\n\r\n');
      req.socket.destroy();
    }
    void res;
  });
  const p = await proxy(frontendConfig(), [backendConfig('app', servers([bad!]), { retries: 0 })]);
  assert.equal((await request(p.port, { path: '/reset', method: 'POST', body: 'x' })).status, 502);
  assert.equal((await request(p.port, { path: '/garbage' })).status, 502);
});

test('idempotent request is re-sent elsewhere when a server closes without answering', async () => {
  const [closer] = await backends(['closer'], (req) => req.socket.destroy());
  const [good] = await backends(['good']);
  const p = await proxy(frontendConfig(), [backendConfig('app', servers([closer!, good!]))]);
  for (let i = 0; i < 4; i++) {
    const r = await request(p.port);
    assert.equal(r.status, 200);
    assert.equal(r.body, 'good');
  }
  // POST with a body is never re-sent
  const posts = await Promise.all([0, 1].map(() => request(p.port, { method: 'POST', body: 'data' })));
  assert.deepEqual(posts.map((r) => r.status).sort(), [200, 502]);
});

test('X-Forwarded-For/Proto/Host and RFC 7239 Forwarded', async () => {
  const [b] = await backends(['b']);
  const p = await proxy(frontendConfig({ forwardfor: true, forwarded: true }), [backendConfig('app', servers([b!]))]);
  await request(p.port, { headers: { host: 'shop.example', 'x-forwarded-for': '203.0.113.7', forwarded: 'for=203.0.113.7' } });
  const h = b!.requests.at(-1)!.headers;
  assert.equal(h['x-forwarded-for'], '203.0.113.7, 127.0.0.1');
  assert.equal(h['x-forwarded-proto'], 'http');
  assert.equal(h['x-forwarded-host'], 'shop.example');
  assert.equal(h.forwarded, 'for=203.0.113.7, for=127.0.0.1;proto=http;host=shop.example');
});

test('hop-by-hop headers are stripped both ways; bodies and chunking survive', async () => {
  const [b] = await backends(['b'], (req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      res.writeHead(200, { Connection: 'X-Internal', 'X-Internal': 'secret', 'Keep-Alive': 'timeout=99', 'Proxy-Connection': 'x', 'X-Public': 'ok' });
      res.write('got:');
      res.end(Buffer.concat(parts));
    });
  });
  const p = await proxy(frontendConfig(), [backendConfig('app', servers([b!]))]);
  const r = await request(p.port, {
    method: 'POST',
    headers: { Connection: 'X-Hop', 'X-Hop': '1', 'Keep-Alive': 'timeout=1', 'Proxy-Connection': 'keep-alive', TE: 'trailers', 'Transfer-Encoding': 'chunked', 'X-End': 'e' },
    body: 'payload',
  });
  assert.equal(r.status, 200);
  assert.equal(r.body, 'got:payload');
  assert.equal(r.headers['x-public'], 'ok');
  assert.equal(r.headers['x-internal'], undefined);
  assert.notEqual(r.headers['keep-alive'], 'timeout=99');
  assert.equal(r.headers['proxy-connection'], undefined);
  const h = b!.requests.at(-1)!.headers;
  assert.equal(h['x-hop'], undefined);
  assert.equal(h['proxy-connection'], undefined);
  assert.equal(h.te, undefined);
  assert.equal(h['x-end'], 'e');
  assert.equal(h['transfer-encoding'], 'chunked');
});

test('cookie persistence sticks for 100 requests and re-picks when the server dies', async () => {
  const bs = await backends(['w1', 'w2', 'w3']);
  const p = await proxy(frontendConfig(), [backendConfig('app', servers(bs), { cookie: { name: 'SRV', mode: 'insert', httpOnly: true, secure: false } })]);
  const first = await request(p.port);
  const setCookie = first.headers['set-cookie']?.[0];
  assert.equal(setCookie, `SRV=${first.body}; Path=/; HttpOnly`);
  const cookie = `SRV=${first.body}`;
  for (let i = 0; i < 100; i++) {
    const r = await request(p.port, { headers: { cookie: `a=1; ${cookie}` } });
    assert.equal(r.body, first.body);
    assert.equal(r.headers['set-cookie'], undefined);
  }
  p.pools.get('app')!.setHealth(first.body, false, 'test: killed');
  const moved = await request(p.port, { headers: { cookie } });
  assert.equal(moved.status, 200);
  assert.notEqual(moved.body, first.body);
  assert.equal(moved.headers['set-cookie']?.[0], `SRV=${moved.body}; Path=/; HttpOnly`);
});

test('routing rules and header rewrites', async () => {
  const [api] = await backends(['api']);
  const [web] = await backends(['web']);
  const fe = frontendConfig({
    rules: [
      { where: 'rules[0]', path: { kind: 'prefix', value: '/api/' }, backend: 'api' },
      { where: 'rules[1]', host: { kind: 'wildcard', value: '*.api.test' }, backend: 'api' },
    ],
    defaultBackend: 'web',
    requestHeaders: [{ action: 'set', name: 'X-Via', value: 'halb' }],
    responseHeaders: [
      { action: 'del', name: 'X-Server' },
      { action: 'add', name: 'X-Served-By', value: 'halb' },
    ],
  });
  const p = await proxy(fe, [backendConfig('api', servers([api!])), backendConfig('web', servers([web!]))]);
  const r1 = await request(p.port, { path: '/api/x' });
  assert.equal(r1.body, 'api');
  assert.equal(r1.headers['x-server'], undefined);
  assert.equal(r1.headers['x-served-by'], 'halb');
  assert.equal(api!.requests.at(-1)!.headers['x-via'], 'halb');
  assert.equal((await request(p.port, { headers: { host: 'v1.api.test' } })).body, 'api');
  assert.equal((await request(p.port, { path: '/other' })).body, 'web');
});

test('access log: one JSON line with timers, status, bytes, termination', async () => {
  const lines: Record<string, unknown>[] = [];
  const sinkStream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  const log = createLogger({ destination: sinkStream, level: 'info', format: 'json' });
  const [b] = await backends(['b']);
  const p = await proxy(frontendConfig(), [backendConfig('app', servers([b!]))], log, new AccessLog(log));
  await request(p.port, { method: 'POST', body: 'abc', path: '/x?y' });
  await new Promise((r) => setTimeout(r, 50));
  const access = lines.filter((l) => l.type === 'access');
  assert.equal(access.length, 1);
  const a = access[0]!;
  assert.equal(a.frontend, 'web');
  assert.equal(a.backend, 'app');
  assert.equal(a.server, 'b');
  assert.equal(a.status, 200);
  assert.equal(a.url, '/x?y');
  assert.equal(a.bytesIn, 3);
  assert.equal(a.bytesOut, 1);
  assert.equal(a.termination, 'ok');
  assert.equal(a.retries, 0);
  assert.match(String(a.client), /^127\.0\.0\.1:\d+$/);
  for (const k of ['Tq', 'Tc', 'Tr', 'Tt']) assert.ok(typeof a[k] === 'number' && (a[k] as number) >= 0, k);
});

test('keep-alive clients and HTTP/1.0 clients', async () => {
  const [b] = await backends(['b']);
  const p = await proxy(frontendConfig(), [backendConfig('app', servers([b!]))]);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  for (let i = 0; i < 5; i++) assert.equal((await request(p.port, { agent })).status, 200);
  agent.destroy();
  const raw = await rawExchange(p.port, 'GET / HTTP/1.0\r\n\r\n');
  assert.match(raw, /^HTTP\/1\.1 200 OK\r\n/);
  assert.ok(raw.endsWith('\r\n\r\nb'));
  const head = await rawExchange(p.port, 'HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.match(head, /^HTTP\/1\.1 200 OK\r\n/);
  assert.ok(head.endsWith('\r\n\r\n'));
});

test('several bind addresses serve the same frontend', async () => {
  const [b] = await backends(['b']);
  const bind = [
    { host: '127.0.0.1', port: 0, acceptProxy: false },
    { host: '127.0.0.1', port: 0, acceptProxy: false },
  ];
  const p = await proxy(frontendConfig({ bind }), [backendConfig('app', servers([b!]))]);
  const addrs = p.frontend.addresses();
  assert.equal(addrs.length, 2);
  assert.notEqual(addrs[0]!.port, addrs[1]!.port);
  for (const a of addrs) assert.equal((await request(a.port)).body, 'b');
});

test('large responses back to back on one keep-alive connection (upstream left readable after backpressure)', { timeout: 10_000 }, async () => {
  const big = Buffer.alloc(64 * 1024, 0x62);
  const [b] = await backends(['b'], (_req, res) => {
    res.writeHead(200, { 'content-length': String(big.length) });
    res.end(big);
  });
  const p = await proxy(frontendConfig(), [backendConfig('app', servers([b!]))]);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    for (let i = 0; i < 5; i++) {
      const r = await request(p.port, { agent });
      assert.equal(r.status, 200);
      assert.equal(r.body.length, big.length);
    }
  } finally {
    agent.destroy();
  }
  assert.equal(b!.connections, 1);
});

test('response bytes arrive intact when read buffers are reused (slow and fast readers, keep-alive)', { timeout: 20_000 }, async () => {
  const { createHash, randomBytes } = await import('node:crypto');
  const bodies = [randomBytes(6 * 1024 * 1024), randomBytes(64 * 1024), randomBytes(100), randomBytes(300 * 1024 + 7)];
  const [b] = await backends(['b'], (req, res) => {
    const which = Number(req.url!.slice(1));
    const body = bodies[which]!;
    // small pieces for the biggest body: a slow client then has bytes queued in node that
    // write() still accepted, the case where reusing read memory too early would corrupt them
    const piece = which === 0 ? 4000 : 90_000;
    res.writeHead(200, { 'content-length': String(body.length) });
    // written in uneven pieces so reads split at odd places
    let off = 0;
    const step = (): void => {
      if (off >= body.length) return void res.end();
      const n = Math.min(body.length - off, 1 + ((off * 7919) % piece));
      res.write(body.subarray(off, off + n));
      off += n;
      setImmediate(step);
    };
    step();
  });
  const p = await proxy(frontendConfig(), [backendConfig('app', servers([b!]))]);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
  const sha = (x: Buffer): string => createHash('sha256').update(x).digest('hex');
  try {
    const get = (i: number, slow: boolean): Promise<void> =>
      new Promise((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port: p.port, path: `/${i}`, agent }, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => {
              chunks.push(c);
              if (slow && chunks.length % 3 === 0) {
                res.pause();
                setTimeout(() => res.resume(), 5);
              }
            });
            res.on('end', () => {
              try {
                assert.equal(sha(Buffer.concat(chunks)), sha(bodies[i]!), `body ${i} slow ${slow}`);
                resolve();
              } catch (err) {
                reject(err as Error);
              }
            });
            res.on('error', reject);
          })
          .on('error', reject);
      });
    for (let round = 0; round < 3; round++) {
      await Promise.all(bodies.map((_, i) => get(i, (i + round) % 2 === 0)));
    }
  } finally {
    agent.destroy();
  }
});

test('client timers: idle keep-alive connections close at http-keep-alive; a slow answer waits for timeouts.client', { timeout: 10_000 }, async () => {
  const [b] = await backends(['b'], (req, res) => {
    setTimeout(() => res.end('late'), req.url === '/slow' ? 500 : 0);
  });
  const fe = frontendConfig({ timeouts: { ...frontendConfig().timeouts, httpKeepAlive: 200, client: 1500 } });
  const p = await proxy(fe, [backendConfig('app', servers([b!]))]);
  const net = await import('node:net');
  const c = net.connect(p.port, '127.0.0.1');
  let data = '';
  c.on('data', (d: Buffer) => (data += d.toString('latin1')));
  const closed = new Promise<number>((resolve) => c.on('close', () => resolve(performance.now())));
  await new Promise((r) => c.once('connect', r));
  // the server answers after 500 ms: longer than http-keep-alive, shorter than timeouts.client
  c.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
  const deadline = performance.now() + 3000;
  while (!data.endsWith('late') && !c.destroyed && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const answered = performance.now();
  assert.ok(data.endsWith('late'), `slow answer cut short: ${JSON.stringify(data)}`);
  let timer: NodeJS.Timeout | undefined;
  const at = await Promise.race([closed, new Promise<number>((r) => (timer = setTimeout(() => r(Infinity), 3000)))]);
  clearTimeout(timer);
  c.destroy();
  assert.match(data, /^HTTP\/1\.1 200 /);
  // idle after the answer: closed by the keep-alive limit, well before timeouts.client
  assert.ok(at - answered >= 150 && at - answered < 1200, `closed ${Math.round(at - answered)} ms after the answer`);
});

test('without forwarding headers a plain GET head reaches the server as sent; hop-by-hop ones still go', async () => {
  const [b] = await backends(['b'], (req, res) => res.end(JSON.stringify(req.rawHeaders)));
  const p = await proxy(frontendConfig({ forwardfor: false }), [backendConfig('app', servers([b!]))]);
  const plain = await rawExchange(p.port, 'GET /x?y HTTP/1.1\r\nHost: h\r\nX-Case: AbC\r\nAccept: */*\r\n\r\n', 500);
  assert.ok(plain.endsWith('["Host","h","X-Case","AbC","Accept","*/*"]'), plain);
  const hop = await rawExchange(p.port, 'GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\nKeep-Alive: 5\r\nTE: trailers\r\nX-A: 1\r\n\r\n', 500);
  assert.ok(hop.endsWith('["Host","h","X-A","1"]'), hop);
});

test('a client that half-closes after its request still gets the answer, then the connection closes', async () => {
  const bs = await backends(['s1']);
  const p = await proxy(frontendConfig(), [backendConfig('app', servers(bs))]);
  const t0 = Date.now();
  const reply = await rawExchange(p.port, 'GET /x HTTP/1.1\r\nHost: a\r\n\r\n', 3000, true);
  assert.match(reply, /^HTTP\/1\.1 200 /);
  assert.match(reply, /s1$/);
  assert.ok(Date.now() - t0 < 2000, 'closed right after the answer, not at a timeout');
});

test('pipelined requests followed by FIN are all answered in order', async () => {
  const bs = await backends(['s1']);
  const p = await proxy(frontendConfig(), [backendConfig('app', servers(bs))]);
  const one = (path: string) => `GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`;
  const reply = await rawExchange(p.port, one('/a') + one('/b') + one('/c'), 3000, true);
  const statuses = reply.match(/HTTP\/1\.1 200 /g) ?? [];
  assert.equal(statuses.length, 3, reply);
  assert.deepEqual(
    bs[0]!.requests.slice(-3).map((r) => r.url),
    ['/a', '/b', '/c'],
  );
});

test('Connection: close from the client: the answer carries it, body intact, then the connection closes', async () => {
  const bs = await backends(['s1']);
  const p = await proxy(frontendConfig(), [backendConfig('app', servers(bs))]);
  const reply = await rawExchange(p.port, 'GET /c HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n', 3000);
  const [head, body] = reply.split('\r\n\r\n');
  assert.match(head!, /^HTTP\/1\.1 200 /);
  assert.match(head!, /\r\nConnection: close$/i);
  assert.equal(body, 's1');
});

test('frontend maxconn: connections beyond it are closed at once; the open ones are served', async () => {
  const bs = await backends(['s1']);
  const p = await proxy(frontendConfig({ maxconn: 2 }), [backendConfig('app', servers(bs))]);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
  try {
    // two keep-alive connections held open by the agent
    const [a, b] = await Promise.all([request(p.port, { agent }), request(p.port, { agent })]);
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
    const third = await rawExchange(p.port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n', 2000);
    assert.equal(third, '', 'the third connection gets no answer');
    assert.equal((await request(p.port, { agent })).status, 200);
  } finally {
    agent.destroy();
  }
});
