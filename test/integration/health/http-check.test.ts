import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { httpCheck, MAX_BODY_BYTES, type HttpCheckOptions } from '../../../src/health/http-check.ts';
import { refusedPort } from '../../helpers/refused-port.ts';

let server: Server;
let port = 0;
let handler: (req: IncomingMessage, res: ServerResponse) => void = (_q, r) => r.end('ok');
const seen: { method?: string; url?: string; host?: string; connection?: string }[] = [];

before(async () => {
  server = createServer((req, res) => {
    seen.push({ method: req.method, url: req.url, host: req.headers.host, connection: req.headers.connection });
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const base: HttpCheckOptions = { method: 'GET', path: '/health', expectStatus: [{ from: 200, to: 399 }], timeout: 1000 };
const target = () => ({ host: '127.0.0.1', port });

test('passes on an expected status and sends method, path, Host, Connection: close', async () => {
  handler = (_q, r) => r.end('fine');
  seen.length = 0;
  const r = await httpCheck(target(), { ...base, method: 'HEAD', host: 'app.example' });
  assert.equal(r.ok, true);
  assert.equal(r.reason, 'HTTP status 200');
  assert.deepEqual(seen, [{ method: 'HEAD', url: '/health', host: 'app.example', connection: 'close' }]);
  seen.length = 0;
  await httpCheck(target(), base);
  assert.equal(seen[0]!.host, `127.0.0.1:${port}`);
});

test('fails on status outside the ranges; multiple ranges', async () => {
  handler = (_q, r) => {
    r.statusCode = 500;
    r.end('oops');
  };
  assert.deepEqual((await httpCheck(target(), base)).reason, 'HTTP status 500');
  assert.equal((await httpCheck(target(), base)).ok, false);
  handler = (_q, r) => {
    r.statusCode = 404;
    r.end();
  };
  const ranges = [{ from: 200, to: 299 }, { from: 404, to: 404 }];
  assert.equal((await httpCheck(target(), { ...base, expectStatus: ranges })).ok, true);
  handler = (_q, r) => {
    r.statusCode = 302;
    r.end();
  };
  assert.equal((await httpCheck(target(), { ...base, expectStatus: ranges })).ok, false);
});

test('body substring: found, missing, split across chunks, beyond the read bound', async () => {
  handler = (_q, r) => r.end('{"status":"healthy"}');
  let res = await httpCheck(target(), { ...base, expectBody: '"healthy"' });
  assert.deepEqual([res.ok, res.reason], [true, 'HTTP status 200, body matches']);
  res = await httpCheck(target(), { ...base, expectBody: 'READY' });
  assert.deepEqual([res.ok, res.reason], [false, 'HTTP status 200, body lacks "READY"']);

  handler = (_q, r) => {
    r.write('xxxxRE');
    setTimeout(() => r.end('ADYyyyy'), 20);
  };
  assert.equal((await httpCheck(target(), { ...base, expectBody: 'READY' })).ok, true);

  handler = (_q, r) => {
    r.write(Buffer.alloc(MAX_BODY_BYTES + 10, 'a'));
    r.end('READY');
  };
  res = await httpCheck(target(), { ...base, expectBody: 'READY' });
  assert.equal(res.ok, false);
  assert.match(res.reason, /body lacks "READY" in first 65536 bytes/);
});

test('response timeout vs connection refused', async () => {
  handler = () => {}; // never answers
  const res = await httpCheck(target(), { ...base, timeout: 150 });
  assert.deepEqual([res.ok, res.reason], [false, 'response timeout after 150ms']);

  const deadPort = await refusedPort();
  const refused = await httpCheck({ host: '127.0.0.1', port: deadPort }, base);
  assert.deepEqual([refused.ok, refused.reason], [false, 'connection refused']);
});

test('server closing mid-response is a failure, not a throw', async () => {
  handler = (req) => req.socket.destroy();
  const res = await httpCheck(target(), base);
  assert.equal(res.ok, false);
  assert.match(res.reason, /connection reset|socket hang up/);
});

test('abort signal ends a check early', async () => {
  handler = () => {};
  const ac = new AbortController();
  const p = httpCheck(target(), { ...base, timeout: 5000 }, ac.signal);
  setTimeout(() => ac.abort(), 20);
  const res = await p;
  assert.deepEqual([res.ok, res.reason], [false, 'check aborted']);
});
