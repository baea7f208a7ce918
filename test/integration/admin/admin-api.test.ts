// The admin API of a real `halb run` process with real HTTP backends on loopback: status and
// metrics shapes, runtime drain / ready / maint / weight moving real traffic, bad input with
// clear errors, `halb status` / `halb server`, and the dashboard page (its script run against
// a small fake DOM fed by the live /status, buttons included).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import vm from 'node:vm';
import { createHash } from 'node:crypto';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHalb, freePort, HALB_MAIN, type HalbProcess } from '../../helpers/halb-process.ts';
import { FakeDocument, FakeText, type FakeElement } from './fake-dom.ts';
import type { NodeStatus } from '../../../src/node.ts';

interface Backend {
  name: string;
  port: number;
  count: number;
  server: http.Server;
}

async function backend(name: string): Promise<Backend> {
  const b: Backend = { name, port: 0, count: 0, server: http.createServer() };
  b.server.on('request', (req, res) => {
    // Health checks (GET /health) are not traffic.
    if (req.url !== '/health') b.count++;
    req.resume();
    req.on('end', () => res.end(name));
  });
  await new Promise<void>((r) => b.server.listen(0, '127.0.0.1', r));
  b.port = (b.server.address() as net.AddressInfo).port;
  return b;
}

const dir = mkdtempSync(join(tmpdir(), 'halb-admin-'));
// State changes over TCP need the bearer token; status, metrics and the dashboard are open.
const TOKEN = 'admin-api-test-token-0123456789';
const tokenFile = join(dir, 'admin.token');
writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
const bearer = { authorization: `Bearer ${TOKEN}` };
const backends: Backend[] = [];
let blocker: net.Server;
let blockedPort = 0;
let halb: HalbProcess | undefined;
let adminUrl = '';
let webUrl = '';

type Status = NodeStatus;
type ServerStatus = NodeStatus['backends'][number]['servers'][number];

async function status(): Promise<Status> {
  const r = await fetch(`${adminUrl}/status`, { signal: AbortSignal.timeout(5000) });
  assert.equal(r.status, 200);
  return (await r.json()) as Status;
}

const server = async (name: string): Promise<ServerStatus> => (await status()).backends[0]!.servers.find((s) => s.name === name)!;

async function post(path: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; body: { ok: boolean; error?: string } }> {
  const r = await fetch(`${adminUrl}${path}`, { method: 'POST', body, headers: { ...bearer, ...headers }, signal: AbortSignal.timeout(5000) });
  return { status: r.status, body: (await r.json()) as { ok: boolean; error?: string } };
}

async function setServer(name: string, change: object): Promise<void> {
  const r = await post(`/servers/pool/${name}`, JSON.stringify(change));
  assert.equal(r.status, 200, JSON.stringify(r.body));
}

/** n sequential requests through the proxy; returns how many each backend got. */
async function hit(n: number): Promise<Record<string, number>> {
  const before = Object.fromEntries(backends.map((b) => [b.name, b.count]));
  for (let i = 0; i < n; i++) {
    const r = await fetch(webUrl, { signal: AbortSignal.timeout(5000) });
    assert.equal(r.status, 200);
    await r.text();
  }
  return Object.fromEntries(backends.map((b) => [b.name, b.count - before[b.name]!]));
}

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [HALB_MAIN, ...args], { timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

async function until(what: string, ok: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

before(async () => {
  for (const name of ['a', 'b', 'c', 'spare']) backends.push(await backend(name));
  blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  blockedPort = (blocker.address() as net.AddressInfo).port;
  const adminPort = await freePort();
  const webPort = await freePort();
  adminUrl = `http://127.0.0.1:${adminPort}`;
  webUrl = `http://127.0.0.1:${webPort}/`;
  const file = join(dir, 'halb.yaml');
  const port = (n: string): number => backends.find((b) => b.name === n)!.port;
  writeFileSync(
    file,
    `global:
  workers: 1
  admin: { socket: ${join(dir, 'admin.sock')}, listen: 127.0.0.1:${adminPort}, token_file: ${tokenFile}, read_only_open: true }
  log: { access: false }
frontends:
  web:
    bind: ["127.0.0.1:${webPort}"]
    mode: http
    default_backend: pool
  blocked:
    bind: ["127.0.0.1:${blockedPort}"]
    mode: http
    default_backend: pool
backends:
  pool:
    balance: roundrobin
    health: { http: { method: GET, path: /health }, interval: 200ms }
    servers:
      - { name: a, address: 127.0.0.1:${port('a')} }
      - { name: b, address: 127.0.0.1:${port('b')} }
      - { name: c, address: 127.0.0.1:${port('c')} }
      - { name: spare, address: 127.0.0.1:${port('spare')}, backup: true }
`,
  );
  halb = startHalb(['run', '-c', file]);
  await halb.waitFor((l) => l.msg === 'halb node started');
  await until('a first health check of every server', async () => (await status()).backends[0]!.servers.every((s) => s.lastCheck !== undefined));
});

after(async () => {
  halb?.kill('SIGKILL');
  await halb?.exited;
  for (const b of backends) {
    b.server.closeAllConnections();
    b.server.close();
  }
  blocker?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('GET /status: frontends with binds and listen errors, servers with health, admin state, weight, backup', async () => {
  const st = await status();
  assert.equal(st.workers, 1);
  assert.equal(st.generation, 0);
  assert.ok(st.source.endsWith('halb.yaml'));
  assert.deepEqual(
    st.frontends.map((f) => [f.name, f.mode, f.bind.length, f.listenError === undefined]),
    [
      ['web', 'http', 1, true],
      ['blocked', 'http', 1, false],
    ],
  );
  assert.match(st.frontends[1]!.listenError!, new RegExp(`${blockedPort}.*EADDRINUSE|EADDRINUSE.*${blockedPort}`));
  assert.equal(st.backends.length, 1);
  const pool = st.backends[0]!;
  assert.equal(pool.name, 'pool');
  assert.equal(pool.balance, 'roundrobin');
  assert.equal(pool.usable, true);
  assert.equal(pool.queue, 0);
  assert.deepEqual(
    pool.servers.map((s) => [s.name, s.up, s.admin, s.weight, s.backup, s.active]),
    [
      ['a', true, 'ready', 1, false, 0],
      ['b', true, 'ready', 1, false, 0],
      ['c', true, 'ready', 1, false, 0],
      ['spare', true, 'ready', 1, true, 0],
    ],
  );
  for (const s of pool.servers) {
    assert.match(s.address, /^127\.0\.0\.1:\d+$/);
    assert.equal(s.lastCheck!.ok, true);
    assert.equal(typeof s.lastCheck!.reason, 'string');
    assert.equal(typeof s.lastCheck!.at, 'number');
  }
  assert.deepEqual(st.vrrp, []);
});

test('GET / gives JSON to tools and the dashboard to browsers', async () => {
  const tool = await fetch(`${adminUrl}/`);
  assert.match(tool.headers.get('content-type')!, /^application\/json/);
  assert.equal(tool.headers.get('vary'), 'accept');
  assert.equal(((await tool.json()) as Status).backends[0]!.name, 'pool');
  const browser = await fetch(`${adminUrl}/`, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
  assert.match(browser.headers.get('content-type')!, /^text\/html/);
  assert.match(await browser.text(), /<title>halb dashboard<\/title>/);
  const missing = await fetch(`${adminUrl}/nope`);
  assert.equal(missing.status, 404);
  assert.match(((await missing.json()) as { error: string }).error, /no route GET \/nope/);
});

test('GET /metrics: Prometheus text with server, backend and frontend gauges', async () => {
  await setServer('b', { admin: 'drain' });
  try {
    const r = await fetch(`${adminUrl}/metrics`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type')!, /^text\/plain/);
    const text = await r.text();
    for (const line of [
      'halb_server_up{backend="pool",server="a"} 1',
      'halb_server_active{backend="pool",server="a"} 0',
      'halb_server_weight{backend="pool",server="b",admin="drain"} 1',
      'halb_server_admin_state{backend="pool",server="b",state="drain"} 1',
      'halb_server_admin_state{backend="pool",server="b",state="ready"} 0',
      'halb_server_backup{backend="pool",server="spare"} 1',
      'halb_server_check_ok{backend="pool",server="c"} 1',
      'halb_backend_usable{backend="pool"} 1',
      'halb_backend_queue{backend="pool"} 0',
      'halb_frontend_listening{frontend="web"} 1',
      'halb_frontend_listening{frontend="blocked"} 0',
      'halb_config_generation 0',
      '# TYPE halb_server_up gauge',
    ]) {
      assert.ok(text.split('\n').includes(line), `missing line: ${line}\n${text}`);
    }
    assert.match(text, /^halb_server_check_duration_seconds\{backend="pool",server="a"\} [\d.e-]+$/m);
  } finally {
    await setServer('b', { admin: 'ready' });
  }
});

// CI installs Debian's prometheus (scripts/provision.sh --apt): there a missing promtool fails the test.
const promtool = existsSync('/usr/bin/promtool') || process.env.CI === 'true' ? false : 'promtool not installed (apt-get install prometheus)';

test('GET /metrics: traffic counted in the worker reaches the scrape, and promtool accepts it', async () => {
  const metric = (text: string, series: string): number => {
    const line = text.split('\n').find((l) => l.startsWith(series + ' '));
    return line === undefined ? NaN : Number(line.slice(series.length + 1));
  };
  const scrape = async (): Promise<string> => (await fetch(`${adminUrl}/metrics`)).text();
  const before = await scrape();
  const ok0 = metric(before, 'halb_frontend_http_requests_total{frontend="web",code="2xx"}') || 0;
  await hit(20);
  // Workers report every second: wait for the next report rather than a fixed sleep.
  await until('the worker reports the 20 requests', async () => metric(await scrape(), 'halb_frontend_http_requests_total{frontend="web",code="2xx"}') >= ok0 + 20);
  const text = await scrape();
  assert.ok(metric(text, 'halb_backend_http_requests_total{backend="pool",code="2xx"}') >= ok0 + 20);
  assert.ok(metric(text, 'halb_frontend_response_time_seconds_count{frontend="web"}') >= ok0 + 20);
  assert.equal(metric(text, 'halb_frontend_response_time_seconds_bucket{frontend="web",le="+Inf"}'), metric(text, 'halb_frontend_response_time_seconds_count{frontend="web"}'));
  // Body bytes: GETs send none; each response body is the server's name (one byte).
  assert.equal(metric(text, 'halb_frontend_received_bytes_total{frontend="web"}'), metric(before, 'halb_frontend_received_bytes_total{frontend="web"}') || 0);
  assert.ok(metric(text, 'halb_frontend_sent_bytes_total{frontend="web"}') >= (metric(before, 'halb_frontend_sent_bytes_total{frontend="web"}') || 0) + 20);
  const perServer = ['a', 'b', 'c'].map((n) => metric(text, `halb_server_sessions_total{backend="pool",server="${n}"}`));
  assert.ok(perServer.every((n) => n > 0), `every server took requests: ${perServer.join()}`);
  assert.equal(metric(text, 'halb_server_health_transitions_total{backend="pool",server="a",to="down"}'), 0);
  assert.match(text, /^# TYPE halb_frontend_response_time_seconds histogram$/m);
  if (promtool === false) {
    const r = spawnSync('/usr/bin/promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.equal((r.stdout + r.stderr).trim(), '', 'no lint complaint');
  }
});

test('drain through the API: the drained server gets no new requests while the others do', async () => {
  const even = await hit(30);
  assert.ok(even.a! > 0 && even.b! > 0 && even.c! > 0, JSON.stringify(even));
  await setServer('b', { admin: 'drain' });
  try {
    assert.equal((await server('b')).admin, 'drain');
    const drained = await hit(30);
    assert.equal(drained.b, 0, JSON.stringify(drained));
    assert.equal(drained.a! + drained.c!, 30, JSON.stringify(drained));
    assert.ok(drained.a! > 0 && drained.c! > 0, JSON.stringify(drained));
    assert.equal(drained.spare, 0, 'a backup takes nothing while normal servers are usable');
  } finally {
    await setServer('b', { admin: 'ready' });
  }
  const back = await hit(30);
  assert.ok(back.b! > 0, `b takes traffic again once ready: ${JSON.stringify(back)}`);
});

test('weight through the API shifts the distribution; weight 0 takes nothing', async () => {
  await setServer('a', { weight: 4 });
  try {
    assert.equal((await server('a')).weight, 4);
    const heavy = await hit(60);
    // Weighted round robin: a gets 4 of every 6.
    assert.ok(heavy.a! >= 30, JSON.stringify(heavy));
    assert.ok(heavy.a! > 2 * heavy.b! && heavy.a! > 2 * heavy.c!, JSON.stringify(heavy));
    assert.ok(heavy.b! > 0 && heavy.c! > 0, JSON.stringify(heavy));
    await setServer('a', { weight: 0 });
    const none = await hit(30);
    assert.equal(none.a, 0, JSON.stringify(none));
  } finally {
    await setServer('a', { weight: 1 });
  }
  assert.equal((await server('a')).weight, 1);
});

test('maint through the API: out of service until ready; every server in maint brings the backup in', async () => {
  await setServer('c', { admin: 'maint' });
  try {
    const s = await server('c');
    assert.equal(s.admin, 'maint');
    const r = await hit(30);
    assert.equal(r.c, 0, JSON.stringify(r));
    assert.ok(r.a! > 0 && r.b! > 0, JSON.stringify(r));
    await setServer('a', { admin: 'maint' });
    await setServer('b', { admin: 'maint' });
    const backup = await hit(10);
    assert.deepEqual(backup, { a: 0, b: 0, c: 0, spare: 10 });
  } finally {
    for (const n of ['a', 'b', 'c']) await setServer(n, { admin: 'ready' });
  }
  const again = await hit(30);
  assert.equal(again.spare, 0, JSON.stringify(again));
});

test('bad input: clear errors, nothing changed', async () => {
  const cases: [string, string, Record<string, string>, number, RegExp][] = [
    ['/servers/nope/a', '{"admin":"drain"}', {}, 400, /no backend "nope"/],
    ['/servers/pool/zz', '{"admin":"drain"}', {}, 400, /backend "pool" has no server "zz"/],
    ['/servers/pool/a', '{"admin":', {}, 400, /body must be JSON/],
    ['/servers/pool/a', '[1]', {}, 400, /body must be a JSON object/],
    ['/servers/pool/a', '{}', {}, 400, /nothing to change/],
    ['/servers/pool/a', '{"weight":300}', {}, 400, /weight must be an integer 0-256, got 300/],
    ['/servers/pool/a', '{"weight":1.5}', {}, 400, /weight must be an integer 0-256, got 1\.5/],
    ['/servers/pool/a', '{"weight":"5"}', {}, 400, /weight must be an integer 0-256, got "5"/],
    ['/servers/pool/a', '{"admin":"sleep"}', {}, 400, /admin must be "ready", "drain" or "maint", got "sleep"/],
    // A good admin state with a bad weight changes nothing (checked whole before applying).
    ['/servers/pool/a', '{"admin":"maint","weight":-1}', {}, 400, /weight must be an integer 0-256, got -1/],
    ['/servers/pool/a', '{"admin":"maint","colour":"red"}', {}, 400, /unknown field "colour"/],
    ['/servers/pool/%E0%A4%A', '{"admin":"maint"}', {}, 400, /bad percent-encoding/],
    ['/servers/pool/a', '{"admin":"maint"}', { origin: 'http://evil.example' }, 403, /cross-origin request from http:\/\/evil\.example refused/],
    ['/reload', '', { origin: 'null' }, 403, /origin "null" is not a URL/],
    // A cross-site page whose Origin was stripped still carries fetch metadata.
    ['/servers/pool/a', '{"admin":"maint"}', { 'sec-fetch-site': 'cross-site' }, 403, /cross-site request refused \(Sec-Fetch-Site\)/],
    ['/handover', '', { 'sec-fetch-site': 'same-site' }, 403, /same-site request refused/],
  ];
  for (const [path, body, headers, code, message] of cases) {
    const r = await post(path, body, headers);
    assert.equal(r.status, code, `${path} ${body}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.ok, false);
    assert.match(r.body.error!, message, `${path} ${body}`);
  }
  const a = await server('a');
  assert.equal(a.admin, 'ready');
  assert.equal(a.weight, 1);
  // The dashboard's own origin is allowed.
  const same = await post('/servers/pool/a', '{"weight":1}', { origin: adminUrl, 'sec-fetch-site': 'same-origin' });
  assert.equal(same.status, 200);
});

test('halb status prints tables; --json prints the raw status; halb server changes a server', async () => {
  const table = await run(['status', '-a', adminUrl, '--token-file', tokenFile]);
  assert.equal(table.code, 0, table.stderr);
  const lines = table.stdout.split('\n');
  assert.match(lines[0]!, /^halb .*halb\.yaml {2}generation 0 {2}workers 1$/);
  assert.ok(lines.some((l) => /^FRONTEND +MODE +BIND +STATUS$/.test(l)), table.stdout);
  assert.ok(lines.some((l) => /^web +http +127\.0\.0\.1:\d+ +listening$/.test(l)), table.stdout);
  assert.ok(lines.some((l) => /^blocked +http .*LISTEN ERROR: .*EADDRINUSE/.test(l)), table.stdout);
  assert.ok(lines.some((l) => /^BACKEND pool {2}roundrobin {2}4\/4 up {2}usable {2}queue 0$/.test(l)), table.stdout);
  assert.ok(lines.some((l) => /^ {2}SERVER +ADDRESS +HEALTH +ADMIN +WEIGHT +ACTIVE +BACKUP +LAST CHECK$/.test(l)), table.stdout);
  assert.ok(lines.some((l) => /^ {2}spare +127\.0\.0\.1:\d+ +UP +ready +1 +0 +backup +HTTP status 200 \(\d+ ms, \d+s ago\)$/.test(l)), table.stdout);
  assert.ok(lines.includes('no VRRP instances'), table.stdout);

  const json = await run(['status', '--json', '-a', adminUrl, '--token-file', tokenFile]);
  assert.equal(json.code, 0);
  assert.equal((JSON.parse(json.stdout) as Status).backends[0]!.servers.length, 4);

  const drain = await run(['server', 'pool', 'b', '--drain', '-a', adminUrl, '--token-file', tokenFile]);
  assert.equal(drain.code, 0, drain.stderr);
  assert.equal(drain.stdout, 'pool/b: drain\n');
  const after1 = await run(['status', '-a', adminUrl, '--token-file', tokenFile]);
  assert.ok(after1.stdout.split('\n').some((l) => /^ {2}b +127\.0\.0\.1:\d+ +UP +DRAIN +1 /.test(l)), after1.stdout);
  const both = await run(['server', 'pool', 'b', '--ready', '--weight', '3', '-a', adminUrl, '--token-file', tokenFile]);
  assert.equal(both.code, 0, both.stderr);
  assert.equal(both.stdout, 'pool/b: ready, weight 3\n');
  assert.deepEqual([(await server('b')).admin, (await server('b')).weight], ['ready', 3]);
  assert.equal((await run(['server', 'pool', 'b', '--weight', '1', '-a', adminUrl, '--token-file', tokenFile])).code, 0);

  const unknown = await run(['server', 'pool', 'zz', '--maint', '-a', adminUrl, '--token-file', tokenFile]);
  assert.equal(unknown.code, 1);
  assert.equal(unknown.stderr, 'halb server pool/zz: backend "pool" has no server "zz"\n');
  const nothing = await run(['server', 'pool', 'b', '-a', adminUrl, '--token-file', tokenFile]);
  assert.equal(nothing.code, 2);
  assert.match(nothing.stderr, /nothing to change: give --drain, --ready, --maint and\/or --weight N/);
  const two = await run(['server', 'pool', 'b', '--drain', '--maint', '-a', adminUrl, '--token-file', tokenFile]);
  assert.equal(two.code, 2);
  assert.match(two.stderr, /give one of --drain, --ready, --maint, not --drain and --maint/);
  const heavy = await run(['server', 'pool', 'b', '--weight', '300', '-a', adminUrl, '--token-file', tokenFile]);
  assert.equal(heavy.code, 2);
  assert.match(heavy.stderr, /--weight must be an integer 0-256, got "300"/);
  const down = await run(['status', '-a', `http://127.0.0.1:${await freePort()}`]);
  assert.equal(down.code, 2);
  assert.match(down.stderr, /halb status: cannot reach the admin API at http:\/\/127\.0\.0\.1:\d+/);
  assert.equal((await server('b')).admin, 'ready');
});

test('dashboard: one self-contained page whose script draws the live status and drives the server route', async () => {
  const r = await fetch(`${adminUrl}/dashboard`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type')!, /^text\/html; charset=utf-8/);
  const html = await r.text();
  // Self-contained: no external script, stylesheet, image or font.
  // The SVG namespace name of the charts is an identifier, never fetched; any other URL would be.
  assert.doesNotMatch(html.replaceAll("'http://www.w3.org/2000/svg'", 'SVG_NS'), /<script[^>]+src=|<link[^>]+stylesheet|url\(|@import|https?:\/\//i);
  const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]!);
  const styles = [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => m[1]!);
  assert.equal(scripts.length, 1);
  assert.equal(styles.length, 1);
  const script = scripts[0]!;
  // Text from the node never becomes markup.
  assert.doesNotMatch(script, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(/);
  // The CSP lets exactly this inline script and style run, and nothing frame the page.
  const csp = r.headers.get('content-security-policy')!;
  const sha = (t: string): string => `'sha256-${createHash('sha256').update(t).digest('base64')}'`;
  assert.ok(csp.includes(`script-src ${sha(script)}`), csp);
  assert.ok(csp.includes(`style-src ${sha(styles[0]!)}`), csp);
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.equal(r.headers.get('x-frame-options'), 'DENY');
  for (const id of ['source', 'conn', 'flash', 'frontends', 'backends', 'vrrp', 'bgp']) assert.match(html, new RegExp(`id="${id}"`));

  // Run the page's script against the live node.
  const document = new FakeDocument(['source', 'conn', 'token', 'flash', 'frontends', 'backends', 'vrrp', 'bgp', 'pair', 'timeline', 'traffic']);
  // The operator pastes the TCP listener's token into the page's box.
  document.getElementById('token')!.value = TOKEN;
  const base = `${adminUrl}/dashboard`;
  const requests: string[] = [];
  let intervals = 0;
  const context = vm.createContext({
    document,
    fetch: (url: string, init?: RequestInit) => {
      requests.push(`${init?.method ?? 'GET'} ${url}`);
      return fetch(new URL(url, base), init);
    },
    setInterval: () => ++intervals,
    console,
  });
  vm.runInContext(script, context, { filename: 'dashboard.js' });
  assert.equal(intervals, 1, 'the page polls on an interval');
  const el = (id: string): FakeElement => document.getElementById(id)!;
  const text = (id: string): string => el(id).textContent;
  await until('the first render', async () => text('backends').includes('spare'), 5000);
  assert.equal(requests[0], 'GET status', 'polls status relative to the page');
  assert.match(text('source'), /halb\.yaml · generation 0 · 1 worker$/);
  assert.match(text('conn'), /^updated /);
  assert.match(text('frontends'), /web.*listening/);
  assert.match(text('frontends'), /blocked.*LISTEN ERROR.*EADDRINUSE/);
  assert.match(text('vrrp'), /no VRRP instances/);

  const rows = (): FakeElement[] => [...el('backends').all()].filter((e) => e.tagName === 'TR' && e.parent?.tagName === 'TBODY');
  const row = (name: string): FakeElement => rows().find((tr) => (tr.children[0] as FakeElement).textContent.startsWith(name))!;
  assert.deepEqual(
    rows().map((tr) => (tr.children[0] as FakeElement).textContent),
    ['a', 'b', 'c', 'spare backup'],
  );
  assert.match(text('backends'), /pool.*roundrobin · 4\/4 up · queue 0/);
  const cells = (name: string): string[] => row(name).children.map((c) => (c as FakeElement).textContent);
  assert.match(cells('a')[1]!, /^127\.0\.0\.1:\d+$/);
  assert.match(cells('a')[2]!, /^UP HTTP status 200, \d+ ms, \d+s ago$/);
  assert.deepEqual(cells('a').slice(3, 6), ['ready', '1', '0']);
  assert.ok(row('spare').className.includes('backup'));
  // Every piece of node text is a text node: nothing became an element but what the page made.
  const made = new Set(['BUTTON', 'CAPTION', 'INPUT', 'SPAN', 'TABLE', 'TBODY', 'TD', 'TH', 'THEAD', 'TR']);
  for (const e of [...el('backends').all(), ...el('frontends').all()]) assert.ok(made.has(e.tagName), e.tagName);
  assert.ok(![...el('backends').all()].some((e) => e.children.some((c) => c instanceof FakeText && c.text.includes('<'))));

  const buttons = (name: string): FakeElement[] => [...row(name).all()].filter((e) => e.tagName === 'BUTTON');
  assert.deepEqual(buttons('b').map((b) => [b.textContent, b.disabled]), [
    ['ready', true],
    ['drain', false],
    ['maint', false],
    ['set weight', false],
  ]);
  // The drain button calls POST servers/pool/b and the page redraws with the new state.
  buttons('b').find((b) => b.textContent === 'drain')!.click();
  await until('b drained by the page', async () => (await server('b')).admin === 'drain', 5000);
  await until('the redraw', async () => cells('b')[3] === 'DRAIN', 5000);
  assert.ok(requests.includes('POST servers/pool/b'), requests.join(', '));
  assert.match(text('flash'), /pool\/b: \{"admin":"drain"\} done/);
  buttons('b').find((b) => b.textContent === 'ready')!.click();
  await until('b ready again', async () => (await server('b')).admin === 'ready', 5000);

  // The weight box and its button.
  const input = [...row('c').all()].find((e) => e.tagName === 'INPUT')!;
  assert.equal(input.value, '1');
  input.value = '5';
  buttons('c').find((b) => b.textContent === 'set weight')!.click();
  await until('c weight 5', async () => (await server('c')).weight === 5, 5000);
  // A refused change is shown, not swallowed.
  const input2 = [...row('c').all()].find((e) => e.tagName === 'INPUT')!;
  input2.value = '999';
  buttons('c').find((b) => b.textContent === 'set weight')!.click();
  await until('the refusal shown', async () => text('flash').includes('refused'), 5000);
  assert.match(text('flash'), /pool\/c: \{"weight":999\} refused: weight must be an integer 0-256, got 999/);
  await setServer('c', { weight: 1 });
});
