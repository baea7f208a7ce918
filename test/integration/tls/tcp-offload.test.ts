// TLS offload on a tcp frontend through a real `halb run`: clients speak TLS, a plain TCP echo
// server behind halb gets (and answers) the plain bytes. Also: a client that does not speak TLS
// never reaches the server, client certificates work there too, and the access log has the TLS facts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runHalbWith, freePort, type HalbProcess } from '../../helpers/halb-process.ts';
import { makeCa, makeLeaf, type TestCa } from '../../helpers/test-certificates.ts';

const dir = mkdtempSync(join(tmpdir(), 'halb-tcptls-'));
let ca: TestCa;
let halb: HalbProcess | undefined;
let echo: net.Server;
let [port, mtlsPort, dirPort] = [0, 0, 0];
let bPem = '';
/** Every byte the echo server received, per connection. */
const received: string[] = [];
let client: { key: string; cert: string };

before(async () => {
  ca = makeCa(dir);
  const pem = makeLeaf(ca, 'a', { names: ['a.test'] });
  bPem = makeLeaf(ca, 'b', { names: ['b.test'] });
  mkdirSync(join(dir, 'certs'));
  copyFileSync(pem, join(dir, 'certs', 'a.pem'));
  const text = readFileSync(makeLeaf(ca, 'client', { names: [], cn: 'client one' }), 'utf8');
  client = { key: /-----BEGIN PRIVATE KEY-----[\s\S]*?-----END PRIVATE KEY-----/.exec(text)![0], cert: /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(text)![0] };
  // echoes each chunk back prefixed, and on the client's FIN answers "bye" and closes
  echo = net.createServer({ allowHalfOpen: true }, (s) => {
    const i = received.push('') - 1;
    s.on('data', (d: Buffer) => {
      received[i] += d.toString('latin1');
      s.write(`echo:${d.toString('latin1')}`);
    });
    s.on('end', () => s.end('bye'));
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  [port, mtlsPort, dirPort] = [await freePort(), await freePort(), await freePort()];
  const file = join(dir, 'halb.yaml');
  halb = await runHalbWith(file, `global: { workers: 1, log: { access: true } }
frontends:
  tcps: { bind: ["127.0.0.1:${port}"], mode: tcp, default_backend: echo, tls: { crt: ${pem} } }
  tcpm: { bind: ["127.0.0.1:${mtlsPort}"], mode: tcp, default_backend: echo, tls: { crt: ${pem}, verify: required, ca_file: ${ca.caFile} } }
  tcpd: { bind: ["127.0.0.1:${dirPort}"], mode: tcp, default_backend: echo, tls: { crt_dir: ${join(dir, 'certs')} } }
backends:
  echo: { mode: tcp, servers: [ { name: e, address: "127.0.0.1:${(echo.address() as net.AddressInfo).port}" } ] }
`);
});

after(() => {
  halb?.kill('SIGKILL');
  echo?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Connects over TLS, sends `text`, half-closes, and returns all that came back until the end. */
function exchange(p: number, text: string, opts: tls.ConnectionOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port: p, servername: 'a.test', ca: ca.ca, ...opts }, () => {
      s.write(text);
    });
    let got = '';
    s.setEncoding('latin1');
    s.on('data', (d: string) => {
      got += d;
      if (got === `echo:${text}`) s.end();
    });
    s.on('end', () => resolve(got));
    s.on('error', reject);
  });
}

test('tcp tls offload: the server gets the plain bytes, the client its answers, a half-close travels', async () => {
  const before = received.length;
  const got = await exchange(port, 'hello over tls');
  assert.equal(got, 'echo:hello over tlsbye');
  assert.equal(received.length, before + 1);
  assert.equal(received[before], 'hello over tls', 'the server saw plain bytes, not TLS records');
  const line = await halb!.waitFor((l) => l.msg === 'tcp' && l.frontend === 'tcps');
  assert.equal((line.tls as { version: string }).version, 'TLSv1.3');
  assert.equal((line.tls as { sni: string }).sni, 'a.test');
  assert.equal(line.bytesIn, 'hello over tls'.length);
});

test('tcp tls offload: a client that does not speak TLS never reaches the server', async () => {
  const before = received.length;
  const s = net.connect(port, '127.0.0.1');
  s.write('GET / HTTP/1.0\r\n\r\n');
  let got = '';
  for await (const d of s) got += (d as Buffer).toString('latin1');
  assert.doesNotMatch(got, /echo:/);
  assert.equal(received.length, before);
});

test('tcp tls offload with client certificates: served with one the CA signed, refused without', async () => {
  assert.equal(await exchange(mtlsPort, 'with cert', client), 'echo:with certbye');
  const before = received.length;
  await assert.rejects(exchange(mtlsPort, 'no cert'));
  assert.equal(received.length, before);
});

test('tcp tls offload: a certificate added to crt_dir is served without a reload', async () => {
  const subject = (): Promise<string> =>
    new Promise((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port: dirPort, servername: 'b.test', ca: ca.ca, checkServerIdentity: () => undefined }, () => {
        resolve(s.getPeerX509Certificate()?.subject ?? '');
        s.destroy();
      });
      s.on('error', reject);
    });
  assert.equal(await subject(), 'CN=a.test');
  copyFileSync(bPem, join(dir, 'certs', 'b.pem'));
  let got = '';
  for (let n = 0; n < 200 && got !== 'CN=b.test'; n++) {
    got = await subject();
    if (got !== 'CN=b.test') await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(got, 'CN=b.test');
});
