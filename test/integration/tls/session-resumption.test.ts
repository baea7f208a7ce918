// TLS session resumption across workers: the primary's ticket keys are held by every worker, so a
// session made on one worker resumes on the other. Which worker served a connection is read from
// its access log line (every worker line carries `worker: <pid>`), whether it resumed both from the
// client (isSessionReused) and from that line's tls.resumed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import tls from 'node:tls';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runHalbWith, freePort, type HalbProcess } from '../../helpers/halb-process.ts';
import { makeCa, makeLeaf, type TestCa } from '../../helpers/test-certificates.ts';

const dir = mkdtempSync(join(tmpdir(), 'halb-resume-'));
let ca: TestCa;
let halb: HalbProcess | undefined;
let backend: http.Server;
let port = 0;
let mtlsPort = 0;
let noTicketPort = 0;
let noTicketMtlsPort = 0;
let client: { key: string; cert: string };

before(async () => {
  ca = makeCa(dir);
  const pem = makeLeaf(ca, 'a', { names: ['a.test'] });
  const c = makeLeaf(ca, 'client', { names: [], cn: 'client one' });
  const text = (await import('node:fs')).readFileSync(c, 'utf8');
  client = { key: /-----BEGIN PRIVATE KEY-----[\s\S]*?-----END PRIVATE KEY-----/.exec(text)![0], cert: /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(text)![0] };
  backend = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end(`dn=${String(req.headers['x-ssl-client-dn'])}`));
  });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  [port, mtlsPort, noTicketPort, noTicketMtlsPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const file = join(dir, 'halb.yaml');
  halb = await runHalbWith(file, `global: { workers: 2, log: { access: true }, ticket_key_rotation: 10s }
frontends:
  web: { bind: ["127.0.0.1:${port}"], mode: http, default_backend: app, tls: { crt: ${pem} } }
  mtls: { bind: ["127.0.0.1:${mtlsPort}"], mode: http, default_backend: app, tls: { crt: ${pem}, verify: required, ca_file: ${ca.caFile} } }
  noticket: { bind: ["127.0.0.1:${noTicketPort}"], mode: http, default_backend: app, tls: { crt: ${pem}, tickets: false } }
  noticketm: { bind: ["127.0.0.1:${noTicketMtlsPort}"], mode: http, default_backend: app, tls: { crt: ${pem}, tickets: false, verify: optional, ca_file: ${ca.caFile} } }
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

interface Done {
  reused: boolean;
  body: string;
  /** The last session the server gave (TLS 1.3 sends tickets after the handshake). */
  session: Buffer | undefined;
}

/** One request on a new connection, offering `session`; `path` names it in the access log. */
function request(p: number, path: string, opts: tls.ConnectionOptions): Promise<Done> {
  return new Promise((resolve, reject) => {
    let session: Buffer | undefined;
    const s = tls.connect({ host: '127.0.0.1', port: p, servername: 'a.test', ca: ca.ca, ...opts }, () => {
      s.write(`GET ${path} HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n`);
    });
    s.on('session', (sess: Buffer) => (session = sess));
    let got = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => (got += d));
    s.on('end', () => resolve({ reused: s.isSessionReused(), body: got.slice(got.indexOf('\r\n\r\n') + 4), session }));
    s.on('error', reject);
  });
}

/** The access log line of the request to `path`. */
async function accessLine(path: string): Promise<{ worker: number; tls: { resumed: boolean; version: string; sni?: string; alpn?: string; cipher: string } }> {
  const l = await halb!.waitFor((x) => x.type === 'access' && x.url === path);
  return l as unknown as { worker: number; tls: { resumed: boolean; version: string; cipher: string } };
}

for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
  test(`resumption ${version}: a session made on one worker resumes on both`, async () => {
    const tag = version.replace('.', '');
    const first = await request(port, `/${tag}/full`, { minVersion: version, maxVersion: version });
    assert.equal(first.reused, false);
    assert.ok(first.session, 'the server issued a session ticket');
    const full = await accessLine(`/${tag}/full`);
    assert.equal(full.tls.resumed, false);
    assert.equal(full.tls.version, version);
    const workers = new Map<number, number>();
    for (let i = 0; i < 12; i++) {
      const r = await request(port, `/${tag}/r${i}`, { minVersion: version, maxVersion: version, session: first.session });
      assert.equal(r.reused, true, `connection ${i} resumed`);
      // TLS 1.3: a resumption gets a fresh ticket, for clients that use each ticket once
      if (version === 'TLSv1.3') assert.ok(r.session, `connection ${i} got a new ticket`);
      const line = await accessLine(`/${tag}/r${i}`);
      assert.equal(line.tls.resumed, true);
      workers.set(line.worker, (workers.get(line.worker) ?? 0) + 1);
    }
    assert.equal(workers.size, 2, `resumed connections landed on both workers: ${JSON.stringify([...workers])}`);
    assert.ok(!workers.has(full.worker) || workers.size === 2);
  });
}

for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
  test(`tickets: false, ${version}: a session offered back never resumes, in the C layer and in node's TLS (mTLS)`, async () => {
    const tag = version.replace('.', '');
    for (const [p, name] of [
      [noTicketPort, 'c'],
      [noTicketMtlsPort, 'node'],
    ] as const) {
      // a session to offer: from the frontend that issues tickets (same certificate, other context)
      const donor = await request(port, `/nt/${tag}/${name}/donor`, { minVersion: version, maxVersion: version });
      const first = await request(p, `/nt/${tag}/${name}/full`, { minVersion: version, maxVersion: version });
      assert.equal(first.body, 'dn=undefined');
      for (const [i, session] of [first.session, donor.session].entries()) {
        if (session === undefined) continue;
        const r = await request(p, `/nt/${tag}/${name}/again${i}`, { minVersion: version, maxVersion: version, session });
        assert.equal(r.reused, false, `${name}: session ${i} was not resumed`);
        assert.equal((await accessLine(`/nt/${tag}/${name}/again${i}`)).tls.resumed, false);
      }
      if (p === noTicketPort && version === 'TLSv1.3') assert.equal(first.session, undefined, 'the C layer issues no ticket at all');
    }
  });
}

test('resumption with client certificates (verify required): resumed on both workers, the subject still reaches the server', async () => {
  const first = await request(mtlsPort, '/m/full', { ...client });
  assert.equal(first.body, 'dn=/CN=client one');
  const workers = new Set<number>();
  for (let i = 0; i < 8; i++) {
    const r = await request(mtlsPort, `/m/r${i}`, { ...client, session: first.session });
    assert.equal(r.reused, true, `connection ${i} resumed`);
    assert.equal(r.body, 'dn=/CN=client one');
    workers.add((await accessLine(`/m/r${i}`)).worker);
  }
  assert.equal(workers.size, 2);
});

test('resumption: after a key rotation the previous key still opens tickets; after the next one it does not', { timeout: 90_000 }, async () => {
  const h = halb!;
  const pids = new Set(h.lines.filter((l) => l.msg === 'TLS session ticket keys set').map((l) => l.worker as number));
  assert.equal(pids.size, 2);
  /** Waits (polling the log) until both workers hold one same key not in `seen`, and returns it. */
  const nextKey = async (seen: Set<string>): Promise<string> => {
    for (let n = 0; n < 600; n++) {
      const holding = new Map<number, string>();
      for (const l of h.lines) if (l.msg === 'TLS session ticket keys set') holding.set(l.worker as number, l.current as string);
      const keys = new Set(holding.values());
      const [k] = keys;
      if (holding.size === 2 && keys.size === 1 && k !== undefined && !seen.has(k)) return k;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('the workers did not get a new ticket key');
  };
  const seen = new Set<string>();
  seen.add(await nextKey(seen));
  const made = await request(port, '/rot/full', {});
  assert.ok(made.session);
  seen.add(await nextKey(seen));
  // one rotation later: the ticket's key is the previous one, still held
  const workers = new Set<number>();
  for (let i = 0; i < 6; i++) {
    const r = await request(port, `/rot/prev${i}`, { session: made.session });
    assert.equal(r.reused, true, `connection ${i} resumed with the previous key`);
    workers.add((await accessLine(`/rot/prev${i}`)).worker);
  }
  assert.equal(workers.size, 2);
  seen.add(await nextKey(seen));
  // two rotations later: the key is gone, a full handshake
  const late = await request(port, '/rot/late', { session: made.session });
  assert.equal(late.reused, false);
  assert.equal((await accessLine('/rot/late')).tls.resumed, false);
});
