// Recognises the commonest request shape (HTTP/1.1 GET or HEAD, no body, plain headers) so the
// frontend can serve it without node's HTTP server. Deliberately narrow and strict: anything else,
// including everything llhttp would reject, is reported as 'other' and goes to node's parser.
// Pure: bytes in, a parsed head or a verdict out.

export interface SimpleRequest {
  method: 'GET' | 'HEAD';
  url: string;
  /** [name, value, ...] as sent (values trimmed), the shape of node's rawHeaders. */
  rawHeaders: string[];
  host: string;
  /** Offset just after the blank line. */
  end: number;
  /** No hop-by-hop header (Connection, Keep-Alive, TE, Trailer, Proxy-Connection): the head may be
   *  forwarded byte for byte when no header is to be added or rewritten. */
  plain: boolean;
  /** The client sent `Connection: close`: the response says so and the connection ends after it. */
  close: boolean;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// visible ASCII, space, tab and obs-text; no other control bytes
/* eslint-disable no-control-regex -- matching control bytes is the point */
const VALUE = /^[^\x00-\x08\x0a-\x1f\x7f]*$/;
const REQUEST_LINE = /^(GET|HEAD) (\/[\x21-\x7e]*) HTTP\/1\.1$/;
/* eslint-enable no-control-regex */

/** 'incomplete': no blank line yet within `maxHead` bytes; 'other': not the simple shape. */
export function parseSimpleRequest(buf: Buffer, start: number, maxHead: number): SimpleRequest | 'incomplete' | 'other' {
  const idx = buf.indexOf('\r\n\r\n', start, 'latin1');
  if (idx < 0) return buf.length - start > maxHead ? 'other' : 'incomplete';
  if (idx - start > maxHead) return 'other';
  const lines = buf.toString('latin1', start, idx).split('\r\n');
  const m = REQUEST_LINE.exec(lines[0]!);
  if (m === null) return 'other';
  const raw: string[] = [];
  let host: string | undefined;
  let plain = true;
  let close = false;
  for (let i = 1; i < lines.length; i++) {
    const l = lines[i]!;
    const colon = l.indexOf(':');
    if (colon <= 0) return 'other';
    const name = l.slice(0, colon);
    const value = l.slice(colon + 1).trim();
    if (!TOKEN.test(name) || !VALUE.test(value)) return 'other';
    switch (name.length) {
      case 2:
        if (name.toLowerCase() === 'te') plain = false;
        break;
      case 4:
        if (name.toLowerCase() === 'host') {
          if (host !== undefined) return 'other';
          host = value;
        }
        break;
      case 6:
        if (name.toLowerCase() === 'expect') return 'other';
        break;
      case 7: {
        const lower = name.toLowerCase();
        if (lower === 'upgrade') return 'other';
        if (lower === 'trailer') plain = false;
        break;
      }
      case 10: {
        const lower = name.toLowerCase();
        if (lower === 'connection') {
          // other tokens name headers to drop or ask for more than the simple path does
          const v = value.toLowerCase();
          if (v === 'close') close = true;
          else if (v !== 'keep-alive') return 'other';
          plain = false;
        } else if (lower === 'keep-alive') {
          plain = false;
        }
        break;
      }
      case 16:
        if (name.toLowerCase() === 'proxy-connection') plain = false;
        break;
      case 14:
        if (name.toLowerCase() === 'content-length') return 'other';
        break;
      case 17:
        if (name.toLowerCase() === 'transfer-encoding') return 'other';
        break;
    }
    raw.push(name, value);
  }
  if (host === undefined) return 'other';
  return { method: m[1] as 'GET' | 'HEAD', url: m[2]!, rawHeaders: raw, host, end: idx + 4, plain, close };
}
