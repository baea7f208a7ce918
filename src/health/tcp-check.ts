// Layer-4 check: the server passes when a TCP connection completes within the timeout; for a
// backend over TLS, when the TLS handshake completes too, certificate verified as traffic's is.

import { connect } from 'node:net';
import tls from 'node:tls';
import { describeSocketError, describeTlsError, type CheckResult, type CheckTarget } from './check-result.ts';

export function tcpCheck(target: CheckTarget, timeoutMs: number, signal?: AbortSignal): Promise<CheckResult> {
  return new Promise<CheckResult>((resolve) => {
    const started = performance.now();
    let done = false;
    const secure = target.tls;
    const socket = secure === undefined ? connect({ host: target.host, port: target.port }) : tls.connect({ ...secure, host: target.host, port: target.port });
    const finish = (ok: boolean, reason: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve({ ok, reason, durationMs: performance.now() - started });
    };
    const onAbort = (): void => finish(false, 'check aborted');
    const timer = setTimeout(() => finish(false, `${secure === undefined ? 'connect' : 'TLS handshake'} timeout after ${timeoutMs}ms`), timeoutMs);
    if (secure === undefined) socket.once('connect', () => finish(true, 'TCP connect ok'));
    else socket.once('secureConnect', () => finish(true, 'TLS handshake ok'));
    socket.once('error', (err) => finish(false, secure === undefined ? describeSocketError(err) : describeTlsError(err)));
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}
