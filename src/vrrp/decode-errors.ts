// Why a received packet was rejected. Decoders return these instead of throwing: packets come
// from the network, so a malformed one is an expected input, counted and logged, never a crash.

export type DecodeReason =
  // VRRP message (RFC 5798 §5, RFC 3768 §5)
  | 'too-short'
  | 'bad-version'
  | 'bad-type'
  | 'bad-vrid'
  | 'bad-length'
  | 'address-count-mismatch'
  | 'bad-checksum'
  | 'zero-interval'
  | 'bad-auth-type'
  | 'bad-ttl'
  | 'bad-address'
  // Authentication against the local configuration (RFC 3768 §5.3.6, keepalived's PASS)
  | 'auth-mismatch'
  | 'bad-password'
  // IPv4 header as a raw socket delivers it
  | 'bad-ip-version'
  | 'bad-ihl'
  | 'bad-ip-length'
  | 'bad-ip-checksum'
  | 'bad-protocol'
  | 'fragmented';

export interface DecodeFailure {
  ok: false;
  reason: DecodeReason;
  /** The header field at fault, e.g. "version", "checksum", "ip.ttl". */
  field: string;
  /** Human-readable specifics (got/expected), for logs. */
  detail: string;
}

export function decodeFailure(reason: DecodeReason, field: string, detail: string): DecodeFailure {
  return { ok: false, reason, field, detail };
}
