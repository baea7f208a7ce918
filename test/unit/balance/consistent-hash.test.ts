import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HashRing } from '../../../src/balance/consistent-hash.ts';
import { SourceHashPolicy } from '../../../src/balance/source.ts';
import { UriHashPolicy } from '../../../src/balance/uri.ts';
import { HeaderHashPolicy } from '../../../src/balance/hdr.ts';
import { hashString } from '../../../src/balance/hash.ts';
import { counts, req, servers } from './servers.ts';
import type { ServerState } from '../../../src/pool/server-state.ts';

const KEYS = Array.from({ length: 20_000 }, (_, i) => hashString(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`));

function owners(ring: HashRing): string[] {
  return KEYS.map((k) => ring.lookup(k)!.name);
}

test('hash is stable and spreads', () => {
  assert.equal(hashString('abc'), hashString('abc'));
  assert.notEqual(hashString('abc'), hashString('abd'));
  assert.equal(hashString('xabcx', 1, 4), hashString('abc'));
  assert.notEqual(hashString('\u0100'), hashString('\u0001'));
});

test('keys spread in proportion to weight', () => {
  const list = servers([1, 1, 2, 4], ['a', 'b', 'c', 'd']);
  const ring = new HashRing(list);
  assert.equal(ring.size, 800);
  const c = counts(KEYS.map((k) => ring.lookup(k)));
  for (const s of list) {
    const share = c.get(s.name)! / KEYS.length;
    const want = s.weight / 8;
    assert.ok(Math.abs(share - want) < want * 0.25, `${s.name}: ${share} vs ${want}`);
  }
});

for (const n of [4, 8, 16]) {
  test(`adding or removing one of ${n} servers moves about 1/${n + 1} or 1/${n} of keys`, () => {
    const names = Array.from({ length: n + 1 }, (_, i) => `web${i}`);
    const all = servers(Array.from({ length: n + 1 }, () => 1), names);
    const before = owners(new HashRing(all.slice(0, n)));
    const after = owners(new HashRing(all));
    let moved = 0;
    for (let i = 0; i < KEYS.length; i++) {
      if (before[i] !== after[i]) {
        moved++;
        // only to the new server: nothing shuffles between old ones
        assert.equal(after[i], `web${n}`);
      }
    }
    const frac = moved / KEYS.length;
    const ideal = 1 / (n + 1);
    assert.ok(frac > ideal * 0.6 && frac < ideal * 1.5, `added: moved ${frac}, ideal ${ideal}`);

    // remove a middle server: only its keys move
    const without = all.slice(0, n).filter((_, i) => i !== 1);
    const afterRemove = owners(new HashRing(without));
    let movedR = 0;
    for (let i = 0; i < KEYS.length; i++) {
      if (before[i] !== afterRemove[i]) {
        movedR++;
        assert.equal(before[i], 'web1');
      }
    }
    const fracR = movedR / KEYS.length;
    assert.ok(fracR > (1 / n) * 0.6 && fracR < (1 / n) * 1.5, `removed: moved ${fracR}, ideal ${1 / n}`);
  });
}

test('mapping depends on names, not order or index', () => {
  const a = servers([1, 1, 1], ['x', 'y', 'z']);
  const b = servers([1, 1, 1], ['z', 'x', 'y']);
  assert.deepEqual(owners(new HashRing(a)), owners(new HashRing(b)));
});

test('exclude walks to the next server on the ring', () => {
  const list = servers([1, 1, 1]);
  const ring = new HashRing(list);
  for (const k of KEYS.slice(0, 200)) {
    const first = ring.lookup(k)!;
    const second = ring.lookup(k, new Set([first]))!;
    assert.notEqual(second, first);
    assert.equal(ring.lookup(k, new Set(list)), undefined);
  }
});

test('source policy: same client same server', () => {
  const p = new SourceHashPolicy();
  p.update(servers([1, 1, 1, 1]));
  for (let i = 0; i < 50; i++) {
    const ip = `192.168.1.${i}`;
    assert.equal(p.pick(req({ sourceIp: ip })), p.pick(req({ sourceIp: ip })));
  }
  const c = counts(Array.from({ length: 400 }, (_, i) => p.pick(req({ sourceIp: `172.16.${i >> 8}.${i & 255}` }))));
  assert.equal(c.size, 4);
});

test('uri policy hashes the path without the query', () => {
  const p = new UriHashPolicy();
  p.update(servers([1, 1, 1, 1]));
  for (let i = 0; i < 50; i++) {
    assert.equal(p.pick(req({ uri: `/img/${i}.png?v=1` })), p.pick(req({ uri: `/img/${i}.png?v=2` })));
  }
});

test('hdr policy: header value hashes, missing header falls back to round robin', () => {
  const p = new HeaderHashPolicy('X-User');
  assert.equal(p.name, 'hdr(x-user)');
  const list = servers([1, 1, 1]);
  p.update(list);
  const withHdr = (v: string | undefined) => req({ header: (n: string) => (n === 'x-user' ? v : undefined) });
  const s = p.pick(withHdr('alice'));
  for (let i = 0; i < 10; i++) assert.equal(p.pick(withHdr('alice')), s);
  const rr: ServerState[] = [];
  for (let i = 0; i < 6; i++) rr.push(p.pick(withHdr(undefined))!);
  assert.deepEqual(rr.map((x) => x.name), ['s0', 's1', 's2', 's0', 's1', 's2']);
  assert.equal(p.pick(req())?.name !== undefined, true); // no header function (TCP mode)
  assert.throws(() => new HeaderHashPolicy(''), /header name is empty/);
});
