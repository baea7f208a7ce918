// halb and a real keepalived (Debian's 2.2.7) in one virtual router, VRRPv2 (PASS auth) and
// VRRPv3: the node with the higher priority wins every election whichever implementation it
// is, and each takes over from the other on kill -9 (and on keepalived's priority-0 SIGTERM).
// halb's drop counters must stay at zero: keepalived's adverts decode and match.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { Lab } from '../../helpers/netns.ts';
import { masterDownInterval } from '../../../src/vrrp/state-machine.ts';
import { VrrpNode, eventually, hasAddress, vrrpYaml } from './vrrp-node-client.ts';
import { KEEPALIVED, Keepalived, keepalivedConf } from './keepalived-runner.ts';

const VIP = '10.77.0.100';
const HALB = 'lb1'; // 10.77.0.11
const KA = 'lb2'; // 10.77.0.12
let lab: Lab;
const halbs = new Set<VrrpNode>();
const kas = new Set<Keepalived>();

before(async () => {
  lab = await Lab.create();
  await lab.host(HALB, { addresses: ['10.77.0.11/24'] });
  await lab.host(KA, { addresses: ['10.77.0.12/24'] });
});

after(async () => {
  for (const k of kas) k.cleanup();
  for (const n of halbs) n.signal('SIGKILL');
  await lab?.destroy();
});

interface Variant {
  version: 2 | 3;
  advertMs: number;
  password?: string;
}

const VARIANTS: Variant[] = [
  { version: 2, advertMs: 1000, password: 'secret' },
  { version: 3, advertMs: 100 },
];

function halbYaml(v: Variant, priority: number): string {
  return vrrpYaml({ priority, advertInt: `${v.advertMs}ms`, version: v.version, ...(v.password ? { password: v.password } : {}) });
}

function kaConf(v: Variant, priority: number): string {
  return keepalivedConf({ priority, version: v.version, advertInt: String(v.advertMs / 1000), ...(v.password ? { password: v.password } : {}) });
}

async function startHalb(v: Variant, priority: number): Promise<VrrpNode> {
  const n = await VrrpNode.start(lab, HALB, halbYaml(v, priority));
  halbs.add(n);
  void n.exited.then(() => halbs.delete(n));
  return n;
}

function startKa(v: Variant, priority: number): Keepalived {
  const k = new Keepalived(lab, KA, kaConf(v, priority));
  kas.add(k);
  void k.exited.then(() => kas.delete(k));
  return k;
}

async function holders(): Promise<string[]> {
  const out: string[] = [];
  for (const h of [HALB, KA]) if (await hasAddress(lab, h, VIP)) out.push(h);
  return out;
}

async function cleanup(): Promise<void> {
  for (const k of kas) {
    await k.kill9();
    k.cleanup();
  }
  await Promise.all([...halbs].map((n) => n.kill9()));
  for (const h of [HALB, KA]) await lab.exec(h, 'ip', ['addr', 'del', `${VIP}/24`, 'dev', 'eth0'], { check: false });
}

async function noDrops(n: VrrpNode): Promise<void> {
  const s = await n.status();
  assert.deepEqual(s.counters.drops, {}, `halb dropped keepalived packets: ${JSON.stringify(s.counters.drops)}`);
}

for (const v of VARIANTS) {
  const mdi = masterDownInterval(v.version, 100, v.advertMs);
  const bound = 2 * mdi + 1000;

  test(`v${v.version}: halb (101) master, keepalived (100) backup; kill -9 halb -> keepalived; halb returns and wins`, { skip: !existsSync(KEEPALIVED) }, async () => {
    try {
      const halb = await startHalb(v, 101);
      const ka = startKa(v, 100);
      await halb.waitState('master', bound, 0);
      await new Promise((r) => setTimeout(r, 2 * v.advertMs + 500));
      assert.deepEqual(await holders(), [HALB], 'VIP only on halb');
      assert.doesNotMatch(ka.log, /Entering MASTER STATE/, 'keepalived never became master');
      await noDrops(halb);

      const t0 = Date.now();
      await halb.kill9();
      await eventually(async () => (await hasAddress(lab, KA, VIP)) && /Entering MASTER STATE/.test(ka.log), bound, 'keepalived takes the VIP');
      console.log(`# v${v.version} advert ${v.advertMs} ms: keepalived took over ${Date.now() - t0} ms after kill -9 of halb (Master_Down_Interval ${mdi.toFixed(0)} ms)`);

      const halb2 = await startHalb(v, 101);
      await halb2.waitState('master', bound, 0);
      await eventually(async () => (await holders()).join() === HALB, bound, 'keepalived released the VIP to halb');
      assert.match(ka.log, /Entering BACKUP STATE/);
      await noDrops(halb2);
    } finally {
      await cleanup();
    }
  });

  test(`v${v.version}: keepalived (101) master, halb (100) backup; kill -9 keepalived -> halb; keepalived returns and wins; SIGTERM -> halb`, { skip: !existsSync(KEEPALIVED) }, async () => {
    try {
      const ka = startKa(v, 101);
      const halb = await startHalb(v, 100);
      await eventually(async () => (await holders()).join() === KA, bound, 'keepalived master with the VIP');
      await new Promise((r) => setTimeout(r, 2 * v.advertMs + 500));
      assert.equal(halb.state, 'backup');
      const s = await halb.status();
      assert.equal(s.masterAddress, '10.77.0.12');
      assert.ok(s.counters.advertsReceived > 0);
      assert.equal(s.counters.advertsSent, 0, 'halb backup sent nothing');
      await noDrops(halb);

      let mark = halb.events.length;
      let t0 = Date.now();
      await ka.kill9();
      let e = await halb.waitState('master', bound, mark);
      console.log(`# v${v.version} advert ${v.advertMs} ms: halb took over ${e.t - t0} ms after kill -9 of keepalived (Master_Down_Interval ${mdi.toFixed(0)} ms)`);
      await eventually(() => hasAddress(lab, HALB, VIP), 2000, 'halb holds the VIP');

      mark = halb.events.length;
      const ka2 = startKa(v, 101);
      await halb.waitState('backup', bound + 2 * masterDownInterval(v.version, 101, v.advertMs), mark);
      await eventually(async () => (await holders()).join() === KA, bound, 'VIP back on keepalived only');

      mark = halb.events.length;
      t0 = Date.now();
      await ka2.terminate();
      e = await halb.waitState('master', bound, mark);
      console.log(`# v${v.version} advert ${v.advertMs} ms: halb took over ${e.t - t0} ms after SIGTERM of keepalived (priority 0)`);
      await eventually(async () => (await holders()).join() === HALB, 2000, 'VIP on halb only');
      await noDrops(halb);
    } finally {
      await cleanup();
    }
  });
}

test('v3: a keepalived with auth off and a halb signing with hmac-sha256 do not form one router: keepalived drops the signed adverts, halb drops the unsigned ones', { skip: !existsSync(KEEPALIVED) }, async () => {
  const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'halb-hmac-ka-'));
  writeFileSync(join(dir, 'vrrp.key'), 'f1d2d2f924e986ac86fdf7b36c94bcdf32beec15\n', { mode: 0o600 });
  try {
    const auth = `      authentication: { type: hmac-sha256, key_file: ${join(dir, 'vrrp.key')} }`;
    const halb = await VrrpNode.start(lab, HALB, vrrpYaml({ priority: 101, advertInt: '100ms', version: 3, extra: auth }));
    halbs.add(halb);
    const ka = startKa({ version: 3, advertMs: 100 }, 100);
    await halb.waitState('master', 3000, 0);
    await eventually(() => /Entering MASTER STATE/.test(ka.log), 5000, 'keepalived, not accepting the signed adverts, becomes master too');
    await new Promise((r) => setTimeout(r, 500));
    const s = await halb.status();
    console.log('halb drops', JSON.stringify(s.counters.drops), 'keepalived log tail:', ka.log.split('\n').filter((l) => /VI_1|packet|length|checksum/i.test(l)).slice(-5).join(' | '));
    assert.ok((s.counters.drops['auth-unsigned'] ?? 0) > 0, 'halb counts keepalived adverts as unsigned');
    assert.equal(s.state, 'master');
    assert.match(ka.log, /vrrp packet too long, length 60 and expect 32/, 'keepalived 2.2.7 refuses the 28 trailer bytes (IP 20 + VRRP 12 + 28)');
  } finally {
    await cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});
