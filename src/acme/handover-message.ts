// The certificate hand-over between the nodes of a pair, one message (pure). A message carries
// a certificate with its private key, so it must be secret as well as authentic: it is sealed
// with AES-256-GCM under a key derived (HKDF-SHA256) from the shared peer key file. GCM's tag
// authenticates the header too (as additional data), so a changed byte anywhere is refused. The
// header's timestamp and per-boot sequence number refuse replays (docs/acme-handover.md).
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const MAGIC = Buffer.from('HACM');
const VERSION = 1;
const NONCE = 12;
const TAG = 16;
/** A message older (or newer) than this, by the receiver's clock, is refused as a replay. */
export const MAX_SKEW_MS = 60_000;
/** A frame larger than this is refused before it is read whole (chains are a few KiB). */
export const MAX_FRAME = 256 * 1024;

export interface HandoverHeader {
  /** Sender's node name. */
  node: string;
  /** Random per process start: sequence numbers restart with it. */
  boot: string;
  seq: number;
  /** Sender's clock, ms since the epoch. */
  ts: number;
  frontend: string;
}

export type HandoverKey = Buffer & { readonly __handoverKey?: never };

/** The sealing key, derived so the file's bytes are never used directly (nor shared with VRRP's). */
export function handoverKey(secret: Buffer): HandoverKey {
  return Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'halb acme handover v1', 32)) as HandoverKey;
}

/** MAGIC | version | header length (2) | header JSON | nonce | sealed length (4) | sealed | tag */
export function sealHandover(key: HandoverKey, header: HandoverHeader, pem: string, nonce: Buffer = randomBytes(NONCE)): Buffer {
  const head = Buffer.from(JSON.stringify(header));
  const pre = Buffer.alloc(7);
  MAGIC.copy(pre, 0);
  pre[4] = VERSION;
  pre.writeUInt16BE(head.length, 5);
  const aad = Buffer.concat([pre, head]);
  const c = createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(aad);
  const sealed = Buffer.concat([c.update(pem, 'utf8'), c.final()]);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(sealed.length);
  return Buffer.concat([aad, nonce, len, sealed, c.getAuthTag()]);
}

/** Bytes a frame starting at buf[0] needs in all, or undefined while its length is not known yet. */
export function frameLength(buf: Buffer): number | undefined {
  if (buf.length < 7) return undefined;
  const headLen = buf.readUInt16BE(5);
  const at = 7 + headLen + NONCE;
  if (buf.length < at + 4) return undefined;
  return at + 4 + buf.readUInt32BE(at) + TAG;
}

export type OpenResult = { ok: true; header: HandoverHeader; pem: string } | { ok: false; reason: 'malformed' | 'bad-tag' | 'stale' | 'replay'; detail: string };

/** What a receiver remembers of each sender, to refuse replays. */
export class ReplayGuard {
  private readonly last = new Map<string, { boot: string; seq: number; ts: number }>();

  /** Checks and, when fresh, records the header. */
  admit(h: HandoverHeader, now: number): { ok: true } | { ok: false; reason: 'stale' | 'replay'; detail: string } {
    if (Math.abs(now - h.ts) > MAX_SKEW_MS) return { ok: false, reason: 'stale', detail: `timestamp ${new Date(h.ts).toISOString()} is more than ${MAX_SKEW_MS / 1000}s from this node's clock` };
    const prev = this.last.get(h.node);
    if (prev !== undefined) {
      if (prev.boot === h.boot && h.seq <= prev.seq) return { ok: false, reason: 'replay', detail: `sequence ${h.seq} of ${h.node} already seen (last ${prev.seq})` };
      if (prev.boot !== h.boot && h.ts <= prev.ts) return { ok: false, reason: 'replay', detail: `an earlier start of ${h.node} (its messages are older than ones already seen)` };
    }
    this.last.set(h.node, { boot: h.boot, seq: h.seq, ts: h.ts });
    return { ok: true };
  }
}

/** Authenticate and unseal one whole frame; `guard` is consulted only for authentic ones. */
export function openHandover(key: HandoverKey, frame: Buffer, guard: ReplayGuard, now: number): OpenResult {
  if (frame.length < 7 || !frame.subarray(0, 4).equals(MAGIC)) return { ok: false, reason: 'malformed', detail: 'not a halb hand-over message (magic)' };
  if (frame[4] !== VERSION) return { ok: false, reason: 'malformed', detail: `version ${frame[4]}, this node speaks ${VERSION}` };
  const total = frameLength(frame);
  if (total === undefined || total !== frame.length) return { ok: false, reason: 'malformed', detail: 'length fields do not match the frame' };
  const headLen = frame.readUInt16BE(5);
  const aad = frame.subarray(0, 7 + headLen);
  const nonce = frame.subarray(7 + headLen, 7 + headLen + NONCE);
  const sealedAt = 7 + headLen + NONCE + 4;
  const sealed = frame.subarray(sealedAt, frame.length - TAG);
  const tag = frame.subarray(frame.length - TAG);
  let pem: string;
  try {
    const d = createDecipheriv('aes-256-gcm', key, nonce);
    d.setAAD(aad);
    d.setAuthTag(tag);
    pem = Buffer.concat([d.update(sealed), d.final()]).toString('utf8');
  } catch {
    return { ok: false, reason: 'bad-tag', detail: 'authentication failed: changed in transit, or sealed under another key' };
  }
  let header: HandoverHeader;
  try {
    header = JSON.parse(aad.subarray(7).toString('utf8')) as HandoverHeader;
  } catch {
    return { ok: false, reason: 'malformed', detail: 'header is not JSON' };
  }
  if (typeof header.node !== 'string' || typeof header.boot !== 'string' || !Number.isSafeInteger(header.seq) || !Number.isFinite(header.ts) || typeof header.frontend !== 'string') {
    return { ok: false, reason: 'malformed', detail: 'header fields missing or of the wrong type' };
  }
  const fresh = guard.admit(header, now);
  if (!fresh.ok) return fresh;
  return { ok: true, header, pem };
}
