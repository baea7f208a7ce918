// Valid configs: defaults filled in, shorthands expanded, the demo and the examples parse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseConfigText, loadConfigFile } from '../../../src/config/load.ts';
import { demoConfig, DEMO_YAML, DEMO_LISTEN_PORT, DEMO_SERVER_PORTS, DEMO_SOURCE } from '../../../src/config/demo.ts';
import { formatConfigError } from '../../../src/config/errors.ts';
import type { Config } from '../../../src/config/types.ts';

function parse(...lines: string[]): Config {
  const r = parseConfigText(lines.join('\n') + '\n', 'test.yaml');
  if (!r.ok) assert.fail(r.errors.map(formatConfigError).join('\n'));
  return r.config;
}

test('minimal config gets HAProxy defaults', () => {
  const c = parse(
    'frontends:',
    '  f: { bind: ":80", default_backend: web }',
    'backends:',
    '  web:',
    '    health: {}',
    '    servers: [ { name: a, address: "10.0.0.1:80" } ]',
  );
  assert.equal(c.source, 'test.yaml');
  assert.deepEqual(c.global, { workers: 1, log: { level: 'info', format: 'auto', access: true }, grace: 10_000, maxHeaderBytes: 16_384, ticketKeyRotation: 43_200_000 });
  const f = c.frontends[0]!;
  assert.deepEqual(f.bind, [{ host: '0.0.0.0', port: 80, acceptProxy: false }]);
  assert.equal(f.mode, 'http');
  assert.equal(f.defaultBackend, 'web');
  assert.equal(f.forwardfor, false);
  assert.deepEqual(f.timeouts, {
    connect: 5000,
    client: 30_000,
    server: 30_000,
    httpRequest: 10_000,
    httpKeepAlive: 10_000,
    queue: 5000,
    tunnel: 3_600_000,
  });
  const b = c.backends[0]!;
  assert.deepEqual(b.balance, { algorithm: 'roundrobin' });
  assert.equal(b.mode, 'http');
  assert.equal(b.retries, 3);
  assert.equal(b.redispatch, true);
  assert.deepEqual(b.passive, { errorLimit: 0 });
  assert.equal(b.stickSource, false);
  assert.equal(b.cookie, undefined);
  assert.deepEqual(b.health, { type: 'tcp', interval: 2000, fastinter: 2000, downinter: 2000, timeout: 2000, rise: 2, fall: 3 });
  assert.deepEqual(b.servers[0], {
    name: 'a',
    host: '10.0.0.1',
    port: 80,
    weight: 1,
    backup: false,
    disabled: false,
    drain: false,
    check: true,
  });
  assert.equal(c.vrrp, undefined);
});

test('timeouts inherit built-in < defaults < frontend/backend', () => {
  const c = parse(
    'defaults:',
    '  timeouts: { connect: 2s, client: 1m }',
    '  retries: 1',
    '  redispatch: false',
    'frontends:',
    '  f: { bind: ":80", default_backend: web, timeouts: { client: 10s, http-request: 500ms } }',
    'backends:',
    '  web:',
    '    timeouts: { server: 2m, tunnel: 2h }',
    '    retries: 5',
    '    servers: [ { name: a, address: "10.0.0.1:80" } ]',
  );
  const f = c.frontends[0]!;
  assert.equal(f.timeouts.connect, 2000);
  assert.equal(f.timeouts.client, 10_000);
  assert.equal(f.timeouts.httpRequest, 500);
  const b = c.backends[0]!;
  assert.equal(b.timeouts.connect, 2000);
  assert.equal(b.timeouts.client, 60_000);
  assert.equal(b.timeouts.server, 120_000);
  assert.equal(b.timeouts.tunnel, 7_200_000);
  assert.equal(b.retries, 5);
  assert.equal(b.redispatch, false);
  assert.equal(b.health, undefined);
  assert.equal(b.servers[0]!.check, false, 'no health section: no active check');
});

test('frontend features: binds, rules in order, header ops', () => {
  const c = parse(
    'frontends:',
    '  f:',
    '    bind: ["127.0.0.1:80", { address: "[::1]:443", accept_proxy: true }, "*:81"]',
    '    default_backend: web',
    '    forwardfor: true',
    '    forwarded: true',
    '    maxconn: 1000',
    '    rules:',
    '      - { host: "*.Example.com", path_prefix: /api, backend: api }',
    '      - { host: www.example.com, path: /login, methods: [get, POST], backend: api }',
    '      - { host_regex: "^a+\\\\.b$", path_suffix: .php, backend: web }',
    '      - { path_regex: "^/v[0-9]+/", method: DELETE, backend: api }',
    '      - { header: { name: X-Canary }, backend: api }',
    '      - { header: [ { name: X-Env, value: beta }, { name: X-B, prefix: "1" }, { name: X-C, regex: "^z" } ], backend: api }',
    '    http-request:',
    '      - { set-header: X-Frame-Options, value: DENY }',
    '      - { add-header: Via, value: halb }',
    '    http-response:',
    '      - { del-header: Server }',
    'backends:',
    '  web: { servers: [ { name: a, address: "10.0.0.1:80" } ] }',
    '  api: { servers: [ { name: a, address: "10.0.0.2:80" } ] }',
  );
  const f = c.frontends[0]!;
  assert.deepEqual(f.bind, [
    { host: '127.0.0.1', port: 80, acceptProxy: false },
    { host: '::1', port: 443, acceptProxy: true },
    { host: '0.0.0.0', port: 81, acceptProxy: false },
  ]);
  assert.equal(f.forwardfor, true);
  assert.equal(f.forwarded, true);
  assert.equal(f.maxconn, 1000);
  assert.deepEqual(f.rules, [
    { where: 'frontends.f.rules[0]', backend: 'api', host: { kind: 'wildcard', value: '*.example.com' }, path: { kind: 'prefix', value: '/api' } },
    {
      where: 'frontends.f.rules[1]',
      backend: 'api',
      host: { kind: 'exact', value: 'www.example.com' },
      path: { kind: 'exact', value: '/login' },
      methods: ['GET', 'POST'],
    },
    { where: 'frontends.f.rules[2]', backend: 'web', host: { kind: 'regex', value: '^a+\\.b$' }, path: { kind: 'suffix', value: '.php' } },
    { where: 'frontends.f.rules[3]', backend: 'api', path: { kind: 'regex', value: '^/v[0-9]+/' }, methods: ['DELETE'] },
    { where: 'frontends.f.rules[4]', backend: 'api', headers: [{ name: 'x-canary', match: { kind: 'prefix', value: '' } }] },
    {
      where: 'frontends.f.rules[5]',
      backend: 'api',
      headers: [
        { name: 'x-env', match: { kind: 'exact', value: 'beta' } },
        { name: 'x-b', match: { kind: 'prefix', value: '1' } },
        { name: 'x-c', match: { kind: 'regex', value: '^z' } },
      ],
    },
  ]);
  assert.deepEqual(f.requestHeaders, [
    { action: 'set', name: 'X-Frame-Options', value: 'DENY' },
    { action: 'add', name: 'Via', value: 'halb' },
  ]);
  assert.deepEqual(f.responseHeaders, [{ action: 'del', name: 'Server' }]);
});

test('backend features: balance, http check, servers, cookie, stick, tcp mode inferred', () => {
  const c = parse(
    'frontends:',
    '  db: { bind: "127.0.0.1:5432", mode: tcp, default_backend: pg }',
    '  web: { bind: "127.0.0.1:80", default_backend: app }',
    'backends:',
    '  pg:',
    '    balance: first',
    '    health: { tcp: true, interval: 5, fastinter: 500ms, downinter: 10s, timeout: 1s, rise: 1, fall: 2 }',
    '    stick: source',
    '    servers:',
    '      - { name: p1, address: "10.0.0.1:5432", maxconn: 10, maxqueue: 5, send_proxy: v2 }',
    '      - { name: p2, address: "db2.internal:5432", backup: true, check: false }',
    '  app:',
    '    balance: hdr(X-User)',
    '    cookie: SRV',
    '    passive: { error_limit: 3 }',
    '    health:',
    '      http: { method: HEAD, path: /health, host: app.local, expect: { status: [200, "204", "3xx", "400-404"], body: ok } }',
    '    servers:',
    '      - { name: a, address: "10.0.0.3:80", weight: 0, drain: true }',
    '      - { name: b, address: "10.0.0.4:80", weight: 256, disabled: true }',
  );
  const pg = c.backends[0]!;
  assert.equal(pg.mode, 'tcp', 'mode comes from the frontend that uses it');
  assert.deepEqual(pg.balance, { algorithm: 'first' });
  assert.deepEqual(pg.health, { type: 'tcp', interval: 5000, fastinter: 500, downinter: 10_000, timeout: 1000, rise: 1, fall: 2 });
  assert.equal(pg.stickSource, true);
  assert.deepEqual(pg.servers.map((s) => [s.name, s.host, s.port, s.maxconn, s.maxqueue, s.sendProxy, s.backup, s.check]), [
    ['p1', '10.0.0.1', 5432, 10, 5, 'v2', false, true],
    ['p2', 'db2.internal', 5432, undefined, undefined, undefined, true, false],
  ]);
  const app = c.backends[1]!;
  assert.equal(app.mode, 'http');
  assert.deepEqual(app.balance, { algorithm: 'hdr', header: 'x-user' });
  assert.deepEqual(app.cookie, { name: 'SRV', mode: 'insert', httpOnly: true, secure: false });
  assert.deepEqual(app.passive, { errorLimit: 3 });
  assert.deepEqual(app.health?.http, {
    method: 'HEAD',
    path: '/health',
    host: 'app.local',
    expectStatus: [
      { from: 200, to: 200 },
      { from: 204, to: 204 },
      { from: 300, to: 399 },
      { from: 400, to: 404 },
    ],
    expectBody: 'ok',
  });
  assert.deepEqual(app.servers.map((s) => [s.weight, s.drain, s.disabled]), [
    [0, true, false],
    [256, false, true],
  ]);
  for (const b of ['roundrobin', 'leastconn', 'random', 'source', 'uri']) {
    const cc = parse('backends:', `  x: { balance: ${b}, servers: [ { name: a, address: "h:1" } ] }`);
    assert.deepEqual(cc.backends[0]!.balance, { algorithm: b });
  }
});

test('vrrp: keepalived defaults, nopreempt, track shorthands, scripts', () => {
  const c = parse(
    'vrrp:',
    '  scripts:',
    '    chk: { script: "/bin/true" }',
    '    chk2: { script: "/bin/false", interval: 3s, timeout: 1s, rise: 2, fall: 4, weight: -30 }',
    '  instances:',
    '    VI:',
    '      interface: eth0',
    '      virtual_router_id: 51',
    '      virtual_ipaddress: ["172.16.0.200/24 dev eth1", 172.16.0.201]',
    '      virtual_routes: ["10.1.0.0/16 via 172.16.0.1 dev eth1"]',
    '      nopreempt: true',
    '      track:',
    '        scripts: [chk, { name: chk2, weight: -5 }]',
    '        interfaces: [eth1, { name: eth2, weight: -10 }]',
    '        files: [/run/halb/down]',
    '    V6:',
    '      interface: eth0',
    '      virtual_router_id: 52',
    '      advert_int: 250ms',
    '      preempt_delay: 30s',
    '      virtual_ipaddress: ["fd00::200/64"]',
    '      notify: /etc/halb/notify.sh',
    '      notify_master: /etc/halb/master.sh',
    '      notify_backup: /etc/halb/backup.sh',
    '      notify_fault: /etc/halb/fault.sh',
    '      notify_stop: /etc/halb/stop.sh',
    '      garp_master_delay: 1s',
    '      garp_master_repeat: 2',
    '      garp_master_refresh: 60s',
  );
  const v = c.vrrp!;
  assert.deepEqual(v.scripts.chk, { name: 'chk', script: '/bin/true', interval: 1000, timeout: 1000, rise: 1, fall: 1, weight: 0 });
  assert.deepEqual(v.scripts.chk2, { name: 'chk2', script: '/bin/false', interval: 3000, timeout: 1000, rise: 2, fall: 4, weight: -30 });
  const vi = v.instances[0]!;
  assert.equal(vi.state, 'BACKUP');
  assert.equal(vi.priority, 100);
  assert.equal(vi.version, 3);
  assert.equal(vi.family, 4);
  assert.equal(vi.advertInt, 1000);
  assert.equal(vi.preempt, false);
  assert.equal(vi.preemptDelay, 0);
  assert.equal(vi.unicast, undefined);
  assert.equal(vi.authentication, undefined);
  assert.deepEqual(vi.virtualIpAddresses, [
    { address: '172.16.0.200', family: 4, prefix: 24, device: 'eth1' },
    { address: '172.16.0.201', family: 4, prefix: 32 },
  ]);
  assert.deepEqual(vi.virtualRoutes, [{ to: '10.1.0.0/16', via: '172.16.0.1', device: 'eth1' }]);
  assert.deepEqual(vi.track, {
    backends: {},
    frontends: {},
    scripts: [{ name: 'chk' }, { name: 'chk2', weight: -5 }],
    interfaces: [
      { name: 'eth1', weight: 0 },
      { name: 'eth2', weight: -10 },
    ],
    files: [{ path: '/run/halb/down', weight: 0 }],
  });
  assert.deepEqual(vi.garp, { masterDelay: 5000, masterRepeat: 5, masterRefresh: 0, interval: 0 });
  assert.deepEqual(vi.notify, { timeout: 30_000 });
  assert.equal(vi.handoverBound, 3000);
  const v6 = v.instances[1]!;
  assert.equal(v6.family, 6);
  assert.equal(v6.advertInt, 250);
  assert.equal(v6.preempt, true);
  assert.equal(v6.preemptDelay, 30_000);
  assert.deepEqual(v6.virtualIpAddresses, [{ address: 'fd00::200', family: 6, prefix: 64 }]);
  assert.deepEqual(v6.notify, {
    timeout: 30_000,
    any: '/etc/halb/notify.sh',
    master: '/etc/halb/master.sh',
    backup: '/etc/halb/backup.sh',
    fault: '/etc/halb/fault.sh',
    stop: '/etc/halb/stop.sh',
  });
  assert.deepEqual(v6.garp, { masterDelay: 1000, masterRepeat: 2, masterRefresh: 60_000, interval: 0 });
});

test('full example: proxy + vrrp unicast + v2 auth + hetzner floating IP', () => {
  const c = parse(
    'global:',
    '  workers: auto',
    '  admin: { socket: /run/halb/admin.sock, mode: "0600", group: halb, listen: "127.0.0.1:9100", token_env: HALB_ADMIN_TOKEN }',
    '  log: { level: debug, format: json, access: false }',
    '  grace: 5s',
    '  max_header_bytes: 32768',
    'frontends:',
    '  web: { bind: ["172.16.0.200:80"], default_backend: webservers, forwardfor: true }',
    'backends:',
    '  webservers:',
    '    health: { http: { path: / } }',
    '    servers: [ { name: web1, address: "192.168.10.200:80" } ]',
    'vrrp:',
    '  instances:',
    '    LB_VIP:',
    '      interface: enp0s9',
    '      state: MASTER',
    '      priority: 255',
    '      virtual_router_id: 51',
    '      version: 2',
    '      advert_int: 2',
    '      authentication: { auth_type: PASS, auth_pass: secret12 }',
    '      unicast: { source: 192.168.10.101, peers: [192.168.10.102, 192.168.10.103] }',
    '      virtual_ipaddress: ["172.16.0.200/24 dev enp0s9"]',
    '      track: { backends: { webservers: { weight: -50 } }, frontends: { web: {} } }',
    '      floating_ip:',
    '        provider: hetzner',
    '        ip: 203.0.113.7',
    '        floating_ip_id: 4711',
    '        server_id: 42',
    '        token_file: /etc/halb/hcloud-token',
    '        api_base: http://127.0.0.1:9999/v1',
    '        verify_interval: 1m',
    '      handover_bound: 10s',
  );
  assert.deepEqual(c.global, {
    workers: 'auto',
    admin: { socket: { path: '/run/halb/admin.sock', mode: 0o600, group: 'halb' }, listen: { host: '127.0.0.1', port: 9100 }, token: { env: 'HALB_ADMIN_TOKEN' }, readOnlyOpen: false },
    log: { level: 'debug', format: 'json', access: false },
    grace: 5000,
    maxHeaderBytes: 32768,
    ticketKeyRotation: 43_200_000,
  });
  const i = c.vrrp!.instances[0]!;
  assert.equal(i.state, 'MASTER');
  assert.equal(i.priority, 255);
  assert.equal(i.version, 2);
  assert.equal(i.advertInt, 2000);
  assert.deepEqual(i.authentication, { type: 'PASS', password: 'secret12' });
  assert.deepEqual(i.unicast, { source: '192.168.10.101', peers: ['192.168.10.102', '192.168.10.103'] });
  assert.deepEqual(i.track.backends, { webservers: { weight: -50 } });
  assert.deepEqual(i.track.frontends, { web: { weight: 0 } });
  assert.deepEqual(i.floatingIp, {
    provider: 'hetzner',
    ip: '203.0.113.7',
    floatingIpId: 4711,
    serverId: 42,
    tokenFile: '/etc/halb/hcloud-token',
    apiBase: 'http://127.0.0.1:9999/v1',
    metadataBase: 'http://169.254.169.254/hetzner/v1/metadata',
    verifyInterval: 60_000,
  });
  assert.equal(i.handoverBound, 10_000);
});

test('digitalocean floating IP defaults', () => {
  const c = parse(
    'vrrp:',
    '  instances:',
    '    R:',
    '      interface: eth1',
    '      virtual_router_id: 60',
    '      unicast: { peers: [10.110.0.3] }',
    '      floating_ip: { provider: digitalocean, ip: 203.0.113.10, token_env: DO_TOKEN, droplet_id: 123 }',
  );
  const i = c.vrrp!.instances[0]!;
  assert.deepEqual(i.virtualIpAddresses, []);
  assert.equal(i.family, 4);
  assert.deepEqual(i.floatingIp, {
    provider: 'digitalocean',
    ip: '203.0.113.10',
    tokenEnv: 'DO_TOKEN',
    dropletId: 123,
    apiBase: 'https://api.digitalocean.com',
    metadataBase: 'http://169.254.169.254/metadata/v1',
    verifyInterval: 30_000,
  });
});

test('the demo config parses: 127.0.0.1:8080 over three servers with an http check on /', () => {
  const c = demoConfig();
  assert.equal(c.source, DEMO_SOURCE);
  assert.equal(DEMO_LISTEN_PORT, 8080);
  assert.deepEqual([...DEMO_SERVER_PORTS], [8081, 8082, 8083]);
  assert.deepEqual(c.frontends[0]!.bind, [{ host: '127.0.0.1', port: 8080, acceptProxy: false }]);
  const b = c.backends[0]!;
  assert.deepEqual(b.balance, { algorithm: 'roundrobin' });
  assert.equal(b.health?.type, 'http');
  assert.equal(b.health?.http?.path, '/');
  assert.deepEqual(b.servers.map((s) => `${s.host}:${s.port}`), ['127.0.0.1:8081', '127.0.0.1:8082', '127.0.0.1:8083']);
  assert.ok(DEMO_YAML.includes('127.0.0.1:8080'));
});

test('the examples parse', async () => {
  for (const f of ['halb.yaml', 'cloud-digitalocean.yaml', 'cloud-hetzner.yaml']) {
    const r = await loadConfigFile(new URL(`../../../examples/${f}`, import.meta.url).pathname);
    if (!r.ok) assert.fail(r.errors.map(formatConfigError).join('\n'));
    assert.ok(r.config.source.endsWith(f));
  }
  // The committed text is what loadConfigFile read.
  assert.ok(readFileSync(new URL('../../../examples/halb.yaml', import.meta.url), 'utf8').includes('LB_VIP'));
});

test('unreadable file is one located error, not an exception', async () => {
  const r = await loadConfigFile('/nonexistent/halb.yaml');
  assert.equal(r.ok, false);
  if (!r.ok) assert.equal(formatConfigError(r.errors[0]!), '/nonexistent/halb.yaml cannot read: ENOENT');
});

test('YAML anchors and merge keys work', () => {
  const c = parse(
    'backends:',
    '  a: &base',
    '    balance: leastconn',
    '    servers: [ { name: a, address: "h:1" } ]',
    '  b:',
    '    <<: *base',
    '    retries: 1',
  );
  assert.deepEqual(c.backends[1]!.balance, { algorithm: 'leastconn' });
  assert.equal(c.backends[1]!.retries, 1);
});

test('the config shown in docs/ARCHITECTURE.md parses', () => {
  const design = readFileSync(new URL('../../../docs/ARCHITECTURE.md', import.meta.url), 'utf8');
  const yaml = /```yaml\n([\s\S]*?)```/.exec(design)?.[1];
  assert.ok(yaml, 'ARCHITECTURE.md has a yaml block');
  const r = parseConfigText(yaml, 'docs/ARCHITECTURE.md');
  if (!r.ok) assert.fail(r.errors.map(formatConfigError).join('\n'));
  assert.deepEqual(r.config.vrrp?.instances[0]?.track.backends, { webservers: { weight: -50 } });
});

test('VRRP authentication hmac-sha256: key file and key id (default 1), on v3 too', () => {
  const base = ['vrrp:', '  instances:', '    VI:', '      interface: eth0', '      virtual_router_id: 7', '      virtual_ipaddress: [10.0.0.100]'];
  const a = parse(...base, '      authentication: { type: hmac-sha256, key_file: /etc/halb/vrrp.key }').vrrp!.instances[0]!;
  assert.equal(a.version, 3);
  assert.deepEqual(a.authentication, { type: 'hmac-sha256', keyFile: '/etc/halb/vrrp.key', keyId: 1 });
  const b = parse(...base, '      version: 2', '      authentication: { type: hmac-sha256, key_file: k, key_id: 9 }').vrrp!.instances[0]!;
  assert.deepEqual(b.authentication, { type: 'hmac-sha256', keyFile: 'k', keyId: 9 });
});

test('passive: observe alone takes HAProxy error-limit 10; error_limit alone keeps counting every failure', () => {
  const c = parse(
    'frontends:',
    '  f: { bind: ":80", default_backend: a }',
    'backends:',
    '  a: { passive: { observe: layer4 }, servers: [ { name: x, address: "10.0.0.1:80" } ] }',
    '  b: { passive: { observe: layer7, on_error: sudden-death, error_limit: 2 }, servers: [ { name: y, address: "10.0.0.2:80" } ] }',
    '  c: { passive: { error_limit: 3 }, servers: [ { name: z, address: "10.0.0.3:80" } ] }',
  );
  assert.deepEqual(c.backends.map((b) => b.passive), [
    { errorLimit: 10, observe: 'layer4' },
    { errorLimit: 2, observe: 'layer7', onError: 'sudden-death' },
    { errorLimit: 3 },
  ]);
});

test('frontend tls: crt as one file or a list, defaults min_version 1.2 and alpn http/1.1', () => {
  const c = parse(
    'frontends:',
    '  a: { bind: ":443", default_backend: web, tls: { crt: a.pem } }',
    '  b: { bind: ":444", default_backend: web, tls: { crt: [b1.pem, b2.pem], crt_dir: /etc/certs, min_version: "1.3", ciphers: "ECDHE+AESGCM" } }',
    '  p: { bind: ":80", default_backend: web }',
    'backends:',
    '  web: { servers: [ { name: w, address: 10.0.0.1:80 } ] }',
  );
  assert.deepEqual(c.frontends[0]?.tls, { crt: ['a.pem'], minVersion: 'TLSv1.2', alpn: ['http/1.1'], verify: 'none', clientCertHeader: { dn: 'X-SSL-Client-DN', verify: 'X-SSL-Client-Verify' } });
  assert.deepEqual(c.frontends[1]?.tls, { crt: ['b1.pem', 'b2.pem'], crtDir: '/etc/certs', minVersion: 'TLSv1.3', alpn: ['http/1.1'], ciphers: 'ECDHE+AESGCM', verify: 'none', clientCertHeader: { dn: 'X-SSL-Client-DN', verify: 'X-SSL-Client-Verify' } });
  assert.equal(c.frontends[2]?.tls, undefined);
});
