// One JSON line per proxied request or tunnel, HAProxy-style timers (ms, -1 when the phase was
// not reached): Tq waiting for a server slot, Tc connecting, Tr server response head, Tt total.
import type { Logger } from '../log/logger.ts';

export type Termination =
  | 'ok'
  | 'client-abort'
  | 'client-timeout'
  | 'bad-request'
  | 'no-backend'
  | 'no-server'
  | 'queue-timeout'
  | 'queue-full'
  | 'connect-error'
  | 'server-error'
  | 'server-timeout'
  | 'bad-response'
  /** An HTTP/1.1 request routed to a `proto: h2` backend. */
  | 'proto-mismatch'
  | 'shutdown';

export interface AccessEntry {
  client: string;
  frontend: string;
  backend: string | undefined;
  server: string | undefined;
  method: string;
  url: string;
  status: number;
  Tq: number;
  Tc: number;
  Tr: number;
  Tt: number;
  bytesIn: number;
  bytesOut: number;
  retries: number;
  termination: Termination;
  /** On TLS connections only: what the handshake settled. */
  tls?: AccessTls;
  /** 'h2' for a stream relayed over HTTP/2 to a `proto: h2` backend. */
  proto?: 'h2';
  /** The gRPC status of a relayed answer, when it had one. */
  grpcStatus?: string;
  /** The RST_STREAM code that ended a relayed stream, when one did. */
  resetCode?: number;
}

export interface AccessTls {
  version: string;
  cipher: string;
  sni?: string;
  alpn?: string;
  /** The session was resumed from a ticket (no full handshake). */
  resumed: boolean;
}

/** The access log's view of a connection's TLS facts (proxy/tls/tls-facts.ts). */
export function accessTls(f: { version: string; cipher: string; sni: string | undefined; alpn: string | undefined; resumed: boolean } | undefined): AccessTls | undefined {
  if (f === undefined) return undefined;
  const out: AccessTls = { version: f.version, cipher: f.cipher, resumed: f.resumed };
  if (f.sni !== undefined) out.sni = f.sni;
  if (f.alpn !== undefined) out.alpn = f.alpn;
  return out;
}

export class AccessLog {
  readonly enabled: boolean;
  private readonly log: Logger;

  constructor(log: Logger, enabled = true) {
    this.log = log.child({ type: 'access' });
    this.enabled = enabled;
  }

  write(e: AccessEntry): void {
    if (this.enabled) this.log.info(e);
  }
}

/** Rounds a duration in ms to 0.01 ms; -1 for a phase never reached. */
export function span(from: number, to: number): number {
  return from < 0 || to < 0 ? -1 : Math.round((to - from) * 100) / 100;
}
