// Who may use the admin API of a real `halb run`: its unix socket (in a temp dir, guarded by its
// file mode), a TCP listener with a bearer token, one with mTLS (certificates made by openssl
// here) and one open read-only. Every refusal is asked for and its answer checked; the table of
// them is in README.md ("Admin access").
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, statSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHalb, freePort, HALB_MAIN, type HalbProcess } from '../../helpers/halb-process.ts';

const dir = mkdtempSync(join(tmpdir(), 'halb-access-'));
const TOKEN = 'tok-' + 'x7'.repeat(16);
const tokenFile = join(dir, 'admin.token');
const wrongTokenFile = join(dir, 'wrong.token');
const nodes: HalbProcess[] = [];
let backendServer: http.Server;
let backendPort = 0;

interface Answer {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

function ask(o: { socket?: string; url?: string; method?: string; path: string; headers?: Record<string, string>; body?: string; tls?: https.RequestOptions }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const done = (res: http.IncomingMessage): void => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
    };
    const opts = { method: o.method ?? 'GET', headers: o.headers ?? {}, timeout: 10_000 };
    const req = o.socket !== undefined
      ? http.request({ ...opts, socketPath: o.socket, path: o.path }, done)
      : o.url!.startsWith('https:')
        ? https.request(new URL(o.path, o.url), { ...opts, ...o.tls }, done)
        : http.request(new URL(o.path, o.url), opts, done);
    req.on('error', reject);
    req.end(o.body);
  });
}

const error = (a: Answer): string => (JSON.parse(a.body) as { error: string }).error;

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [HALB_MAIN, ...args], { timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

function config(admin: string, webPort: number): string {
  return `global:
  workers: 1
  admin: ${admin}
  log: { access: false }
frontends:
  web: { bind: "127.0.0.1:${webPort}", mode: http, default_backend: pool }
backends:
  pool:
    servers:
      - { name: a, address: 127.0.0.1:${backendPort} }
`;
}

async function start(name: string, admin: string, env: NodeJS.ProcessEnv = {}): Promise<HalbProcess> {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, config(admin, await freePort()));
  const h = startHalb(['run', '-c', file], { env });
  nodes.push(h);
  await h.waitFor((l) => l.msg === 'halb node started');
  return h;
}

const openssl = (args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
const pem = (name: string): Buffer => readFileSync(join(dir, name));

function makeCertificates(): void {
  const ca = (name: string): void => openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.pem`]);
  const leaf = (name: string, signer: string, ext: string): void => {
    openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.csr`]);
    writeFileSync(join(dir, `${name}.ext`), ext);
    openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', `${signer}.pem`, '-CAkey', `${signer}.key`, '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.pem`]);
  };
  ca('ca');
  ca('rogue-ca');
  leaf('server', 'ca', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  leaf('operator', 'ca', 'extendedKeyUsage=clientAuth\n');
  leaf('intruder', 'rogue-ca', 'extendedKeyUsage=clientAuth\n');
}

// Three nodes: token over TCP + socket; mTLS over TCP; TCP open read-only + socket.
const tok = { socket: join(dir, 'tok.sock'), url: '' };
const mtls = { url: '' };
const ro = { socket: join(dir, 'ro.sock'), url: '' };

before(async () => {
  writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  writeFileSync(wrongTokenFile, 'not-the-token-at-all-0000\n', { mode: 0o600 });
  makeCertificates();
  backendServer = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => backendServer.listen(0, '127.0.0.1', r));
  backendPort = (backendServer.address() as { port: number }).port;
  const p1 = await freePort();
  tok.url = `http://127.0.0.1:${p1}`;
  // The token comes from the environment here; token_file is used by admin-api.test.ts.
  await start('tok', `{ socket: ${tok.socket}, mode: 600, listen: 127.0.0.1:${p1}, token_env: HALB_TEST_ADMIN_TOKEN }`, { HALB_TEST_ADMIN_TOKEN: TOKEN });
  const p2 = await freePort();
  mtls.url = `https://127.0.0.1:${p2}`;
  await start('mtls', `{ listen: 127.0.0.1:${p2}, tls: { cert_file: ${join(dir, 'server.pem')}, key_file: ${join(dir, 'server.key')}, ca_file: ${join(dir, 'ca.pem')} } }`);
  const p3 = await freePort();
  ro.url = `http://127.0.0.1:${p3}`;
  await start('ro', `{ socket: ${ro.socket}, listen: 127.0.0.1:${p3}, read_only_open: true }`);
});

after(async () => {
  for (const n of nodes) n.kill('SIGKILL');
  await Promise.all(nodes.map((n) => n.exited));
  backendServer?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('unix socket: created with the configured mode, serves every call to tools, halb uses it', async () => {
  const st = statSync(tok.socket);
  assert.ok(st.isSocket());
  assert.equal(st.mode & 0o777, 0o600);
  assert.equal(statSync(ro.socket).mode & 0o777, 0o660, 'the default mode');
  assert.equal(st.uid, process.getuid!());
  assert.equal((await ask({ socket: tok.socket, path: '/status' })).status, 200);
  assert.equal((await ask({ socket: tok.socket, method: 'POST', path: '/servers/pool/a', body: '{"weight":2}' })).status, 200);
  const status = await cli(['status', '--socket', tok.socket]);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /BACKEND pool/);
  const drain = await cli(['server', 'pool', 'a', '--drain', '--socket', tok.socket]);
  assert.equal(drain.code, 0, drain.stderr);
  assert.equal((await cli(['server', 'pool', 'a', '--ready', '--weight', '1', '--socket', tok.socket])).code, 0);
  const reload = await cli(['reload', '--socket', tok.socket]);
  assert.equal(reload.code, 0, reload.stderr);
  const missing = await cli(['status', '--socket', join(dir, 'none.sock')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /cannot reach the admin API at unix socket .*none\.sock: .*ENOENT/);
  const flags = await cli(['status', '--token-file', tokenFile]);
  assert.equal(flags.code, 2);
  assert.match(flags.stderr, /--token-file is for a TCP admin listener: give --admin URL too/);
});

test('unix socket: a browser request (a socket forwarded to a port) needs the page\'s CSRF token', async () => {
  const page = await ask({ socket: tok.socket, path: '/dashboard' });
  const csrf = /const CSRF = "([^"]+)"/.exec(page.body)![1]!;
  const browser = { origin: 'http://halb', host: 'halb', 'sec-fetch-site': 'same-origin', 'content-type': 'application/json' };
  const none = await ask({ socket: tok.socket, method: 'POST', path: '/servers/pool/a', headers: browser, body: '{"weight":1}' });
  assert.equal(none.status, 403);
  assert.match(error(none), /without the dashboard's X-Halb-CSRF token refused/);
  const wrong = await ask({ socket: tok.socket, method: 'POST', path: '/servers/pool/a', headers: { ...browser, 'x-halb-csrf': 'x' + csrf.slice(1) }, body: '{"weight":1}' });
  assert.equal(wrong.status, 403);
  assert.match(error(wrong), /does not match this process/);
  const ok = await ask({ socket: tok.socket, method: 'POST', path: '/servers/pool/a', headers: { ...browser, 'x-halb-csrf': csrf }, body: '{"weight":1}' });
  assert.equal(ok.status, 200, ok.body);
  // Another site's page is refused even with the token.
  const cross = await ask({ socket: tok.socket, method: 'POST', path: '/handover', headers: { ...browser, 'sec-fetch-site': 'cross-site', 'x-halb-csrf': csrf } });
  assert.equal(cross.status, 403);
  assert.match(error(cross), /cross-site request refused/);
  // Each process has its own token: the ro node refuses this one.
  const other = await ask({ socket: ro.socket, method: 'POST', path: '/servers/pool/a', headers: { ...browser, 'x-halb-csrf': csrf }, body: '{"weight":1}' });
  assert.equal(other.status, 403);
});

test('TCP with a bearer token: every call without it, or with a wrong one, is refused', async () => {
  const refusals: [string, string, Record<string, string>, number, RegExp][] = [
    ['GET', '/status', {}, 401, /read-only view needs Authorization: Bearer <token>/],
    ['GET', '/metrics', {}, 401, /read-only view needs/],
    ['GET', '/dashboard', {}, 401, /read-only view needs/],
    ['GET', '/status', { authorization: 'Bearer wrong-token-000000000000' }, 401, /bearer token refused/],
    ['GET', '/status', { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` }, 401, /bearer token refused/],
    ['POST', '/reload', {}, 401, /state-changing call needs Authorization: Bearer <token>/],
    ['POST', '/handover', { authorization: `Bearer ${TOKEN}x` }, 401, /bearer token refused/],
    ['POST', '/handover', { authorization: `Bearer ${TOKEN}`, 'sec-fetch-site': 'cross-site' }, 403, /cross-site request refused/],
    ['POST', '/handover', { authorization: `Bearer ${TOKEN}`, origin: 'http://evil.example' }, 403, /cross-origin request from http:\/\/evil\.example refused/],
  ];
  for (const [method, path, headers, status, message] of refusals) {
    const a = await ask({ url: tok.url, method, path, headers });
    assert.equal(a.status, status, `${method} ${path} ${JSON.stringify(headers)}: ${a.body}`);
    assert.match(error(a), message);
    if (status === 401) assert.equal(a.headers['www-authenticate'], 'Bearer realm="halb admin"');
  }
  const good = { authorization: `Bearer ${TOKEN}` };
  assert.equal((await ask({ url: tok.url, path: '/status', headers: good })).status, 200);
  assert.equal((await ask({ url: tok.url, method: 'POST', path: '/handover', headers: good })).status, 200);

  const without = await cli(['reload', '--admin', tok.url]);
  assert.equal(without.code, 1);
  assert.match(without.stderr, /state-changing call needs Authorization: Bearer/);
  const wrong = await cli(['reload', '--admin', tok.url, '--token-file', wrongTokenFile]);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /bearer token refused/);
  const right = await cli(['reload', '--admin', tok.url, '--token-file', tokenFile]);
  assert.equal(right.code, 0, right.stderr);
  const status = await cli(['status', '--admin', tok.url, '--token-file', tokenFile]);
  assert.equal(status.code, 0, status.stderr);
});

test('the token is never logged, refusals are', () => {
  const log = nodes[0]!.lines.map((l) => JSON.stringify(l)).join('\n');
  assert.ok(!log.includes(TOKEN) && !log.includes(TOKEN.slice(4, 20)), 'token in the log');
  assert.match(log, /admin request refused/);
});

test('TCP with mTLS: a certificate signed by ca_file is required for every call', async () => {
  const trust = { ca: pem('ca.pem') };
  const operator = { ...trust, cert: pem('operator.pem'), key: pem('operator.key') };
  assert.equal((await ask({ url: mtls.url, path: '/status', tls: operator })).status, 200);
  const handover = await ask({ url: mtls.url, method: 'POST', path: '/handover', tls: operator });
  assert.equal(handover.status, 200);
  assert.match(handover.body, /no VRRP instances/);
  // No certificate, or one from another CA: the handshake itself is refused (verify: required).
  await assert.rejects(ask({ url: mtls.url, path: '/status', tls: trust }), /certificate|alert|socket hang up|ECONNRESET/i);
  await assert.rejects(ask({ url: mtls.url, method: 'POST', path: '/reload', tls: { ...trust, cert: pem('intruder.pem'), key: pem('intruder.key') } }), /unknown ca|certificate|alert|socket hang up|ECONNRESET/i);
  // A browser holding the certificate still needs the page's CSRF token.
  const browser = await ask({ url: mtls.url, method: 'POST', path: '/reload', tls: operator, headers: { origin: mtls.url, 'sec-fetch-site': 'same-origin' } });
  assert.equal(browser.status, 403);
  assert.match(error(browser), /X-Halb-CSRF/);
  const c = await cli(['status', '--admin', mtls.url, '--ca-file', join(dir, 'ca.pem'), '--cert-file', join(dir, 'operator.pem'), '--key-file', join(dir, 'operator.key')]);
  assert.equal(c.code, 0, c.stderr);
  const noCert = await cli(['status', '--admin', mtls.url, '--ca-file', join(dir, 'ca.pem')]);
  assert.equal(noCert.code, 2);
  assert.match(noCert.stderr, /cannot reach the admin API at https:/);
  assert.match(nodes[1]!.lines.map((l) => JSON.stringify(l)).join('\n'), /admin TLS handshake refused/);
});

test('TCP without token or mTLS: read-only views open (read_only_open), state changes refused', async () => {
  assert.equal((await ask({ url: ro.url, path: '/status' })).status, 200);
  assert.equal((await ask({ url: ro.url, path: '/metrics' })).status, 200);
  assert.equal((await ask({ url: ro.url, path: '/dashboard' })).status, 200);
  for (const path of ['/reload', '/handover', '/servers/pool/a']) {
    const a = await ask({ url: ro.url, method: 'POST', path, body: '{"admin":"drain"}' });
    assert.equal(a.status, 403, path);
    assert.match(error(a), /change state through the unix socket/);
  }
  const a = await ask({ url: ro.url, method: 'POST', path: '/reload', headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(a.status, 401, 'a token where none is configured is a wrong token');
  assert.equal((await ask({ socket: ro.socket, method: 'POST', path: '/servers/pool/a', body: '{"admin":"ready"}' })).status, 200);
});

test('a stale socket left by a killed node is replaced; a live one is not taken over', async () => {
  const sock = join(dir, 'stale.sock');
  const first = await start('stale1', `{ socket: ${sock} }`);
  const second = startHalb(['run', '-c', join(dir, 'stale1.yaml')]);
  nodes.push(second);
  const exit = await second.exited;
  assert.notEqual(exit.code, 0);
  assert.match(second.lines.map((l) => JSON.stringify(l)).join('\n'), /another process is listening on it/);
  first.kill('SIGKILL');
  await first.exited;
  assert.ok(statSync(sock).isSocket(), 'kill -9 leaves the file');
  const third = await start('stale2', `{ socket: ${sock} }`);
  assert.equal((await ask({ socket: sock, path: '/status' })).status, 200);
  third.kill('SIGTERM');
  await third.exited;
  assert.throws(() => statSync(sock), /ENOENT/, 'a clean stop removes the socket');
});
