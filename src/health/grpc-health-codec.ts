// The two messages of grpc.health.v1.Health/Check, by hand, and gRPC's length-prefixed framing
// around them. Both messages are one field each (HealthCheckRequest { string service = 1 },
// HealthCheckResponse { ServingStatus status = 1 }), so a protobuf library would be all weight
// for a few bytes. Pure: bytes in, a result out; bad bytes give a reason, never a throw.
//
// gRPC over HTTP/2 frames every message as: 1 byte compressed flag, 4 bytes big-endian length,
// then the message (grpc/grpc doc/PROTOCOL-HTTP2.md, "Length-Prefixed-Message").

export const HEALTH_CHECK_PATH = '/grpc.health.v1.Health/Check';

/** grpc.health.v1.HealthCheckResponse.ServingStatus */
export const SERVING_STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'] as const;

/** gRPC status codes by number, for reasons operators read. */
const GRPC_CODES = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS',
  'UNAUTHENTICATED',
];

export function grpcCodeName(code: number): string {
  return GRPC_CODES[code] ?? String(code);
}

/** The request, framed: HealthCheckRequest { service } with the 5-byte prefix. */
export function encodeHealthCheckRequest(service: string): Buffer {
  const name = Buffer.from(service, 'utf8');
  // proto3 leaves a default (empty) string out
  const field = name.length === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0x0a]), varint(name.length), name]);
  const out = Buffer.alloc(5 + field.length);
  out[0] = 0;
  out.writeUInt32BE(field.length, 1);
  field.copy(out, 5);
  return out;
}

function varint(n: number): Buffer {
  const bytes: number[] = [];
  while (n > 0x7f) {
    bytes.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  bytes.push(n);
  return Buffer.from(bytes);
}

export type DecodeResult = { ok: true; status: number; name: string } | { ok: false; reason: string };

/**
 * The response body (all DATA of the stream): exactly one uncompressed framed message, whose
 * field 1 is the serving status. Other fields are skipped, as protobuf requires; a missing
 * status is UNKNOWN (proto3 default).
 */
export function decodeHealthCheckResponse(body: Buffer): DecodeResult {
  if (body.length < 5) return { ok: false, reason: `response of ${body.length} bytes, shorter than a gRPC message prefix` };
  if (body[0] !== 0) return { ok: false, reason: 'compressed response (none was offered)' };
  const len = body.readUInt32BE(1);
  if (body.length !== 5 + len) return { ok: false, reason: `response of ${body.length - 5} bytes after the prefix, which says ${len}` };
  const msg = body.subarray(5);
  let status = 0;
  let at = 0;
  while (at < msg.length) {
    const key = readVarint(msg, at);
    if (key === undefined) return { ok: false, reason: 'truncated field key' };
    at = key.next;
    const field = Math.floor(key.value / 8);
    const wire = key.value & 7;
    if (wire === 0) {
      const v = readVarint(msg, at);
      if (v === undefined) return { ok: false, reason: 'truncated varint' };
      at = v.next;
      if (field === 1) status = v.value;
    } else if (wire === 2) {
      const l = readVarint(msg, at);
      if (l === undefined || l.next + l.value > msg.length) return { ok: false, reason: 'truncated length-delimited field' };
      at = l.next + l.value;
    } else if (wire === 1 || wire === 5) {
      at += wire === 1 ? 8 : 4;
      if (at > msg.length) return { ok: false, reason: 'truncated fixed field' };
    } else return { ok: false, reason: `wire type ${wire} is not protobuf's` };
    if (field === 1 && wire !== 0) return { ok: false, reason: 'status field is not a varint' };
  }
  return { ok: true, status, name: SERVING_STATUS[status] ?? `status ${status}` };
}

/** A varint of at most 5 bytes (32 bits: every field here fits). */
function readVarint(b: Buffer, at: number): { value: number; next: number } | undefined {
  let value = 0;
  for (let i = 0; i < 10 && at + i < b.length; i++) {
    const byte = b[at + i]!;
    if (i < 5) value += (byte & 0x7f) * 2 ** (7 * i);
    if ((byte & 0x80) === 0) return { value, next: at + i + 1 };
  }
  return undefined;
}
