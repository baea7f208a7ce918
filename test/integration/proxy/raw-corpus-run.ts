// Sends the raw corpus through a proxy, one case per connection and one after another, and
// reports per case what the client got and what the byte-logging backend received meanwhile.
import type { ByteLogBackend } from './byte-log-backend.ts';
import type { CorpusCase } from './raw-corpus.ts';
import { sendRaw, type Target } from './raw-target.ts';

export interface CaseResult {
  name: string;
  statuses: number[];
  /** Complete requests the backend received (request lines), or 'partial' for bytes only. */
  backend: string[] | 'partial';
  /** The proxy closed; false when the client gave up waiting. */
  closed: boolean;
}

export async function runCorpus(target: Target, backend: ByteLogBackend, corpus: readonly CorpusCase[]): Promise<CaseResult[]> {
  const out: CaseResult[] = [];
  for (const c of corpus) {
    const requests = backend.requests.length;
    const bytes = backend.bytes;
    const parts = (Array.isArray(c.bytes) ? c.bytes : [c.bytes]).map((p) => Buffer.from(p, 'latin1'));
    const r = await sendRaw(target.port, parts);
    // what a proxy forwarded and then gave up on may still be on its way to the backend
    await new Promise((res) => setTimeout(res, 50));
    const got = backend.requests.slice(requests).map((q) => q.line);
    out.push({ name: c.name, statuses: r.statuses, backend: got.length === 0 && backend.bytes > bytes ? 'partial' : got, closed: r.closed });
  }
  return out;
}

export function describeStatuses(s: readonly number[]): string {
  return s.length === 0 ? 'close' : s.join(', ');
}

export function describeBackend(b: readonly string[] | 'partial'): string {
  if (b === 'partial') return 'head only';
  return b.length === 0 ? '-' : b.map((l) => `\`${l}\``).join(', ');
}
