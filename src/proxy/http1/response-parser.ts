// Incremental parser for the responses servers send back: status line, headers, then the body
// framed by Content-Length, chunked coding (decoded here; node re-frames toward the client) or the
// connection closing. Pure: bytes in, sink calls out. Hostile input yields an error string, never a
// throw, and never a header value node's writeHead would refuse.

export interface ResponseSink {
  /** Headers are end-to-end only: hop-by-hop and framing headers are removed, Content-Length kept
   *  when it frames the body. `keepAlive`: the connection can carry another request afterwards. */
  onResponseHead(status: number, reason: string, headers: string[], contentLength: number, keepAlive: boolean): void;
  /** Raw mode (see reset): the head as bytes to forward, status line through the blank line, with
   *  hop-by-hop lines cut out. Only for HTTP/1.1 heads framed by Content-Length or without a body;
   *  may be a view of the bytes fed to execute(), valid as long as they are. A small body already
   *  at hand comes in the same Buffer, after the head: `bodyIncluded` bytes (no onResponseData
   *  follows for them). */
  onResponseRawHead?(status: number, head: Buffer, contentLength: number, keepAlive: boolean, bodyIncluded: number): void;
  onResponseData(chunk: Buffer): void;
  onResponseEnd(): void;
}

/** Bodies up to this size that arrived with their head are forwarded with it, in one write. */
const INLINE_BODY_MAX = 4096;

const S_HEAD = 0;
const S_LENGTH = 1;
const S_CHUNK_SIZE = 2;
const S_CHUNK_DATA = 3;
const S_CHUNK_CRLF = 4;
const S_TRAILERS = 5;
const S_UNTIL_CLOSE = 6;
const S_DONE = 7;
/** The C side sent the head on and is sending the body (NativeSocket.forwardResponse). */
const S_FORWARDED = 8;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// obs-text (0x80-0xff) is allowed in values; controls other than HTAB are not.
/* eslint-disable no-control-regex -- matching control bytes is the point */
const BAD_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9][0-9][0-9])(?: ([^\x00-\x08\x0a-\x1f\x7f]*))?$/;
/* eslint-enable no-control-regex */
const MAX_CHUNK_LINE = 4096;

// byte classes for the raw head scan: tchar (RFC 9110 §5.6.2) and field-value bytes
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") TCHAR[c.charCodeAt(0)] = 1;
const VCHAR = new Uint8Array(256);
for (let b = 0; b < 256; b++) VCHAR[b] = (b >= 0x20 && b !== 0x7f) || b === 9 ? 1 : 0;
/** Hop-by-hop lines the raw scan can cut out; more make it leave the head to the string parser. */
const MAX_DROPS = 8;

export class ResponseParser {
  sink: ResponseSink | undefined;
  private readonly maxHeadBytes: number;
  private state = S_DONE;
  private noBody = false;
  private keepAlive = false;
  private pending: Buffer | undefined;
  private remaining = 0;
  private line = '';
  private raw = false;
  /** [start, end) of the head lines the raw scan drops, in pairs. */
  private readonly drops = new Int32Array(MAX_DROPS * 2);

  constructor(maxHeadBytes = 65536) {
    this.maxHeadBytes = maxHeadBytes;
  }

  /** Expect a new response; `noBody` for HEAD requests. `raw`: a head of the common shape goes to
   *  sink.onResponseRawHead as bytes (the sink neither reads nor changes the headers). */
  reset(sink: ResponseSink, noBody: boolean, raw = false): void {
    this.sink = sink;
    this.raw = raw && sink.onResponseRawHead !== undefined;
    this.state = S_HEAD;
    this.noBody = noBody;
    this.keepAlive = false;
    this.pending = undefined;
    this.remaining = 0;
    this.line = '';
  }

  get done(): boolean {
    return this.state === S_DONE;
  }

  /** True once a status line and headers were delivered (an error after that cannot be a 502). */
  get headSeen(): boolean {
    return this.state !== S_HEAD;
  }

  /** Whether the connection may be reused after the response completed. */
  get reusable(): boolean {
    return this.state === S_DONE && this.keepAlive;
  }

  /** Feeds bytes from the server; returns an error description, or undefined. The chunk is not
   *  kept after this returns, except by what the sink does with the views it is given. */
  execute(chunk: Buffer): string | undefined {
    let off = 0;
    const len = chunk.length;
    while (off < len) {
      switch (this.state) {
        case S_HEAD: {
          const r = this.parseHead(chunk, off);
          if (typeof r === 'string') return r;
          if (r < 0) return undefined; // need more bytes
          off = r;
          break;
        }
        case S_LENGTH: {
          const n = Math.min(this.remaining, len - off);
          this.remaining -= n;
          const piece = off === 0 && n === len ? chunk : chunk.subarray(off, off + n);
          off += n;
          if (this.remaining === 0) this.state = S_DONE;
          this.sink!.onResponseData(piece);
          if (this.state === S_DONE) this.sink!.onResponseEnd();
          break;
        }
        case S_UNTIL_CLOSE: {
          this.sink!.onResponseData(off === 0 ? chunk : chunk.subarray(off));
          return undefined;
        }
        case S_CHUNK_SIZE:
        case S_TRAILERS: {
          const nl = chunk.indexOf(10, off);
          const end = nl < 0 ? len : nl + 1;
          this.line += chunk.toString('latin1', off, end);
          off = end;
          if (this.line.length > MAX_CHUNK_LINE) return 'chunk line too long';
          if (nl < 0) return undefined;
          const err = this.state === S_CHUNK_SIZE ? this.chunkSizeLine() : this.trailerLine();
          if (err !== undefined) return err;
          break;
        }
        case S_CHUNK_DATA: {
          const n = Math.min(this.remaining, len - off);
          this.remaining -= n;
          const piece = chunk.subarray(off, off + n);
          off += n;
          if (this.remaining === 0) {
            this.state = S_CHUNK_CRLF;
            this.line = '';
          }
          this.sink!.onResponseData(piece);
          break;
        }
        case S_CHUNK_CRLF: {
          this.line += chunk.toString('latin1', off, off + 1);
          off++;
          if (this.line === '\r') break;
          if (this.line !== '\r\n') return 'bad chunk terminator';
          this.state = S_CHUNK_SIZE;
          this.line = '';
          break;
        }
        case S_DONE:
          this.keepAlive = false;
          return 'data after the end of the response';
        case S_FORWARDED:
          return 'response bytes after its forwarding stopped';
      }
    }
    return undefined;
  }

  /** The C side forwarded the response's head (`done` false: its body is still on the way) or
   *  all of it (`done`), without this parser seeing the bytes. */
  forwarded(done: boolean, keepAlive: boolean): void {
    this.state = done ? S_DONE : S_FORWARDED;
    this.keepAlive = keepAlive;
    this.pending = undefined;
  }

  /** The server closed its side; returns an error when the response was not complete. */
  finish(): string | undefined {
    if (this.state === S_UNTIL_CLOSE) {
      this.state = S_DONE;
      this.keepAlive = false;
      this.sink!.onResponseEnd();
      return undefined;
    }
    if (this.state === S_DONE) return undefined;
    return this.state === S_HEAD ? 'connection closed before response head' : 'connection closed mid-body';
  }

  private chunkSizeLine(): string | undefined {
    const line = this.line;
    this.line = '';
    let end = line.length;
    if (end >= 2 && line.charCodeAt(end - 2) === 13) end -= 2;
    else return 'bad chunk size line';
    const semi = line.indexOf(';');
    const hex = (semi >= 0 && semi < end ? line.slice(0, semi) : line.slice(0, end)).trim();
    if (!/^[0-9a-fA-F]{1,12}$/.test(hex)) return 'bad chunk size';
    const size = parseInt(hex, 16);
    if (size === 0) {
      this.state = S_TRAILERS;
    } else {
      this.remaining = size;
      this.state = S_CHUNK_DATA;
    }
    return undefined;
  }

  private trailerLine(): string | undefined {
    const line = this.line;
    this.line = '';
    if (line === '\r\n') {
      this.state = S_DONE;
      this.sink!.onResponseEnd();
      return undefined;
    }
    // trailers are dropped: node would need them declared up front and few clients use them
    return line.endsWith('\r\n') ? undefined : 'bad trailer line';
  }

  /** Returns the offset after the head, -1 when more bytes are needed, or an error. */
  private parseHead(chunk: Buffer, off: number): number | string {
    let buf = chunk;
    let base = off;
    if (this.pending !== undefined) {
      buf = Buffer.concat([this.pending, chunk.subarray(off)]);
      base = 0;
    }
    // search from 3 before the old end so a CRLFCRLF split across reads is found
    const from = this.pending !== undefined ? Math.max(0, this.pending.length - 3) : base;
    const idx = buf.indexOf('\r\n\r\n', from, 'latin1');
    if (idx < 0) {
      if (buf.length - base > this.maxHeadBytes) return 'response head too large';
      // a copy: the caller may reuse the chunk's memory once execute() returns
      this.pending = buf === chunk ? Buffer.from(chunk.subarray(base)) : buf;
      return -1;
    }
    if (idx - base > this.maxHeadBytes) return 'response head too large';
    const consumedOfChunk = this.pending !== undefined ? idx + 4 - this.pending.length + off : idx + 4;
    this.pending = undefined;
    if (this.raw) {
      const body = this.rawHead(buf, base, idx);
      if (body >= 0) return consumedOfChunk + body;
    }
    const err = this.head(buf.toString('latin1', base, idx));
    if (err !== undefined) return err;
    return consumedOfChunk;
  }

  /** The common head shape scanned as bytes and forwarded as bytes: HTTP/1.1, a final status,
   *  Content-Length framing (or no body), Connection only keep-alive/close. False leaves anything
   *  else, malformed heads included, to head(), which decides and reports errors. */
  private rawHead(buf: Buffer, start: number, idx: number): number {
    // "HTTP/1.1 DDD" then SP or CR
    if (idx - start < 12 || buf.readUInt32BE(start) !== 0x48545450 || buf.readUInt32BE(start + 4) !== 0x2f312e31 || buf[start + 8] !== 0x20) return -1;
    const d0 = buf[start + 9]! - 48;
    const d1 = buf[start + 10]! - 48;
    const d2 = buf[start + 11]! - 48;
    if (d0 < 2 || d0 > 9 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) return -1;
    const status = d0 * 100 + d1 * 10 + d2;
    let p = start + 12;
    if (buf[p] === 0x20) {
      p++;
      while (p < idx && VCHAR[buf[p]!] === 1) p++;
    }
    if (buf[p] !== 13 || buf[p + 1] !== 10) return -1;
    const end = idx + 2; // just after the last header line's CRLF
    p += 2;
    let contentLength = -1;
    let close = false;
    let ndrops = 0;
    const drops = this.drops;
    while (p < end) {
      const lineStart = p;
      while (TCHAR[buf[p]!] === 1) p++;
      const nameLen = p - lineStart;
      if (nameLen === 0 || buf[p] !== 0x3a) return -1;
      p++;
      while (buf[p] === 0x20 || buf[p] === 9) p++;
      const valueStart = p;
      while (VCHAR[buf[p]!] === 1) p++;
      if (buf[p] !== 13 || buf[p + 1] !== 10) return -1;
      let valueEnd = p;
      while (valueEnd > valueStart && (buf[valueEnd - 1] === 0x20 || buf[valueEnd - 1] === 9)) valueEnd--;
      p += 2;
      let drop = false;
      switch (nameLen) {
        case 2:
          drop = lowerIs(buf, lineStart, 'te');
          break;
        case 7:
          drop = lowerIs(buf, lineStart, 'trailer') || lowerIs(buf, lineStart, 'upgrade');
          break;
        case 10:
          if (lowerIs(buf, lineStart, 'connection')) {
            const n = valueEnd - valueStart;
            if (n === 10 && lowerIs(buf, valueStart, 'keep-alive')) drop = true;
            else if (n === 5 && lowerIs(buf, valueStart, 'close')) drop = close = true;
            else return -1;
          } else {
            drop = lowerIs(buf, lineStart, 'keep-alive');
          }
          break;
        case 14:
          if (lowerIs(buf, lineStart, 'content-length')) {
            if (contentLength >= 0 || valueEnd - valueStart > 15 || valueEnd === valueStart) return -1;
            let n = 0;
            for (let i = valueStart; i < valueEnd; i++) {
              const d = buf[i]! - 48;
              if (d < 0 || d > 9) return -1;
              n = n * 10 + d;
            }
            contentLength = n;
          }
          break;
        case 16:
          drop = lowerIs(buf, lineStart, 'proxy-connection');
          break;
        case 17:
          if (lowerIs(buf, lineStart, 'transfer-encoding')) return -1;
          break;
      }
      if (drop) {
        if (ndrops === MAX_DROPS) return -1;
        drops[2 * ndrops] = lineStart;
        drops[2 * ndrops + 1] = p;
        ndrops++;
      }
    }
    const bodiless = this.noBody || status === 204 || status === 304;
    if (!bodiless && contentLength < 0) return -1;

    // A small body already read goes out with the head, in the same write.
    const headEnd = idx + 4;
    const body = !bodiless && contentLength > 0 && contentLength <= INLINE_BODY_MAX && buf.length - headEnd >= contentLength ? contentLength : 0;
    let head: Buffer;
    if (ndrops === 0) {
      head = buf.subarray(start, headEnd + body);
    } else {
      let size = headEnd + body - start;
      for (let i = 0; i < ndrops; i++) size -= drops[2 * i + 1]! - drops[2 * i]!;
      head = Buffer.allocUnsafe(size);
      let w = 0;
      let from = start;
      for (let i = 0; i < ndrops; i++) {
        w += buf.copy(head, w, from, drops[2 * i]);
        from = drops[2 * i + 1]!;
      }
      buf.copy(head, w, from, headEnd + body);
    }
    if (bodiless || contentLength === 0 || body > 0) {
      this.state = S_DONE;
    } else {
      this.remaining = contentLength;
      this.state = S_LENGTH;
    }
    this.keepAlive = !close;
    this.line = '';
    this.sink!.onResponseRawHead!(status, head, bodiless ? -1 : contentLength, this.keepAlive, body);
    if (this.state === S_DONE) this.sink!.onResponseEnd();
    return body;
  }

  private head(text: string): string | undefined {
    const lines = text.split('\r\n');
    const m = STATUS_LINE.exec(lines[0]!);
    if (m === null) return 'bad status line';
    const minor = m[1] === '1';
    const status = Number(m[2]);
    const reason = m[3] ?? '';
    if (status >= 100 && status < 200) {
      if (status === 101) return 'unexpected 101 Switching Protocols';
      // interim response (100 Continue, 103 Early Hints): skip it, the final one follows
      this.state = S_HEAD;
      return undefined;
    }
    const headers: string[] = [];
    let contentLength = -1;
    let chunked = false;
    let hasTe = false;
    let close = !minor;
    let extraTokens: string[] | undefined;
    for (let i = 1; i < lines.length; i++) {
      const l = lines[i]!;
      const colon = l.indexOf(':');
      if (colon <= 0) return 'bad header line';
      const name = l.slice(0, colon);
      if (!TOKEN.test(name)) return 'bad header name';
      const value = l.slice(colon + 1).trim();
      if (BAD_VALUE.test(value)) return 'bad header value';
      const lower = name.toLowerCase();
      switch (lower) {
        case 'content-length': {
          if (!/^[0-9]{1,15}$/.test(value)) return 'bad Content-Length';
          const n = Number(value);
          if (contentLength >= 0 && contentLength !== n) return 'conflicting Content-Length';
          contentLength = n;
          continue;
        }
        case 'transfer-encoding': {
          hasTe = true;
          const codings = value.toLowerCase();
          chunked = codings === 'chunked' || /(^|,)\s*chunked\s*$/.test(codings);
          continue;
        }
        case 'connection':
          for (const t of value.split(',')) {
            const tok = t.trim().toLowerCase();
            if (tok === 'close') close = true;
            else if (tok === 'keep-alive') {
              if (!minor) close = false;
            } else if (tok !== '') (extraTokens ??= []).push(tok);
          }
          continue;
        case 'keep-alive':
        case 'proxy-connection':
        case 'te':
        case 'trailer':
        case 'upgrade':
          continue;
      }
      headers.push(name, value);
    }
    if (extraTokens !== undefined) stripListed(headers, extraTokens);

    const bodiless = this.noBody || status === 204 || status === 304;
    if (bodiless) {
      this.state = S_DONE;
      if (contentLength >= 0) headers.push('Content-Length', String(contentLength));
    } else if (hasTe) {
      // Transfer-Encoding overrides Content-Length (RFC 9112 §6.3); such a response may be an attempt
      // at smuggling, so the connection is not reused.
      if (contentLength >= 0) close = true;
      contentLength = -1;
      this.state = chunked ? S_CHUNK_SIZE : S_UNTIL_CLOSE;
      if (!chunked) close = true;
    } else if (contentLength >= 0) {
      headers.push('Content-Length', String(contentLength));
      this.remaining = contentLength;
      this.state = contentLength === 0 ? S_DONE : S_LENGTH;
    } else {
      this.state = S_UNTIL_CLOSE;
      close = true;
    }
    this.keepAlive = !close;
    this.line = '';
    this.sink!.onResponseHead(status, reason, headers, bodiless ? -1 : contentLength, this.keepAlive);
    if (this.state === S_DONE) this.sink!.onResponseEnd();
    return undefined;
  }
}

function stripListed(headers: string[], tokens: string[]): void {
  let w = 0;
  for (let r = 0; r < headers.length; r += 2) {
    if (tokens.includes(headers[r]!.toLowerCase())) continue;
    headers[w++] = headers[r]!;
    headers[w++] = headers[r + 1]!;
  }
  headers.length = w;
}

/** Bytes at `at` equal `lower` ignoring ASCII case (`lower` holds letters and '-' only). */
function lowerIs(buf: Buffer, at: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) if ((buf[at + i]! | 0x20) !== lower.charCodeAt(i)) return false;
  return true;
}
