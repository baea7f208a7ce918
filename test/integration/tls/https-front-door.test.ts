// The front door around TLS through a real `halb run`: `redirect: https` on the plain port, HSTS
// and Forwarded proto=https on the TLS one, and the TLS facts in the access log (only on TLS).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runHalbWith, freePort, type HalbProcess } from '../../helpers/halb-process.ts';
import { makeCa, makeLeaf, type TestCa } from '../../helpers/test-certificates.ts';

const dir = mkdtempSync(join(tmpdir(), 'halb-frontdoor-'));
let ca: TestCa;
let halb: HalbProcess | undefined;
let backend: http.Server;
let [plainPort, plain308Port, tlsPort, openPort] = [0, 0, 0, 0];
const seen: { url: string | undefined; headers: http.IncomingHttpHeaders }[] = [];

before(async () => {
  ca = makeCa(dir);
  const pem = makeLeaf(ca, 'a', { names: ['a.test'] });
  backend = http.createServer((req, res) => {
    seen.unshift({ url: req.url, headers: req.headers });
    req.resume();
    req.on('end', () => res.end('hello'));
  });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  [plainPort, plain308Port, tlsPort, openPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const file = join(dir, 'halb.yaml');
  halb = await runHalbWith(file, `global: { workers: 1, log: { access: true } }
frontends:
  http: { bind: ["127.0.0.1:${plainPort}"], mode: http, redirect: { to: https, port: ${tlsPort} } }
  http308: { bind: ["127.0.0.1:${plain308Port}"], mode: http, default_backend: app, redirect: { to: https, code: 308, port: ${tlsPort} } }
  open: { bind: ["127.0.0.1:${openPort}"], mode: http, default_backend: app }
  https:
    bind: ["127.0.0.1:${tlsPort}"]
    mode: http
    default_backend: app
    forwarded: true
    tls: { crt: ${pem} }
    hsts: { max_age: 365d, include_subdomains: true }
    http-response: [ { set-header: Strict-Transport-Security, value: "max-age=0" } ]
backends:
  app: { servers: [ { name: a, address: "127.0.0.1:${(backend.address() as { port: number }).port}" } ] }
`);
});

after(() => {
  halb?.kill('SIGKILL');
  backend?.closeAllConnections();
  backend?.close();
  rmSync(dir, { recursive: true, force: true });
});

function curl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('curl', ['-sS', '--cacert', ca.caFile, '--max-time', '10', ...args], { encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

/** Response headers (curl -D -) as name -> value, and the status. */
function head(text: string): { status: number; h: Map<string, string> } {
  const lines = text.split('\r\n');
  const h = new Map<string, string>();
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    if (i > 0) h.set(l.slice(0, i).toLowerCase(), l.slice(i + 1).trim());
  }
  return { status: Number(lines[0]?.split(' ')[1]), h };
}

test('redirect: https answers 301 with the same host and path on the https port; nothing reaches a server', async () => {
  const before = seen.length;
  const r = await curl(['-D', '-', '-o', '/dev/null', '-H', 'Host: a.test', `http://127.0.0.1:${plainPort}/some/path?q=1`]);
  assert.equal(r.code, 0, r.stderr);
  const { status, h } = head(r.stdout);
  assert.equal(status, 301);
  assert.equal(h.get('location'), `https://a.test:${tlsPort}/some/path?q=1`);
  const logged = await halb!.waitFor((l) => l.type === 'access' && l.url === '/some/path?q=1');
  assert.equal(logged.status, 301);
  assert.equal(logged.frontend, 'http');
  assert.equal(logged.backend, undefined);
  // a POST with a body (node's parser path) on the 308 frontend, keep-alive: two answers on one connection
  const post = await curl(['-D', '-', '-o', '/dev/null', '-H', 'Host: a.test:80', '-d', 'x'.repeat(5000), `http://127.0.0.1:${plain308Port}/form`, '-o', '/dev/null', `http://127.0.0.1:${plain308Port}/again`]);
  assert.equal(post.code, 0, post.stderr);
  const answers = post.stdout.split('\r\n\r\n').filter((s) => s.startsWith('HTTP/'));
  assert.equal(answers.length, 2);
  assert.equal(head(answers[0]!).status, 308);
  assert.equal(head(answers[0]!).h.get('location'), `https://a.test:${tlsPort}/form`);
  assert.equal(head(answers[1]!).h.get('location'), `https://a.test:${tlsPort}/again`);
  // following it ends on the TLS frontend
  const followed = await curl(['-L', '--resolve', `a.test:${plainPort}:127.0.0.1`, '--resolve', `a.test:${tlsPort}:127.0.0.1`, `http://a.test:${plainPort}/followed`]);
  assert.equal(followed.stdout, 'hello', followed.stderr);
  assert.equal(seen.length, before + 1, 'only the followed https request reached the server');
  assert.equal(seen[0]?.url, '/followed');
});

test('redirect: a WebSocket upgrade gets the redirect too, and a request without Host a 400', async () => {
  const s = net.connect(plainPort, '127.0.0.1');
  s.write('GET /chat HTTP/1.1\r\nHost: a.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
  let got = '';
  for await (const d of s) got += (d as Buffer).toString('latin1');
  assert.match(got, new RegExp(`^HTTP/1\\.1 301 Moved Permanently\\r\\nLocation: https://a\\.test:${tlsPort}/chat\\r\\n`));
  const noHost = net.connect(plainPort, '127.0.0.1');
  noHost.write('GET / HTTP/1.0\r\n\r\n');
  let got2 = '';
  for await (const d of noHost) got2 += (d as Buffer).toString('latin1');
  assert.match(got2, /^HTTP\/1\.1 400 /);
});

test('hsts: Strict-Transport-Security on TLS responses (over a user rewrite); Forwarded says proto=https', async () => {
  const r = await curl(['-D', '-', '--resolve', `a.test:${tlsPort}:127.0.0.1`, `https://a.test:${tlsPort}/h`]);
  assert.equal(r.code, 0, r.stderr);
  const { status, h } = head(r.stdout);
  assert.equal(status, 200);
  assert.equal(h.get('strict-transport-security'), 'max-age=31536000; includeSubDomains');
  assert.match(String(seen[0]?.headers.forwarded), /^for=127\.0\.0\.1;proto=https;host="a\.test:\d+"$/);
  const plain = await curl(['-D', '-', `http://127.0.0.1:${openPort}/p`]);
  assert.equal(head(plain.stdout).h.get('strict-transport-security'), undefined);
});

test('access log: version, cipher, SNI and ALPN on TLS requests only', async () => {
  const r = await curl(['--tlsv1.3', '--resolve', `a.test:${tlsPort}:127.0.0.1`, `https://a.test:${tlsPort}/logged-tls`]);
  assert.equal(r.stdout, 'hello', r.stderr);
  const line = await halb!.waitFor((l) => l.type === 'access' && l.url === '/logged-tls');
  assert.deepEqual(line.tls, { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', sni: 'a.test', alpn: 'http/1.1', resumed: false });
  const r12 = await curl(['--tlsv1.2', '--tls-max', '1.2', '--ciphers', 'ECDHE-ECDSA-AES128-GCM-SHA256', '--resolve', `a.test:${tlsPort}:127.0.0.1`, `https://a.test:${tlsPort}/logged-tls12`]);
  assert.equal(r12.stdout, 'hello', r12.stderr);
  const line12 = await halb!.waitFor((l) => l.type === 'access' && l.url === '/logged-tls12');
  assert.deepEqual(line12.tls, { version: 'TLSv1.2', cipher: 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', sni: 'a.test', alpn: 'http/1.1', resumed: false });
  await curl([`http://127.0.0.1:${openPort}/logged-plain`]);
  const plain = await halb!.waitFor((l) => l.type === 'access' && l.url === '/logged-plain');
  assert.equal('tls' in plain, false);
});
