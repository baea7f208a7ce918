// Layer-4 check: the server passes when a TCP connection completes within the timeout.

import { connect } from 'node:net';
import { describeSocketError, type CheckResult, type CheckTarget } from './check-result.ts';

export function tcpCheck(target: CheckTarget, timeoutMs: number, signal?: AbortSignal): Promise<CheckResult> {
  return new Promise<CheckResult>((resolve) => {
    const started = performance.now();
    let done = false;
    const socket = connect({ host: target.host, port: target.port });
    const finish = (ok: boolean, reason: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve({ ok, reason, durationMs: performance.now() - started });
    };
    const onAbort = (): void => finish(false, 'check aborted');
    const timer = setTimeout(() => finish(false, `connect timeout after ${timeoutMs}ms`), timeoutMs);
    socket.once('connect', () => finish(true, 'TCP connect ok'));
    socket.once('error', (err) => finish(false, describeSocketError(err)));
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}
