// The acme block of a TLS frontend: what validate refuses, with the line and the field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../../src/config/load.ts';

function parse(...lines: string[]) {
  return parseConfigText(lines.join('\n') + '\n', 'halb.yaml');
}

function problems(...lines: string[]): string[] {
  const r = parse(...lines);
  assert.equal(r.ok, false, 'expected the config to be rejected');
  if (r.ok) return [];
  return r.errors.map((e) => `${e.line} ${e.path}: ${e.message}`);
}

const BACKEND = ['backends:', '  web:', '    servers:', '      - { name: web1, address: 10.0.0.1:80 }'];
const PLAIN = '  plain: { bind: ":80", default_backend: web }';

test('acme: defaults filled in, domains lower-cased', () => {
  const r = parse(
    'frontends:',
    PLAIN,
    '  site:',
    '    bind: ":443"',
    '    default_backend: web',
    '    tls:',
    '      acme: { email: ops@example.com, directory: "https://ca.example/dir", domains: [WWW.Example.com], fallback_crt: /etc/halb/self.pem }',
    ...BACKEND,
  );
  assert.equal(r.ok, true, r.ok ? '' : JSON.stringify(r.errors));
  if (!r.ok) return;
  const acme = r.config.frontends.find((f) => f.name === 'site')?.tls?.acme;
  assert.match(acme?.accountKeyFile ?? '', /^\/var\/lib\/halb\/acme\/account-[0-9a-f]{16}\.key$/);
  assert.deepEqual(acme, {
    email: 'ops@example.com',
    directory: 'https://ca.example/dir',
    domains: ['www.example.com'],
    challenge: 'http-01',
    httpPort: 80,
    storage: '/var/lib/halb/acme',
    renewBefore: 30 * 86_400_000,
    retryMin: 60_000,
    retryMax: 6 * 3_600_000,
    accountKeyFile: acme?.accountKeyFile,
    certFile: '/var/lib/halb/acme/www.example.com.pem',
    peerPort: 7946,
    fallbackCrt: '/etc/halb/self.pem',
  });
});

test('acme: bad URL, no domains, email shape, wildcard, missing fallback, each at its field', () => {
  assert.deepEqual(
    problems(
      'frontends:',
      PLAIN,
      '  a:',
      '    bind: ":443"',
      '    default_backend: web',
      '    tls:',
      '      acme:',
      '        email: not-an-address',
      '        directory: "http://ca.example/dir"',
      '        domains: []',
      '        fallback_crt: f.pem',
      '  b:',
      '    bind: ":444"',
      '    default_backend: web',
      '    tls:',
      '      acme: { email: a@b.example, directory: "https://ca.example/d", domains: ["*.example.com"] }',
      ...BACKEND,
    ),
    [
      '8 frontends.a.tls.acme.email: an e-mail address (the CA writes to it about expiring certificates), e.g. ops@example.com',
      "9 frontends.a.tls.acme.directory: an https:// URL of the CA's ACME directory, e.g. https://acme-v02.api.letsencrypt.org/directory",
      '10 frontends.a.tls.acme.domains: acme needs at least one domain',
      '16 frontends.b.tls.acme.fallback_crt: acme needs fallback_crt (or tls crt): what the frontend serves until the first certificate is obtained',
      '16 frontends.b.tls.acme.domains[0]: a DNS name (no wildcard: HTTP-01 and TLS-ALPN-01 cannot prove one)',
    ],
  );
});

test('acme http-01 needs a plain http frontend on its port; tls-alpn-01 does not', () => {
  const site = (acme: string) => ['frontends:', '  site:', '    bind: ":443"', '    default_backend: web', '    tls:', `      acme: { email: a@b.example, directory: "https://ca.example/d", domains: [a.example], fallback_crt: f.pem${acme} }`];
  assert.deepEqual(problems(...site(''), ...BACKEND), [
    '6 frontends.site.tls.acme: challenge http-01 needs a plain (no tls) http frontend bound to port 80, where the CA asks for /.well-known/acme-challenge/: add one, set acme.http_port to the port of one, or use challenge: tls-alpn-01',
  ]);
  assert.deepEqual(problems(...site(', http_port: 5002'), '  plain: { bind: ":80", default_backend: web }', ...BACKEND), [
    '6 frontends.site.tls.acme.http_port: challenge http-01 needs a plain (no tls) http frontend bound to port 5002, where the CA asks for /.well-known/acme-challenge/: add one, set acme.http_port to the port of one, or use challenge: tls-alpn-01',
  ]);
  assert.equal(parse(...site(', http_port: 5002'), '  plain: { bind: "127.0.0.1:5002", default_backend: web }', ...BACKEND).ok, true);
  assert.equal(parse(...site(', challenge: tls-alpn-01'), ...BACKEND).ok, true);
});

test('acme hand-over: peer_key_file needs peers (acme.peers, or VRRP unicast peers)', () => {
  const site = (extra: string) => ['frontends:', PLAIN, '  site:', '    bind: ":443"', '    default_backend: web', '    tls:', `      acme: { email: a@b.example, directory: "https://ca.example/d", domains: [a.example], fallback_crt: f.pem, peer_key_file: /etc/halb/peer.key${extra} }`];
  assert.deepEqual(problems(...site(''), ...BACKEND), [
    '7 frontends.site.tls.acme.peer_key_file: the certificate hand-over needs peers: set acme.peers, or use VRRP unicast (its peers are the default)',
  ]);
  assert.deepEqual(problems(...site(', peers: [not-an-ip]'), ...BACKEND), ['7 frontends.site.tls.acme.peers[0]: not an IP address: "not-an-ip"']);
  const r = parse(...site(', peers: [10.0.0.2], peer_listen: 10.0.0.1'), ...BACKEND);
  assert.equal(r.ok, true, r.ok ? '' : JSON.stringify(r.errors));
  if (r.ok) {
    const a = r.config.frontends.find((f) => f.name === 'site')?.tls?.acme;
    assert.deepEqual([a?.peers, a?.peerListen, a?.peerPort, a?.peerKeyFile], [['10.0.0.2'], '10.0.0.1', 7946, '/etc/halb/peer.key']);
  }
});
