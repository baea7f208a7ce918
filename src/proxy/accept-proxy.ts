// `accept_proxy` binds: read the PROXY header (v1 or v2) a trusted front proxy puts ahead of the
// client's bytes, within a bounded time, and hand back the real client address. Used by the TCP
// frontend and, for accept_proxy binds, by the HTTP frontend.
//
// Usage (HTTP or TCP):
//   const hdr = await readProxyHeader(socket, 3000, { log });
//   if (!hdr.ok) return;                 // socket already destroyed and the reason logged
//   hdr.client                           // { address, port } of the real client
//   // The socket is left paused with the bytes after the header unshifted back into it, so the
//   // next reader sees the client's payload from its first byte. pipe() resumes by itself; for
//   // http.Server do `httpServer.emit('connection', socket); socket.resume();` (Node's HTTP parser
//   // consumes the handle directly and does not resume a paused socket: without resume() the
//   // request hangs; checked on Node 24, also for requests split across later packets).
//
// The spec (haproxy doc/proxy-protocol.txt, section 2) requires the header whenever the bind is
// configured for it, never guessing; the receiver must not process the connection before the
// whole header arrives and may abort when it is not seen within a few seconds (at least 3 s).

import type { Socket } from 'node:net';
import type { Logger } from '../log/logger.ts';
import { parseProxyHeader, type ParsedEndpoint } from './tcp/proxy-protocol.ts';

export interface ClientAddress {
  address: string;
  port: number;
}

export type ProxyHeaderOutcome =
  | {
      ok: true;
      version: 1 | 2;
      /** What the header announced; absent for UNKNOWN / LOCAL / non-TCP families. */
      source?: ParsedEndpoint;
      dest?: ParsedEndpoint;
      /** The address to use for the client: `source` when announced, else the real peer. */
      client: ClientAddress;
      /** The address the client asked for: `dest` when announced, else our local end. */
      local: ClientAddress;
    }
  | { ok: false; reason: string };

export interface ReadProxyHeaderOptions {
  /** Logs one warn line per rejected connection. */
  log?: Logger;
  /** Name of the frontend for the log line. */
  frontend?: string;
  maxV2Length?: number;
}

/** Default header read timeout: the spec asks for at least 3 s to cover one TCP retransmit. */
export const ACCEPT_PROXY_TIMEOUT_MS = 3000;

/**
 * Read the PROXY header from a freshly accepted socket. Never rejects: failure (malformed header,
 * timeout, peer closed or reset first) resolves `{ ok: false }` after destroying the socket.
 * Leaves a no-op 'error' listener behind so an error between our return and the caller's own
 * listener cannot crash the process.
 */
export function readProxyHeader(socket: Socket, timeoutMs: number, opts: ReadProxyHeaderOptions = {}): Promise<ProxyHeaderOutcome> {
  return new Promise((resolve) => {
    let buf: Buffer | undefined;
    let settled = false;
    const peer = (): ClientAddress => ({ address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 });

    const cleanup = (): void => {
      clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.removeListener('end', onEnd);
      socket.removeListener('close', onClose);
    };
    const reject = (reason: string): void => {
      if (settled) return;
      settled = true;
      cleanup();
      const who = peer();
      opts.log?.warn({ client: `${who.address}:${who.port}`, frontend: opts.frontend, reason }, 'PROXY header rejected, connection closed');
      socket.destroy();
      resolve({ ok: false, reason });
    };
    const onData = (chunk: Buffer): void => {
      buf = buf ? Buffer.concat([buf, chunk]) : chunk;
      const r = parseProxyHeader(buf, { maxV2Length: opts.maxV2Length });
      if (r.status === 'need-more') return;
      if (r.status === 'error') return reject(r.reason);
      settled = true;
      // Pause before dropping our listener, or a flowing stream would emit the next chunk to nobody.
      socket.pause();
      cleanup();
      if (r.consumed < buf.length) socket.unshift(buf.subarray(r.consumed));
      resolve({
        ok: true,
        version: r.version,
        source: r.source,
        dest: r.dest,
        client: r.source ? { address: r.source.address, port: r.source.port } : peer(),
        local: r.dest
          ? { address: r.dest.address, port: r.dest.port }
          : { address: socket.localAddress ?? '', port: socket.localPort ?? 0 },
      });
    };
    const onEnd = (): void => reject('connection closed before a complete PROXY header');
    const onClose = (): void => reject('connection closed before a complete PROXY header');
    const onError = (err: Error): void => reject(`socket error before PROXY header: ${err.message}`);

    const timer = setTimeout(() => reject(`no complete PROXY header within ${timeoutMs} ms`), timeoutMs);
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onClose);
    socket.on('error', onError);
    socket.resume();
  });
}
