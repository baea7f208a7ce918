// Every error kind, with the exact line, column and key path the user sees.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../../src/config/load.ts';
import { formatConfigError } from '../../../src/config/errors.ts';

/** Lines joined, so line numbers in the test read straight off the array (line 1 = first). */
function problems(...lines: string[]): string[] {
  const r = parseConfigText(lines.join('\n') + '\n', 'halb.yaml');
  assert.equal(r.ok, false, 'expected the config to be rejected');
  if (r.ok) return [];
  for (const e of r.errors) assert.equal(e.file, 'halb.yaml');
  return r.errors.map((e) => `${e.line}:${e.column} ${e.path}: ${e.message}`);
}

const BACKEND = [
  'backends:',
  '  web:',
  '    servers:',
  '      - { name: web1, address: 10.0.0.1:80 }',
];

test('error formatting: file:line:col path: message', () => {
  const r = parseConfigText(['backends:', '  web:', '    servers:', '      - name: a', '        address: 10.0.0.1:80', '        weight: 300'].join('\n'), 'halb.yaml');
  assert.equal(r.ok, false);
  if (!r.ok) {
    assert.equal(r.errors.length, 1);
    assert.equal(formatConfigError(r.errors[0]!), 'halb.yaml:6:17 backends.web.servers[0].weight: must be 0..256, got 300');
  }
});

test('unknown keys, with the nearest valid key', () => {
  assert.deepEqual(
    problems(
      'backends:',
      '  web:',
      '    balanse: roundrobin',
      '    servers:',
      '      - { name: web1, adress: 10.0.0.1:80 }',
      'frontend:',
      '  x: {}',
    ),
    [
      '3:5 backends.web.balanse: unknown key "balanse", did you mean "balance"?',
      '5:9 backends.web.servers[0].address: missing required key "address"',
      '5:23 backends.web.servers[0].adress: unknown key "adress", did you mean "address"?',
      '6:1 frontend: unknown key "frontend", did you mean "frontends"?',
    ],
  );
  // Far from every key: list what is allowed instead of guessing.
  assert.deepEqual(problems('global:', '  zzzzzzzz: 1'), [
    '2:3 global.zzzzzzzz: unknown key "zzzzzzzz" (allowed: workers, admin, log, grace, max_header_bytes, ticket_key_rotation)',
  ]);
  // Keys in the other spelling (- vs _) are suggested.
  assert.deepEqual(problems('frontends:', '  f:', '    bind: ":80"', '    default-backend: web', ...BACKEND), [
    '4:5 frontends.f.default-backend: unknown key "default-backend", did you mean "default_backend"?',
  ]);
});

test('all errors are listed, not just the first, and sorted by place', () => {
  const out = problems(
    'defaults:',
    '  retries: many',
    '  timeouts: { connect: 5x }',
    'backends:',
    '  web:',
    '    balance: leastconnn',
    '    servers:',
    '      - { name: a, address: "10.0.0.1" }',
    '      - { name: b, address: 10.0.0.2:99999 }',
  );
  assert.deepEqual(out, [
    '2:12 defaults.retries: must be an integer 0..100, got "many"',
    '3:24 defaults.timeouts.connect: invalid duration "5x": write a number with a unit (us, ms, s, m, h, d), e.g. "2s", "500ms", "1m30s"',
    '6:14 backends.web.balance: unknown balance algorithm "leastconnn", did you mean "leastconn"?',
    '8:29 backends.web.servers[0].address: expected "host:port", got "10.0.0.1" (no port)',
    '9:29 backends.web.servers[1].address: port must be 1..65535, got 99999',
  ]);
});

test('types, enums and ranges', () => {
  assert.deepEqual(
    problems(
      'frontends:',
      '  f:',
      '    bind: 80',
      '    mode: htpp',
      '    default_backend: web',
      ...BACKEND,
      '    health: { rise: 0, http: { expect: { status: "200-999" } } }',
      '    cookie: { name: S, httponly: "yes" }',
    ),
    [
      '3:11 frontends.f.bind: expected string or mapping or list, got number 80',
      '4:11 frontends.f.mode: must be one of "http", "tcp", got string "htpp"; did you mean "http"?',
      '10:21 backends.web.health.rise: must be 1..100, got 0',
      '10:50 backends.web.health.http.expect.status: status range "200-999" must be within 100..599 and low-high',
      '11:34 backends.web.cookie.httponly: expected boolean, got string "yes"',
    ],
  );
});

test('unknown backend in default_backend, rules and track', () => {
  assert.deepEqual(
    problems(
      'frontends:',
      '  f:',
      '    bind: ":80"',
      '    default_backend: wbe',
      '    rules:',
      '      - { path_prefix: /api, backend: api }',
      ...BACKEND,
      'vrrp:',
      '  instances:',
      '    VI:',
      '      interface: eth0',
      '      virtual_router_id: 1',
      '      virtual_ipaddress: [10.0.0.100]',
      '      track:',
      '        backends: { webb: { weight: -10 } }',
      '        frontends: { g: {} }',
      '        scripts: [chk]',
    ),
    [
      '4:22 frontends.f.default_backend: unknown backend "wbe", did you mean "web"?',
      '6:39 frontends.f.rules[0].backend: unknown backend "api" (defined: web)',
      '18:21 vrrp.instances.VI.track.backends.webb: unknown backend "webb", did you mean "web"?',
      '19:22 vrrp.instances.VI.track.frontends.g: unknown frontend "g" (defined: f)',
      '20:19 vrrp.instances.VI.track.scripts[0]: unknown script (vrrp.scripts) "chk" (none defined)',
    ],
  );
});

test('duplicate names: frontends, backends (YAML keys) and servers', () => {
  assert.deepEqual(
    problems('frontends:', '  f: { bind: ":80", default_backend: web }', '  f: { bind: ":81", default_backend: web }', ...BACKEND),
    ['3:3 frontends.f: duplicate frontend name "f"'],
  );
  assert.deepEqual(problems(...BACKEND, '  web:', '    servers: []'), ['5:3 backends.web: duplicate backend name "web"']);
  assert.deepEqual(problems(...BACKEND, '      - { name: web2, address: 10.0.0.2:80 }', '      - { name: web1, address: 10.0.0.3:80 }'), [
    '6:17 backends.web.servers[2].name: duplicate server name "web1" (first at servers[0])',
  ]);
});

test('bind conflicts: same host:port, wildcard vs specific, :: vs IPv4, admin listener', () => {
  assert.deepEqual(
    problems(
      'global:',
      '  admin: { listen: "127.0.0.1:9000", read_only_open: true }',
      'frontends:',
      '  a: { bind: "0.0.0.0:80", default_backend: web }',
      '  b: { bind: ["10.0.0.1:80"], default_backend: web }',
      '  c: { bind: ["127.0.0.1:81", "127.0.0.1:81"], default_backend: web }',
      '  d: { bind: "[::]:9000", default_backend: web }',
      '  e: { bind: "[::1]:80", default_backend: web }',
      ...BACKEND,
    ),
    [
      '2:20 global.admin.listen: 127.0.0.1:9000 conflicts with [::]:9000 at frontends.d.bind',
      '5:15 frontends.b.bind[0]: 10.0.0.1:80 conflicts with 0.0.0.0:80 at frontends.a.bind',
      '6:31 frontends.c.bind[1]: 127.0.0.1:81 conflicts with 127.0.0.1:81 at frontends.c.bind[0]',
    ],
  );
});

test('mode mismatch and http-only features on tcp frontends', () => {
  assert.deepEqual(
    problems(
      'frontends:',
      '  t:',
      '    bind: ":5432"',
      '    mode: tcp',
      '    default_backend: web',
      '    rules: [ { path: /x, backend: web } ]',
      '  h: { bind: ":80", default_backend: web }',
      ...BACKEND,
      '    mode: http',
    ),
    [
      '5:22 frontends.t.default_backend: frontend is mode tcp but backend "web" is mode http',
      '6:14 frontends.t.rules[0]: routing rules need mode http (a tcp frontend only has default_backend)',
      '6:35 frontends.t.rules[0].backend: frontend is mode tcp but backend "web" is mode http',
    ],
  );
  // Without an explicit mode, a backend shared by http and tcp frontends is ambiguous.
  assert.deepEqual(
    problems('frontends:', '  t: { bind: ":5432", mode: tcp, default_backend: web }', '  h: { bind: ":80", default_backend: web }', ...BACKEND),
    ['5:3 backends.web: backend is used by http and tcp frontends (t, h); set its mode or split it'],
  );
});

test('pipeline: http backends only, within 1..64', () => {
  assert.deepEqual(
    problems('frontends:', '  t: { bind: ":5432", mode: tcp, default_backend: web }', ...BACKEND, '    pipeline: 8'),
    ['7:15 backends.web.pipeline: pipeline needs mode http (a tcp backend relays bytes, not requests)'],
  );
  const ok = parseConfigText(['frontends:', '  h: { bind: ":80", default_backend: web }', ...BACKEND, '    pipeline: 8', ''].join('\n'), 'halb.yaml');
  assert.ok(ok.ok);
  assert.equal(ok.config.backends[0]?.pipeline, 8);
  assert.equal(problems('frontends:', '  h: { bind: ":80", default_backend: web }', ...BACKEND, '    pipeline: 65').length, 1);
});

test('peer_fallback: http backends only, an address must be an IP, default off', () => {
  assert.deepEqual(
    problems('frontends:', '  t: { bind: ":5432", mode: tcp, default_backend: web }', ...BACKEND, '    peer_fallback: true'),
    ['7:20 backends.web.peer_fallback: peer_fallback needs mode http (the peer mark is an HTTP header)'],
  );
  const bad = problems('frontends:', '  h: { bind: ":80", default_backend: web }', ...BACKEND, '    peer_fallback_address: lb2');
  assert.equal(bad.length, 1);
  assert.match(bad[0]!, /backends\.web\.peer_fallback_address/);
  const ok = parseConfigText(
    ['frontends:', '  h: { bind: ":80", default_backend: web }', ...BACKEND, '    peer_fallback: true', '    peer_fallback_address: 10.0.0.2', ''].join('\n'),
    'halb.yaml',
  );
  assert.ok(ok.ok);
  assert.equal(ok.config.backends[0]?.peerFallback, true);
  assert.equal(ok.config.backends[0]?.peerFallbackAddress, '10.0.0.2');
  const off = parseConfigText(['frontends:', '  h: { bind: ":80", default_backend: web }', ...BACKEND, ''].join('\n'), 'halb.yaml');
  assert.ok(off.ok);
  assert.equal(off.config.backends[0]?.peerFallback, false);
});

test('peer_fallback that cannot reach the peer is refused: a VIP-only bind, multicast without a known peer; nodes: gives the peer', () => {
  const vrrp = (unicast: string) => [
    'vrrp:',
    '  instances:',
    '    VI:',
    '      interface: eth0',
    '      virtual_router_id: 51',
    '      priority: 100',
    '      virtual_ipaddress: ["10.0.0.100/24"]',
    ...(unicast ? [unicast] : []),
  ];
  const vipOnly = problems('frontends:', '  h: { bind: "10.0.0.100:80", default_backend: web }', ...BACKEND, '    peer_fallback: true', ...vrrp('      unicast: { source: 10.0.0.1, peers: [10.0.0.2] }'));
  assert.equal(vipOnly.length, 1, vipOnly.join('\n'));
  assert.match(vipOnly[0]!, /^2:\d+ frontends\.h\.bind: backends\.web\.peer_fallback: frontend binds the VIP only \(10\.0\.0\.100:80\): the peer 10\.0\.0\.2 is not reachable there/);
  const multicast = problems('frontends:', '  h: { bind: ":80", default_backend: web }', ...BACKEND, '    peer_fallback: true', ...vrrp(''));
  assert.deepEqual(multicast, ['7:5 backends.web.peer_fallback: no peer address known (multicast VRRP): set peer_fallback_address']);
  const noVrrp = problems('frontends:', '  h: { bind: ":80", default_backend: web }', ...BACKEND, '    peer_fallback: true');
  assert.match(noVrrp[0]!, /^7:5 backends\.web\.peer_fallback: peer_fallback needs a peer/);
  // Multicast in a pair file: the other node's address is the peer.
  const pair = [
    'frontends:',
    '  h: { bind: ":80", default_backend: web }',
    ...BACKEND,
    '    peer_fallback: true',
    ...vrrp(''),
    'nodes:',
    '  lb1: { address: 10.0.0.1, vrrp: { VI: { priority: 101 } } }',
    '  lb2: { address: 10.0.0.2 }',
    '',
  ].join('\n');
  const lb1 = parseConfigText(pair, 'halb.yaml', { node: 'lb1' });
  assert.ok(lb1.ok, JSON.stringify(!lb1.ok && lb1.errors));
  assert.equal(lb1.config.backends[0]?.peerFallbackAddress, '10.0.0.2');
  const lb2 = parseConfigText(pair, 'halb.yaml', { node: 'lb2' });
  assert.ok(lb2.ok);
  assert.equal(lb2.config.backends[0]?.peerFallbackAddress, '10.0.0.1');
});

test('rules and header ops: shape errors', () => {
  assert.deepEqual(
    problems(
      'frontends:',
      '  f:',
      '    bind: ":80"',
      '    default_backend: web',
      '    rules:',
      '      - { backend: web }',
      '      - { path: /a, path_prefix: /b, backend: web }',
      '      - { path_regex: "(", backend: web }',
      '    http-request:',
      '      - { set-header: X-A }',
      '      - { del-header: X-B, value: c }',
      '      - { set-header: "bad name", value: c }',
      ...BACKEND,
    ),
    [
      '6:9 frontends.f.rules[0]: a rule needs a condition (host, path, path_prefix, path_regex, method, header); use default_backend for everything else',
      '7:9 frontends.f.rules[1]: use one of path, path_prefix, path_suffix, path_regex (got path, path_prefix)',
      '8:23 frontends.f.rules[2].path_regex: invalid regular expression: (',
      '10:9 frontends.f.http-request[0]: set-header needs a value',
      '11:35 frontends.f.http-request[1].value: del-header takes no value',
      '12:23 frontends.f.http-request[2].set-header: not a valid header name: "bad name"',
    ],
  );
});

const INSTANCE = ['vrrp:', '  instances:', '    VI:', '      interface: eth0'];

test('VRRP: VRID range, priority range and owner, v2 sub-second advert, auth', () => {
  assert.deepEqual(problems(...INSTANCE, '      virtual_router_id: 0', '      virtual_ipaddress: [10.0.0.100]'), [
    '5:26 vrrp.instances.VI.virtual_router_id: must be 1..255, got 0',
  ]);
  assert.deepEqual(problems(...INSTANCE, '      virtual_router_id: 256', '      virtual_ipaddress: [10.0.0.100]'), [
    '5:26 vrrp.instances.VI.virtual_router_id: must be 1..255, got 256',
  ]);
  assert.deepEqual(problems(...INSTANCE, '      virtual_router_id: 5', '      priority: 256', '      virtual_ipaddress: [10.0.0.100]'), [
    '6:17 vrrp.instances.VI.priority: must be 1..255, got 256',
  ]);
  assert.deepEqual(problems(...INSTANCE, '      virtual_router_id: 5', '      priority: 255', '      virtual_ipaddress: [10.0.0.100]'), [
    '6:17 vrrp.instances.VI.priority: priority 255 means address owner; it needs state: MASTER (use 1..254 for a backup)',
  ]);
  assert.deepEqual(
    problems(...INSTANCE, '      virtual_router_id: 5', '      version: 2', '      advert_int: 500ms', '      virtual_ipaddress: [10.0.0.100]'),
    ['7:19 vrrp.instances.VI.advert_int: VRRPv2 advert_int must be whole seconds 1s..255s, got 500ms (sub-second needs version: 3)'],
  );
  assert.deepEqual(
    problems(...INSTANCE, '      virtual_router_id: 5', '      advert_int: 5ms', '      virtual_ipaddress: [10.0.0.100]'),
    ['6:19 vrrp.instances.VI.advert_int: VRRPv3 advert_int must be a multiple of 10ms within 10ms..40.95s, got 5ms'],
  );
  assert.deepEqual(
    problems(
      ...INSTANCE,
      '      virtual_router_id: 5',
      '      virtual_ipaddress: [10.0.0.100]',
      '      authentication: { auth_type: AH, auth_pass: secret }',
    ),
    ['7:36 vrrp.instances.VI.authentication.auth_type: auth_type AH is obsolete and unsupported (RFC 3768 dropped it); use PASS or omit authentication'],
  );
  assert.deepEqual(
    problems(
      ...INSTANCE,
      '      virtual_router_id: 5',
      '      virtual_ipaddress: [10.0.0.100]',
      '      authentication: { auth_type: PASS, auth_pass: secret }',
    ),
    ['7:7 vrrp.instances.VI.authentication: auth_type PASS exists only in VRRPv2 (RFC 5798 removed it); set version: 2, or use type: hmac-sha256 (v2 and v3)'],
  );
  assert.deepEqual(
    problems(
      ...INSTANCE,
      '      virtual_router_id: 5',
      '      virtual_ipaddress: [10.0.0.100]',
      '      authentication: { type: hmac-sha256, key_file: /etc/halb/vrrp.key, auth_pass: secret }',
    ),
    ['7:7 vrrp.instances.VI.authentication: choose one: auth_type/auth_pass (keepalived PASS) or type: hmac-sha256 with key_file, not both'],
  );
  assert.deepEqual(
    problems(...INSTANCE, '      virtual_router_id: 5', '      virtual_ipaddress: [10.0.0.100]', '      authentication: { type: hmac-sha256 }'),
    ['7:7 vrrp.instances.VI.authentication: type hmac-sha256 needs key_file (a file with the shared secret, e.g. openssl rand -hex 32)'],
  );
  assert.deepEqual(
    problems(...INSTANCE, '      virtual_router_id: 5', '      virtual_ipaddress: [10.0.0.100]', '      authentication: { type: hmac-md5, key_file: k }'),
    ['7:31 vrrp.instances.VI.authentication.type: type must be hmac-sha256, got "hmac-md5"'],
  );

  assert.deepEqual(
    problems(...INSTANCE, '      virtual_router_id: 5', '      virtual_ipaddress: [10.0.0.100]', '    VJ:', '      interface: eth0', '      virtual_router_id: 5', '      virtual_ipaddress: [10.0.0.101]'),
    ['9:26 vrrp.instances.VJ.virtual_router_id: virtual_router_id 5 on eth0 is already used by instance "VI"'],
  );
});

test('VRRP: address families, unicast without peers', () => {
  assert.deepEqual(
    problems(
      ...INSTANCE,
      '      virtual_router_id: 5',
      '      virtual_ipaddress: ["10.0.0.100/24 dev eth0", "fd00::100/64"]',
      '      unicast: { source: "fd00::1", peers: [10.0.0.2, "fd00::2"] }',
    ),
    [
      '6:53 vrrp.instances.VI.virtual_ipaddress[1]: IPv6 address fd00::100 in an IPv4 instance (virtual_ipaddress[0] is IPv4); use a separate instance per family',
      '7:26 vrrp.instances.VI.unicast.source: source fd00::1 is IPv6 but the instance is IPv4',
      '7:55 vrrp.instances.VI.unicast.peers[1]: peer fd00::2 is IPv6 but the instance is IPv4',
    ],
  );
  assert.deepEqual(problems(...INSTANCE, '      virtual_router_id: 5', '      virtual_ipaddress: ["fd00::100"]', '      version: 2'), [
    '7:16 vrrp.instances.VI.version: IPv6 needs VRRP version 3 (VRRPv2 is IPv4 only)',
  ]);
  assert.deepEqual(problems(...INSTANCE, '      virtual_router_id: 5', '      virtual_ipaddress: [10.0.0.100]', '      unicast: { source: 10.0.0.1 }'), [
    '7:7 vrrp.instances.VI.unicast: unicast needs at least one address in peers (omit unicast for multicast)',
  ]);
  assert.deepEqual(problems(...INSTANCE, '      virtual_router_id: 5', '      virtual_ipaddress: [10.0.0.100]', '      unicast: { peers: [] }'), [
    '7:18 vrrp.instances.VI.unicast.peers: unicast needs at least one address in peers (omit unicast for multicast)',
  ]);
  assert.deepEqual(problems(...INSTANCE, '      virtual_router_id: 5', '      virtual_ipaddress: ["10.0.0.300/24", "10.0.0.1/33", "10.0.0.1 label x"]'), [
    '6:27 vrrp.instances.VI.virtual_ipaddress[0]: "10.0.0.300" is not an IP address',
    '6:44 vrrp.instances.VI.virtual_ipaddress[1]: prefix must be 0..32, got "/33"',
    '6:59 vrrp.instances.VI.virtual_ipaddress[2]: unsupported word "label" in "10.0.0.1 label x" (supported: "ADDR[/PREFIX] [dev IFACE]")',
  ]);
});

const UNICAST = [...INSTANCE, '      virtual_router_id: 5', '      unicast: { source: 10.0.0.1, peers: [10.0.0.2] }'];

test('floating_ip: unknown provider, bad IP, missing token source', () => {
  assert.deepEqual(problems(...UNICAST, '      floating_ip: { provider: aws, ip: 203.0.113.10, token_env: T }'), [
    '7:32 vrrp.instances.VI.floating_ip.provider: unknown provider "aws"; supported: digitalocean, hetzner',
  ]);
  assert.deepEqual(problems(...UNICAST, '      floating_ip: { provider: hetznr, ip: 203.0.113.10, token_env: T }'), [
    '7:32 vrrp.instances.VI.floating_ip.provider: unknown provider "hetzner"'.replace('"hetzner"', '"hetznr", did you mean "hetzner"?'),
  ]);
  assert.deepEqual(problems(...UNICAST, '      floating_ip: { provider: digitalocean, ip: 203.0.113.300, token_env: T }'), [
    '7:50 vrrp.instances.VI.floating_ip.ip: not an IP address: "203.0.113.300"',
  ]);
  assert.deepEqual(problems(...UNICAST, '      floating_ip: { provider: digitalocean, ip: 203.0.113.10 }'), [
    '7:7 vrrp.instances.VI.floating_ip: floating_ip needs an API token source: token_env or token_file',
  ]);
  assert.deepEqual(problems(...UNICAST, '      floating_ip: { provider: hetzner, ip: 203.0.113.10, token_env: T, droplet_id: 5 }'), [
    '7:73 vrrp.instances.VI.floating_ip.droplet_id: unknown key "droplet_id" (allowed: provider, ip, token_env, token_file, api_base, metadata_base, verify_interval, floating_ip_id, server_id)',
  ]);
  assert.deepEqual(
    problems(...INSTANCE, '      virtual_router_id: 5', '      floating_ip: { provider: hetzner, ip: 203.0.113.10, token_file: /etc/t }'),
    ['6:7 vrrp.instances.VI.floating_ip: floating_ip needs unicast (cloud networks do not carry VRRP multicast)'],
  );
});

test('YAML syntax errors and empty files are located too', () => {
  assert.deepEqual(problems('frontends:', '  f:', '    bind: [":80"', '    default_backend: b'), [
    '4:5 frontends.f.bind[0]: Flow sequence in block collection must be sufficiently indented and end with a ]',
  ]);
  assert.deepEqual(problems('# only a comment'), ['1:1 : config is empty: expected frontends, backends and/or vrrp']);
});

test('names, wrong container types, duplicate keys inside a server', () => {
  assert.deepEqual(problems('backends:', '  "bad name": { servers: [ { name: a, address: "h:1" } ] }'), [
    '2:3 backends["bad name"]: invalid name string "bad name": names may use letters, digits, "_", "-" and "."',
  ]);
  assert.deepEqual(problems('frontends: []'), ['1:1 frontends: expected mapping, got a list']);
  assert.deepEqual(problems('- a'), ['1:1 : expected mapping, got a list']);
  assert.deepEqual(problems('backends:', '  b: { servers: x }'), ['2:17 backends.b.servers: expected list, got string "x"']);
  assert.deepEqual(problems('backends:', '  b:', '    servers:', '      - name: a', '        address: h:1', '        weight: 2', '        weight: 3'), [
    '7:9 backends.b.servers[0].weight: duplicate key "weight"',
  ]);
  assert.deepEqual(problems(...INSTANCE, '      virtual_router_id: 1', '      virtual_ipaddress: [1.2.3.4]', '      version: 4'), [
    '7:16 vrrp.instances.VI.version: expected 2 or 3, got number 4',
  ]);
});

test('frontend tls: needs crt or crt_dir; ALPN names other than h2 and http/1.1, twice-listed ones, versions, and tls on tcp are refused', () => {
  assert.deepEqual(
    problems(
      'frontends:',
      '  a: { bind: ":443", default_backend: web, tls: { min_version: "1.2" } }',
      '  b: { bind: ":444", default_backend: web, tls: { crt: [x.pem], alpn: [http/1.1, h2, spdy/3, h2] } }',
      '  c: { bind: ":445", default_backend: web, tls: { crt: x.pem, min_version: "1.1" } }',
      ...BACKEND,
    ),
    [
      '2:44 frontends.a.tls: tls needs crt, crt_dir or acme (the certificates to serve)',
      '3:86 frontends.b.tls.alpn[2]: alpn "spdy/3": an http frontend speaks h2 and http/1.1 only',
      '3:94 frontends.b.tls.alpn[3]: alpn h2 is listed twice',
      '4:76 frontends.c.tls.min_version: must be one of "1.2", "1.3", got string "1.1"; did you mean "1.2"?',
    ],
  );
  assert.deepEqual(
    problems(
      'frontends:',
      '  t: { bind: ":446", mode: tcp, default_backend: web, tls: { crt: x.pem, verify: required, ca_file: ca.pem, client_cert_header: { dn: X-DN } } }',
      ...BACKEND,
      '    mode: tcp',
    ),
    ['2:109 frontends.t.tls.client_cert_header: client_cert_header needs mode http (a tcp frontend sends the servers bytes, not headers)'],
  );
});

test('frontend h2: limits out of range, h2c on tls or tcp, and limits with no HTTP/2 on are refused', () => {
  assert.deepEqual(
    problems(
      'frontends:',
      '  a: { bind: ":80", default_backend: web, h2c: true, h2: { max_concurrent_streams: 0, max_header_list_size: 100 } }',
      '  b: { bind: ":443", default_backend: web, h2c: true, tls: { crt: x.pem } }',
      '  c: { bind: ":81", default_backend: web, h2: { initial_window_size: 70000 } }',
      '  d: { bind: ":82", mode: tcp, default_backend: t, h2c: true }',
      ...BACKEND,
      '  t: { mode: tcp, servers: [{ name: t1, address: 10.0.0.2:80 }] }',
    ),
    [
      '2:84 frontends.a.h2.max_concurrent_streams: must be 1..1000, got 0',
      '2:109 frontends.a.h2.max_header_list_size: must be 1024..1048576, got 100',
    ],
  );
  assert.deepEqual(
    problems(
      'frontends:',
      '  b: { bind: ":443", default_backend: web, h2c: true, tls: { crt: x.pem } }',
      '  c: { bind: ":81", default_backend: web, h2: { initial_window_size: 70000 } }',
      '  d: { bind: ":82", mode: tcp, default_backend: t, h2c: true }',
      ...BACKEND,
      '  t: { mode: tcp, servers: [{ name: t1, address: 10.0.0.2:80 }] }',
    ),
    [
      '2:49 frontends.b.h2c: h2c is HTTP/2 on plain binds; a tls frontend offers h2 with tls.alpn: [h2, http/1.1]',
      '3:43 frontends.c.h2: h2 limits are read only when the frontend speaks HTTP/2: set h2c: true, or tls.alpn: [h2, http/1.1]',
      '4:57 frontends.d.h2c: h2c needs mode http (a tcp frontend relays bytes, not streams)',
    ],
  );
});
