// The raw corpus (raw-corpus.ts) through a real `halb run` in front of a byte-logging server: for
// each case, halb's answer and what the server received (issue 15.1).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startByteLogBackend, type ByteLogBackend } from './byte-log-backend.ts';
import { startHalbTarget, type Target } from './raw-target.ts';
import { CORPUS } from './raw-corpus.ts';
import { runCorpus, type CaseResult } from './raw-corpus-run.ts';

let b: ByteLogBackend;
let halb: Target;
let results: CaseResult[];
before(async () => {
  b = await startByteLogBackend({ upgrade: 'refuse' });
  halb = await startHalbTarget(b.port);
  results = await runCorpus(halb, b, CORPUS);
});
after(async () => {
  await halb?.stop();
  await b?.close();
});

test('the corpus has at least 50 cases with distinct names', () => {
  assert.ok(CORPUS.length >= 50, `${CORPUS.length} cases`);
  assert.equal(new Set(CORPUS.map((c) => c.name)).size, CORPUS.length);
});

CORPUS.forEach((c, i) => {
  test(`${c.name}: ${c.halb.statuses.join(', ') || 'close'}`, () => {
    const r = results[i]!;
    assert.deepEqual(r.statuses, c.halb.statuses, `reply ${JSON.stringify(r)}`);
    assert.ok(r.closed, 'halb ended the connection');
    if (c.halb.backend === 'partial') {
      // no complete request: the head alone may have gone ahead of the bad body
      assert.ok(r.backend === 'partial' || r.backend.length === 0, `server received ${JSON.stringify(r.backend)}`);
    } else {
      assert.deepEqual(r.backend, c.halb.backend, 'what the server received');
    }
  });
});

test('bad chunk sizes are logged with their reason', async () => {
  await halb.waitFor((l) => l.code === 'HPE_INVALID_CHUNK_SIZE', 5000);
  const rejected = halb.lines.filter((l) => l.msg === 'client request rejected' && l.code === 'HPE_INVALID_CHUNK_SIZE');
  assert.ok(rejected.length >= 2, JSON.stringify(halb.lines.filter((l) => l.msg === 'client request rejected')));
  assert.ok(rejected.every((l) => l.status === 400 && typeof l.reason === 'string' && l.reason !== ''));
});

test('halb is still running and serving after the corpus', () => {
  assert.ok(halb.alive());
});
