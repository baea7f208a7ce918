// The server name a TLS ClientHello asks for, and the ticket key its session ticket names, read
// before the handshake starts (pure). halb picks the certificates from it and gives the whole
// secure context to the TLS socket up front: node's SNICallback can switch contexts, but copies
// only one certificate of the new one across, which would lose an ECDSA certificate served beside
// an RSA one for the same name. A context holds one ticket key, so the key name picks the context
// that can open the ticket (the current key's, or the previous one's after a rotation).

export type ClientHelloName =
  /** Not enough bytes yet. */
  | { done: false }
  /** servername undefined: no SNI, or not a ClientHello (the TLS socket then refuses it).
   *  ticketKeyName (hex): the client offers a session ticket made with the key of that name. */
  | { done: true; servername: string | undefined; ticketKeyName?: string };

/** node's (and OpenSSL's) tickets start with the 16-byte name of the key that sealed them. */
export const TICKET_KEY_NAME_BYTES = 16;

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
    if (need >= 0 && have >= need) return helloFacts(Buffer.concat(parts).subarray(4, need));
    if (len === 0 || off >= MAX_CLIENT_HELLO) return NO_NAME;
  }
}

/** The host_name entry of the server_name extension (RFC 6066 §3) of a ClientHello body, and the
 *  key name a session ticket it offers starts with (session_ticket, RFC 5077, in TLS 1.2; the
 *  first pre_shared_key identity, RFC 8446 §4.2.11, in TLS 1.3). */
function helloFacts(body: Buffer): ClientHelloName {
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
  let servername: string | undefined;
  let ticket: Buffer | undefined;
  while (p + 4 <= end) {
    const type = body.readUInt16BE(p);
    const len = body.readUInt16BE(p + 2);
    p += 4;
    if (p + len > end) return NO_NAME;
    if (type === 0) {
      const name = hostName(body.subarray(p, p + len));
      if (name === null) return NO_NAME;
      servername = name;
    } else if (type === 35 && len > 0) {
      ticket = body.subarray(p, p + len);
    } else if (type === 41 && len >= 4) {
      // identities<7..2^16-1>: the first identity<1..2^16-1>, then its obfuscated age
      const idLen = body.readUInt16BE(p + 2);
      if (4 + idLen <= len) ticket = body.subarray(p + 4, p + 4 + idLen);
    }
    p += len;
  }
  const out: ClientHelloName = { done: true, servername };
  if (ticket !== undefined && ticket.length >= TICKET_KEY_NAME_BYTES) out.ticketKeyName = ticket.toString('hex', 0, TICKET_KEY_NAME_BYTES);
  return out;
}

/** server_name_list: entries of name_type(1) length(2) name. null: malformed. */
function hostName(ext: Buffer): string | undefined | null {
  const len = ext.length;
  let q = 2;
  const listEnd = Math.min(len, 2 + (len >= 2 ? ext.readUInt16BE(0) : 0));
  while (q + 3 <= listEnd) {
    const nameType = ext[q] as number;
    const nameLen = ext.readUInt16BE(q + 1);
    q += 3;
    if (q + nameLen > listEnd) return null;
    if (nameType === 0) {
      const name = ext.toString('latin1', q, q + nameLen);
      // a host name is ASCII letters, digits, '-', '.', (and '_' seen in the wild)
      return /^[A-Za-z0-9._-]+$/.test(name) ? name : undefined;
    }
    q += nameLen;
  }
  return undefined;
}
