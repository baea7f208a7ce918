// Turns an accepted TCP connection into a TLS one: wait for the ClientHello, read its server name
// (client-hello.ts), and start the TLS socket with the secure context that name selects, so every
// certificate of the selection (ECDSA and RSA side by side) is in the handshake. The connection is
// given up when the handshake has not finished within timeoutMs.
import type { Socket } from 'node:net';
import tls from 'node:tls';
import { clientHelloAlpn, clientHelloName } from './client-hello.ts';
import { clientVerdict, type VerifyMode } from './client-certificate.ts';
import { recordNativeTlsFacts, recordTlsFacts } from './tls-facts.ts';
import { ACME_TLS_ALPN } from './acme-tls-challenge.ts';
import type { TlsContextHandle } from '#netio';
import { NativeSocket } from '../native/native-socket.ts';
import { moveClientAddress } from '../client-address.ts';

export interface TlsAcceptOptions {
  /** Read at each ClientHello: a reload swaps what it returns, open connections keep theirs. */
  context(servername: string | undefined, ticketKeyName: string | undefined): tls.SecureContext;
  alpn: string[];
  /** Client certificates: requested unless none, checked against the context's CA. */
  verify: VerifyMode;
  timeoutMs: number;
  /** Holds what the sockets share (session ticket keys). */
  server: tls.Server;
  secure(socket: tls.TLSSocket): void;
  /** An ACME TLS-ALPN-01 validation (ALPN acme-tls/1): the challenge context for the name, or
   *  undefined (then the handshake is refused: the client offered nothing else). */
  acmeTls?(servername: string | undefined): tls.SecureContext | undefined;
  /** A validation handshake was answered. */
  acmeTlsAnswered?(servername: string | undefined): void;
  failed(err: Error, socket: Socket): void;
  /** The C layer's TLS (tls.c) for a connection that needs nothing only node's TLS has (no
   *  client certificates, no h2, no ACME validation): its context for the name, or undefined. */
  nativeContext?(servername: string | undefined, ticketKeyName: string | undefined): TlsContextHandle | undefined;
  /** A connection whose handshake the C layer did. */
  secureNative?(socket: NativeSocket): void;
}

export function acceptTls(raw: Socket, o: TlsAcceptOptions): void {
  let buf: Buffer | undefined;
  const timer = setTimeout(() => raw.destroy(), o.timeoutMs);
  raw.once('close', () => clearTimeout(timer));
  const onError = (err: Error): void => {
    o.failed(err, raw);
    raw.destroy();
  };
  raw.on('error', onError);
  const onData = (d: Buffer): void => {
    buf = buf === undefined ? d : Buffer.concat([buf, d]);
    const r = clientHelloName(buf);
    if (!r.done) return;
    raw.off('data', onData);
    raw.pause();
    const offered = clientHelloAlpn(buf);
    if (o.nativeContext !== undefined && o.verify === 'none' && !offered.includes(ACME_TLS_ALPN) && !(offered.includes('h2') && o.alpn.includes('h2'))) {
      if (acceptNative(raw, buf, r.servername, r.ticketKeyName, o, timer, onError)) return;
    }
    raw.unshift(buf);
    if (o.acmeTls !== undefined && offered.includes(ACME_TLS_ALPN)) {
      acmeValidation(raw, r.servername, o, timer);
      return;
    }
    let ctx: tls.SecureContext;
    try {
      ctx = o.context(r.servername, r.ticketKeyName);
    } catch (err) {
      onError(err as Error);
      return;
    }
    // the TLS socket reads the unshifted ClientHello from raw's buffer, then takes its handle
    // rejectUnauthorized with required makes OpenSSL end a handshake without a certificate with
    // an alert; a certificate that does not verify is judged once the handshake is done (node's
    // verify callback lets every handshake finish and leaves the verdict to JS, as here)
    const s = new tls.TLSSocket(raw, {
      isServer: true,
      server: o.server,
      secureContext: ctx,
      ALPNProtocols: o.alpn,
      requestCert: o.verify !== 'none',
      rejectUnauthorized: o.verify === 'required',
    });
    s.once('close', () => clearTimeout(timer));
    s.once('secure', () => {
      clearTimeout(timer);
      s.off('error', onTlsError);
      const verdict = clientVerdict(o.verify, o.verify === 'none' ? { verifyError: undefined, hasCertificate: false } : peerFacts(s));
      if (!verdict.ok) {
        o.failed(new Error(verdict.reason), raw);
        s.destroy();
        return;
      }
      recordTlsFacts(s, r.servername, verdict.verified);
      // what node's tls.Server does before 'secureConnection' (onServerSocketSecure): a socket
      // still marked connecting is waited on by http2, which would never start its session
      (s as tls.TLSSocket & { secureConnecting: boolean }).secureConnecting = false;
      o.secure(s);
    });
    const onTlsError = (err: Error): void => {
      o.failed(err, raw);
      s.destroy();
    };
    s.on('error', onTlsError);
  };
  raw.on('data', onData);
  // a socket that read a PROXY header first was paused with the ClientHello in its buffer
  raw.resume();
}

/** The handshake in the C layer; false when it cannot take the socket (node's TLS goes on). */
function acceptNative(raw: Socket, hello: Buffer, servername: string | undefined, ticket: string | undefined, o: TlsAcceptOptions, timer: NodeJS.Timeout, onError: (err: Error) => void): boolean {
  let ctx: TlsContextHandle | undefined;
  try {
    ctx = o.nativeContext?.(servername, ticket);
  } catch (err) {
    onError(err as Error);
    return true;
  }
  if (ctx === undefined) return false;
  const s = NativeSocket.adoptTls(raw, ctx, hello, { allowHalfOpen: true, highWater: 64 * 1024 });
  if (s === undefined) return false;
  // raw's close cleared the handshake timer: this one bounds the handshake in C
  clearTimeout(timer);
  const deadline = setTimeout(() => s.destroy(), o.timeoutMs);
  s.once('close', () => clearTimeout(deadline));
  // the PROXY header's client address was set on the raw socket
  moveClientAddress(raw, s);
  const onFail = (err: Error): void => o.failed(err, raw);
  s.on('error', onFail);
  s.once('secure', () => {
    clearTimeout(deadline);
    s.off('error', onFail);
    recordNativeTlsFacts(s, servername);
    o.secureNative?.(s);
  });
  return true;
}

/** What OpenSSL concluded about the client's certificate. node's own server reads the same two
 *  calls on its handle (onServerSocketSecure); a TLSSocket made by hand gets no such check. */
function peerFacts(s: tls.TLSSocket): { verifyError: string | undefined; hasCertificate: boolean } {
  const h = (s as tls.TLSSocket & { _handle?: { verifyError(): (Error & { code?: string }) | null; hasPeerCertificate(): boolean } | null })._handle;
  if (h == null) return { verifyError: 'connection closed', hasCertificate: false };
  const e = h.verifyError();
  return { verifyError: e === null ? undefined : (e.code ?? e.message), hasCertificate: h.hasPeerCertificate() };
}

/** RFC 8737 §3: answer with the challenge certificate, negotiate acme-tls/1, then close. */
function acmeValidation(raw: Socket, servername: string | undefined, o: TlsAcceptOptions, timer: NodeJS.Timeout): void {
  const ctx = o.acmeTls?.(servername);
  if (ctx === undefined) {
    raw.destroy();
    return;
  }
  const s = new tls.TLSSocket(raw, { isServer: true, server: o.server, secureContext: ctx, ALPNProtocols: [ACME_TLS_ALPN] });
  s.once('close', () => clearTimeout(timer));
  s.on('error', () => s.destroy());
  s.once('secure', () => {
    clearTimeout(timer);
    o.acmeTlsAnswered?.(servername);
    s.end();
  });
}
