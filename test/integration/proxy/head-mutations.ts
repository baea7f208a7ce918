// Seeded mutations of valid request heads for the HTTP fuzz (issue 15.7): byte flips, inserts and
// deletions, lines duplicated, dropped or swapped, headers that frame or upgrade, other versions,
// methods and targets, truncation, and a second request or junk behind. Pure: a PRNG in, bytes out.
import { randomInt } from '../../unit/vrrp/seeded-random.ts';

const BASES = [
  'GET / HTTP/1.1\r\nHost: a\r\n\r\n',
  'GET /p?q=1 HTTP/1.1\r\nHost: a.example:8080\r\nUser-Agent: fuzz\r\nAccept: */*\r\n\r\n',
  'HEAD /x HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n',
  'POST /f HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello',
  'POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
  'GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  'GET /admin/x HTTP/1.1\r\nHost: a\r\n\r\n',
  'GET http://a/abs HTTP/1.0\r\nHost: a\r\nCookie: x=1; y=2\r\n\r\n',
  'OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n',
  'DELETE /r HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n',
];

const BYTES = ['\r', '\n', '\0', ' ', '\t', ':', ',', ';', '\x7f', '\xff', '\x80', '0', 'a', '/', '?', '#', '%', '"', '\r\n', '\r\n\r\n'];

const HEADERS = [
  'Content-Length: 3',
  'Content-Length: -1',
  'Content-Length: 99999999999',
  'Content-Length: 5, 5',
  'Transfer-Encoding: chunked',
  'Transfer-Encoding: gzip',
  'Transfer-Encoding: chunked, identity',
  'Host: b',
  'Host: a b',
  'Connection: close',
  'Connection: Upgrade',
  'Upgrade: websocket',
  'Upgrade: h2c',
  'Expect: 100-continue',
  'X-A: \0',
  ' folded',
  'Sec-WebSocket-Key: k',
  'Sec-WebSocket-Version: 13',
  'X-Forwarded-For: 9.9.9.9',
  'Proxy-Connection: keep-alive',
];

const TOKENS: [RegExp, string[]][] = [
  [/HTTP\/1\.[01]/, ['HTTP/1.0', 'HTTP/0.9', 'HTTP/2.0', 'HTTP/1.10', 'http/1.1', 'HTTP/1.1 x', '', 'HTTP/']],
  [/^[A-Z]+/, ['GET', 'get', 'POST', 'CONNECT', 'PRI', 'FOO', 'G ET', '']],
  [/ \S+ /, [' http://evil/ ', ' http://a/ ', ' * ', ' /a b ', ' //x ', ' /%00 ', '  ', ' http://u@a/ ']],
];

function pick<T>(random: () => number, xs: readonly T[]): T {
  return xs[randomInt(random, 0, xs.length - 1)]!;
}

function splitHead(s: string): { lines: string[]; body: string } {
  const end = s.indexOf('\r\n\r\n');
  if (end < 0) return { lines: s.split('\r\n'), body: '' };
  return { lines: s.slice(0, end).split('\r\n'), body: s.slice(end + 4) };
}

function joinHead(lines: string[], body: string): string {
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

type Mutation = (s: string, random: () => number) => string;

const MUTATIONS: Mutation[] = [
  (s, r) => {
    const i = randomInt(r, 0, Math.max(0, s.length - 1));
    return s.slice(0, i) + pick(r, BYTES) + s.slice(i + 1);
  },
  (s, r) => {
    const i = randomInt(r, 0, s.length);
    return s.slice(0, i) + pick(r, BYTES) + s.slice(i);
  },
  (s, r) => {
    const i = randomInt(r, 0, Math.max(0, s.length - 1));
    return s.slice(0, i) + s.slice(i + randomInt(r, 1, 3));
  },
  (s, r) => {
    const { lines, body } = splitHead(s);
    const i = randomInt(r, 0, lines.length - 1);
    lines.splice(i, 0, lines[i]!);
    return joinHead(lines, body);
  },
  (s, r) => {
    const { lines, body } = splitHead(s);
    if (lines.length > 1) lines.splice(randomInt(r, 1, lines.length - 1), 1);
    return joinHead(lines, body);
  },
  (s, r) => {
    const { lines, body } = splitHead(s);
    const i = randomInt(r, 0, lines.length - 1);
    const j = randomInt(r, 0, lines.length - 1);
    [lines[i], lines[j]] = [lines[j]!, lines[i]!];
    return joinHead(lines, body);
  },
  (s, r) => {
    const { lines, body } = splitHead(s);
    lines.splice(randomInt(r, 1, lines.length), 0, pick(r, HEADERS));
    return joinHead(lines, body);
  },
  (s, r) => s.slice(0, randomInt(r, 1, s.length)),
  (s, r) => {
    const [re, alts] = pick(r, TOKENS);
    return s.replace(re, pick(r, alts));
  },
  (s, r) => s + (r() < 0.5 ? pick(r, BASES) : pick(r, ['GARBAGE\r\n\r\n', '\r\n', '0\r\n\r\n', 'GET /admin HTTP/1.1\r\nHost: a\r\n\r\n', 'x'])),
];

/** One fuzz case: a valid base head with one to four mutations. */
export function mutatedHead(random: () => number): Buffer {
  let s = pick(random, BASES);
  const n = randomInt(random, 1, 4);
  for (let i = 0; i < n; i++) s = pick(random, MUTATIONS)(s, random);
  return Buffer.from(s, 'latin1');
}
