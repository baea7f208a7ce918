import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../../src/config/load.ts';
import type { Config } from '../../../src/config/types.ts';
import { capabilityNeeds, describeMissing, hasCapability, missingCapabilities, parseCapEff, CAPABILITY_BITS } from '../../../src/node/capabilities.ts';

function config(text: string): Config {
  const r = parseConfigText(text, 'halb.yaml');
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
}

const PROXY_ONLY = `
frontends:
  web: { bind: ["127.0.0.1:8080"], mode: http, default_backend: b }
backends:
  b: { servers: [{ name: s1, address: "127.0.0.1:8081" }] }
`;

const VRRP_NODE = `
global: { workers: 2, admin: { listen: "127.0.0.1:9100", read_only_open: true } }
frontends:
  web: { bind: ["10.0.0.100:80"], mode: http, default_backend: b }
backends:
  b: { servers: [{ name: s1, address: "10.0.0.21:80" }] }
vrrp:
  instances:
    VI_1:
      interface: eth0
      priority: 100
      virtual_router_id: 51
      virtual_ipaddress: ["10.0.0.100/24"]
`;

const bits = (...caps: (keyof typeof CAPABILITY_BITS)[]): bigint => caps.reduce((a, c) => a | (1n << BigInt(CAPABILITY_BITS[c])), 0n);
const facts = { unprivilegedPortStart: 1024, nonlocalBindOn: new Set<4 | 6>() };

test('CapEff is read from /proc/self/status text', () => {
  assert.equal(parseCapEff('Name:\tnode\nCapInh:\t0000000000000000\nCapEff:\t0000000000003000\n'), 0x3000n);
  assert.equal(parseCapEff('no such line'), 0n);
  const eff = parseCapEff('CapEff:\t000001ffffffffff\n');
  for (const c of Object.keys(CAPABILITY_BITS) as (keyof typeof CAPABILITY_BITS)[]) assert.ok(hasCapability(eff, c), c);
  assert.equal(hasCapability(0x3000n, 'CAP_NET_RAW'), true);
  assert.equal(hasCapability(0x3000n, 'CAP_NET_BIND_SERVICE'), false);
});

test('a proxy-only node on a high port needs no capability', () => {
  assert.deepEqual(capabilityNeeds(config(PROXY_ONLY), facts, 1), []);
});

test('a VRRP node with a VIP on :80 and 2 workers: raw, admin, bind required; BPF and nft optional', () => {
  const needs = capabilityNeeds(config(VRRP_NODE), facts, 2);
  const required = new Set(needs.filter((n) => n.required).map((n) => n.cap));
  const optional = new Set(needs.filter((n) => !n.required).map((n) => n.cap));
  assert.deepEqual([...required].sort(), ['CAP_NET_ADMIN', 'CAP_NET_BIND_SERVICE', 'CAP_NET_RAW']);
  assert.deepEqual([...optional].sort(), ['CAP_BPF', 'CAP_NET_ADMIN']);
  // The systemd unit's set covers everything.
  assert.deepEqual(missingCapabilities(needs, bits('CAP_NET_RAW', 'CAP_NET_ADMIN', 'CAP_NET_BIND_SERVICE', 'CAP_BPF')), []);
});

test('missing capabilities are named with what needs them', () => {
  const needs = capabilityNeeds(config(VRRP_NODE), facts, 2);
  const lines = describeMissing(missingCapabilities(needs, bits('CAP_NET_ADMIN', 'CAP_NET_BIND_SERVICE')));
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /^CAP_NET_RAW is missing: vrrp instance VI_1 sends and receives adverts on a raw IP socket/);
  assert.match(lines[1]!, /^CAP_BPF is missing: 2 workers .* \(halb goes on without it\)$/);
});

test('ip_nonlocal_bind already on and a lowered unprivileged port start need nothing for those', () => {
  const needs = capabilityNeeds(config(VRRP_NODE), { unprivilegedPortStart: 80, nonlocalBindOn: new Set<4 | 6>([4]) }, 1);
  assert.ok(!needs.some((n) => n.cap === 'CAP_NET_BIND_SERVICE'));
  assert.ok(!needs.some((n) => /ip_nonlocal_bind/.test(n.why)));
});
