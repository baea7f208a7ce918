// HTTP/2 to clients through a real `halb run` on loopback: curl over TLS (ALPN h2 or http/1.1,
// the client's choice) and with prior knowledge on an h2c listener that also serves HTTP/1.1,
// node's http2 client with many concurrent streams balanced over real HTTP/1.1 servers,
// forwarded headers as the servers see them, retries past a dead server, refused oversized
// header lists, h2load, the access log, and GOAWAY (NO_ERROR) on a graceful stop letting an
// open stream finish.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runHalbWith, freePort, type HalbProcess } from '../../helpers/halb-process.ts';
import { makeCa, makeLeaf, type TestCa } from '../../helpers/test-certificates.ts';
import { refusedPort } from '../../helpers/refused-port.ts';

const dir = mkdtempSync(join(tmpdir(), 'halb-h2-front-'));
let ca: TestCa;
let halb: HalbProcess | undefined;
const servers: http.Server[] = [];
/** What the servers saw, last first: server name and the request's headers. */
const seen: { server: string; method: string; url: string; headers: http.IncomingHttpHeaders; body: number }[] = [];
let tlsPort = 0;
let h2cPort = 0;
let retryPort = 0;

function backendServer(name: string): Promise<number> {
  const s = http.createServer((req, res) => {
    let body = 0;
    req.on('data', (d: Buffer) => (body += d.length));
    req.on('end', () => {
      seen.unshift({ server: name, method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const delay = req.url === '/slow' ? 600 : 0;
      setTimeout(() => {
        res.setHeader('x-server', name);
        res.setHeader('set-cookie', ['a=1', 'b=2']);
        res.end(`${name} ${req.method} ${req.url} ${body}\n`);
      }, delay);
    });
  });
  servers.push(s);
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as { port: number }).port)));
}

before(async () => {
  ca = makeCa(dir);
  const crt = makeLeaf(ca, 'h2', { names: ['h2.test'], key: 'ec' });
  const ports = [await backendServer('s1'), await backendServer('s2'), await backendServer('s3')];
  const dead = await refusedPort();
  [tlsPort, h2cPort, retryPort] = [await freePort(), await freePort(), await freePort()];
  const file = join(dir, 'halb.yaml');
  halb = await runHalbWith(file, `global: { workers: 1 }
frontends:
  tls:
    bind: ["127.0.0.1:${tlsPort}"]
    mode: http
    default_backend: app
    forwardfor: true
    forwarded: true
    http-request: [ { set-header: X-Via-Halb, value: "yes" } ]
    tls: { crt: ${crt}, alpn: [h2, http/1.1] }
    h2: { max_header_list_size: 8192 }
  plain:
    bind: ["127.0.0.1:${h2cPort}"]
    mode: http
    default_backend: app
    forwardfor: true
    h2c: true
  retry:
    bind: ["127.0.0.1:${retryPort}"]
    mode: http
    default_backend: flaky
    h2c: true
backends:
  app:
    balance: roundrobin
    servers:
${ports.map((p, i) => `      - { name: s${i + 1}, address: "127.0.0.1:${p}" }`).join('\n')}
  flaky:
    balance: roundrobin
    retries: 2
    servers:
      - { name: dead, address: "127.0.0.1:${dead}" }
      - { name: live, address: "127.0.0.1:${ports[0]}" }
`);
});

after(async () => {
  halb?.kill('SIGKILL');
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
  rmSync(dir, { recursive: true, force: true });
});

function curl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('curl', ['-sS', '--cacert', ca.caFile, '--max-time', '10', ...args], { encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

interface H2Answer {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: string;
}

function h2Request(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: string): Promise<H2Answer> {
  return new Promise((resolve, reject) => {
    const req = session.request(headers, { endStream: body === undefined });
    let got: http2.IncomingHttpHeaders = {};
    let text = '';
    req.setEncoding('utf8');
    req.on('response', (h) => (got = h));
    req.on('data', (d: string) => (text += d));
    req.on('end', () => resolve({ status: Number(got[':status']), headers: got, body: text }));
    req.on('error', reject);
    if (body !== undefined) req.end(body);
  });
}

function tlsSession(): http2.ClientHttp2Session {
  const s = http2.connect(`https://127.0.0.1:${tlsPort}`, { ca: ca.ca, servername: 'h2.test' });
  s.on('error', () => undefined);
  return s;
}

test('TLS: curl --http2 negotiates h2 by ALPN, --http1.1 gets HTTP/1.1 on the same listener; the server gets X-Forwarded-Proto https', async () => {
  const h2 = await curl(['--http2', '-w', '\\n%{http_version}', '--resolve', `h2.test:${tlsPort}:127.0.0.1`, `https://h2.test:${tlsPort}/via-h2`]);
  assert.equal(h2.code, 0, h2.stderr);
  assert.match(h2.stdout, /^s\d GET \/via-h2 0\n\n2$/);
  assert.equal(seen[0]?.headers['x-forwarded-proto'], 'https');
  assert.equal(seen[0]?.headers.host, `h2.test:${tlsPort}`, ':authority became Host');
  const h1 = await curl(['--http1.1', '-w', '\\n%{http_version}', '--resolve', `h2.test:${tlsPort}:127.0.0.1`, `https://h2.test:${tlsPort}/via-h1`]);
  assert.equal(h1.code, 0, h1.stderr);
  assert.match(h1.stdout, /^s\d GET \/via-h1 0\n\n1\.1$/);
});

test('h2c: curl --http2-prior-knowledge speaks HTTP/2 and plain HTTP/1.1 keeps working on the same port; bodies cross both ways', async () => {
  const a = await curl(['--http2-prior-knowledge', '-w', '\\n%{http_version}', `http://127.0.0.1:${h2cPort}/prior`]);
  assert.equal(a.code, 0, a.stderr);
  assert.match(a.stdout, /^s\d GET \/prior 0\n\n2$/);
  assert.equal(seen[0]?.headers['x-forwarded-proto'], 'http');
  const post = await curl(['--http2-prior-knowledge', '--data-binary', 'x'.repeat(100_000), `http://127.0.0.1:${h2cPort}/upload`]);
  assert.match(post.stdout, /^s\d POST \/upload 100000\n$/);
  const h1 = await curl(['-w', '\\n%{http_version}', `http://127.0.0.1:${h2cPort}/plain`]);
  assert.match(h1.stdout, /^s\d GET \/plain 0\n\n1\.1$/);
});

test('node http2 client: 300 concurrent streams on one connection, all answered, spread over the three servers; forwarded headers and header ops as for HTTP/1.1', async () => {
  const session = tlsSession();
  try {
    const n = 300;
    const answers = await Promise.all(Array.from({ length: n }, (_, i) => h2Request(session, { ':path': `/c/${i}`, ':authority': 'h2.test', 'x-forwarded-for': '203.0.113.7', cookie: 'k=1' })));
    assert.equal(answers.filter((a) => a.status === 200).length, n);
    const per = new Map<string, number>();
    for (const a of answers) per.set(String(a.headers['x-server']), (per.get(String(a.headers['x-server'])) ?? 0) + 1);
    assert.deepEqual([...per.keys()].sort(), ['s1', 's2', 's3']);
    for (const c of per.values()) assert.equal(c, 100, 'roundrobin: a third each');
    assert.deepEqual(answers[0]!.headers['set-cookie'], ['a=1', 'b=2'], 'repeated response headers stay separate');
    assert.equal(answers[0]!.headers.connection, undefined, 'no hop-by-hop header in an h2 response');
    const h = seen.find((s) => s.url.startsWith('/c/'))!.headers;
    assert.equal(h['x-forwarded-for'], '203.0.113.7, 127.0.0.1');
    assert.equal(h['x-forwarded-proto'], 'https');
    assert.equal(h.forwarded, 'for=127.0.0.1;proto=https;host=h2.test');
    assert.equal(h['x-via-halb'], 'yes');
    assert.equal(h.cookie, 'k=1');
  } finally {
    session.close();
  }
});

test('retries: a stream to a backend whose first server refuses goes to the live one, as an HTTP/1.1 request would', async () => {
  const session = http2.connect(`http://127.0.0.1:${retryPort}`);
  session.on('error', () => undefined);
  try {
    for (let i = 0; i < 4; i++) {
      const a = await h2Request(session, { ':path': `/r/${i}` });
      assert.equal(a.status, 200);
      assert.equal(a.headers['x-server'], 's1');
    }
  } finally {
    session.close();
  }
  await halb!.waitFor((l) => l.msg === 'connect to server failed' && l.server === 'dead');
});

test('a header list over max_header_list_size is refused (431 before the client acknowledged the SETTINGS, RST_STREAM ENHANCE_YOUR_CALM after); nothing reaches a server; the connection serves on', async () => {
  /** The big request's fate: the status answered, or the RST_STREAM code. */
  const big = (session: http2.ClientHttp2Session): Promise<string> =>
    new Promise((resolve) => {
      const req = session.request({ ':path': '/big', ':authority': 'h2.test', 'x-big': 'v'.repeat(10_000) });
      req.on('response', (h) => resolve(`status ${String(h[':status'])}`));
      req.on('error', () => undefined);
      req.on('close', () => resolve(`rst ${req.rstCode}`));
      req.resume();
    });
  const before = seen.length;
  // first on a new connection: before our SETTINGS are acknowledged
  const fresh = tlsSession();
  const early = await big(fresh);
  // on a connection whose SETTINGS exchange is done
  const warm = tlsSession();
  await h2Request(warm, { ':path': '/warm', ':authority': 'h2.test' });
  const late = await big(warm);
  try {
    assert.match(early, /^(status 431|rst 11)$/);
    assert.equal(late, 'rst 11', 'node refuses the decoded list: ENHANCE_YOUR_CALM');
    assert.equal(seen.filter((s) => s.url === '/big').length, 0, 'no server saw it');
    assert.equal(seen.length, before + 1, 'only the warm-up request reached a server');
    assert.equal((await h2Request(warm, { ':path': '/after-big', ':authority': 'h2.test' })).status, 200);
    assert.equal((await h2Request(fresh, { ':path': '/after-big', ':authority': 'h2.test' })).status, 200);
  } finally {
    fresh.close();
    warm.close();
  }
});

test('h2load -c 8 -m 10 -n 2000 through halb (h2c): 0 failed', async () => {
  const out = await new Promise<string>((resolve, reject) => {
    execFile('h2load', ['-c', '8', '-m', '10', '-n', '2000', '-T', '20', `http://127.0.0.1:${h2cPort}/load`], { encoding: 'utf8', timeout: 60_000 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
  assert.match(out, /requests: 2000 total, 2000 started, 2000 done, 2000 succeeded, 0 failed, 0 errored, 0 timeout/);
  assert.match(out, /status codes: 2000 2xx/);
});

test('access log: an h2 stream gets its line, with the TLS facts (ALPN h2)', async () => {
  const line = await halb!.waitFor((l) => l.type === 'access' && l.url === '/via-h2');
  assert.equal(line.status, 200);
  assert.equal((line.tls as { alpn?: string } | undefined)?.alpn, 'h2');
});

test('graceful stop: GOAWAY NO_ERROR to an HTTP/2 client, its open stream finishes, then halb exits', async () => {
  const session = http2.connect(`http://127.0.0.1:${h2cPort}`);
  session.on('error', () => undefined);
  const goaway = new Promise<number>((resolve) => session.once('goaway', (code: number) => resolve(code)));
  await h2Request(session, { ':path': '/warm' });
  const slow = h2Request(session, { ':path': '/slow' });
  await new Promise((r) => setTimeout(r, 150));
  halb!.kill('SIGTERM');
  assert.equal(await goaway, http2.constants.NGHTTP2_NO_ERROR);
  const a = await slow;
  assert.equal(a.status, 200);
  assert.match(a.body, /^s\d GET \/slow 0\n$/);
  const exit = await halb!.exited;
  assert.equal(exit.code, 0);
  session.destroy();
});
