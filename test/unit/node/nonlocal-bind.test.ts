import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../../src/config/load.ts';
import { familiesBindingVips } from '../../../src/node/nonlocal-bind.ts';

function config(bind: string, vip: string): Parameters<typeof familiesBindingVips>[0] {
  const r = parseConfigText(
    `frontends:
  web: { bind: ["${bind}"], mode: http, default_backend: b }
backends:
  b: { servers: [{ name: s, address: "127.0.0.1:8081" }] }
vrrp:
  instances:
    VI:
      interface: eth0
      priority: 100
      virtual_router_id: 51
      virtual_ipaddress: ["${vip}"]
`,
    'test.yaml',
  );
  assert.ok(r.ok, r.ok ? '' : JSON.stringify(r.errors));
  return r.config;
}

test('only frontends that bind a virtual address need non-local bind', () => {
  assert.deepEqual([...familiesBindingVips(config('10.77.0.100:80', '10.77.0.100/24'))], [4]);
  assert.deepEqual([...familiesBindingVips(config('0.0.0.0:80', '10.77.0.100/24'))], []);
  assert.deepEqual([...familiesBindingVips(config('[fd77::100]:80', 'fd77::100/64'))], [6]);
});
