// TLS termination through a real `halb run` on loopback, with real clients: node's tls and https
// and curl. Certificates are made by openssl at test time (test/helpers/test-certificates.ts).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import net from 'node:net';
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHalb, runHalbWith, freePort, HALB_MAIN, type HalbProcess } from '../../helpers/halb-process.ts';
import { makeCa, makeLeaf, makeMismatched, type TestCa } from '../../helpers/test-certificates.ts';

const dir = mkdtempSync(join(tmpdir(), 'halb-tls-'));
let ca: TestCa;
const pem = {} as Record<'aEc' | 'aRsa' | 'wild' | 'dirCert' | 'aEc2' | 'expired' | 'mismatched', string>;
let halb: HalbProcess | undefined;
let backend: http.Server;
let backendPort = 0;
let port = 0; // tls frontend, default min_version
let port13 = 0; // tls frontend with min_version 1.3
let plainPort = 0;
let proxiedPort = 0; // tls after a PROXY header
let file = '';
/** What the backend saw of each request, last first. */
const seen: http.IncomingHttpHeaders[] = [];

function configText(crt: string[], crtDir: string, workers = 1): string {
  return `global: { workers: ${workers}, log: { access: false } }
frontends:
  web:
    bind: ["127.0.0.1:${port}"]
    mode: http
    default_backend: app
    forwardfor: true
    forwarded: true
    tls: { crt: [${crt.join(', ')}], crt_dir: ${crtDir} }
  strict:
    bind: ["127.0.0.1:${port13}"]
    mode: http
    default_backend: app
    tls: { crt: [${pem.aEc}], min_version: "1.3", alpn: [http/1.1] }
  proxied:
    bind: [{ address: "127.0.0.1:${proxiedPort}", accept_proxy: true }]
    mode: http
    default_backend: app
    forwardfor: true
    tls: { crt: [${pem.aEc}] }
  plain:
    bind: ["127.0.0.1:${plainPort}"]
    mode: http
    default_backend: app
    forwardfor: true
    forwarded: true
backends:
  app: { servers: [ { name: a, address: "127.0.0.1:${backendPort}" } ] }
`;
}

before(async () => {
  ca = makeCa(dir);
  pem.aEc = makeLeaf(ca, 'a-ec', { names: ['a.test'], key: 'ec' });
  pem.aRsa = makeLeaf(ca, 'a-rsa', { names: ['a.test'], key: 'rsa' });
  pem.wild = makeLeaf(ca, 'wild', { names: ['*.w.test'] });
  pem.dirCert = makeLeaf(ca, 'dir', { names: [], cn: 'd.test' });
  pem.aEc2 = makeLeaf(ca, 'a-ec-2', { names: ['a.test'], key: 'ec' });
  pem.expired = makeLeaf(ca, 'old', { names: ['old.test'], start: '20200101000000Z', end: '20200201000000Z' });
  pem.mismatched = makeMismatched(ca, 'bad', ['a.test']);
  mkdirSync(join(dir, 'certs'));
  copyFileSync(pem.dirCert, join(dir, 'certs', 'd.pem'));
  backend = http.createServer((req, res) => {
    seen.unshift(req.headers);
    req.resume();
    req.on('end', () => res.end('hello'));
  });
  backend.on('upgrade', (req: http.IncomingMessage, socket: net.Socket) => {
    seen.unshift(req.headers);
    const accept = createHash('sha1').update(`${String(req.headers['sec-websocket-key'])}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    socket.pipe(socket);
  });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  backendPort = (backend.address() as { port: number }).port;
  [port, port13, plainPort, proxiedPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  file = join(dir, 'halb.yaml');
  halb = await runHalbWith(file, configText([pem.aEc, pem.aRsa, pem.wild], join(dir, 'certs')));
});

const others: HalbProcess[] = [];
after(async () => {
  halb?.kill('SIGKILL');
  for (const h of others) h.kill('SIGKILL');
  backend?.closeAllConnections();
  backend?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Handshake {
  subject: string;
  keyType: string | undefined;
  fingerprint: string;
  serial: string;
  protocol: string | null;
  alpn: string | false | null;
}

/** A handshake (verified against the test CA) and nothing more. */
function handshake(opts: tls.ConnectionOptions & { p?: number }): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port: opts.p ?? port, ca: ca.ca, ALPNProtocols: ['http/1.1'], ...opts }, () => {
      const cert = s.getPeerX509Certificate();
      if (cert === undefined) return reject(new Error('no peer certificate'));
      resolve({
        subject: cert.subject,
        keyType: cert.publicKey.asymmetricKeyType,
        fingerprint: cert.fingerprint256,
        serial: cert.serialNumber,
        protocol: s.getProtocol(),
        alpn: s.alpnProtocol,
      });
      s.end();
    });
    s.on('error', reject);
  });
}

function curl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('curl', ['-sS', '--cacert', ca.caFile, '--max-time', '10', ...args], { encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

function halbValidate(f: string, ...more: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [HALB_MAIN, 'validate', '-c', f, ...more], { encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

test('tls: ECDSA and RSA certificates for one name, picked by the signature algorithms the client offers', async () => {
  const ec = await handshake({ servername: 'a.test', sigalgs: 'ecdsa_secp256r1_sha256', maxVersion: 'TLSv1.2' });
  assert.equal(ec.keyType, 'ec');
  const rsa = await handshake({ servername: 'a.test', sigalgs: 'rsa_pss_rsae_sha256:rsa_pkcs1_sha256', maxVersion: 'TLSv1.2' });
  assert.equal(rsa.keyType, 'rsa');
  const rsa13 = await handshake({ servername: 'a.test', sigalgs: 'rsa_pss_rsae_sha256' });
  assert.equal(rsa13.keyType, 'rsa');
  assert.equal(rsa13.protocol, 'TLSv1.3');
  assert.equal(ec.subject, 'CN=a.test');
  assert.equal(rsa.subject, 'CN=a.test');
});

test('tls: SNI picks the certificate; a wildcard covers one label; no or unknown SNI gets the first certificate', async () => {
  assert.equal((await handshake({ servername: 'x.w.test' })).subject, 'CN=*.w.test');
  assert.equal((await handshake({ servername: 'd.test' })).subject, 'CN=d.test', 'crt_dir certificate, CN without SAN');
  // a.b.w.test is two labels under the wildcard: the default answers (and fails verification)
  const deeper = await handshake({ servername: 'a.b.w.test', checkServerIdentity: () => undefined });
  assert.equal(deeper.subject, 'CN=a.test');
  const none = await handshake({ checkServerIdentity: () => undefined });
  assert.equal(none.subject, 'CN=a.test');
  assert.equal(none.keyType, 'ec', 'the default is the first crt entry');
  await assert.rejects(handshake({ servername: 'a.b.w.test' }), /does not match certificate's altnames/);
});

test('tls: curl over TLS 1.2 and 1.3, ALPN http/1.1, X-Forwarded-Proto and Forwarded say https', async () => {
  for (const [args, version] of [
    [['--tlsv1.2', '--tls-max', '1.2'], '1.2'],
    [['--tlsv1.3'], '1.3'],
  ] as const) {
    const r = await curl([...args, '-v', '--resolve', `a.test:${port}:127.0.0.1`, `https://a.test:${port}/v${version}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hello');
    assert.match(r.stderr, new RegExp(`SSL connection using TLSv${version.replace('.', '\\.')}`));
    assert.match(r.stderr, /ALPN: server accepted http\/1\.1/);
    assert.equal(seen[0]?.['x-forwarded-proto'], 'https');
    assert.equal(seen[0]?.['x-forwarded-for'], '127.0.0.1');
    assert.match(String(seen[0]?.forwarded), /proto=https/);
  }
  // and the plain frontend still says http
  const plain = await curl([`http://127.0.0.1:${plainPort}/`]);
  assert.equal(plain.stdout, 'hello');
  assert.equal(seen[0]?.['x-forwarded-proto'], 'http');
  assert.match(String(seen[0]?.forwarded), /proto=http(;|$)/);
});

test('tls: keep-alive requests on one TLS connection, and a POST with a body (node\'s parser path)', async () => {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: ca.ca, servername: 'a.test' });
  const sockets = new Set<unknown>();
  for (let i = 0; i < 5; i++) {
    const body = await new Promise<string>((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port, path: `/k${i}`, method: i % 2 === 0 ? 'GET' : 'POST', agent, headers: { host: 'a.test' } }, (res) => {
        sockets.add(res.socket);
        let b = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (b += d));
        res.on('end', () => resolve(`${res.statusCode} ${b}`));
      });
      req.on('error', reject);
      req.end(i % 2 === 0 ? undefined : 'x'.repeat(10_000));
    });
    assert.equal(body, '200 hello');
  }
  assert.equal(sockets.size, 1);
  agent.destroy();
});

test('tls: min_version 1.3 refuses a client that speaks at most 1.2', async () => {
  const ok = await handshake({ p: port13, servername: 'a.test' });
  assert.equal(ok.protocol, 'TLSv1.3');
  await assert.rejects(handshake({ p: port13, servername: 'a.test', maxVersion: 'TLSv1.2' }), /protocol version|alert/i);
  const r = await curl(['--tlsv1.2', '--tls-max', '1.2', '--resolve', `a.test:${port13}:127.0.0.1`, `https://a.test:${port13}/`]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /alert protocol version|SSL/i);
});

test('tls: halb validate refuses expired, mismatched and unreadable certificates with file:line and why', async () => {
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, configText([pem.aEc, pem.expired, pem.mismatched, join(dir, 'none.pem')], join(dir, 'certs')));
  const r = await halbValidate(bad);
  assert.equal(r.code, 1);
  const lines = r.stderr.split('\n');
  const at = (s: string): string | undefined => lines.find((l) => l.includes(s));
  assert.match(at('old.pem') ?? '', /bad\.yaml:9:\d+ frontends\.web\.tls\.crt\[1\]: .*old\.pem: the certificate expired on 2020-02-01T00:00:00\.000Z \(valid 2020-01-01/);
  assert.match(at('bad.pem') ?? '', /bad\.yaml:9:\d+ frontends\.web\.tls\.crt\[2\]: .*bad\.pem: the private key does not match the certificate/);
  assert.match(at('none.pem') ?? '', /bad\.yaml:9:\d+ frontends\.web\.tls\.crt\[3\]: .*none\.pem: cannot read: ENOENT/);
  const ok = await halbValidate(file, '--explain');
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /frontend web \(http\) on 127\.0\.0\.1:\d+ tls \(min TLSv1\.2, 3 crt \+ .*certs\)/);
  assert.match(ok.stdout, /frontend strict \(http\) on 127\.0\.0\.1:\d+ tls \(min TLSv1\.3, 1 crt\)/);
});

test('tls: reload serves the new certificate to new handshakes, keeps open connections, and refuses a broken one', async () => {
  assert.ok(halb);
  const before = await handshake({ servername: 'a.test', sigalgs: 'ecdsa_secp256r1_sha256' });
  // an open connection across the reload
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: ca.ca, servername: 'a.test' });
  const get = (): Promise<{ status: number; fp: string }> =>
    new Promise((resolve, reject) => {
      https
        .get({ host: '127.0.0.1', port, path: '/', agent, headers: { host: 'a.test' } }, (res) => {
          res.resume();
          const fp = (res.socket as tls.TLSSocket).getPeerX509Certificate()?.fingerprint256 ?? '';
          res.on('end', () => resolve({ status: res.statusCode ?? 0, fp }));
        })
        .on('error', reject);
    });
  const first = await get();
  assert.equal(first.fp, before.fingerprint);

  writeFileSync(file, configText([pem.aEc2, pem.aRsa, pem.wild], join(dir, 'certs')));
  halb.child.kill('SIGHUP');
  await halb.waitFor((l) => typeof l.msg === 'string' && l.msg.includes('(generation 1)'));
  const afterReload = await handshake({ servername: 'a.test', sigalgs: 'ecdsa_secp256r1_sha256' });
  assert.notEqual(afterReload.serial, before.serial);
  assert.notEqual(afterReload.fingerprint, before.fingerprint);
  const kept = await get();
  assert.equal(kept.status, 200);
  assert.equal(kept.fp, before.fingerprint, 'the open connection keeps the certificate it was made with');

  // a reload with a broken certificate: refused, the current one keeps serving
  writeFileSync(file, configText([pem.mismatched, pem.aRsa, pem.wild], join(dir, 'certs')));
  halb.child.kill('SIGHUP');
  const refused = await halb.waitFor((l) => typeof l.msg === 'string' && l.msg.startsWith('reload refused'));
  assert.match(JSON.stringify(refused.errors), /halb\.yaml:9:\d+ frontends\.web\.tls\.crt\[0\]: .*bad\.pem: the private key does not match/);
  const still = await handshake({ servername: 'a.test', sigalgs: 'ecdsa_secp256r1_sha256' });
  assert.equal(still.fingerprint, afterReload.fingerprint);
  assert.equal((await get()).status, 200);
  agent.destroy();
});

/** Reads from `s` until `pred` holds for what came so far. */
function readUntil(s: net.Socket, pred: (text: string) => boolean): Promise<string> {
  let buf = '';
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timeout, got ${JSON.stringify(buf)}`)), 5000);
    const onData = (d: Buffer): void => {
      buf += d.toString('latin1');
      if (pred(buf)) {
        clearTimeout(t);
        s.off('data', onData);
        resolve(buf);
      }
    };
    s.on('data', onData);
  });
}

test('tls: after a PROXY header (accept_proxy), the announced client reaches the server', async () => {
  const raw = net.connect(proxiedPort, '127.0.0.1');
  await new Promise<void>((r) => raw.once('connect', () => r()));
  raw.write('PROXY TCP4 10.9.8.7 127.0.0.1 40000 443\r\n');
  const s = tls.connect({ socket: raw, servername: 'a.test', ca: ca.ca });
  await new Promise<void>((resolve, reject) => {
    s.once('secureConnect', () => resolve());
    s.once('error', reject);
  });
  s.write('GET /proxied HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n');
  const answer = await readUntil(s, (t) => t.endsWith('hello'));
  assert.match(answer, /^HTTP\/1\.1 200/);
  assert.equal(seen[0]?.['x-forwarded-for'], '10.9.8.7');
  assert.equal(seen[0]?.['x-forwarded-proto'], 'https');
  s.destroy();
});

test('tls: a WebSocket upgrade over TLS becomes a tunnel', async () => {
  const s = tls.connect({ host: '127.0.0.1', port, servername: 'a.test', ca: ca.ca });
  await new Promise<void>((resolve, reject) => {
    s.once('secureConnect', () => resolve());
    s.once('error', reject);
  });
  s.write('GET /chat HTTP/1.1\r\nHost: a.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
  const head = await readUntil(s, (t) => t.includes('\r\n\r\n'));
  assert.match(head, /^HTTP\/1\.1 101 /);
  assert.equal(seen[0]?.['x-forwarded-proto'], 'https');
  s.write('ping over tls');
  assert.equal(await readUntil(s, (t) => t.includes('ping over tls')), 'ping over tls');
  s.destroy();
});

test('tls: certificate reloads under load with two workers: 0 failed requests, every worker serves the new one', { timeout: 90_000 }, async (t) => {
  const saved = [port, port13, plainPort, proxiedPort];
  [port, port13, plainPort, proxiedPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const f2 = join(dir, 'halb-2.yaml');
  writeFileSync(f2, configText([pem.aEc, pem.aRsa], join(dir, 'certs'), 2));
  const h2 = startHalb(['run', '-c', f2]);
  others.push(h2);
  try {
    await h2.waitFor((l) => l.msg === 'halb node started', 30_000);
    const fps = [(await handshake({ servername: 'a.test', sigalgs: 'ecdsa_secp256r1_sha256' })).fingerprint];
    let ok = 0;
    const failures: string[] = [];
    let running = true;
    // a new TLS connection per request, so every request also is a handshake
    const client = async (): Promise<void> => {
      while (running) {
        await new Promise<void>((resolve) => {
          https
            .get({ host: '127.0.0.1', port, path: '/', agent: false, ca: ca.ca, servername: 'a.test', headers: { host: 'a.test' } }, (res) => {
              res.resume();
              res.on('end', () => {
                if (res.statusCode === 200) ok++;
                else failures.push(`status ${res.statusCode}`);
                resolve();
              });
            })
            .on('error', (err) => {
              failures.push(err.message);
              resolve();
            });
        });
      }
    };
    const clients = Array.from({ length: 3 }, client);
    for (let i = 1; i <= 4; i++) {
      await new Promise((r) => setTimeout(r, 300));
      writeFileSync(f2, configText([i % 2 === 1 ? pem.aEc2 : pem.aEc, pem.aRsa], join(dir, 'certs'), 2));
      h2.child.kill('SIGHUP');
      await h2.waitFor((l) => typeof l.msg === 'string' && l.msg.includes(`(generation ${i})`), 30_000);
      // each worker applies the new config on its own: ask until several handshakes agree
      const want = i % 2 === 1 ? 1 : 0;
      for (let n = 0; n < 8; n++) {
        const got = (await handshake({ servername: 'a.test', sigalgs: 'ecdsa_secp256r1_sha256' })).fingerprint;
        if (fps.length === 1 && got !== fps[0]) fps.push(got);
        if (fps.indexOf(got) !== want) n = -1; // a worker not yet reloaded: start counting again
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    running = false;
    await Promise.all(clients);
    assert.equal(fps.length, 2, 'the reload served a second certificate');
    assert.deepEqual(failures, [], `failed requests: ${failures.length}`);
    assert.ok(ok > 0);
    t.diagnostic(`${ok} requests, each on a new TLS connection, through 4 certificate reloads: ${failures.length} failed`);
  } finally {
    h2.kill('SIGTERM');
    await h2.exited;
    [port, port13, plainPort, proxiedPort] = saved as [number, number, number, number];
  }
});
