import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ResponseParser, type ResponseSink } from '../../../../src/proxy/http1/response-parser.ts';

interface Seen {
  heads: { status: number; reason: string; headers: string[]; cl: number; keepAlive: boolean }[];
  raw: { status: number; head: string; cl: number; keepAlive: boolean }[];
  body: string;
  ends: number;
}

function sink(): ResponseSink & { seen: Seen } {
  const seen: Seen = { heads: [], raw: [], body: '', ends: 0 };
  return {
    seen,
    onResponseHead: (status, reason, headers, cl, keepAlive) => seen.heads.push({ status, reason, headers, cl, keepAlive }),
    onResponseRawHead: (status, head, cl, keepAlive, body) => {
      // a small body that came with the head rides in the same Buffer
      seen.raw.push({ status, head: head.toString('latin1', 0, head.length - body), cl, keepAlive });
      seen.body += head.toString('latin1', head.length - body);
    },
    onResponseData: (c) => (seen.body += c.toString('latin1')),
    onResponseEnd: () => seen.ends++,
  };
}

/** Feeds `text` split at every `step` bytes; returns the first error. */
function feed(text: string, step: number, noBody = false, eof = false, raw = false) {
  const p = new ResponseParser(1024);
  const s = sink();
  p.reset(s, noBody, raw);
  const buf = Buffer.from(text, 'latin1');
  let err: string | undefined;
  for (let i = 0; i < buf.length && err === undefined; i += step) err = p.execute(buf.subarray(i, i + step));
  if (err === undefined && eof) err = p.finish();
  return { p, seen: s.seen, err };
}

const SPLITS = [1, 2, 3, 7, 1000];

test('Content-Length body, any split', () => {
  for (const step of SPLITS) {
    const { p, seen, err } = feed('HTTP/1.1 200 OK\r\nServer: x\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nhello', step);
    assert.equal(err, undefined);
    assert.equal(seen.heads.length, 1);
    assert.deepEqual(seen.heads[0], { status: 200, reason: 'OK', headers: ['Server', 'x', 'Content-Length', '5'], cl: 5, keepAlive: true });
    assert.equal(seen.body, 'hello');
    assert.equal(seen.ends, 1);
    assert.ok(p.reusable);
  }
});

test('chunked body is decoded, trailers dropped, any split', () => {
  for (const step of SPLITS) {
    const { p, seen, err } = feed('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\n', step);
    assert.equal(err, undefined, `step ${step}`);
    assert.deepEqual(seen.heads[0]!.headers, []);
    assert.equal(seen.heads[0]!.cl, -1);
    assert.equal(seen.body, 'hello0123456789');
    assert.equal(seen.ends, 1);
    assert.ok(p.reusable);
  }
});

test('close-delimited body ends at EOF and is not reusable', () => {
  const { p, seen, err } = feed('HTTP/1.1 200 OK\r\n\r\nabc', 2, false, true);
  assert.equal(err, undefined);
  assert.equal(seen.body, 'abc');
  assert.equal(seen.ends, 1);
  assert.equal(p.reusable, false);
});

test('HEAD, 204 and 304 have no body; 1xx are skipped', () => {
  const head = feed('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n', 3, true);
  assert.equal(head.seen.ends, 1);
  assert.deepEqual(head.seen.heads[0]!.headers, ['Content-Length', '10']);
  assert.ok(head.p.reusable);
  assert.equal(feed('HTTP/1.1 204 No Content\r\n\r\n', 5).seen.ends, 1);
  const cont = feed('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: x\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', 4);
  assert.equal(cont.err, undefined);
  assert.equal(cont.seen.heads.length, 1);
  assert.equal(cont.seen.heads[0]!.status, 200);
  assert.equal(cont.seen.body, 'ok');
});

test('hop-by-hop response headers are removed, including Connection-listed ones', () => {
  const { seen, p } = feed('HTTP/1.1 200 OK\r\nConnection: close, X-Priv\r\nKeep-Alive: timeout=5\r\nX-Priv: 1\r\nUpgrade: h2\r\nX-Ok: 2\r\nContent-Length: 0\r\n\r\n', 1000);
  assert.deepEqual(seen.heads[0]!.headers, ['X-Ok', '2', 'Content-Length', '0']);
  assert.equal(p.reusable, false);
});

test('HTTP/1.0 responses are reusable only with keep-alive', () => {
  assert.equal(feed('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n', 100).p.reusable, false);
  assert.equal(feed('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n', 100).p.reusable, true);
});

test('Transfer-Encoding with Content-Length: chunked wins, connection not reused', () => {
  const { seen, p, err } = feed('HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n', 1000);
  assert.equal(err, undefined);
  assert.equal(seen.body, 'ok');
  assert.deepEqual(seen.heads[0]!.headers, []);
  assert.equal(p.reusable, false);
});

test('malformed responses give errors, never throws', () => {
  const bad = [
    'HTTP/2 200 OK\r\n\r\n',
    'HTTP/1.1 20 OK\r\n\r\n',
    'HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n',
    'HTTP/1.1 200 OK\r\nX: a\nb\r\n\r\n',
    'HTTP/1.1 200 OK\r\nX: a\x00b\r\n\r\n',
    'HTTP/1.1 200 OK\r\n folded\r\n\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokXX',
    'HTTP/1.1 101 Switching Protocols\r\n\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nab',
    'HTTP/1.1 200 OK\r\nX: ' + 'a'.repeat(2000) + '\r\n\r\n',
  ];
  for (const text of bad) {
    for (const step of [1, 5, 5000]) {
      for (const raw of [false, true]) {
        const r = feed(text, step, false, false, raw);
        assert.equal(typeof r.err, 'string', `${JSON.stringify(text.slice(0, 60))} step ${step} raw ${raw}`);
      }
    }
  }
});

test('truncated responses are errors at EOF', () => {
  assert.match(feed('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab', 100, false, true).err ?? '', /mid-body/);
  assert.match(feed('HTTP/1.1 200', 100, false, true).err ?? '', /before response head/);
});

test('random bytes never throw', () => {
  let seed = 42;
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (let i = 0; i < 2000; i++) {
    const prefix = rnd() < 0.5 ? 'HTTP/1.1 200 OK\r\n' : '';
    const bytes = Buffer.alloc(Math.floor(rnd() * 200), 0).map(() => Math.floor(rnd() * 256));
    const p = new ResponseParser(512);
    p.reset(sink(), false, rnd() < 0.5);
    p.execute(Buffer.concat([Buffer.from(prefix), bytes]));
    p.finish();
  }
});

test('raw mode: the head is forwarded as bytes minus hop-by-hop lines, any split', () => {
  for (const step of SPLITS) {
    const { p, seen, err } = feed('HTTP/1.1 200 OK\r\nServer: x\r\nContent-Length: 5\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\nhello', step, false, false, true);
    assert.equal(err, undefined);
    assert.equal(seen.heads.length, 0);
    assert.deepEqual(seen.raw, [{ status: 200, head: 'HTTP/1.1 200 OK\r\nServer: x\r\nContent-Length: 5\r\n\r\n', cl: 5, keepAlive: true }]);
    assert.equal(seen.body, 'hello');
    assert.equal(seen.ends, 1);
    assert.ok(p.reusable);
  }
  const untouched = 'HTTP/1.1 404 Not Found\r\nX-A:  b  \r\ncontent-length:0\r\n\r\n';
  assert.equal(feed(untouched, 1000, false, false, true).seen.raw[0]!.head, untouched);
  const close = feed('HTTP/1.1 200\r\nTE: x\r\nConnection: CLOSE\r\nUpgrade: h2\r\nTrailer: x\r\nProxy-Connection: y\r\nContent-Length: 1\r\n\r\nz', 1000, false, false, true);
  assert.deepEqual(close.seen.raw, [{ status: 200, head: 'HTTP/1.1 200\r\nContent-Length: 1\r\n\r\n', cl: 1, keepAlive: false }]);
  assert.equal(close.p.reusable, false);
  const head = feed('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n', 3, true, false, true);
  assert.deepEqual(head.seen.raw, [{ status: 200, head: 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n', cl: -1, keepAlive: true }]);
  assert.equal(head.seen.ends, 1);
  assert.equal(feed('HTTP/1.1 304 Not Modified\r\nETag: "1"\r\n\r\n', 1000, false, false, true).seen.raw.length, 1);
});

test('raw mode leaves other shapes to the header-list path', () => {
  const other = [
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    'HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n',
    'HTTP/1.1 200 OK\r\nConnection: close, X-Priv\r\nX-Priv: 1\r\nContent-Length: 0\r\n\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n',
    'HTTP/1.1 200 OK\r\n\r\n',
  ];
  for (const text of other) {
    const r = feed(text, 1000, false, true, true);
    assert.equal(r.err, undefined, text);
    assert.equal(r.seen.raw.length, 0, text);
    assert.equal(r.seen.heads.length, 1, text);
  }
  const cont = feed('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', 4, false, false, true);
  assert.equal(cont.seen.raw.length, 1);
  assert.equal(cont.seen.raw[0]!.status, 200);
  assert.equal(cont.seen.body, 'ok');
});

test('raw mode: a small body that came with the head is forwarded in the same Buffer', () => {
  const text = 'HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 5\r\n\r\nhello';
  const p = new ResponseParser(1024);
  const calls: { head: string; body: number }[] = [];
  let data = 0;
  let ends = 0;
  p.reset(
    {
      onResponseHead: () => assert.fail('not the header-list path'),
      onResponseRawHead: (_s, head, _cl, _ka, body) => calls.push({ head: head.toString('latin1'), body }),
      onResponseData: () => data++,
      onResponseEnd: () => ends++,
    },
    false,
    true,
  );
  assert.equal(p.execute(Buffer.from(text, 'latin1')), undefined);
  assert.deepEqual(calls, [{ head: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello', body: 5 }]);
  assert.equal(data, 0);
  assert.equal(ends, 1);
  assert.equal(p.reusable, true);
  // split from its head, or too big to copy: the body comes through onResponseData as before
  for (const [t, step] of [
    [text, text.length - 2],
    [`HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n${'a'.repeat(5000)}`, 10_000],
  ] as const) {
    const r = feed(t, step, false, false, true);
    assert.equal(r.err, undefined);
    assert.equal(r.seen.raw.length, 1);
    assert.ok(!r.seen.raw[0]!.head.endsWith('a') && !r.seen.raw[0]!.head.endsWith('hel'), r.seen.raw[0]!.head);
    assert.equal(r.seen.ends, 1);
  }
});
