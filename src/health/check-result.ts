// What one active check reports: pass/fail and a human reason that ends up in logs and status.
import type { ConnectionOptions } from 'node:tls';

export interface CheckResult {
  ok: boolean;
  /** "HTTP status 200", "connection refused", "connect timeout after 2000ms", ... */
  reason: string;
  /** Time the check took (connect + response). */
  durationMs: number;
}

export interface CheckTarget {
  host: string;
  port: number;
  /** Check over TLS with these tls.connect options (the backend's `tls:`, pool/backend-tls.ts). */
  tls?: ConnectionOptions;
}

/** A failed TLS handshake, worded for logs: what OpenSSL or node's name check said. */
export function describeTlsError(err: unknown): string {
  // a system call's error (refused, reset) carries its syscall; OpenSSL's and node's checks do not
  if ((err as { syscall?: unknown } | null)?.syscall !== undefined) return describeSocketError(err);
  return `TLS handshake failed: ${err instanceof Error ? err.message : String(err)}`;
}

/** Short, stable wording for socket errors, as operators read them in logs. */
export function describeSocketError(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
      return 'connection reset';
    case 'EHOSTUNREACH':
      return 'host unreachable';
    case 'ENETUNREACH':
      return 'network unreachable';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'name resolution failed';
    case 'EPIPE':
      return 'broken pipe';
    default:
      if (typeof code === 'string') return `socket error ${code}`;
      return err instanceof Error ? err.message : String(err);
  }
}
