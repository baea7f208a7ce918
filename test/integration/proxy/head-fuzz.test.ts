// HTTP head fuzz through the whole proxy path (issue 15.7): seeded random mutations of valid
// request heads, each on its own connection from its own loopback address, through a real
// `halb run` to a byte-logging server. Checked: halb never crashes; every reply is well-formed
// HTTP responses or a close; a case halb refused reached the server with no request beyond those
// whose answers the client got; what reached the server is well-formed.
//   HALB_FUZZ_CASES (default 2000), HALB_FUZZ_SEED (printed; a failure replays with it).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom } from '../../unit/vrrp/seeded-random.ts';
import { startByteLogBackend, type ByteLogBackend } from './byte-log-backend.ts';
import { startHalbTarget, sendRaw, type Target } from './raw-target.ts';
import { mutatedHead } from './head-mutations.ts';
import { readResponses } from './response-stream.ts';

const CASES = Number(process.env.HALB_FUZZ_CASES ?? 2000);
const SEED = Number(process.env.HALB_FUZZ_SEED ?? 0x15f0);
const PARALLEL = 16;

/** A loopback source address per case, so the server's X-Forwarded-For names the case. */
function addressOf(i: number): string {
  return `127.${10 + Math.floor(i / 64516)}.${1 + (Math.floor(i / 254) % 254)}.${1 + (i % 254)}`;
}

let b: ByteLogBackend;
let halb: Target;
before(async () => {
  b = await startByteLogBackend({ upgrade: 'refuse' });
  halb = await startHalbTarget(b.port, { httpRequest: '300ms', keepAlive: '200ms' });
});
after(async () => {
  await halb?.stop();
  await b?.close();
});

test(`head fuzz: ${CASES} cases, seed ${SEED}`, { timeout: 30 * 60_000 }, async (t) => {
  t.diagnostic(`HALB_FUZZ_SEED=${SEED} HALB_FUZZ_CASES=${CASES}`);
  console.log(`head fuzz: seed ${SEED} (HALB_FUZZ_SEED=${SEED} replays), ${CASES} cases`);
  const random = seededRandom(SEED);
  const heads = Array.from({ length: CASES }, () => mutatedHead(random));
  const replies = new Array<Buffer>(CASES);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < CASES) {
      const i = next++;
      const r = await sendRaw(halb.port, heads[i]!, { localAddress: addressOf(i), guardMs: 1500, quietMs: 250 });
      replies[i] = r.raw;
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  // what a proxy forwarded late would still arrive now
  await new Promise((r) => setTimeout(r, 500));

  const byCase = new Map<string, number[]>();
  for (const q of b.requests) {
    const list = byCase.get(q.client ?? '') ?? [];
    list.push(q.n);
    byCase.set(q.client ?? '', list);
  }
  const failures: string[] = [];
  const statuses = new Map<string, number>();
  let refused = 0;
  let forwarded = 0;
  for (let i = 0; i < CASES; i++) {
    const head = JSON.stringify(heads[i]!.toString('latin1'));
    const s = readResponses(replies[i]!);
    if (s.error !== undefined) failures.push(`case ${i} ${head}: reply not well-formed: ${s.error}`);
    const key = s.responses.map((r) => (r.headers.has('x-backend') ? `${r.status}b` : String(r.status))).join(',') || 'close';
    statuses.set(key, (statuses.get(key) ?? 0) + 1);
    const answered = new Set(s.responses.map((r) => Number(r.headers.get('x-backend') ?? NaN)).filter((n) => !Number.isNaN(n)));
    const received = byCase.get(addressOf(i)) ?? [];
    if (received.length > 0) forwarded++;
    const own = s.responses.some((r) => r.status >= 400 && !r.headers.has('x-backend'));
    if (own) refused++;
    const unanswered = received.filter((n) => !answered.has(n));
    if (own && unanswered.length > 0) failures.push(`case ${i} ${head}: halb answered ${key} itself, yet the server got request(s) ${unanswered.join(',')} it never answered`);
  }
  for (const c of b.connections) if (c.broken !== undefined) failures.push(`server connection ${c.conn}: ${c.broken}`);
  for (const q of b.requests) {
    if (!/^[A-Z]+ \S+ HTTP\/1\.1$/.test(q.line)) failures.push(`server got request line ${JSON.stringify(q.line)}`);
    if (q.client === undefined) failures.push(`server got a request without X-Forwarded-For: ${JSON.stringify(q.line)}`);
  }
  const top = [...statuses].sort((x, y) => y[1] - x[1]).slice(0, 12);
  console.log(`head fuzz: ${forwarded} cases reached the server, ${refused} answered by halb with an error; replies: ${top.map(([k, n]) => `${k}:${n}`).join(' ')}`);
  assert.ok(halb.alive(), `halb is still running; its last log lines:\n${halb.lines.slice(-25).map((l) => JSON.stringify(l)).join('\n')}`);
  const ok = await sendRaw(halb.port, Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\n'), { quietMs: 100 });
  assert.deepEqual(ok.statuses, [200], 'halb still serves');
  assert.deepEqual(failures.slice(0, 20), [], `${failures.length} failures (seed ${SEED})`);
});

test('the reply checker refuses what is not HTTP responses', () => {
  const ok = readResponses(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 400 Bad\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n'));
  assert.equal(ok.error, undefined);
  assert.deepEqual(
    ok.responses.map((r) => r.status),
    [200, 400],
  );
  assert.equal(readResponses(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')).error, undefined);
  for (const bad of [
    'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nok',
    'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nextra',
    'HTTP/1.0 200 OK\r\n\r\n',
    'HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n',
  ]) {
    assert.notEqual(readResponses(Buffer.from(bad)).error, undefined, JSON.stringify(bad));
  }
});
