// gRPC check: one grpc.health.v1.Health/Check call on a fresh HTTP/2 session (h2c, or h2 over
// TLS when the backend has tls, verified as traffic is). Passes only when the call ends with
// grpc-status 0 and the answer is SERVING; any other status, a non-200, a bad body, a reset or
// the timeout fails it, with a reason saying which. The messages are pure code in
// grpc-health-codec.ts; node's http2 is the transport.

import http2 from 'node:http2';
import { describeSocketError, describeTlsError, type CheckResult, type CheckTarget } from './check-result.ts';
import { decodeHealthCheckResponse, encodeHealthCheckRequest, grpcCodeName, HEALTH_CHECK_PATH } from './grpc-health-codec.ts';

/** Most of a response body read: a HealthCheckResponse is a few bytes. */
const MAX_BODY_BYTES = 4096;

export function grpcCheck(target: CheckTarget, service: string, timeoutMs: number, signal?: AbortSignal): Promise<CheckResult> {
  return new Promise<CheckResult>((resolve) => {
    const started = performance.now();
    let done = false;
    let connected = false;
    const secure = target.tls;
    const host = target.host.includes(':') ? `[${target.host}]` : target.host;
    const authority = `${host}:${target.port}`;
    const session = http2.connect(`${secure === undefined ? 'http' : 'https'}://${authority}`, secure === undefined ? {} : { ...secure });
    const finish = (ok: boolean, reason: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      session.destroy();
      resolve({ ok, reason, durationMs: performance.now() - started });
    };
    const onAbort = (): void => finish(false, 'check aborted');
    const timer = setTimeout(() => finish(false, `${connected ? 'response' : 'connect'} timeout after ${timeoutMs}ms`), timeoutMs);
    session.once('connect', () => (connected = true));
    const failed = (err: unknown): void => finish(false, secure === undefined || connected ? describeSocketError(err) : describeTlsError(err));
    session.once('error', failed);
    session.once('close', () => finish(false, 'connection closed before the answer'));

    const req = session.request({
      ':method': 'POST',
      ':path': HEALTH_CHECK_PATH,
      ':authority': authority,
      'content-type': 'application/grpc',
      te: 'trailers',
      'user-agent': 'halb-health-check',
      'grpc-timeout': `${Math.max(1, timeoutMs)}m`,
    });
    let status = 0;
    let grpcStatus: string | undefined;
    let grpcMessage = '';
    const chunks: Buffer[] = [];
    let size = 0;
    const statusOf = (h: http2.IncomingHttpHeaders): void => {
      const s = h['grpc-status'];
      if (typeof s === 'string') {
        grpcStatus = s;
        const m = h['grpc-message'];
        grpcMessage = typeof m === 'string' ? decodeURIComponent(m) : '';
      }
    };
    req.once('response', (h) => {
      status = Number(h[':status']);
      // a trailers-only answer (an error) carries grpc-status in its headers
      statusOf(h);
    });
    req.once('trailers', statusOf);
    req.on('data', (d: Buffer) => {
      size += d.length;
      if (size > MAX_BODY_BYTES) finish(false, `response body over ${MAX_BODY_BYTES} bytes`);
      else chunks.push(d);
    });
    // a session that failed cancels its streams first: the session's error is the cause
    req.once('error', (err: Error) => failed(err.cause ?? err));
    req.once('close', () => {
      if (done) return;
      if (req.rstCode !== undefined && req.rstCode !== http2.constants.NGHTTP2_NO_ERROR) return finish(false, `stream reset by the server (code ${req.rstCode})`);
      if (status !== 200) return finish(false, `HTTP status ${status}`);
      if (grpcStatus === undefined) return finish(false, 'no grpc-status in the answer');
      if (grpcStatus !== '0') {
        const code = grpcCodeName(Number(grpcStatus));
        return finish(false, `gRPC status ${grpcStatus} (${code})${grpcMessage !== '' ? `: ${grpcMessage}` : ''}`);
      }
      const r = decodeHealthCheckResponse(Buffer.concat(chunks, size));
      if (!r.ok) return finish(false, `bad HealthCheckResponse: ${r.reason}`);
      finish(r.name === 'SERVING', `gRPC ${r.name}`);
    });
    req.end(encodeHealthCheckRequest(service));
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}
