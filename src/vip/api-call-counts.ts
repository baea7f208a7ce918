// How a cloud provider's API calls ended, counted for /metrics (halb_cloud_api_calls_total):
// an operator whose floating IP did not move first asks whether the API said no (and how) or
// could not be reached at all.

export type ApiCallResult = 'ok' | 'http_4xx' | 'http_5xx' | 'transport' | 'aborted';

export const API_CALL_RESULTS: readonly ApiCallResult[] = ['ok', 'http_4xx', 'http_5xx', 'transport', 'aborted'];

/** The result of a call that threw: an ApiError's kind and status, or the caller's own abort. */
export function failedCallResult(err: { kind?: unknown; status?: unknown } | undefined, abortedByCaller: boolean): ApiCallResult {
  if (abortedByCaller) return 'aborted';
  if (err?.kind === 'http' && typeof err.status === 'number') return err.status >= 500 ? 'http_5xx' : 'http_4xx';
  return 'transport';
}

export class ApiCallCounts {
  readonly #n = new Map<ApiCallResult, number>();

  record(result: ApiCallResult): void {
    this.#n.set(result, (this.#n.get(result) ?? 0) + 1);
  }

  /** Every result, zeros included, so a scrape shows the series before the first failure. */
  snapshot(): Record<ApiCallResult, number> {
    const out = {} as Record<ApiCallResult, number>;
    for (const r of API_CALL_RESULTS) out[r] = this.#n.get(r) ?? 0;
    return out;
  }
}
