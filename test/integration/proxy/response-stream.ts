// Strict reading of what a proxy wrote back on one connection, for the HTTP fuzz: a sequence of
// HTTP/1.1 responses (status line, token-named headers, blank line, a body framed by
// Content-Length or chunked coding), nothing else. A response to HEAD carries a Content-Length
// but no body; the reader does not know the requests, so a body that would begin with the next
// status line, or end of stream right after the head, is read as bodiless.

export interface SeenResponse {
  status: number;
  /** lower-case name -> value (last one wins). */
  headers: Map<string, string>;
}

export interface ResponseStream {
  responses: SeenResponse[];
  /** Why the bytes are not well-formed; undefined when they are. */
  error: string | undefined;
}

const STATUS_LINE = /^HTTP\/1\.1 ([1-5][0-9][0-9])(?: [\x20-\x7e\x80-\xff]*)?$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

export function readResponses(buf: Buffer): ResponseStream {
  const responses: SeenResponse[] = [];
  let off = 0;
  const fail = (why: string): ResponseStream => ({ responses, error: `${why} at byte ${off}: ${JSON.stringify(buf.toString('latin1', off, off + 80))}` });
  while (off < buf.length) {
    const end = buf.indexOf('\r\n\r\n', off);
    if (end < 0) return fail('incomplete response head');
    const lines = buf.toString('latin1', off, end).split('\r\n');
    const m = STATUS_LINE.exec(lines[0]!);
    if (m === null) return fail('bad status line');
    const status = Number(m[1]);
    const headers = new Map<string, string>();
    for (const l of lines.slice(1)) {
      const c = l.indexOf(':');
      if (c <= 0 || !TOKEN.test(l.slice(0, c)) || !VALUE.test(l.slice(c + 1))) return fail(`bad header line ${JSON.stringify(l)}`);
      headers.set(l.slice(0, c).toLowerCase(), l.slice(c + 1).trim());
    }
    responses.push({ status, headers });
    off = end + 4;
    if (status < 200 || status === 204 || status === 304) continue;
    const te = headers.get('transfer-encoding');
    const cl = headers.get('content-length');
    if (te !== undefined) {
      if (te.toLowerCase() !== 'chunked' || cl !== undefined) return fail('bad framing headers');
      for (;;) {
        const nl = buf.indexOf('\r\n', off);
        if (nl < 0) return fail('incomplete chunk size');
        const hex = buf.toString('latin1', off, nl);
        if (!/^[0-9a-fA-F]{1,8}$/.test(hex)) return fail('bad chunk size');
        const size = parseInt(hex, 16);
        off = nl + 2;
        if (size === 0) {
          if (buf.toString('latin1', off, off + 2) !== '\r\n') return fail('bad last chunk');
          off += 2;
          break;
        }
        if (buf.length < off + size + 2 || buf.toString('latin1', off + size, off + size + 2) !== '\r\n') return fail('incomplete chunk');
        off += size + 2;
      }
    } else if (cl !== undefined) {
      if (!/^[0-9]{1,15}$/.test(cl)) return fail('bad Content-Length');
      const n = Number(cl);
      if (n > 0 && (off === buf.length || buf.toString('latin1', off, off + 7) === 'HTTP/1.')) continue; // HEAD
      if (buf.length < off + n) return fail('incomplete body');
      off += n;
    } else {
      // framed by the close: the rest is its body
      off = buf.length;
    }
  }
  return { responses, error: undefined };
}
