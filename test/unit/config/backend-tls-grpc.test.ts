// Config for backends over TLS, h2 backends and gRPC health checks: what the YAML becomes, and
// what is refused with its place.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../../src/config/load.ts';
import { formatConfigError } from '../../../src/config/errors.ts';

const fe = 'frontends: { web: { bind: "127.0.0.1:8080", mode: http, default_backend: rpc } }\n';

test('tls, proto h2 and a grpc health check normalise with their defaults', () => {
  const r = parseConfigText(
    `${fe}backends:
  rpc:
    proto: h2
    tls: { ca_file: /etc/halb/ca.pem, sni: rpc.internal }
    health: { grpc: {}, interval: 1s }
    servers: [ { name: a, address: "10.0.0.1:50051" } ]
`,
    'halb.yaml',
  );
  assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
  const b = r.config.backends[0]!;
  assert.equal(b.proto, 'h2');
  assert.deepEqual(b.tls, { verify: 'required', caFile: '/etc/halb/ca.pem', sni: 'rpc.internal' });
  assert.equal(b.health?.type, 'grpc');
  assert.deepEqual(b.health?.grpc, { service: '' });
});

test('refused with their place: two check kinds, proto h2 or tls on a tcp backend, an unknown verify word', () => {
  const cases: [string, RegExp][] = [
    [`${fe}backends: { rpc: { health: { grpc: { service: x }, tcp: true }, servers: [ { name: a, address: "10.0.0.1:1" } ] } }\n`, /backends\.rpc\.health.*use one of tcp, http or grpc/],
    [
      'frontends: { t: { bind: "127.0.0.1:9", mode: tcp, default_backend: rpc } }\nbackends: { rpc: { proto: h2, servers: [ { name: a, address: "10.0.0.1:1" } ] } }\n',
      /backends\.rpc\.proto.*proto h2 needs mode http/,
    ],
    [
      'frontends: { t: { bind: "127.0.0.1:9", mode: tcp, default_backend: rpc } }\nbackends: { rpc: { tls: {}, servers: [ { name: a, address: "10.0.0.1:1" } ] } }\n',
      /backends\.rpc\.tls.*tls on a tcp backend/,
    ],
    [`${fe}backends: { rpc: { tls: { verify: optional }, servers: [ { name: a, address: "10.0.0.1:1" } ] } }\n`, /backends\.rpc\.tls\.verify/],
  ];
  for (const [text, want] of cases) {
    const r = parseConfigText(text, 'halb.yaml');
    assert.equal(r.ok, false, text);
    if (!r.ok) assert.match(r.errors.map(formatConfigError).join('\n'), want);
  }
});
