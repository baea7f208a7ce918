import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { decodeAdvert, encodeAdvert, checkAuth, passwordAuthData } from '../../../src/vrrp/packet.ts';
import type { VrrpAdvert } from '../../../src/vrrp/packet.ts';
import { decodeIpv4Advert, decodeIpv4Packet } from '../../../src/vrrp/ipv4-header.ts';
import { internetChecksum, pseudoHeaderSum } from '../../../src/vrrp/checksum.ts';
import { compareIp, formatIp, normaliseIp, parseIp } from '../../../src/vrrp/ip-address.ts';

interface Vector {
  ip_hex?: string;
  vrrp_hex?: string;
  decoded: {
    ip_src: string;
    ip_dst: string;
    ip_ttl: number;
    vrrp_version: 2 | 3;
    type: number;
    vrid: number;
    priority: number;
    count_ip: number;
    auth_type?: number;
    adver_int_s?: number;
    max_adver_int_cs?: number;
    checksum: number;
    vips: string[];
    auth_data?: string;
    checksum_if_v2_rule: number;
    checksum_if_v3_rule: number;
  };
}

const all = JSON.parse(
  readFileSync(new URL('../../vectors/keepalived/vectors.json', import.meta.url), 'utf8'),
) as Record<string, Vector>;
const vectors = Object.entries(all).filter(([, v]) => v.vrrp_hex !== undefined);

describe('keepalived vectors', () => {
  it('has the VRRP captures', () => {
    assert.ok(vectors.length >= 6, `found ${vectors.length}`);
  });

  for (const [name, v] of vectors) {
    const d = v.decoded;
    const ctx = { src: d.ip_src, dst: d.ip_dst, family: 4 as const };

    it(`${name}: decodes every field`, () => {
      const res = decodeAdvert(Buffer.from(v.vrrp_hex!, 'hex'), { ...ctx, ttl: d.ip_ttl });
      assert.ok(res.ok, JSON.stringify(res));
      const a = res.advert;
      assert.equal(a.version, d.vrrp_version);
      assert.equal(a.type, d.type);
      assert.equal(a.vrid, d.vrid);
      assert.equal(a.priority, d.priority);
      assert.equal(a.addresses.length, d.count_ip);
      assert.deepEqual(a.addresses, d.vips);
      assert.equal(a.checksum, d.checksum);
      if (d.vrrp_version === 3) {
        assert.equal(a.advertIntRaw, d.max_adver_int_cs);
        assert.equal(a.advertIntMs, d.max_adver_int_cs! * 10);
        assert.equal(a.checksumForm, 'pseudo-header');
        assert.equal(a.checksum, d.checksum_if_v3_rule);
      } else {
        assert.equal(a.advertIntRaw, d.adver_int_s);
        assert.equal(a.advertIntMs, d.adver_int_s! * 1000);
        assert.equal(a.authType, d.auth_type);
        const hex = /hex ([0-9a-f]+)/.exec(d.auth_data ?? '')?.[1];
        assert.equal(a.authData?.toString('hex'), hex);
        assert.equal(a.checksumForm, 'message-only');
        assert.equal(a.checksum, d.checksum_if_v2_rule);
      }
    });

    it(`${name}: re-encodes byte-identical from decoded fields`, () => {
      const fields = {
        version: d.vrrp_version,
        vrid: d.vrid,
        priority: d.priority,
        advertIntMs: d.vrrp_version === 3 ? d.max_adver_int_cs! * 10 : d.adver_int_s! * 1000,
        addresses: d.vips,
        ...(d.vrrp_version === 2
          ? { authType: d.auth_type, authData: d.auth_type === 1 ? passwordAuthData('secret12') : undefined }
          : {}),
      };
      assert.equal(encodeAdvert(fields, ctx).toString('hex'), v.vrrp_hex);
    });

    it(`${name}: both checksum rules match the capture's alternatives`, () => {
      const msg = Buffer.from(v.vrrp_hex!, 'hex');
      assert.equal(internetChecksum(msg, 6), d.checksum_if_v2_rule);
      const ph = pseudoHeaderSum(parseIp(d.ip_src, 4)!, parseIp(d.ip_dst, 4)!, 4, msg.length);
      assert.equal(internetChecksum(msg, 6, ph), d.checksum_if_v3_rule);
    });

    it(`${name}: full IPv4 packet decodes through the IP header`, () => {
      const res = decodeIpv4Advert(Buffer.from(v.ip_hex!, 'hex'));
      assert.ok(res.ok, JSON.stringify(res));
      assert.equal(res.ip.src, d.ip_src);
      assert.equal(res.ip.dst, d.ip_dst);
      assert.equal(res.ip.ttl, 255);
      assert.equal(res.ip.payload.toString('hex'), v.vrrp_hex);
      assert.equal(res.advert.vrid, d.vrid);
    });
  }
});

describe('VRRPv3 checksum forms', () => {
  const v3 = all['vrrp_v3']!;
  const msg = Buffer.from(v3.vrrp_hex!, 'hex');
  const ctx = { src: '10.77.0.11', dst: '224.0.0.18', family: 4 as const };

  it('accepts the message-only checksum over IPv4 and says so (RFC 9568 §5.2.8)', () => {
    const fields = { version: 3 as const, vrid: 51, priority: 101, advertIntMs: 100, addresses: ['10.77.0.100'], checksumForm: 'message-only' as const };
    const buf = encodeAdvert(fields, ctx);
    assert.equal(buf.readUInt16BE(6), v3.decoded.checksum_if_v2_rule);
    const res = decodeAdvert(buf, ctx);
    assert.ok(res.ok);
    assert.equal(res.advert.checksumForm, 'message-only');
  });

  it('accepts a unicast advert checksummed against the multicast group (old keepalived)', () => {
    const uni = { src: '10.0.0.1', dst: '10.0.0.2', family: 4 as const };
    const fields = { version: 3 as const, vrid: 9, priority: 50, advertIntMs: 1000, addresses: ['10.0.0.100'] };
    const buf = encodeAdvert({ ...fields, checksumForm: 'pseudo-header-multicast' }, uni);
    const res = decodeAdvert(buf, uni);
    assert.ok(res.ok);
    assert.equal(res.advert.checksumForm, 'pseudo-header-multicast');
    const proper = decodeAdvert(encodeAdvert(fields, uni), uni);
    assert.ok(proper.ok);
    assert.equal(proper.advert.checksumForm, 'pseudo-header');
  });

  it('rejects a wrong checksum naming the field and the expected values', () => {
    const bad = Buffer.from(msg);
    bad.writeUInt16BE(0x1234, 6);
    const res = decodeAdvert(bad, ctx);
    assert.ok(!res.ok);
    assert.equal(res.reason, 'bad-checksum');
    assert.equal(res.field, 'checksum');
    assert.match(res.detail, /0x1234.*pseudo-header 0x7429/);
  });

  it('the pseudo-header depends on the source address', () => {
    const res = decodeAdvert(msg, { ...ctx, src: '10.77.0.12' });
    assert.ok(!res.ok);
    assert.equal(res.reason, 'bad-checksum');
  });
});

describe('VRRPv3 over IPv6', () => {
  // Checksum computed independently (Python, RFC 8200 §8.1 pseudo-header) for this exact message.
  const hand = '3101640200643fae20010db8000000000000000000000001fd000000000000000000000000000200';
  const ctx = { src: 'fe80::1', dst: 'ff02::12', family: 6 as const };
  const fields = { version: 3 as const, vrid: 1, priority: 100, advertIntMs: 1000, addresses: ['2001:db8::1', 'fd00::200'] };

  it('encodes with the hand-computed checksum', () => {
    assert.equal(encodeAdvert(fields, ctx).toString('hex'), hand);
  });

  it('decodes and round-trips', () => {
    const res = decodeAdvert(Buffer.from(hand, 'hex'), { ...ctx, ttl: 255 });
    assert.ok(res.ok, JSON.stringify(res));
    assert.deepEqual(res.advert.addresses, ['2001:db8::1', 'fd00::200']);
    assert.equal(res.advert.checksum, 0x3fae);
    assert.equal(res.advert.advertIntMs, 1000);
    assert.equal(res.advert.checksumForm, 'pseudo-header');
    assert.equal(encodeAdvert(res.advert, ctx).toString('hex'), hand);
  });

  it('has no message-only fallback over IPv6', () => {
    const buf = encodeAdvert({ ...fields, checksumForm: 'message-only' }, ctx);
    const res = decodeAdvert(buf, ctx);
    assert.ok(!res.ok);
    assert.equal(res.reason, 'bad-checksum');
  });

  it('refuses VRRPv2 over IPv6 both ways', () => {
    assert.throws(() => encodeAdvert({ ...fields, version: 2 }, ctx), /IPv4-only/);
    const v2 = Buffer.from(hand, 'hex');
    v2[0] = 0x21;
    const res = decodeAdvert(v2, ctx);
    assert.ok(!res.ok);
    assert.equal(res.reason, 'bad-version');
  });
});

describe('rejections name the reason and field', () => {
  const v2 = Buffer.from(all['vrrp_v2']!.vrrp_hex!, 'hex');
  const v3 = Buffer.from(all['vrrp_v3']!.vrrp_hex!, 'hex');
  const ctx = { src: '10.77.0.11', dst: '224.0.0.18', family: 4 as const };
  const fix = (b: Buffer, version: 2 | 3) => {
    if (version === 2) b.writeUInt16BE(internetChecksum(b, 6), 6);
    else b.writeUInt16BE(internetChecksum(b, 6, pseudoHeaderSum(parseIp(ctx.src, 4)!, parseIp(ctx.dst, 4)!, 4, b.length)), 6);
    return b;
  };
  const cases: Array<[string, Buffer, string, string]> = [
    ['empty', Buffer.alloc(0), 'too-short', 'length'],
    ['7 bytes', v3.subarray(0, 7), 'too-short', 'length'],
    ['v2 without auth data', v2.subarray(0, 12), 'too-short', 'length'],
    ['version 4', fix(Buffer.from([0x41, ...v3.subarray(1)]), 3), 'bad-version', 'version'],
    ['version 1', Buffer.from([0x11, ...v3.subarray(1)]), 'bad-version', 'version'],
    ['type 2', Buffer.from([0x32, ...v3.subarray(1)]), 'bad-type', 'type'],
    ['vrid 0', Buffer.from([0x31, 0, ...v3.subarray(2)]), 'bad-vrid', 'vrid'],
    ['ragged length', Buffer.concat([v3, Buffer.alloc(2)]), 'bad-length', 'length'],
    ['count says 2', fix(Buffer.from([0x31, 51, 101, 2, ...v3.subarray(4)]), 3), 'address-count-mismatch', 'count'],
    ['extra address', fix(Buffer.concat([v3, Buffer.from([10, 0, 0, 1])]), 3), 'address-count-mismatch', 'count'],
    ['v3 interval 0', fix(Buffer.from([...v3.subarray(0, 4), 0xf0, 0, ...v3.subarray(6)]), 3), 'zero-interval', 'maxAdvertInt'],
    ['v2 interval 0', fix(Buffer.from([...v2.subarray(0, 5), 0, ...v2.subarray(6)]), 2), 'zero-interval', 'advertInt'],
    ['v2 auth type 2 (AH)', fix(Buffer.from([...v2.subarray(0, 4), 2, ...v2.subarray(5)]), 2), 'bad-auth-type', 'authType'],
    ['v2 bad checksum', Buffer.from([...v2.subarray(0, 2), 100, ...v2.subarray(3)]), 'bad-checksum', 'checksum'],
  ];
  for (const [what, buf, reason, field] of cases) {
    it(what, () => {
      const res = decodeAdvert(buf, ctx);
      assert.ok(!res.ok, `accepted ${what}`);
      assert.equal(res.reason, reason, res.detail);
      assert.equal(res.field, field);
      assert.ok(res.detail.length > 0);
    });
  }

  it('TTL other than 255', () => {
    const res = decodeAdvert(v3, { ...ctx, ttl: 64 });
    assert.ok(!res.ok);
    assert.equal(res.reason, 'bad-ttl');
  });

  it('unparsable context addresses', () => {
    const res = decodeAdvert(v3, { ...ctx, src: 'nonsense' });
    assert.ok(!res.ok);
    assert.equal(res.reason, 'bad-address');
    assert.equal(res.field, 'src');
  });

  it('v3 reserved bits are ignored on receipt but kept for re-encoding', () => {
    const b = fix(Buffer.from([...v3.subarray(0, 4), 0x50 | v3[4]!, ...v3.subarray(5)]), 3);
    const res = decodeAdvert(b, ctx);
    assert.ok(res.ok);
    assert.equal(res.advert.reserved, 5);
    assert.equal(res.advert.advertIntMs, 100);
    assert.deepEqual(encodeAdvert(res.advert, ctx), b);
  });
});

describe('IPv4 header', () => {
  const ip = Buffer.from(all['vrrp_v2']!.ip_hex!, 'hex');
  const mutate = (f: (b: Buffer) => void, fixSum = true) => {
    const b = Buffer.from(ip);
    f(b);
    if (fixSum) b.writeUInt16BE(internetChecksum(b.subarray(0, (b[0]! & 15) * 4), 10), 10);
    return b;
  };
  const cases: Array<[string, Buffer, string]> = [
    ['short', ip.subarray(0, 19), 'too-short'],
    ['IPv6 version nibble', mutate((b) => { b[0] = 0x65; }), 'bad-ip-version'],
    ['IHL 4', mutate((b) => { b[0] = 0x44; }, false), 'bad-ihl'],
    ['IHL 15 beyond packet', mutate((b) => { b[0] = 0x4f; }, false), 'bad-ihl'],
    ['total length beyond buffer', mutate((b) => { b.writeUInt16BE(41, 2); }), 'bad-ip-length'],
    ['header checksum', mutate((b) => { b[8] = 254; }, false), 'bad-ip-checksum'],
    ['more fragments', mutate((b) => { b.writeUInt16BE(0x2000, 6); }), 'fragmented'],
    ['protocol 17', mutate((b) => { b[9] = 17; }), 'bad-protocol'],
  ];
  for (const [what, buf, reason] of cases) {
    it(what, () => {
      const res = decodeIpv4Packet(buf);
      assert.ok(!res.ok, what);
      assert.equal(res.reason, reason, res.detail);
    });
  }

  it('TTL below 255 is rejected by decodeIpv4Advert unless disabled (unicast over routers)', () => {
    const b = mutate((x) => { x[8] = 64; });
    const res = decodeIpv4Advert(b);
    assert.ok(!res.ok);
    assert.equal(res.reason, 'bad-ttl');
    assert.ok(decodeIpv4Advert(b, { checkTtl: false }).ok);
  });

  it('link-layer padding after total length is dropped', () => {
    const res = decodeIpv4Packet(Buffer.concat([ip, Buffer.alloc(6)]));
    assert.ok(res.ok);
    assert.equal(res.packet.payload.length, 20);
  });

  it('DF flag is fine; IP options are skipped', () => {
    assert.ok(decodeIpv4Packet(mutate((b) => { b.writeUInt16BE(0x4000, 6); })).ok);
    const withOpts = Buffer.concat([ip.subarray(0, 20), Buffer.from([1, 1, 1, 0]), ip.subarray(20)]);
    withOpts[0] = 0x46;
    withOpts.writeUInt16BE(withOpts.length, 2);
    withOpts.writeUInt16BE(internetChecksum(withOpts.subarray(0, 24), 10), 10);
    const res = decodeIpv4Advert(withOpts);
    assert.ok(res.ok, JSON.stringify(res));
    assert.equal(res.ip.headerLength, 24);
  });
});

describe('authentication', () => {
  const d = (hex: string) => (decodeAdvert(Buffer.from(hex, 'hex'), { src: '10.77.0.11', dst: '224.0.0.18', family: 4 }) as { advert: VrrpAdvert }).advert;
  const pass = d(all['vrrp_v2_authpass']!.vrrp_hex!);
  const none = d(all['vrrp_v2']!.vrrp_hex!);
  it('PASS matches keepalived "secret12"', () => {
    assert.equal(checkAuth(pass, { type: 'PASS', password: 'secret12' }), undefined);
    assert.equal(checkAuth(pass, { type: 'PASS', password: 'secret12-and-more' })?.reason, undefined, 'only 8 bytes count');
  });
  it('wrong password, or auth type differing from ours', () => {
    assert.equal(checkAuth(pass, { type: 'PASS', password: 'secret13' })?.reason, 'bad-password');
    assert.equal(checkAuth(pass, undefined)?.reason, 'auth-mismatch');
    assert.equal(checkAuth(none, { type: 'PASS', password: 'x' })?.reason, 'auth-mismatch');
    assert.equal(checkAuth(none, undefined), undefined);
  });
});

describe('addresses', () => {
  it('formats IPv6 per RFC 5952 and parses back', () => {
    for (const [input, canon] of [
      ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
      ['::', '::'],
      ['::1', '::1'],
      ['fe80::', 'fe80::'],
      ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1'],
      ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
      ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2:3:4:5:6'],
      ['::ffff:10.0.0.1', '::ffff:a00:1'],
      ['fe80::1%eth0', 'fe80::1'],
    ] as const) {
      assert.equal(normaliseIp(input), canon, input);
      assert.equal(formatIp(parseIp(canon, 6)!, 0, 6), canon);
    }
    assert.equal(normaliseIp('10.0.0.256'), undefined);
    assert.equal(normaliseIp('1::2::3'), undefined);
  });

  it('orders numerically, not as text', () => {
    assert.ok(compareIp('10.0.0.9', '10.0.0.10') < 0);
    assert.ok(compareIp('192.168.1.2', '10.0.0.1') > 0);
    assert.ok(compareIp('fe80::a', 'fe80::9') > 0);
    assert.ok(compareIp('2001:db8::1', '2001:db8:0:0:0:0:0:1') === 0);
    assert.ok(compareIp('garbage', '0.0.0.0') < 0);
  });
});
