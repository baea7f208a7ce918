// Layer-7 check: one HTTP/1.1 request on a fresh connection (agent: false, Connection: close).
// Passes when the status is in an expected range and, if asked, the body contains a substring
// within its first MAX_BODY_BYTES. The whole exchange shares one timeout; the reason tells
// whether it ran out while connecting or while waiting for the answer. A backend over TLS is
// checked over TLS with the same verification as its traffic.

import { request, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { StatusRange } from '../config/types.ts';
import { describeSocketError, describeTlsError, type CheckResult, type CheckTarget } from './check-result.ts';

/** Most of a body read to look for the expected substring. */
export const MAX_BODY_BYTES = 64 * 1024;

export interface HttpCheckOptions {
  method: string;
  path: string;
  /** Host header; default host:port of the target. */
  host?: string;
  expectStatus: StatusRange[];
  expectBody?: string;
  timeout: number;
}

export function statusMatches(status: number, ranges: readonly StatusRange[]): boolean {
  for (const r of ranges) if (status >= r.from && status <= r.to) return true;
  return false;
}

export function httpCheck(target: CheckTarget, opts: HttpCheckOptions, signal?: AbortSignal): Promise<CheckResult> {
  return new Promise<CheckResult>((resolve) => {
    const started = performance.now();
    let done = false;
    let connected = false;
    const hostHeader = opts.host ?? (target.host.includes(':') ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`);
    const secure = target.tls;
    const req = (secure === undefined ? request : httpsRequest)({
      ...secure,
      host: target.host,
      port: target.port,
      method: opts.method,
      path: opts.path,
      agent: false,
      headers: { host: hostHeader, 'user-agent': 'halb-health-check', connection: 'close', accept: '*/*' },
    });
    const finish = (ok: boolean, reason: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      req.destroy();
      resolve({ ok, reason, durationMs: performance.now() - started });
    };
    const onAbort = (): void => finish(false, 'check aborted');
    const timer = setTimeout(() => {
      finish(false, connected ? `response timeout after ${opts.timeout}ms` : `connect timeout after ${opts.timeout}ms`);
    }, opts.timeout);
    req.once('socket', (socket) => {
      if (!socket.connecting) connected = true;
      else socket.once(secure === undefined ? 'connect' : 'secureConnect', () => (connected = true));
    });
    req.once('error', (err) => finish(false, secure === undefined ? describeSocketError(err) : describeTlsError(err)));
    req.once('response', (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      res.once('error', (err) => finish(false, describeSocketError(err)));
      if (!statusMatches(status, opts.expectStatus)) {
        finish(false, `HTTP status ${status}`);
        return;
      }
      const needle = opts.expectBody;
      if (needle === undefined || needle.length === 0) {
        finish(true, `HTTP status ${status}`);
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      const lacks = (suffix: string): void => finish(false, `HTTP status ${status}, body lacks ${JSON.stringify(needle)}${suffix}`);
      res.on('data', (chunk: Buffer) => {
        if (done) return;
        const take = Math.min(chunk.length, MAX_BODY_BYTES - size);
        chunks.push(take === chunk.length ? chunk : chunk.subarray(0, take));
        size += take;
        // Concatenating up to 64 KiB per chunk is fine for a check, and catches needles split across chunks.
        if (Buffer.concat(chunks, size).includes(needle)) finish(true, `HTTP status ${status}, body matches`);
        else if (size >= MAX_BODY_BYTES) lacks(` in first ${MAX_BODY_BYTES} bytes`);
      });
      res.once('end', () => lacks(''));
    });
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    req.end();
  });
}
