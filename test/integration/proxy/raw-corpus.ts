// The raw request corpus (issue 15.1): exact bytes a client sends, what halb must answer, and what
// the byte-logging backend must receive. HAProxy 2.6 gets the same bytes for the comparison table
// (scripts/parser-table.ts -> docs/parser-table.md); where halb is stricter, it stays stricter.
//
// `statuses`: the status lines of the reply in order ([] = closed without an answer).
// `backend`: request lines the server received, complete requests only; 'partial' = no complete
// request, though the head may have gone ahead of a body that then failed to parse (whether it
// did is a race between the server connect and the parse error).

export interface CorpusCase {
  name: string;
  /** latin1; several parts are sent with a short pause between them. */
  bytes: string | string[];
  halb: { statuses: number[]; backend: string[] | 'partial' };
}

const H = 'Host: a\r\n';
const WS_KEY = 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n';
const UPG = 'Connection: Upgrade\r\nUpgrade: websocket\r\n';
const GET = 'GET / HTTP/1.1';

export const CORPUS: CorpusCase[] = [
  // ---- well-formed: must reach the server ----
  { name: 'plain GET', bytes: `GET / HTTP/1.1\r\n${H}\r\n`, halb: { statuses: [200], backend: [GET] } },
  { name: 'GET with a query', bytes: `GET /p?q=1&r=%20 HTTP/1.1\r\n${H}\r\n`, halb: { statuses: [200], backend: ['GET /p?q=1&r=%20 HTTP/1.1'] } },
  { name: 'HEAD', bytes: `HEAD / HTTP/1.1\r\n${H}\r\n`, halb: { statuses: [200], backend: ['HEAD / HTTP/1.1'] } },
  { name: 'POST with Content-Length', bytes: `POST / HTTP/1.1\r\n${H}Content-Length: 3\r\n\r\nabc`, halb: { statuses: [200], backend: ['POST / HTTP/1.1'] } },
  { name: 'POST chunked', bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n`, halb: { statuses: [200], backend: ['POST / HTTP/1.1'] } },
  { name: 'chunk extension', bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\n\r\n`, halb: { statuses: [200], backend: ['POST / HTTP/1.1'] } },
  { name: 'HTTP/1.0 without Host', bytes: 'GET / HTTP/1.0\r\n\r\n', halb: { statuses: [200], backend: [GET] } },
  { name: 'two pipelined GETs', bytes: `GET /1 HTTP/1.1\r\n${H}\r\nGET /2 HTTP/1.1\r\n${H}\r\n`, halb: { statuses: [200, 200], backend: ['GET /1 HTTP/1.1', 'GET /2 HTTP/1.1'] } },
  { name: 'absolute-form, authority = Host', bytes: `GET http://a/x HTTP/1.1\r\n${H}\r\n`, halb: { statuses: [200], backend: ['GET http://a/x HTTP/1.1'] } },
  { name: 'OPTIONS *', bytes: `OPTIONS * HTTP/1.1\r\n${H}\r\n`, halb: { statuses: [200], backend: ['OPTIONS * HTTP/1.1'] } },
  { name: 'Expect: 100-continue', bytes: `POST / HTTP/1.1\r\n${H}Content-Length: 3\r\nExpect: 100-continue\r\n\r\nabc`, halb: { statuses: [100, 200], backend: ['POST / HTTP/1.1'] } },
  { name: 'obs-text in a value', bytes: `GET / HTTP/1.1\r\n${H}X-A: caf\xe9\r\n\r\n`, halb: { statuses: [200], backend: [GET] } },
  { name: 'Upgrade without Connection: upgrade', bytes: `GET / HTTP/1.1\r\n${H}Upgrade: websocket\r\n\r\n`, halb: { statuses: [200], backend: [GET] } },
  { name: 'WebSocket upgrade refused by the server', bytes: `GET / HTTP/1.1\r\n${H}${UPG}${WS_KEY}\r\n`, halb: { statuses: [200], backend: [GET] } },
  { name: 'leading CRLF before the request line', bytes: `\r\nGET / HTTP/1.1\r\n${H}\r\n`, halb: { statuses: [200], backend: [GET] } },
  { name: 'Connection: close', bytes: `GET / HTTP/1.1\r\n${H}Connection: close\r\n\r\n`, halb: { statuses: [200], backend: [GET] } },
  { name: '/admin goes to the denied backend', bytes: `GET /admin HTTP/1.1\r\n${H}\r\n`, halb: { statuses: [503], backend: [] } },

  // ---- issue 15.1: reached the server before ----
  { name: 'HTTP/0.9 request line', bytes: 'GET /\r\n\r\n', halb: { statuses: [400], backend: [] } },
  { name: 'HTTP/0.9 with a version', bytes: `GET / HTTP/0.9\r\n${H}\r\n`, halb: { statuses: [400], backend: [] } },
  { name: 'HTTP/2.0 request line', bytes: `GET / HTTP/2.0\r\n${H}\r\n`, halb: { statuses: [505], backend: [] } },
  { name: 'absolute-form, authority != Host', bytes: `GET http://evil/ HTTP/1.1\r\n${H}\r\n`, halb: { statuses: [400], backend: [] } },
  { name: 'absolute-form, other port', bytes: `GET http://a:8080/ HTTP/1.1\r\n${H}\r\n`, halb: { statuses: [400], backend: [] } },
  { name: 'absolute-form with userinfo', bytes: `GET http://u@a/ HTTP/1.1\r\n${H}\r\n`, halb: { statuses: [400], backend: [] } },
  { name: 'absolute-form, HTTP/1.0 without Host', bytes: 'GET http://evil/ HTTP/1.0\r\n\r\n', halb: { statuses: [400], backend: [] } },
  { name: 'WebSocket upgrade without key, second request behind', bytes: `GET / HTTP/1.1\r\n${H}${UPG}\r\nGET /admin HTTP/1.1\r\n${H}\r\n`, halb: { statuses: [400], backend: [] } },
  { name: 'WebSocket upgrade without version', bytes: `GET / HTTP/1.1\r\n${H}${UPG}Sec-WebSocket-Key: x\r\n\r\n`, halb: { statuses: [400], backend: [] } },
  { name: 'WebSocket upgrade refused, /admin behind it', bytes: `GET / HTTP/1.1\r\n${H}${UPG}${WS_KEY}\r\nGET /admin HTTP/1.1\r\n${H}\r\n`, halb: { statuses: [200, 503], backend: [GET] } },
  { name: 'WebSocket upgrade without key behind a POST', bytes: `POST / HTTP/1.1\r\n${H}Content-Length: 1\r\n\r\nxGET / HTTP/1.1\r\n${H}${UPG}\r\n`, halb: { statuses: [200, 400], backend: ['POST / HTTP/1.1'] } },
  { name: 'WebSocket upgrade behind a POST, refused, junk behind', bytes: `POST / HTTP/1.1\r\n${H}Content-Length: 1\r\n\r\nxGET / HTTP/1.1\r\n${H}${UPG}${WS_KEY}\r\nJUNK\r\n\r\n`, halb: { statuses: [200, 200, 400], backend: ['POST / HTTP/1.1', GET] } },
  { name: 'WebSocket upgrade with close, refused, a request behind', bytes: `GET / HTTP/1.1\r\n${H}Connection: Upgrade, close\r\nUpgrade: websocket\r\n${WS_KEY}\r\nGET /2 HTTP/1.1\r\n${H}\r\n`, halb: { statuses: [200], backend: [GET] } },
  { name: 'chunk size 4g', bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n4g\r\nabcd\r\n0\r\n\r\n`, halb: { statuses: [400], backend: 'partial' } },
  { name: 'chunk size overflowing 64 bits', bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nffffffffffffffffff1\r\nabcd\r\n0\r\n\r\n`, halb: { statuses: [400], backend: 'partial' } },
  { name: 'chunk data without CRLF', bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n`, halb: { statuses: [400], backend: 'partial' } },
  { name: 'negative chunk size', bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n-1\r\nabcd\r\n0\r\n\r\n`, halb: { statuses: [400], backend: 'partial' } },
  { name: 'Host with a space', bytes: 'GET / HTTP/1.1\r\nHost: a b\r\n\r\n', halb: { statuses: [400], backend: [] } },
  { name: 'Host with a slash', bytes: 'GET / HTTP/1.1\r\nHost: a/b\r\n\r\n', halb: { statuses: [400], backend: [] } },
  { name: 'CONNECT', bytes: 'CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n', halb: { statuses: [501], backend: [] } },

  // ---- malformed: refused before (kept) ----
  { name: 'control byte in a value', bytes: `GET / HTTP/1.1\r\n${H}X-Bad: a\x01b\r\n\r\n`, halb: { statuses: [400], backend: [] } },
  { name: 'NUL in a value', bytes: `GET / HTTP/1.1\r\n${H}X-Bad: a\x00b\r\n\r\n`, halb: { statuses: [400], backend: [] } },
  { name: 'space in a header name', bytes: `GET / HTTP/1.1\r\n${H}X Bad: 1\r\n\r\n`, halb: { statuses: [400], backend: [] } },
  { name: 'space before the colon', bytes: 'GET / HTTP/1.1\r\nHost : a\r\n\r\n', halb: { statuses: [400], backend: [] } },
  { name: 'empty header name', bytes: `GET / HTTP/1.1\r\n${H}: x\r\n\r\n`, halb: { statuses: [400], backend: [] } },
  { name: 'header line without a colon', bytes: `GET / HTTP/1.1\r\n${H}NoColon\r\n\r\n`, halb: { statuses: [400], backend: [] } },
  { name: 'obs-fold', bytes: `GET / HTTP/1.1\r\n${H}X-A: b\r\n c\r\n\r\n`, halb: { statuses: [400], backend: [] } },
  { name: 'bare LF line ends', bytes: 'GET / HTTP/1.1\nHost: a\n\n', halb: { statuses: [400], backend: [] } },
  { name: 'bare CR in a header', bytes: `GET / HTTP/1.1\r\n${H}X-A: b\rc\r\n\r\n`, halb: { statuses: [400], backend: [] } },
  { name: 'two Host headers', bytes: 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', halb: { statuses: [400], backend: [] } },
  { name: 'HTTP/1.1 without Host', bytes: 'GET / HTTP/1.1\r\n\r\n', halb: { statuses: [400], backend: [] } },
  { name: 'Content-Length and Transfer-Encoding', bytes: `POST / HTTP/1.1\r\n${H}Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, halb: { statuses: [400], backend: [] } },
  { name: 'duplicate Content-Length, same value', bytes: `POST / HTTP/1.1\r\n${H}Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc`, halb: { statuses: [400], backend: [] } },
  { name: 'conflicting Content-Length', bytes: `POST / HTTP/1.1\r\n${H}Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd`, halb: { statuses: [400], backend: [] } },
  { name: 'Content-Length list', bytes: `POST / HTTP/1.1\r\n${H}Content-Length: 3, 3\r\n\r\nabc`, halb: { statuses: [400], backend: [] } },
  { name: 'negative Content-Length', bytes: `POST / HTTP/1.1\r\n${H}Content-Length: -1\r\n\r\n`, halb: { statuses: [400], backend: [] } },
  { name: 'Content-Length with a plus', bytes: `POST / HTTP/1.1\r\n${H}Content-Length: +3\r\n\r\nabc`, halb: { statuses: [400], backend: [] } },
  { name: 'hex Content-Length', bytes: `POST / HTTP/1.1\r\n${H}Content-Length: 0x3\r\n\r\nabc`, halb: { statuses: [400], backend: [] } },
  { name: 'Content-Length of 20 digits', bytes: `POST / HTTP/1.1\r\n${H}Content-Length: 99999999999999999999\r\n\r\n`, halb: { statuses: [400], backend: [] } },
  { name: 'Transfer-Encoding gzip, chunked', bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`, halb: { statuses: [501], backend: [] } },
  { name: 'Transfer-Encoding identity', bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: identity\r\n\r\n`, halb: { statuses: [501], backend: [] } },
  { name: 'Transfer-Encoding chunked twice', bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, halb: { statuses: [400], backend: [] } },
  { name: 'Transfer-Encoding xchunked', bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n`, halb: { statuses: [501], backend: [] } },
  { name: 'Transfer-Encoding with space before colon', bytes: `POST / HTTP/1.1\r\n${H}Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n`, halb: { statuses: [400], backend: [] } },
  { name: 'HTTP/1.2', bytes: `GET / HTTP/1.2\r\n${H}\r\n`, halb: { statuses: [400], backend: [] } },
  { name: 'HTTP/3.0', bytes: `GET / HTTP/3.0\r\n${H}\r\n`, halb: { statuses: [400], backend: [] } },
  { name: 'lower-case method', bytes: `get / HTTP/1.1\r\n${H}\r\n`, halb: { statuses: [400], backend: [] } },
  { name: 'unknown method', bytes: `FOO / HTTP/1.1\r\n${H}\r\n`, halb: { statuses: [400], backend: [] } },
  // llhttp takes the extra space; the server gets the line halb rebuilds, one space each
  { name: 'two spaces after the method', bytes: `GET  / HTTP/1.1\r\n${H}\r\n`, halb: { statuses: [200], backend: [GET] } },
  { name: 'space in the target', bytes: `GET /a b HTTP/1.1\r\n${H}\r\n`, halb: { statuses: [400], backend: [] } },
  { name: 'NUL in the target', bytes: `GET /a\x00b HTTP/1.1\r\n${H}\r\n`, halb: { statuses: [400], backend: [] } },
  { name: 'byte 0xff in the target', bytes: `GET /\xff HTTP/1.1\r\n${H}\r\n`, halb: { statuses: [400], backend: [] } },
  { name: 'lower-case http version', bytes: `GET / http/1.1\r\n${H}\r\n`, halb: { statuses: [400], backend: [] } },
  { name: 'garbage after a good request', bytes: `GET / HTTP/1.1\r\n${H}\r\nGARBAGE\r\n\r\n`, halb: { statuses: [200, 400], backend: [GET] } },
  { name: 'garbage after a good POST', bytes: `POST / HTTP/1.1\r\n${H}Content-Length: 3\r\n\r\nabcGARBAGE\r\n\r\n`, halb: { statuses: [200, 400], backend: ['POST / HTTP/1.1'] } },
  { name: 'garbage after two good requests', bytes: `OPTIONS * HTTP/1.1\r\n${H}\r\nGET /2 HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGARBAGE\r\n\r\n`, halb: { statuses: [200, 200, 400], backend: ['OPTIONS * HTTP/1.1', 'GET /2 HTTP/1.1'] } },
  { name: 'request without Host, a good one behind', bytes: `GET / HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n${H}\r\n`, halb: { statuses: [400], backend: [] } },
  { name: 'two Host headers, a good request behind', bytes: `GET / HTTP/1.1\r\n${H}${H}\r\nGET /2 HTTP/1.1\r\n${H}\r\n`, halb: { statuses: [400], backend: [] } },
  { name: 'Connection: close, a request behind', bytes: `GET /1 HTTP/1.1\r\n${H}Connection: close\r\n\r\nGET /2 HTTP/1.1\r\n${H}\r\n`, halb: { statuses: [200], backend: ['GET /1 HTTP/1.1'] } },
  { name: 'HTTP/1.0 POST, a request behind', bytes: `POST /1 HTTP/1.0\r\nContent-Length: 1\r\n\r\nxGET /2 HTTP/1.1\r\n${H}\r\n`, halb: { statuses: [200], backend: ['POST /1 HTTP/1.1'] } },
  { name: '20 KiB header', bytes: `GET / HTTP/1.1\r\n${H}X-Big: ${'a'.repeat(20 * 1024)}\r\n\r\n`, halb: { statuses: [431], backend: [] } },
  { name: 'incomplete head, then silence', bytes: `GET / HTTP/1.1\r\n${H}`, halb: { statuses: [408], backend: [] } },
];
