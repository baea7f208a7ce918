// Vectors come from haproxy's doc/proxy-protocol.txt (sections 2.1 and 2.2) and from a v2 header
// haproxy itself emitted (captured in the seriousben/experiment-proxy-protocol README).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  encodeProxyV1,
  encodeProxyV2,
  encodeProxyV2Local,
  parseProxyHeader,
  PROXY_V2_SIGNATURE,
  type ProxyParseResult,
} from '../../../../src/proxy/tcp/proxy-protocol.ts';

function ok(r: ProxyParseResult): Extract<ProxyParseResult, { status: 'ok' }> {
  assert.equal(r.status, 'ok', JSON.stringify(r));
  return r as Extract<ProxyParseResult, { status: 'ok' }>;
}

function isError(r: ProxyParseResult): boolean {
  return r.status === 'error';
}

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

test('v1: spec example line before an HTTP request', () => {
  const payload = 'GET / HTTP/1.1\r\nHost: 192.168.0.11\r\n\r\n';
  const line = 'PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n';
  const r = ok(parseProxyHeader(Buffer.from(line + payload)));
  assert.equal(r.version, 1);
  assert.equal(r.consumed, line.length);
  assert.deepEqual(r.source, { family: 4, address: '192.168.0.1', port: 56324 });
  assert.deepEqual(r.dest, { family: 4, address: '192.168.0.11', port: 443 });
});

test('v1: encode reproduces the spec example', () => {
  const b = encodeProxyV1({ address: '192.168.0.1', port: 56324 }, { address: '192.168.0.11', port: 443 });
  assert.equal(b.toString('latin1'), 'PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n');
});

test('v1: spec maximum lengths (56, 104, 15, 107) are accepted', () => {
  const v4 = 'PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n';
  assert.equal(v4.length, 56);
  assert.equal(ok(parseProxyHeader(Buffer.from(v4))).consumed, 56);
  const f = 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff';
  const v6 = `PROXY TCP6 ${f} ${f} 65535 65535\r\n`;
  assert.equal(v6.length, 104);
  const r6 = ok(parseProxyHeader(Buffer.from(v6)));
  assert.equal(r6.consumed, 104);
  assert.equal(r6.source?.address, f);
  const unk = 'PROXY UNKNOWN\r\n';
  const ru = ok(parseProxyHeader(Buffer.from(unk)));
  assert.equal(ru.consumed, 15);
  assert.equal(ru.source, undefined);
  const worst = `PROXY UNKNOWN ${f} ${f} 65535 65535\r\n`;
  assert.equal(worst.length, 107);
  assert.equal(ok(parseProxyHeader(Buffer.from(worst))).consumed, 107);
});

test('v1: 108-byte line and a line without CRLF in the first 107 bytes are rejected', () => {
  const f = 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff';
  assert.ok(isError(parseProxyHeader(Buffer.from(`PROXY UNKNOWN ${f} ${f} 65535 655355\r\n`))));
  assert.ok(isError(parseProxyHeader(Buffer.from(`PROXY UNKNOWN ${'x'.repeat(200)}`))));
  // 106 bytes without CR: could still end with CRLF at 105/106 -> need more, then error at 107
  const partial = Buffer.from(`PROXY UNKNOWN ${'x'.repeat(92)}`);
  assert.equal(partial.length, 106);
  assert.equal(parseProxyHeader(partial).status, 'need-more');
  assert.ok(isError(parseProxyHeader(Buffer.concat([partial, Buffer.from('\r')]))));
});

test('v1: TCP6 compressed forms are parsed and rendered canonically', () => {
  const r = ok(parseProxyHeader(Buffer.from('PROXY TCP6 2001:DB8:0:0:0:0:0:1 ::1 1 65535\r\n')));
  assert.deepEqual(r.source, { family: 6, address: '2001:db8::1', port: 1 });
  assert.deepEqual(r.dest, { family: 6, address: '::1', port: 65535 });
  const m = ok(parseProxyHeader(Buffer.from('PROXY TCP6 ::ffff:10.0.0.1 ::ffff:10.0.0.2 5 6\r\n')));
  assert.equal(m.source?.address, '::ffff:10.0.0.1');
});

test('v1: incremental feeding byte by byte gives need-more until the CRLF', () => {
  const line = Buffer.from('PROXY TCP4 10.1.2.3 10.9.8.7 40000 80\r\nDATA');
  const end = line.indexOf('\r\n') + 2;
  for (let n = 0; n < end; n++) assert.equal(parseProxyHeader(line.subarray(0, n)).status, 'need-more', `at ${n}`);
  assert.equal(ok(parseProxyHeader(line.subarray(0, end))).consumed, end);
});

test('v1: malformed lines are rejected without throwing', () => {
  const bad = [
    'PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\n', // lone LF
    'PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\rX', // CR not followed by LF
    'PROXY TCP4 192.168.000.1 192.168.0.11 56324 443\r\n', // leading zeros
    'PROXY TCP4 192.168.0.1 192.168.0.11 056324 443\r\n', // port leading zero
    'PROXY TCP4 192.168.0.1 192.168.0.11 65536 443\r\n', // port range
    'PROXY TCP4 192.168.0.1 192.168.0.11 56324\r\n', // missing field
    'PROXY TCP4 192.168.0.1  192.168.0.11 56324 443\r\n', // double space
    'PROXY TCP4 192.168.0.1 192.168.0.11 56324 443 \r\n', // trailing space
    'PROXY TCP4 ::1 ::1 1 2\r\n', // family mismatch
    'PROXY TCP6 1.2.3.4 1.2.3.4 1 2\r\n',
    'PROXY TCP6 1::2::3 ::1 1 2\r\n', // two ::
    'PROXY TCP6 12345::1 ::1 1 2\r\n', // group too long
    'PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n', // zone id
    'PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 1 2\r\n',
    'PROXY UDP4 1.2.3.4 1.2.3.4 1 2\r\n',
    'PROXY\r\n',
    'PROXYTCP4 1.2.3.4 1.2.3.4 1 2\r\n',
    'proxy TCP4 1.2.3.4 1.2.3.4 1 2\r\n',
    'PROXY TCP4 1.2.3.4 1.2.3.4 1 2\x00\r\n',
    'GET / HTTP/1.1\r\n',
    'PUT / HTTP/1.1\r\n', // starts with 'P' too
  ];
  for (const s of bad) assert.ok(isError(parseProxyHeader(Buffer.from(s, 'latin1'))), JSON.stringify(s));
});

test('v2: header emitted by haproxy (TCP4 172.19.0.1:42578 -> 172.19.0.3:80) followed by payload', () => {
  const wire = hex('0d0a0d0a000d0a515549540a 21 11 000c ac130001 ac130003 a652 0050 474554');
  const r = ok(parseProxyHeader(wire));
  assert.equal(r.version, 2);
  assert.equal(r.command, 'proxy');
  assert.equal(r.consumed, 28);
  assert.deepEqual(r.source, { family: 4, address: '172.19.0.1', port: 42578 });
  assert.deepEqual(r.dest, { family: 4, address: '172.19.0.3', port: 80 });
  assert.deepEqual(
    encodeProxyV2({ address: '172.19.0.1', port: 42578 }, { address: '172.19.0.3', port: 80 }),
    wire.subarray(0, 28),
  );
});

test('v2: signature constant is the one in section 2.2', () => {
  assert.deepEqual(PROXY_V2_SIGNATURE, hex('0D0A0D0A000D0A515549540A'));
});

test('v2: TCP6 layout (\\x21, len 36) round-trips', () => {
  const b = encodeProxyV2({ address: '2001:db8::5', port: 1234 }, { address: 'fd00::1', port: 443 });
  assert.equal(b.length, 16 + 36);
  assert.equal(b[12], 0x21);
  assert.equal(b[13], 0x21);
  assert.equal(b.readUInt16BE(14), 36);
  const r = ok(parseProxyHeader(b));
  assert.deepEqual(r.source, { family: 6, address: '2001:db8::5', port: 1234 });
  assert.deepEqual(r.dest, { family: 6, address: 'fd00::1', port: 443 });
});

test('v2: LOCAL command, and LOCAL with a non-zero length is skipped by its length', () => {
  const local = encodeProxyV2Local();
  assert.deepEqual(local, hex('0d0a0d0a000d0a515549540a 20 00 0000'));
  const r = ok(parseProxyHeader(local));
  assert.equal(r.command, 'local');
  assert.equal(r.consumed, 16);
  assert.equal(r.source, undefined);
  const withAddr = hex('0d0a0d0a000d0a515549540a 20 11 000c 01020304 05060708 0001 0002 ff');
  assert.equal(ok(parseProxyHeader(withAddr)).consumed, 28);
});

test('v2: UNSPEC, UDP and UNIX are accepted without addresses; TLVs are skipped', () => {
  const unspec = hex('0d0a0d0a000d0a515549540a 21 00 0000');
  assert.equal(ok(parseProxyHeader(unspec)).source, undefined);
  const udp = hex('0d0a0d0a000d0a515549540a 21 12 000c 01020304 05060708 0001 0002');
  assert.equal(ok(parseProxyHeader(udp)).source, undefined);
  const unix = Buffer.concat([hex('0d0a0d0a000d0a515549540a 21 31 00d8'), Buffer.alloc(216)]);
  assert.equal(ok(parseProxyHeader(unix)).consumed, 232);
  // TCP4 + a NOOP TLV (type 0x04, length 3) + an ALPN TLV ("h"): consumed covers them, payload starts after.
  const tlv = hex('0d0a0d0a000d0a515549540a 21 11 0016 0a000001 0a000002 1f90 0050 04 0003 000000 01 0001 68 ZZ'.replace('ZZ', '5a'));
  const r = ok(parseProxyHeader(tlv));
  assert.equal(r.consumed, 16 + 22);
  assert.equal(tlv[r.consumed], 0x5a);
  assert.deepEqual(r.source, { family: 4, address: '10.0.0.1', port: 8080 });
});

test('v2: encoder picks TCP4 for IPv4-mapped dual-stack addresses, TCP6 for mixed, UNSPEC when unknown', () => {
  const m = encodeProxyV2({ address: '::ffff:127.0.0.1', port: 5000 }, { address: '127.0.0.1', port: 80 });
  assert.equal(m[13], 0x11);
  assert.deepEqual(ok(parseProxyHeader(m)).source, { family: 4, address: '127.0.0.1', port: 5000 });
  const mixed = encodeProxyV2({ address: '2001:db8::1', port: 5000 }, { address: '10.0.0.1', port: 80 });
  assert.equal(mixed[13], 0x21);
  assert.equal(ok(parseProxyHeader(mixed)).dest?.address, '::ffff:10.0.0.1');
  const unk = encodeProxyV2(undefined, { address: '10.0.0.1', port: 80 });
  assert.deepEqual(unk, hex('0d0a0d0a000d0a515549540a 21 00 0000'));
  assert.equal(encodeProxyV1({ address: 'nonsense', port: 1 }, { address: '10.0.0.1', port: 2 }).toString(), 'PROXY UNKNOWN\r\n');
  assert.equal(
    encodeProxyV1({ address: '::ffff:10.0.0.9', port: 1 }, { address: '10.0.0.1', port: 2 }).toString(),
    'PROXY TCP4 10.0.0.9 10.0.0.1 1 2\r\n',
  );
});

test('v2: incremental feeding gives need-more until the whole declared length is there', () => {
  const b = Buffer.concat([encodeProxyV2({ address: '2001:db8::5', port: 1 }, { address: '::1', port: 2 }), Buffer.from('x')]);
  for (let n = 0; n < 52; n++) assert.equal(parseProxyHeader(b.subarray(0, n)).status, 'need-more', `at ${n}`);
  assert.equal(ok(parseProxyHeader(b)).consumed, 52);
});

test('v2: hostile headers are rejected', () => {
  const cases: [string, Buffer][] = [
    ['bad signature', hex('0d0a0d0a000d0a515549540b 21 11 000c 01020304 05060708 0001 0002')],
    ['version 1 in v2 block', hex('0d0a0d0a000d0a515549540a 11 11 000c 01020304 05060708 0001 0002')],
    ['version 3', hex('0d0a0d0a000d0a515549540a 31 11 000c 01020304 05060708 0001 0002')],
    ['command 2', hex('0d0a0d0a000d0a515549540a 22 11 000c 01020304 05060708 0001 0002')],
    ['family 4', hex('0d0a0d0a000d0a515549540a 21 41 000c 01020304 05060708 0001 0002')],
    ['protocol 3', hex('0d0a0d0a000d0a515549540a 21 13 000c 01020304 05060708 0001 0002')],
    ['TCP4 with short length', hex('0d0a0d0a000d0a515549540a 21 11 000b 01020304 05060708 0001 00')],
    ['TCP6 with length 12', hex('0d0a0d0a000d0a515549540a 21 21 000c 01020304 05060708 0001 0002')],
    ['oversize length', hex('0d0a0d0a000d0a515549540a 21 11 ffff')],
    ['partial signature mismatch', hex('0d0a0d0b')],
  ];
  for (const [name, b] of cases) assert.ok(isError(parseProxyHeader(b)), name);
  // The limit is configurable; a header just over it fails before its bytes arrive.
  const big = hex('0d0a0d0a000d0a515549540a 21 11 0100');
  assert.equal(parseProxyHeader(big).status, 'need-more');
  assert.ok(isError(parseProxyHeader(big, { maxV2Length: 200 })));
});

test('non-PROXY input is rejected on its first byte', () => {
  for (const s of ['G', 'GET / HTTP/1.1\r\n', '\x16\x03\x01', 'SSH-2.0-x\r\n']) {
    assert.ok(isError(parseProxyHeader(Buffer.from(s, 'latin1'))), JSON.stringify(s));
  }
  assert.equal(parseProxyHeader(Buffer.alloc(0)).status, 'need-more');
});

test('round trips: random IPv4/IPv6 endpoints through v1 and v2', () => {
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const v4 = (): string => [rnd(256), rnd(256), rnd(256), rnd(256)].join('.');
  const v6 = (): string => {
    // Runs of zero groups exercise the "::" compression.
    const g = Array.from({ length: 8 }, () => (rnd(3) === 0 ? 0 : rnd(65536)));
    return g.map((x) => x.toString(16)).join(':');
  };
  for (let i = 0; i < 2000; i++) {
    const six = i % 2 === 1;
    const src = { address: six ? v6() : v4(), port: rnd(65536) };
    const dst = { address: six ? v6() : v4(), port: rnd(65536) };
    for (const enc of [encodeProxyV1, encodeProxyV2]) {
      const r = ok(parseProxyHeader(enc(src, dst)));
      // Compare by re-encoding, since the text form is canonicalised.
      assert.deepEqual(enc(r.source, r.dest), enc(src, dst));
      assert.equal(r.source?.port, src.port);
      if (!six) assert.equal(r.source?.address, src.address);
    }
  }
});

test('fuzz: random and mutated bytes never throw and never claim more than the buffer', () => {
  let seed = 99;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const seeds = [
    encodeProxyV1({ address: '1.2.3.4', port: 5 }, { address: '6.7.8.9', port: 10 }),
    encodeProxyV1({ address: '2001:db8::1', port: 5 }, { address: '::1', port: 10 }),
    encodeProxyV2({ address: '1.2.3.4', port: 5 }, { address: '6.7.8.9', port: 10 }),
    encodeProxyV2({ address: '2001:db8::1', port: 5 }, { address: '::1', port: 10 }),
  ];
  for (let i = 0; i < 20000; i++) {
    let b: Buffer;
    if (i % 4 === 0) {
      b = Buffer.from(Array.from({ length: rnd(130) }, () => rnd(256)));
    } else {
      b = Buffer.from(seeds[rnd(seeds.length)]!);
      for (let k = rnd(4) + 1; k > 0; k--) b[rnd(b.length)] = rnd(256);
      b = b.subarray(0, rnd(b.length + 1));
    }
    const r = parseProxyHeader(b);
    if (r.status === 'ok') assert.ok(r.consumed <= b.length && r.consumed >= 15);
  }
});
