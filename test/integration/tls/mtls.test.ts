// Client certificates (mTLS) on TLS frontends through a real `halb run`: verify required and
// optional against a CA made by openssl at test time, a client certificate of another CA refused,
// and the client's subject reaching the server in headers a client cannot forge.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import tls from 'node:tls';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runHalbWith, freePort, HALB_MAIN, type HalbProcess } from '../../helpers/halb-process.ts';
import { makeCa, makeLeaf, type TestCa } from '../../helpers/test-certificates.ts';

const dir = mkdtempSync(join(tmpdir(), 'halb-mtls-'));
let ca: TestCa;
let otherCa: TestCa;
let serverPem = '';
/** key + cert of a client the CA signed, and of one another CA signed */
let client: { key: string; cert: string };
let stranger: { key: string; cert: string };
let halb: HalbProcess | undefined;
let backend: http.Server;
let requiredPort = 0;
let optionalPort = 0;
const seen: http.IncomingHttpHeaders[] = [];

function keyAndCert(pem: string): { key: string; cert: string } {
  const text = readFileSync(pem, 'utf8');
  const key = /-----BEGIN PRIVATE KEY-----[\s\S]*?-----END PRIVATE KEY-----/.exec(text)?.[0] ?? '';
  const cert = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(text)?.[0] ?? '';
  return { key, cert };
}

function configText(caFile: string, backendPort: number): string {
  return `global: { workers: 1, log: { access: false } }
frontends:
  required:
    bind: ["127.0.0.1:${requiredPort}"]
    mode: http
    default_backend: app
    tls: { crt: ${serverPem}, verify: required, ca_file: ${caFile} }
  optional:
    bind: ["127.0.0.1:${optionalPort}"]
    mode: http
    default_backend: app
    tls:
      crt: ${serverPem}
      verify: optional
      ca_file: ${caFile}
      client_cert_header: { dn: X-Client-Subject, verify: X-Client-Verified }
backends:
  app: { servers: [ { name: a, address: "127.0.0.1:${backendPort}" } ] }
`;
}

before(async () => {
  ca = makeCa(dir);
  mkdirSync(join(dir, 'other'));
  otherCa = makeCa(join(dir, 'other'));
  serverPem = makeLeaf(ca, 'server', { names: ['a.test'] });
  client = keyAndCert(makeLeaf(ca, 'client', { names: [], cn: 'client one' }));
  stranger = keyAndCert(makeLeaf(otherCa, 'stranger', { names: [], cn: 'stranger' }));
  backend = http.createServer((req, res) => {
    seen.unshift(req.headers);
    req.resume();
    req.on('end', () => res.end('hello'));
  });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  [requiredPort, optionalPort] = [await freePort(), await freePort()];
  const file = join(dir, 'halb.yaml');
  halb = await runHalbWith(file, configText(ca.caFile, (backend.address() as { port: number }).port));
});

after(() => {
  halb?.kill('SIGKILL');
  backend?.closeAllConnections();
  backend?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** One request over a new TLS connection; rejects when the handshake or the request fails. */
function request(port: number, opts: tls.ConnectionOptions, headers = ''): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername: 'a.test', ca: ca.ca, ...opts }, () => {
      s.write(`GET / HTTP/1.1\r\nHost: a.test\r\n${headers}Connection: close\r\n\r\n`);
    });
    let got = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => (got += d));
    s.on('end', () => (got === '' ? reject(new Error('closed without an answer')) : resolve(got)));
    s.on('error', reject);
  });
}

for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
  test(`mtls ${version}: verify required serves a client the CA signed, with its subject in X-SSL-Client-DN`, async () => {
    const forged = 'X-SSL-Client-DN: /CN=admin\r\nx-ssl-client-verify: SUCCESS\r\n';
    const answer = await request(requiredPort, { ...client, maxVersion: version, minVersion: version }, forged);
    assert.match(answer, /^HTTP\/1\.1 200 /);
    assert.equal(seen[0]?.['x-ssl-client-dn'], '/CN=client one', 'the forged header was replaced');
    assert.equal(seen[0]?.['x-ssl-client-verify'], 'SUCCESS');
  });

  test(`mtls ${version}: verify required refuses a client without a certificate and one of another CA`, async () => {
    const before = seen.length;
    await assert.rejects(request(requiredPort, { maxVersion: version, minVersion: version }));
    await assert.rejects(request(requiredPort, { ...stranger, maxVersion: version, minVersion: version }));
    assert.equal(seen.length, before, 'nothing reached the server');
  });

  test(`mtls ${version}: verify optional serves no certificate as NONE, a good one with its subject, refuses a bad one`, async () => {
    assert.match(await request(optionalPort, { maxVersion: version, minVersion: version }, 'X-Client-Subject: /CN=admin\r\n'), /^HTTP\/1\.1 200 /);
    assert.equal(seen[0]?.['x-client-verified'], 'NONE');
    assert.equal(seen[0]?.['x-client-subject'], undefined, 'the forged subject was removed');
    assert.match(await request(optionalPort, { ...client, maxVersion: version, minVersion: version }), /^HTTP\/1\.1 200 /);
    assert.equal(seen[0]?.['x-client-verified'], 'SUCCESS');
    assert.equal(seen[0]?.['x-client-subject'], '/CN=client one');
    assert.equal(seen[0]?.['x-ssl-client-dn'], undefined, 'the configured names replace the defaults');
    const before = seen.length;
    await assert.rejects(request(optionalPort, { ...stranger, maxVersion: version, minVersion: version }));
    assert.equal(seen.length, before);
  });
}

function halbValidate(f: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [HALB_MAIN, 'validate', '-c', f], { encoding: 'utf8', timeout: 60_000 }, (err, _stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stderr });
    });
  });
}

test('mtls: halb validate refuses a ca_file that is not a CA, or unreadable, with file:line; verify without ca_file', async () => {
  const notCa = join(dir, 'not-ca.yaml');
  writeFileSync(notCa, configText(serverPem, 1));
  const r = await halbValidate(notCa);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /not-ca\.yaml:7:\d+ frontends\.required\.tls\.ca_file: .*server\.pem: certificate 1 \(CN=a\.test\) is not a CA/);
  const missing = join(dir, 'missing.yaml');
  writeFileSync(missing, configText(join(dir, 'none.pem'), 1));
  assert.match((await halbValidate(missing)).stderr, /missing\.yaml:7:\d+ frontends\.required\.tls\.ca_file: .*none\.pem: cannot read: ENOENT/);
  const noCa = join(dir, 'no-ca.yaml');
  writeFileSync(noCa, configText(ca.caFile, 1).replace(`, ca_file: ${ca.caFile}`, ''));
  assert.match((await halbValidate(noCa)).stderr, /no-ca\.yaml:7:\d+ frontends\.required\.tls\.verify: verify required checks client certificates against ca_file: set ca_file/);
});
