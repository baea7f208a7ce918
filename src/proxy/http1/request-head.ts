// Builds the request head halb sends to a server from what the client sent: hop-by-hop headers
// removed (RFC 9110 §7.6.1), X-Forwarded-* / Forwarded added, user rewrites applied, body framing
// decided. Pure: a string in, a string out; request-smuggling shapes node's parser lets through
// come back as a status to answer with instead of a head.
import { applyHeaderOps, type CompiledHeaderOp } from './header-ops.ts';

export interface ForwardingOptions {
  forwardfor: boolean;
  forwarded: boolean;
  requestOps: readonly CompiledHeaderOp[];
  /** Header names for the client certificate (TLS frontends with verify optional/required); the
   *  client's own headers of these names are dropped, so they cannot be forged. */
  clientCert?: { dn: string; verify: string } | undefined;
}

/** What the TLS handshake said about the client (client-certificate headers). */
export interface ClientCertFacts {
  clientDn: string | undefined;
  clientVerified: boolean;
}

export interface RequestHeadInput {
  method: string;
  url: string;
  rawHeaders: readonly string[];
  clientIp: string;
  /** "http" (TLS is terminated elsewhere). */
  proto: string;
  /** Keep Upgrade and send `Connection: Upgrade` (the tunnel path). */
  upgrade: boolean;
  /** The connection's TLS facts (proxy/tls/tls-facts.ts); undefined on plain connections. */
  tls?: ClientCertFacts | undefined;
}

export type BodyFraming = 'none' | 'length' | 'chunked';

export interface RequestHead {
  ok: true;
  /** Request line, headers and the blank line, latin1. */
  head: string;
  framing: BodyFraming;
  contentLength: number;
  /** Host header as the client sent it. */
  host: string | undefined;
}

export interface RequestHeadRejection {
  ok: false;
  status: 400 | 501;
  reason: string;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

export function buildRequestHead(input: RequestHeadInput, opts: ForwardingOptions): RequestHead | RequestHeadRejection {
  const raw = input.rawHeaders;
  let connectionTokens: Set<string> | undefined;
  let host: string | undefined;
  let hostCount = 0;
  let te: string | undefined;
  let cl: string | undefined;
  let upgradeValue: string | undefined;
  let xff: string | undefined;
  let fwd: string | undefined;

  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    switch (lower) {
      case 'host':
        hostCount++;
        host = value;
        break;
      case 'connection':
        for (const t of value.split(',')) {
          const tok = t.trim().toLowerCase();
          if (tok !== '' && tok !== 'close' && tok !== 'keep-alive' && tok !== 'upgrade') (connectionTokens ??= new Set()).add(tok);
        }
        break;
      case 'transfer-encoding':
        te = te === undefined ? value : `${te}, ${value}`;
        break;
      case 'content-length':
        if (cl !== undefined && cl !== value) return { ok: false, status: 400, reason: 'conflicting Content-Length' };
        cl = value;
        break;
      case 'upgrade':
        upgradeValue = value;
        break;
      case 'x-forwarded-for':
        if (opts.forwardfor) xff = xff === undefined ? value : `${xff}, ${value}`;
        break;
      case 'forwarded':
        if (opts.forwarded) fwd = fwd === undefined ? value : `${fwd}, ${value}`;
        break;
    }
  }

  if (hostCount > 1) return { ok: false, status: 400, reason: 'more than one Host header' };
  let framing: BodyFraming = 'none';
  let contentLength = 0;
  if (te !== undefined) {
    if (cl !== undefined) return { ok: false, status: 400, reason: 'both Content-Length and Transfer-Encoding' };
    if (te.trim().toLowerCase() !== 'chunked') return { ok: false, status: 501, reason: 'unsupported Transfer-Encoding' };
    framing = 'chunked';
  } else if (cl !== undefined) {
    if (!/^[0-9]{1,15}$/.test(cl)) return { ok: false, status: 400, reason: 'invalid Content-Length' };
    contentLength = Number(cl);
    if (contentLength > 0) framing = 'length';
  }

  const cc = opts.clientCert;
  const ccDn = cc?.dn.toLowerCase();
  const ccVerify = cc?.verify.toLowerCase();
  let out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower)) continue;
    if (connectionTokens !== undefined && connectionTokens.has(lower)) continue;
    if (lower === 'content-length') {
      if (framing !== 'length') continue;
    } else if (lower === 'expect') {
      // node's server already answered 100-continue; the server must not wait for it again
      continue;
    } else if (opts.forwardfor && (lower === 'x-forwarded-for' || lower === 'x-forwarded-proto' || lower === 'x-forwarded-host')) {
      continue;
    } else if (opts.forwarded && lower === 'forwarded') {
      continue;
    } else if (cc !== undefined && (lower === ccDn || lower === ccVerify)) {
      continue;
    }
    out.push(name, raw[i + 1]!);
  }
  if (framing === 'chunked') out.push('Transfer-Encoding', 'chunked');
  // HTTP/1.0 clients may omit Host; a 1.1 server needs one, and empty is allowed (RFC 9112 §3.2).
  if (host === undefined) out.push('Host', '');
  if (input.upgrade && upgradeValue !== undefined) out.push('Connection', 'Upgrade', 'Upgrade', upgradeValue);

  if (opts.requestOps.length > 0) out = applyHeaderOps(opts.requestOps, out);
  if (cc !== undefined) {
    // SUCCESS / NONE as nginx's $ssl_client_verify says it (a failed certificate never gets here)
    out.push(cc.verify, input.tls?.clientVerified === true ? 'SUCCESS' : 'NONE');
    if (input.tls?.clientDn !== undefined) out.push(cc.dn, input.tls.clientDn);
  }

  const ip = unmapIpv4(input.clientIp);
  if (opts.forwardfor) {
    out.push('X-Forwarded-For', xff === undefined ? ip : `${xff}, ${ip}`, 'X-Forwarded-Proto', input.proto);
    if (host !== undefined) out.push('X-Forwarded-Host', host);
  }
  if (opts.forwarded) {
    const el = forwardedElement(ip, input.proto, host);
    out.push('Forwarded', fwd === undefined ? el : `${fwd}, ${el}`);
  }

  let head = `${input.method} ${input.url} HTTP/1.1\r\n`;
  for (let i = 0; i < out.length; i += 2) {
    head += `${out[i]!}: ${out[i + 1]!}\r\n`;
  }
  head += '\r\n';
  return { ok: true, head, framing, contentLength, host };
}

/** "::ffff:10.0.0.1" -> "10.0.0.1": dual-stack sockets report IPv4 clients in mapped form. */
export function unmapIpv4(ip: string): string {
  return ip.startsWith('::ffff:') && ip.indexOf('.') > 0 ? ip.slice(7) : ip;
}

/** One RFC 7239 forwarded-element; IPv6 nodes and hosts with ':' are quoted strings. */
export function forwardedElement(ip: string, proto: string, host: string | undefined): string {
  const node = ip.includes(':') ? `"[${ip}]"` : ip === '' ? 'unknown' : ip;
  let el = `for=${node};proto=${proto}`;
  if (host !== undefined && host !== '') el += `;host=${isToken(host) ? host : `"${host.replace(/["\\]/g, '\\$&')}"`}`;
  return el;
}

function isToken(s: string): boolean {
  return /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(s);
}
