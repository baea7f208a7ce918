// The hand-written Health/Check codec against protobufjs (what @grpc/proto-loader builds on)
// reading the published health.proto: what one encodes the other decodes, both ways.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { decodeHealthCheckResponse, encodeHealthCheckRequest, grpcCodeName } from '../../../src/health/grpc-health-codec.ts';

const root = protobuf.loadSync(fileURLToPath(new URL('../../fixtures/grpc/health.proto', import.meta.url)));
const Request = root.lookupType('grpc.health.v1.HealthCheckRequest');
const Response = root.lookupType('grpc.health.v1.HealthCheckResponse');

function framed(msg: Uint8Array, flag = 0): Buffer {
  const out = Buffer.alloc(5 + msg.length);
  out[0] = flag;
  out.writeUInt32BE(msg.length, 1);
  Buffer.from(msg).copy(out, 5);
  return out;
}

test('the request decodes with protobufjs to the same service name, empty and long (a multi-byte length)', () => {
  for (const service of ['', 'halb.test.Echo', 'x'.repeat(300), 'ünïcode']) {
    const b = encodeHealthCheckRequest(service);
    assert.equal(b[0], 0, 'not compressed');
    assert.equal(b.readUInt32BE(1), b.length - 5);
    assert.deepEqual(Request.toObject(Request.decode(b.subarray(5)), { defaults: true }), { service });
  }
  assert.deepEqual([...encodeHealthCheckRequest('')], [0, 0, 0, 0, 0], 'proto3 omits the empty string');
});

test('every serving status protobufjs encodes decodes by name; a status absent on the wire is UNKNOWN', () => {
  const names = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];
  for (let status = 0; status < 4; status++) {
    const r = decodeHealthCheckResponse(framed(Response.encode(Response.create({ status })).finish()));
    assert.deepEqual(r, { ok: true, status, name: names[status] });
  }
  assert.deepEqual(decodeHealthCheckResponse(framed(new Uint8Array())), { ok: true, status: 0, name: 'UNKNOWN' });
  assert.deepEqual(decodeHealthCheckResponse(framed(Uint8Array.from([0x08, 0x07]))), { ok: true, status: 7, name: 'status 7' });
});

test('unknown fields of every wire type are skipped around the status', () => {
  // field 2 varint 300, field 3 bytes "ab", field 1 = SERVING, field 4 fixed64, field 5 fixed32
  const msg = Uint8Array.from([0x10, 0xac, 0x02, 0x1a, 0x02, 0x61, 0x62, 0x08, 0x01, 0x21, 1, 2, 3, 4, 5, 6, 7, 8, 0x2d, 1, 2, 3, 4]);
  assert.deepEqual(decodeHealthCheckResponse(framed(msg)), { ok: true, status: 1, name: 'SERVING' });
});

test('bad bodies give a reason, never a throw', () => {
  const cases: [Buffer, RegExp][] = [
    [Buffer.alloc(0), /shorter than a gRPC message prefix/],
    [Buffer.from([0, 0, 0]), /shorter/],
    [framed(Uint8Array.from([0x08, 0x01]), 1), /compressed/],
    [Buffer.concat([framed(Uint8Array.from([0x08, 0x01])), Buffer.from([0])]), /after the prefix, which says 2/],
    [framed(Uint8Array.from([0x08])), /truncated varint/],
    [framed(Uint8Array.from([0x08, 0x81])), /truncated varint/],
    [framed(Uint8Array.from([0x1a, 0x05, 0x61])), /truncated length-delimited/],
    [framed(Uint8Array.from([0x21, 1, 2])), /truncated fixed/],
    [framed(Uint8Array.from([0x0b])), /wire type 3/],
    [framed(Uint8Array.from([0x0a, 0x00])), /status field is not a varint/],
  ];
  for (const [body, reason] of cases) {
    const r = decodeHealthCheckResponse(body);
    assert.equal(r.ok, false, body.toString('hex'));
    if (!r.ok) assert.match(r.reason, reason, body.toString('hex'));
  }
});

test('gRPC codes are named for reasons', () => {
  assert.equal(grpcCodeName(0), 'OK');
  assert.equal(grpcCodeName(12), 'UNIMPLEMENTED');
  assert.equal(grpcCodeName(14), 'UNAVAILABLE');
  assert.equal(grpcCodeName(99), '99');
});
