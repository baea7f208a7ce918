// The certificate hand-over between two halb nodes on loopback (127.0.0.1 and 127.0.0.2): the
// node that reaches the CA (pebble) obtains the certificate and hands it to the other, which
// cannot reach any CA and serves the same certificate; messages that are tampered with, sealed
// under another key, or replayed are refused, logged and counted, and change nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHalb, freePort, type HalbProcess } from '../../helpers/halb-process.ts';
import { makeCa, makeLeaf, type TestCa } from '../../helpers/test-certificates.ts';
import { startPebble, type Pebble } from '../../helpers/pebble.ts';
import { execFile } from 'node:child_process';
import { handoverKey, sealHandover } from '../../../src/acme/handover-message.ts';

const HALB_MAIN = new URL('../../../bin/halb.js', import.meta.url).pathname;

const dir = mkdtempSync(join(tmpdir(), 'halb-acme-ho-'));
let ca: TestCa;
let fallback = '';
let backend: http.Server;
let backendPort = 0;
const halbs: HalbProcess[] = [];
let pebble: Pebble | undefined;
const SECRET = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';

before(async () => {
  ca = makeCa(dir);
  fallback = makeLeaf(ca, 'fallback', { names: ['fallback.test'] });
  backend = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  backendPort = (backend.address() as { port: number }).port;
  writeFileSync(join(dir, 'peer.key'), `${SECRET}\n`);
  chmodSync(join(dir, 'peer.key'), 0o600);
});

after(async () => {
  for (const h of halbs) h.kill('SIGKILL');
  await pebble?.stop();
  backend?.closeAllConnections();
  backend?.close();
  rmSync(dir, { recursive: true, force: true });
});

function node(o: { name: string; self: string; peer: string; plain: number; site: number; peerPort: number; directory: string }): string {
  return `global: { workers: 1, log: { access: false }, admin: { socket: ${join(dir, `admin-${o.name}.sock`)} } }
frontends:
  plain: { bind: ["${o.self}:${o.plain}"], default_backend: app }
  site:
    bind: ["${o.self}:${o.site}"]
    default_backend: app
    tls:
      acme:
        email: ops@example.com
        directory: "${o.directory}"
        domains: [pair.acme.test]
        http_port: ${o.plain}
        ca_file: ${ca.caFile}
        storage: ${join(dir, `store-${o.name}`)}
        fallback_crt: ${fallback}
        retry_min: 1s
        retry_max: 5s
        peer_key_file: ${join(dir, 'peer.key')}
        peers: [${o.peer}]
        peer_listen: ${o.self}
        peer_port: ${o.peerPort}
backends:
  app: { servers: [ { name: a, address: "127.0.0.1:${backendPort}" } ] }
`;
}

function fingerprint(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host, port, servername: 'pair.acme.test', rejectUnauthorized: false }, () => {
      resolve(s.getPeerX509Certificate()?.fingerprint256 ?? '');
      s.end();
    });
    s.on('error', reject);
  });
}

/** `halb status` of one node, through its admin socket: the human tables. */
function statusTable(name: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [HALB_MAIN, 'status', '--socket', join(dir, `admin-${name}.sock`)], { timeout: 20_000 }, (err, stdout, stderr) => (err ? reject(new Error(`halb status: ${err.message} ${stderr}`)) : resolve(stdout)));
  });
}

/** One raw hand-over message to `port`; the line the node answers. */
function sendRaw(host: string, port: number, bytes: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port }, () => s.end(bytes));
    let answer = '';
    s.on('data', (d: Buffer) => (answer += d.toString()));
    s.on('close', () => resolve(answer.trim()));
    s.on('error', reject);
  });
}

test('the node that reaches the CA hands its certificate to the peer; tampered, foreign-key and replayed messages are refused', async () => {
  const [plain, site, peerPort] = [await freePort(), await freePort(), await freePort()];
  pebble = await startPebble(ca, dir, { httpPort: plain, tlsPort: site });
  // lb2 is told of a CA that is not there: whatever it serves came over the hand-over
  const nowhere = `https://localhost:${await freePort()}/dir`;
  const f1 = join(dir, 'lb1.yaml');
  const f2 = join(dir, 'lb2.yaml');
  writeFileSync(f2, node({ name: 'lb2', self: '127.0.0.2', peer: '127.0.0.1', plain, site, peerPort, directory: nowhere }));
  writeFileSync(f1, node({ name: 'lb1', self: '127.0.0.1', peer: '127.0.0.2', plain, site, peerPort, directory: pebble.directory }));
  const lb2 = startHalb(['run', '-c', f2]);
  halbs.push(lb2);
  await lb2.waitFor((l) => l.msg === 'acme hand-over listening', 30_000);
  await lb2.waitFor((l) => l.msg === 'acme: no certificate held yet: serving the fallback certificate');
  const fallbackPrint = await fingerprint('127.0.0.2', site);
  const lb1 = startHalb(['run', '-c', f1]);
  halbs.push(lb1);
  const got = await lb1.waitFor((l) => l.msg === 'acme: certificate obtained', 60_000);
  await lb1.waitFor((l) => l.msg === 'acme hand-over: certificate taken by the peer' && l.frontend === 'site', 30_000);
  await lb2.waitFor((l) => l.msg === 'certificates refreshed' && l.acme === 'acme', 10_000);
  assert.notEqual(fallbackPrint, got.fingerprint256);
  assert.equal(await fingerprint('127.0.0.1', site), got.fingerprint256);
  assert.equal(await fingerprint('127.0.0.2', site), got.fingerprint256, 'the peer serves the certificate it was handed');
  assert.equal(readFileSync(join(dir, 'store-lb2', 'pair.acme.test.pem'), 'utf8'), readFileSync(join(dir, 'store-lb1', 'pair.acme.test.pem'), 'utf8'));

  const pem = readFileSync(join(dir, 'store-lb1', 'pair.acme.test.pem'), 'utf8');
  const key = handoverKey(Buffer.from(SECRET));
  const header = { node: 'mallory', boot: 'x', seq: 1, ts: Date.now(), frontend: 'site' };
  const frame = sealHandover(key, header, pem);
  const tampered = Buffer.from(frame);
  tampered[tampered.length - 40] = (tampered[tampered.length - 40] as number) ^ 0xff;
  assert.equal(await sendRaw('127.0.0.2', peerPort, tampered), 'refused bad-tag');
  await lb2.waitFor((l) => l.msg === 'acme hand-over message refused' && l.reason === 'bad-tag');
  assert.equal(await sendRaw('127.0.0.2', peerPort, sealHandover(handoverKey(Buffer.from('another key of enough length!!')), header, pem)), 'refused bad-tag');
  // an authentic message is taken once; the same bytes again are a replay
  assert.equal(await sendRaw('127.0.0.2', peerPort, frame), 'ok');
  assert.equal(await sendRaw('127.0.0.2', peerPort, frame), 'refused replay');
  assert.equal(await sendRaw('127.0.0.2', peerPort, sealHandover(key, { ...header, seq: 2, ts: Date.now() - 3_600_000 }, pem)), 'refused stale');
  assert.equal(await sendRaw('127.0.0.2', peerPort, Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')), 'refused malformed');
  // the answer can reach us before the node's log line does
  await lb2.waitFor((l) => l.msg === 'acme hand-over message refused' && l.reason === 'malformed');
  const refused = lb2.lines.filter((l) => l.msg === 'acme hand-over message refused').map((l) => l.reason);
  assert.deepEqual(refused, ['bad-tag', 'bad-tag', 'replay', 'stale', 'malformed']);
  // still the same certificate: nothing refused was used
  assert.equal(await fingerprint('127.0.0.2', site), got.fingerprint256);

  // `halb status` on both: the ACME table and the hand-over counts
  const short = `${String(got.fingerprint256).slice(0, 23)}..`;
  const row = (table: string): string[] => {
    const lines = table.split('\n');
    const head = lines.findIndex((l) => /^ACME +STATE +SERVING +CERT SHA-256 +NAMES +EXPIRES +NEXT ATTEMPT +OBTAINED\/RECEIVED +FAILURES +LAST ERROR$/.test(l));
    assert.ok(head >= 0, table);
    const r = lines.slice(head + 1).find((l) => l.startsWith('site '));
    assert.ok(r, table);
    return r.split(/ {2,}/);
  };
  const t1 = await statusTable('lb1');
  const [, state1, serving1, cert1, names1, expires1, next1, counts1, failures1, error1] = row(t1);
  assert.deepEqual([state1, serving1, cert1, names1, counts1, failures1, error1], ['valid', 'acme', short, 'pair.acme.test', '1/0', '0', '-'], t1);
  assert.match(expires1!, /^\d{4}-\d\d-\d\d \d\d:\d\dZ \(in \d+[dh]\)$/, t1);
  assert.match(next1!, /^in \d+[smhd]$/, t1);
  assert.match(t1, /^ACME HAND-OVER {2}sent [1-9]\d* {2}acknowledged [1-9]\d* {2}send failed \d+ {2}received 0 {2}refused 0$/m);
  const t2 = await statusTable('lb2');
  const [, state2, serving2, cert2, , , , counts2] = row(t2);
  // lb2 reaches no CA: it was handed the certificate (its own orders fail, so it may be in backoff)
  assert.equal(serving2, 'acme', t2);
  assert.equal(cert2, short, t2);
  // two authentic messages reached it (lb1's and the test's), one newer certificate was kept
  assert.equal(counts2, '0/1', t2);
  assert.ok(state2 === 'valid' || state2 === 'BACKOFF' || state2 === 'standby', t2);
  assert.match(t2, /^ACME HAND-OVER .* received 2 {2}refused bad-tag:2,replay:1,stale:1,malformed:1$/m);

  // lb2 loses its storage and restarts: it asks lb1, which offers what it holds
  lb2.kill('SIGKILL');
  await lb2.exited;
  rmSync(join(dir, 'store-lb2'), { recursive: true, force: true });
  const again = startHalb(['run', '-c', f2]);
  halbs.push(again);
  await again.waitFor((l) => l.msg === 'acme: no certificate held yet: serving the fallback certificate', 30_000);
  await lb1.waitFor((l) => l.msg === 'acme hand-over: the peer asks for the certificates held here', 30_000);
  await again.waitFor((l) => l.msg === 'certificates refreshed' && l.acme === 'acme', 30_000);
  assert.equal(await fingerprint('127.0.0.2', site), got.fingerprint256, 'a restarted peer with no storage gets the certificate back');
  assert.ok(!again.lines.some((l) => l.msg === 'acme: certificate obtained'));
});
