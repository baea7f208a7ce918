// Turns an accepted TCP connection into a TLS one: wait for the ClientHello, read its server name
// (client-hello.ts), and start the TLS socket with the secure context that name selects, so every
// certificate of the selection (ECDSA and RSA side by side) is in the handshake. The connection is
// given up when the handshake has not finished within timeoutMs.
import type { Socket } from 'node:net';
import tls from 'node:tls';
import { clientHelloAlpn, clientHelloName } from './client-hello.ts';
import { ACME_TLS_ALPN } from './acme-tls-challenge.ts';

export interface TlsAcceptOptions {
  /** Read at each ClientHello: a reload swaps what it returns, open connections keep theirs. */
  context(servername: string | undefined): tls.SecureContext;
  alpn: string[];
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
    raw.unshift(buf);
    if (o.acmeTls !== undefined && clientHelloAlpn(buf).includes(ACME_TLS_ALPN)) {
      acmeValidation(raw, r.servername, o, timer);
      return;
    }
    let ctx: tls.SecureContext;
    try {
      ctx = o.context(r.servername);
    } catch (err) {
      onError(err as Error);
      return;
    }
    // the TLS socket reads the unshifted ClientHello from raw's buffer, then takes its handle
    const s = new tls.TLSSocket(raw, { isServer: true, server: o.server, secureContext: ctx, ALPNProtocols: o.alpn });
    s.once('close', () => clearTimeout(timer));
    s.once('secure', () => {
      clearTimeout(timer);
      s.off('error', onTlsError);
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
