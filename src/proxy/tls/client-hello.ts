// The server name a TLS ClientHello asks for, read before the handshake starts (pure). halb picks
// the certificates from it and gives the whole secure context to the TLS socket up front: node's
// SNICallback can switch contexts, but copies only one certificate of the new one across, which
// would lose an ECDSA certificate served beside an RSA one for the same name.

export type ClientHelloName =
  /** Not enough bytes yet. */
  | { done: false }
  /** servername undefined: no SNI, or not a ClientHello (the TLS socket then refuses it). */
  | { done: true; servername: string | undefined };

/** A ClientHello larger than this (records are at most 16 KiB, and real ones fit in one) is
 *  served the default certificate rather than buffered further. */
export const MAX_CLIENT_HELLO = 16 * 1024 + 5;

const NEED_MORE: ClientHelloName = { done: false };
const NO_NAME: ClientHelloName = { done: true, servername: undefined };

export function clientHelloName(buf: Buffer): ClientHelloName {
  // the handshake message can span records: join their payloads until it is whole
  const parts: Buffer[] = [];
  let have = 0;
  let need = -1;
  let off = 0;
  for (;;) {
    if (buf.length < off + 5) return buf.length >= MAX_CLIENT_HELLO ? NO_NAME : NEED_MORE;
    if (buf[off] !== 0x16 || buf[off + 1] !== 0x03) return NO_NAME; // not a TLS handshake record
    const len = buf.readUInt16BE(off + 3);
    if (buf.length < off + 5 + len) return buf.length >= MAX_CLIENT_HELLO ? NO_NAME : NEED_MORE;
    parts.push(buf.subarray(off + 5, off + 5 + len));
    have += len;
    off += 5 + len;
    if (need < 0 && have >= 4) {
      const hs = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
      if (hs[0] !== 0x01) return NO_NAME; // not a ClientHello
      need = 4 + hs.readUIntBE(1, 3);
    }
    if (need >= 0 && have >= need) return serverName(Buffer.concat(parts).subarray(4, need));
    if (len === 0 || off >= MAX_CLIENT_HELLO) return NO_NAME;
  }
}

/** The host_name entry of the server_name extension (RFC 6066 §3) of a ClientHello body. */
function serverName(body: Buffer): ClientHelloName {
  let p = 2 + 32; // client_version, random
  if (body.length < p + 1) return NO_NAME;
  p += 1 + (body[p] as number); // session_id
  if (body.length < p + 2) return NO_NAME;
  p += 2 + body.readUInt16BE(p); // cipher_suites
  if (body.length < p + 1) return NO_NAME;
  p += 1 + (body[p] as number); // compression_methods
  if (body.length < p + 2) return NO_NAME;
  const end = Math.min(body.length, p + 2 + body.readUInt16BE(p));
  p += 2;
  while (p + 4 <= end) {
    const type = body.readUInt16BE(p);
    const len = body.readUInt16BE(p + 2);
    p += 4;
    if (p + len > end) return NO_NAME;
    if (type === 0) {
      // server_name_list: entries of name_type(1) length(2) name
      let q = p + 2;
      const listEnd = Math.min(p + len, p + 2 + (len >= 2 ? body.readUInt16BE(p) : 0));
      while (q + 3 <= listEnd) {
        const nameType = body[q] as number;
        const nameLen = body.readUInt16BE(q + 1);
        q += 3;
        if (q + nameLen > listEnd) return NO_NAME;
        if (nameType === 0) {
          const name = body.toString('latin1', q, q + nameLen);
          // a host name is ASCII letters, digits, '-', '.', (and '_' seen in the wild)
          return { done: true, servername: /^[A-Za-z0-9._-]+$/.test(name) ? name : undefined };
        }
        q += nameLen;
      }
      return NO_NAME;
    }
    p += len;
  }
  return NO_NAME;
}
