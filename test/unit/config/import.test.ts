// Importers against the seed haproxy.cfg + keepalived.conf pair and against richer inline configs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { importConfigs, detectKind } from '../../../src/config/import.ts';
import { importHaproxy, splitHaproxyLine } from '../../../src/config/import-haproxy.ts';
import { importKeepalived } from '../../../src/config/import-keepalived.ts';
import { parseConfigText } from '../../../src/config/load.ts';
import { importCommand } from '../../../src/cli/import.ts';
import { formatConfigError } from '../../../src/config/errors.ts';

const FIXTURES = new URL('../../fixtures/seed-haproxy-keepalived/', import.meta.url);
const fixture = (name: string) => ({ name, text: readFileSync(new URL(name, FIXTURES), 'utf8') });

test('seed fixtures: one halb.yaml per keepalived node, loadable, AH dropped with a warning', () => {
  const r = importConfigs([fixture('haproxy.cfg'), fixture('keepalived-master.conf'), fixture('keepalived-backup.conf')]);
  assert.deepEqual(r.nodes.map((n) => n.node), ['master', 'backup']);
  for (const n of r.nodes) assert.deepEqual(n.errors, [], n.yaml);

  const ah = r.warnings.filter((w) => /auth_type AH is obsolete/.test(w.message));
  assert.deepEqual(ah.map((w) => [w.file, w.line]), [
    ['keepalived-master.conf', 15],
    ['keepalived-backup.conf', 15],
  ]);

  const master = parseConfigText(r.nodes[0]!.yaml, 'master.yaml');
  if (!master.ok) assert.fail(master.errors.map(formatConfigError).join('\n'));
  const c = master.config;
  assert.deepEqual(c.frontends.map((f) => [f.name, f.bind[0]!.host, f.bind[0]!.port, f.defaultBackend, f.forwardfor]), [
    ['webserverlb', '172.16.0.200', 80, 'webserverapp', true],
  ]);
  const b = c.backends[0]!;
  assert.equal(b.name, 'webserverapp');
  assert.deepEqual(b.balance, { algorithm: 'roundrobin' });
  assert.equal(b.health?.type, 'tcp', '"check" without httpchk is a TCP check');
  assert.deepEqual(b.servers.map((s) => [s.name, s.host, s.port, s.check]), [['webserver1', '192.168.10.200', 80, true]]);

  const i = c.vrrp!.instances[0]!;
  assert.equal(i.name, 'LB_VIP');
  assert.equal(i.interface, 'enp0s9');
  assert.equal(i.state, 'MASTER');
  assert.equal(i.priority, 101);
  assert.equal(i.virtualRouterId, 51);
  assert.equal(i.version, 2, 'keepalived speaks VRRPv2 unless told otherwise');
  assert.equal(i.authentication, undefined);
  assert.deepEqual(i.unicast, { source: '192.168.10.101', peers: ['192.168.10.102'] });
  assert.deepEqual(i.virtualIpAddresses, [{ address: '172.16.0.200', family: 4, prefix: 32 }]);
  // "killall -0 haproxy" weight +2 (while up) becomes halb's own frontend tracked with -2 (while down).
  assert.deepEqual(i.track.frontends, { webserverlb: { weight: -2 } });
  assert.deepEqual(i.track.scripts, []);
  assert.deepEqual(c.vrrp!.scripts, {});

  const backup = parseConfigText(r.nodes[1]!.yaml, 'backup.yaml');
  assert.ok(backup.ok);
  if (backup.ok) {
    const bi = backup.config.vrrp!.instances[0]!;
    assert.equal(bi.state, 'BACKUP');
    assert.equal(bi.priority, 100);
    assert.deepEqual(bi.unicast, { source: '192.168.10.102', peers: ['192.168.10.101'] });
  }
});

test('kind detection by name, then by content', () => {
  assert.equal(detectKind({ name: 'x/haproxy.cfg', text: '' }), 'haproxy');
  assert.equal(detectKind({ name: 'keepalived.conf', text: '' }), 'keepalived');
  assert.equal(detectKind({ name: 'lb.conf', text: 'vrrp_instance X {\n}\n' }), 'keepalived');
  assert.equal(detectKind({ name: 'lb.conf', text: 'frontend f\n  bind :80\n' }), 'haproxy');
});

test('haproxy: word splitting with quotes, escapes and comments', () => {
  assert.deepEqual(splitHaproxyLine('  http-request set-header X-A "a b" # c'), ['http-request', 'set-header', 'X-A', 'a b']);
  assert.deepEqual(splitHaproxyLine("acl x path_reg '^/a b$'"), ['acl', 'x', 'path_reg', '^/a b$']);
  assert.deepEqual(splitHaproxyLine('server a 1.2.3.4:80\\ x'), ['server', 'a', '1.2.3.4:80 x']);
});

test('haproxy: defaults, acl routing, checks, server options, listen', () => {
  const cfg = [
    'global',
    '  maxconn 4096',
    'defaults',
    '  mode http',
    '  timeout connect 5000',
    '  timeout client 1m',
    '  timeout server 30s',
    '  retries 2',
    '  option redispatch',
    'frontend www',
    '  bind :80',
    '  bind 127.0.0.1:8443 accept-proxy',
    '  acl is_api path_beg /api',
    '  acl api_host hdr(host) -i api.example.com',
    '  acl is_post method POST',
    '  acl weird src 10.0.0.0/8',
    '  use_backend api if api_host is_api',
    '  use_backend api if is_post',
    '  use_backend api if weird',
    '  use_backend api if !is_api',
    '  default_backend app',
    '  http-request set-header X-Forwarded-Port 80',
    '  http-response del-header Server',
    'backend app',
    '  balance leastconn',
    '  option httpchk GET /health',
    '  http-check expect status 200-299',
    '  cookie SRV insert indirect nocache httponly',
    '  default-server inter 3s fall 5 rise 1',
    '  server a 10.0.0.1:80 check weight 10 maxconn 100',
    '  server b 10.0.0.2:80 check backup send-proxy-v2',
    '  server c 10.0.0.3:80',
    'backend api',
    '  balance hdr(X-User)',
    '  stick-table type ip size 200k',
    '  stick on src',
    '  server x 10.0.1.1:8080 check observe layer4 error-limit 10 slowstart 10s',
    'listen db',
    '  mode tcp',
    '  bind 127.0.0.1:5432',
    '  balance first',
    '  server p 10.0.2.1:5432 check',
  ].join('\n');
  const { config, warnings } = importHaproxy(cfg, 'haproxy.cfg');
  assert.deepEqual(
    warnings.map((w) => `${w.line}: ${w.message}`),
    [
      '2: global "maxconn 4096" has no halb equivalent; dropped',
      '16: frontend www: acl weird "src 10.0.0.0/8" has no halb rule equivalent; rules using it are dropped',
      '19: frontend www: "use_backend api if weird" combines conditions halb cannot express; dropped',
      '20: frontend www: "use_backend api if !is_api" is not supported by the importer; dropped',
      '37: backend api: server x option "slowstart 10s" is not supported; dropped',
    ],
  );
  assert.deepEqual(config.defaults, {
    mode: 'http',
    timeouts: { connect: '5s', client: '1m', server: '30s' },
    retries: 2,
    redispatch: true,
  });
  assert.deepEqual(config.frontends?.www, {
    bind: ['*:80', { address: '127.0.0.1:8443', accept_proxy: true }],
    default_backend: 'app',
    rules: [
      { host: 'api.example.com', path_prefix: '/api', backend: 'api' },
      { method: 'POST', backend: 'api' },
    ],
    'http-request': [{ 'set-header': 'X-Forwarded-Port', value: '80' }],
    'http-response': [{ 'del-header': 'Server' }],
  });
  assert.deepEqual(config.backends?.app, {
    balance: 'leastconn',
    health: { http: { method: 'GET', path: '/health', expect: { status: '200-299' } }, interval: '3s', rise: 1, fall: 5 },
    cookie: { name: 'SRV', httponly: true, secure: false },
    servers: [
      { name: 'a', address: '10.0.0.1:80', weight: 10, maxconn: 100 },
      { name: 'b', address: '10.0.0.2:80', backup: true, send_proxy: 'v2' },
      { name: 'c', address: '10.0.0.3:80', check: false },
    ],
  });
  assert.deepEqual(config.backends?.api, {
    balance: 'hdr(X-User)',
    health: { tcp: true },
    passive: { observe: 'layer4', error_limit: 10 },
    stick: 'source',
    servers: [{ name: 'x', address: '10.0.1.1:8080' }],
  });
  assert.deepEqual(config.frontends?.db, { bind: '127.0.0.1:5432', mode: 'tcp', default_backend: 'db' });
  assert.deepEqual(config.backends?.db, { mode: 'tcp', balance: 'first', health: { tcp: true }, servers: [{ name: 'p', address: '10.0.2.1:5432' }] });

  // And the whole thing loads.
  const r = importConfigs([{ name: 'haproxy.cfg', text: cfg }]);
  assert.deepEqual(r.nodes.map((n) => [n.node, n.errors]), [['halb', []]]);
});

test('keepalived: v3, scripts, tracking, PASS truncation, notify, unknown keywords', () => {
  const conf = [
    'global_defs {',
    '  router_id lb1',
    '  vrrp_version 3',
    '}',
    'vrrp_script chk_api {',
    '  script "/usr/local/bin/check api"',
    '  interval 1.5',
    '  timeout 1',
    '  rise 2',
    '  fall 3',
    '  weight -20',
    '}',
    'vrrp_instance VI_6 {',
    '  interface eth0',
    '  state BACKUP',
    '  nopreempt',
    '  preempt_delay 10',
    '  virtual_router_id 7',
    '  advert_int 0.5',
    '  virtual_ipaddress {',
    '    fd00::10/64 dev eth0',
    '  }',
    '  track_script {',
    '    chk_api weight -30',
    '  }',
    '  track_interface {',
    '    eth1 weight -10',
    '    eth2',
    '  }',
    '  notify_master "/etc/k/notify.sh master"',
    '  smtp_alert',
    '}',
    'vrrp_instance VI_4 {',
    '  interface eth0',
    '  virtual_router_id 8',
    '  version 2',
    '  authentication {',
    '    auth_type PASS',
    '    auth_pass 0123456789',
    '  }',
    '  virtual_ipaddress {',
    '    10.0.0.10/24 dev eth0 label eth0:1',
    '  }',
    '}',
  ].join('\n');
  const r = importKeepalived(conf, 'keepalived.conf');
  assert.deepEqual(r.warnings.map((w) => `${w.line}: ${w.message}`), [
    '2: global_defs "router_id lb1" has no halb equivalent; dropped',
    '31: vrrp_instance VI_6: "smtp_alert" is not supported; dropped',
    '37: vrrp_instance VI_4: auth_pass longer than 8 characters; truncated as keepalived does',
    '41: vrrp_instance VI_4: virtual_ipaddress option "label eth0:1" dropped',
  ]);
  assert.deepEqual(r.vrrp, {
    scripts: { chk_api: { script: '/usr/local/bin/check api', interval: '1500ms', timeout: '1s', rise: 2, fall: 3, weight: -20 } },
    instances: {
      VI_6: {
        interface: 'eth0',
        state: 'BACKUP',
        virtual_router_id: 7,
        version: 3,
        advert_int: '500ms',
        nopreempt: true,
        preempt_delay: '10s',
        virtual_ipaddress: ['fd00::10/64 dev eth0'],
        track: { scripts: [{ name: 'chk_api', weight: -30 }], interfaces: [{ name: 'eth1', weight: -10 }, 'eth2'] },
        notify_master: '/etc/k/notify.sh master',
      },
      VI_4: {
        interface: 'eth0',
        virtual_router_id: 8,
        version: 2,
        authentication: { auth_type: 'PASS', auth_pass: '01234567' },
        virtual_ipaddress: ['10.0.0.10/24 dev eth0'],
      },
    },
  });
  const all = importConfigs([{ name: 'keepalived.conf', text: conf }]);
  assert.deepEqual(all.nodes.map((n) => n.errors), [[]]);
});

test('importCommand writes one file per node and reports warnings', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'halb-import-'));
  try {
    const err: string[] = [];
    const files = ['haproxy.cfg', 'keepalived-master.conf', 'keepalived-backup.conf'].map((f) => new URL(f, FIXTURES).pathname);
    const code = await importCommand(files, join(dir, 'halb.yaml'), { err: (l) => err.push(l), out: () => assert.fail('nothing on stdout') });
    assert.equal(code, 0);
    assert.ok(existsSync(join(dir, 'halb-master.yaml')));
    assert.ok(existsSync(join(dir, 'halb-backup.yaml')));
    assert.ok(err.some((l) => l.startsWith('warning: ') && l.includes('keepalived-master.conf:15') && l.includes('AH')));
    assert.ok(err.includes(`wrote ${join(dir, 'halb-master.yaml')}`));

    const single: string[] = [];
    assert.equal(await importCommand([files[0]!], undefined, { out: (t) => single.push(t), err: () => {} }), 0);
    assert.match(single.join(''), /^# Imported by halb import from haproxy\.cfg\nfrontends:\n {2}webserverlb:\n/);

    assert.equal(await importCommand([join(dir, 'missing.cfg')], undefined, { out: () => {}, err: () => {} }), 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('haproxy import: observe, on-error and error-limit become passive health', () => {
  const cfg = [
    'backend a',
    '  server x 10.0.1.1:80 check observe layer7 on-error mark-down error-limit 3',
    'backend b',
    '  server y 10.0.1.2:80 check observe layer4 on-error fail-check',
    'backend c',
    '  server z 10.0.1.3:80 check error-limit 5',
  ].join('\n');
  const { config, warnings } = importHaproxy(cfg, 'haproxy.cfg');
  assert.deepEqual(config.backends?.a?.passive, { observe: 'layer7', on_error: 'mark-down', error_limit: 3 });
  assert.deepEqual(config.backends?.b?.passive, { observe: 'layer4', on_error: 'fail-check' });
  assert.equal(config.backends?.c?.passive, undefined);
  assert.deepEqual(
    warnings.map((w) => `${w.line}: ${w.message}`),
    [
      '5: backend c: error-limit/on-error without observe do nothing in HAProxy; dropped',
    ],
  );
});

test('haproxy import: bind ... ssl crt becomes tls (a crt directory, files, alpn h2,http/1.1, min version, ciphers, no-tls-tickets, verify + ca-file); mixed binds split into <name>_tls', () => {
  const cfg = [
    'frontend www',
    '  mode http',
    '  bind :80',
    '  bind :443 ssl crt /etc/haproxy/certs/ alpn h2,http/1.1 ssl-min-ver TLSv1.2',
    '  default_backend app',
    'frontend api',
    '  mode http',
    '  bind 10.0.0.1:8443 ssl crt /etc/ssl/api.ecdsa.pem crt /etc/ssl/api.rsa.pem ssl-min-ver TLSv1.3 ciphers ECDHE+AESGCM no-tls-tickets verify required ca-file /etc/ssl/ca.pem',
    '  default_backend app',
    'backend app',
    '  server a 10.0.1.1:80',
  ].join('\n');
  const { config, warnings } = importHaproxy(cfg, 'haproxy.cfg');
  assert.deepEqual(config.frontends?.www, { bind: '*:80', mode: 'http', default_backend: 'app' });
  assert.deepEqual(config.frontends?.['www_tls'], { bind: '*:443', mode: 'http', default_backend: 'app', tls: { crt_dir: '/etc/haproxy/certs/', min_version: '1.2', alpn: ['h2', 'http/1.1'] } });
  assert.deepEqual(config.frontends?.api, { bind: '10.0.0.1:8443', mode: 'http', default_backend: 'app', tls: { crt: ['/etc/ssl/api.ecdsa.pem', '/etc/ssl/api.rsa.pem'], min_version: '1.3', ciphers: 'ECDHE+AESGCM', tickets: false, verify: 'required', ca_file: '/etc/ssl/ca.pem' } });
  assert.deepEqual(
    warnings.map((w) => `${w.line}: ${w.message}`),
    [
      '1: frontend www: its ssl binds became frontend www_tls (halb\'s tls is per frontend), with the same rules and backend',
    ],
  );
  // What it wrote parses (the certificate files are checked by `halb validate` on the node).
  const r = parseConfigText(`frontends: ${JSON.stringify(config.frontends)}\nbackends: ${JSON.stringify(config.backends)}\n`, 'imported.yaml');
  assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
  assert.deepEqual(r.config.frontends.map((f) => [f.name, f.tls !== undefined]), [['www', false], ['www_tls', true], ['api', true]]);
});

test('haproxy import: server ssl verify ca-file sni str() alpn, proto h2 become the backend tls and proto', () => {
  const cfg = [
    'backend api',
    '  mode http',
    '  server a 10.0.1.1:443 ssl verify required ca-file /etc/ssl/int.pem sni str(api.internal) alpn h2 proto h2 check check-ssl',
    '  server b 10.0.1.2:443 ssl verify required ca-file /etc/ssl/int.pem sni str(api.internal) alpn h2 proto h2 check',
    'backend mixed',
    '  server c 10.0.2.1:443 ssl verify none sni req.hdr(host)',
    '  server d 10.0.2.2:80',
  ].join('\n');
  const { config, warnings } = importHaproxy(cfg, 'haproxy.cfg');
  const api = config.backends?.api as Record<string, unknown>;
  assert.deepEqual(api.tls, { verify: 'required', ca_file: '/etc/ssl/int.pem', sni: 'api.internal', alpn: ['h2'] });
  assert.equal(api.proto, 'h2');
  assert.deepEqual(api.servers, [{ name: 'a', address: '10.0.1.1:443' }, { name: 'b', address: '10.0.1.2:443' }]);
  assert.deepEqual((config.backends?.mixed as Record<string, unknown>).tls, { verify: 'none' });
  assert.deepEqual(
    warnings.map((w) => `${w.line}: ${w.message}`),
    [
      '6: backend mixed: server c sni req.hdr(host): halb sends a fixed name (sni str(NAME)) or the server\'s host name; dropped',
      '5: backend mixed: servers differ in ssl options; halb\'s tls is per backend, so every server uses those of the first ssl server',
    ],
  );
  const r = parseConfigText(`frontends: { f: { bind: "127.0.0.1:80", mode: http, default_backend: api } }\nbackends: ${JSON.stringify(config.backends)}\n`, 'imported.yaml');
  assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
  assert.deepEqual(r.config.backends.find((b) => b.name === 'api')?.tls, { verify: 'required', caFile: '/etc/ssl/int.pem', sni: 'api.internal', alpn: ['h2'] });
});
