// One JSON request to a cloud provider's API: bearer token, per-request timeout, answers
// sorted into "retry may help" and "it will not". The token never appears in an error or a
// log line: messages carry method and path only, and anything echoed back is redacted.

import { retryAfterMs } from './backoff.ts';
import { failedCallResult, type ApiCallCounts } from './api-call-counts.ts';

export interface ApiRequest {
  method: 'GET' | 'POST' | 'DELETE';
  /** Full URL. */
  url: string;
  token?: string;
  body?: unknown;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Where the call's result is counted (the provider's, for /metrics). */
  calls?: ApiCallCounts;
}

export interface ApiAnswer {
  status: number;
  headers: Headers;
  /** Parsed body; undefined when empty or not JSON. */
  json: unknown;
  text: string;
}

/**
 * An answer or failure that did not give us what we asked for.
 * kind: 'http' (the API answered with a non-2xx status), 'transport' (connect error,
 * reset, timeout, unparsable answer). `code` is the provider's error id when it sent one.
 */
export class ApiError extends Error {
  readonly kind: 'http' | 'transport';
  readonly status?: number;
  readonly code?: string;
  /** From Retry-After / RateLimit-Reset, when the answer had one. */
  readonly retryAfterMs?: number;

  constructor(message: string, opts: { kind: 'http' | 'transport'; status?: number; code?: string; retryAfterMs?: number; cause?: unknown }) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ApiError';
    this.kind = opts.kind;
    if (opts.status !== undefined) this.status = opts.status;
    if (opts.code !== undefined) this.code = opts.code;
    if (opts.retryAfterMs !== undefined) this.retryAfterMs = opts.retryAfterMs;
  }
}

export function redact(text: string, secret: string | undefined): string {
  if (!secret || secret.length < 4) return text;
  return text.split(secret).join('[redacted]');
}

/** "GET /v2/reserved_ips/1.2.3.4" — what messages name instead of the full URL (no query secrets). */
export function describe(method: string, url: string): string {
  try {
    return `${method} ${new URL(url).pathname}`;
  } catch {
    return `${method} <bad url>`;
  }
}

/** Pulls the provider's error code and message out of an error body. */
export type ErrorBodyParser = (json: unknown) => { code?: string; message?: string };

const MAX_ERROR_TEXT = 300;

export async function apiRequest(req: ApiRequest, parseError: ErrorBodyParser, now: () => number = Date.now): Promise<ApiAnswer> {
  if (!req.calls) return request(req, parseError, now);
  try {
    const ans = await request(req, parseError, now);
    req.calls.record('ok');
    return ans;
  } catch (err) {
    req.calls.record(failedCallResult(err instanceof ApiError ? err : undefined, req.signal?.aborted === true));
    throw err;
  }
}

async function request(req: ApiRequest, parseError: ErrorBodyParser, now: () => number): Promise<ApiAnswer> {
  const what = describe(req.method, req.url);
  const timeout = AbortSignal.timeout(req.timeoutMs);
  const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (req.token !== undefined) headers.authorization = `Bearer ${req.token}`;
  let body: string | undefined;
  if (req.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(req.body);
  }
  let res: Response;
  let text: string;
  try {
    res = await fetch(req.url, { method: req.method, headers, body, signal, redirect: 'error' });
    text = await res.text();
  } catch (err) {
    // The caller's own abort is not a transport failure: let it through as is.
    if (req.signal?.aborted) throw req.signal.reason;
    const reason = timeout.aborted ? `no answer within ${req.timeoutMs} ms` : redact(errorText(err), req.token);
    throw new ApiError(`${what}: ${reason}`, { kind: 'transport', cause: err });
  }
  let json: unknown;
  if (text.length > 0) {
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
  }
  if (res.status >= 200 && res.status < 300) return { status: res.status, headers: res.headers, json, text };

  const parsed = json === undefined ? {} : parseError(json);
  const message = redact(parsed.message ?? text.slice(0, MAX_ERROR_TEXT), req.token).slice(0, MAX_ERROR_TEXT);
  const retryAfter = retryAfterMs(res.headers, now());
  throw new ApiError(`${what}: HTTP ${res.status}${parsed.code ? ` ${parsed.code}` : ''}${message ? `: ${message}` : ''}`, {
    kind: 'http',
    status: res.status,
    ...(parsed.code !== undefined ? { code: parsed.code } : {}),
    ...(retryAfter !== undefined ? { retryAfterMs: retryAfter } : {}),
  });
}

function errorText(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    const c = cause instanceof Error ? ` (${(cause as NodeJS.ErrnoException).code ?? cause.message})` : '';
    return `${err.message}${c}`;
  }
  return String(err);
}
