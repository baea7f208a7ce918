// What a TLS ClientHello asks for, read before the handshake starts (pure): the server name, the
// ticket key its session ticket names, and the protocols it offers in ALPN. halb picks the
// certificates from the name and gives the whole secure context to the TLS socket up front:
// node's SNICallback can switch contexts, but copies only one certificate of the new one across,
// which would lose an ECDSA certificate served beside an RSA one for the same name. A context
// holds one ticket key, so the key name picks the context that can open the ticket (the current
// key's, or the previous one's after a rotation). ALPN tells an ACME TLS-ALPN-01 validation
// (acme-tls/1) from a client.

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
  const b = clientHelloBody(buf);
  if (!b.done) return NEED_MORE;
  if (b.body === undefined) return NO_NAME;
  const sni = extension(b.body, 0);
  const name = sni === undefined ? undefined : hostName(sni);
  if (name === null) return NO_NAME;
  const out: ClientHelloName = { done: true, servername: name };
  const ticket = offeredTicket(b.body);
  if (ticket !== undefined && ticket.length >= TICKET_KEY_NAME_BYTES) out.ticketKeyName = ticket.toString('hex', 0, TICKET_KEY_NAME_BYTES);
  return out;
}

/** The protocols the ClientHello offers in ALPN (RFC 7301); [] when none or not a ClientHello. */
export function clientHelloAlpn(buf: Buffer): string[] {
  const b = clientHelloBody(buf);
  if (!b.done || b.body === undefined) return [];
  const ext = extension(b.body, 16);
  if (ext === undefined || ext.length < 2) return [];
  const out: string[] = [];
  const end = Math.min(ext.length, 2 + ext.readUInt16BE(0));
  for (let q = 2; q < end; ) {
    const len = ext[q] as number;
    if (q + 1 + len > end) break;
    out.push(ext.toString('latin1', q + 1, q + 1 + len));
    q += 1 + len;
  }
  return out;
}

const MORE = { done: false } as const;
const NONE = { done: true, body: undefined } as const;

/** The ClientHello body (after the 4-byte handshake header), joined across records; body
 *  undefined: not a ClientHello, or too large to wait for. */
function clientHelloBody(buf: Buffer): { done: false } | { done: true; body: Buffer | undefined } {
  // the handshake message can span records: join their payloads until it is whole
  const parts: Buffer[] = [];
  let have = 0;
  let need = -1;
  let off = 0;
  for (;;) {
    if (buf.length < off + 5) return buf.length >= MAX_CLIENT_HELLO ? NONE : MORE;
    if (buf[off] !== 0x16 || buf[off + 1] !== 0x03) return NONE; // not a TLS handshake record
    const len = buf.readUInt16BE(off + 3);
    if (buf.length < off + 5 + len) return buf.length >= MAX_CLIENT_HELLO ? NONE : MORE;
    parts.push(buf.subarray(off + 5, off + 5 + len));
    have += len;
    off += 5 + len;
    if (need < 0 && have >= 4) {
      const hs = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
      if (hs[0] !== 0x01) return NONE; // not a ClientHello
      need = 4 + hs.readUIntBE(1, 3);
    }
    if (need >= 0 && have >= need) return { done: true, body: Buffer.concat(parts).subarray(4, need) };
    if (len === 0 || off >= MAX_CLIENT_HELLO) return NONE;
  }
}

/** The body of extension `want` of a ClientHello body, or undefined. */
function extension(body: Buffer, want: number): Buffer | undefined {
  let p = 2 + 32; // client_version, random
  if (body.length < p + 1) return undefined;
  p += 1 + (body[p] as number); // session_id
  if (body.length < p + 2) return undefined;
  p += 2 + body.readUInt16BE(p); // cipher_suites
  if (body.length < p + 1) return undefined;
  p += 1 + (body[p] as number); // compression_methods
  if (body.length < p + 2) return undefined;
  const end = Math.min(body.length, p + 2 + body.readUInt16BE(p));
  p += 2;
  while (p + 4 <= end) {
    const type = body.readUInt16BE(p);
    const len = body.readUInt16BE(p + 2);
    p += 4;
    if (p + len > end) return undefined;
    if (type === want) return body.subarray(p, p + len);
    p += len;
  }
  return undefined;
}

/** The session ticket offered: session_ticket (RFC 5077) in TLS 1.2, else the first
 *  pre_shared_key identity (RFC 8446 §4.2.11) in TLS 1.3. */
function offeredTicket(body: Buffer): Buffer | undefined {
  const t12 = extension(body, 35);
  if (t12 !== undefined && t12.length > 0) return t12;
  const psk = extension(body, 41);
  if (psk === undefined || psk.length < 4) return undefined;
  // identities<7..2^16-1>: the first identity<1..2^16-1>, then its obfuscated age
  const idLen = psk.readUInt16BE(2);
  return 4 + idLen <= psk.length ? psk.subarray(4, 4 + idLen) : undefined;
}

/** The host_name of a server_name extension (RFC 6066 §3): entries of name_type(1) length(2)
 *  name. undefined: none usable; null: malformed. */
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
