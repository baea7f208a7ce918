import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AcmeChallenges } from '../../../../src/proxy/http1/acme-challenge.ts';

test('HTTP-01: a known token gets its key authorisation, an unknown one 404, other paths are not challenges', () => {
  const c = new AcmeChallenges();
  c.set('tok-1', 'tok-1.thumbprint');
  assert.deepEqual(c.answer('GET', '/.well-known/acme-challenge/tok-1'), { status: 200, body: 'tok-1.thumbprint' });
  assert.deepEqual(c.answer('HEAD', '/.well-known/acme-challenge/tok-1?x=1'), { status: 200, body: 'tok-1.thumbprint' });
  assert.deepEqual(c.answer('GET', '/.well-known/acme-challenge/tok-2'), { status: 404, body: 'no such ACME challenge token\n' });
  assert.equal(c.answer('POST', '/.well-known/acme-challenge/tok-1'), undefined, 'routed as any other request');
  assert.equal(c.answer('GET', '/.well-known/other'), undefined);
  assert.equal(c.answer('GET', '/'), undefined);
  c.set('tok-1', undefined);
  assert.equal(c.size, 0);
  assert.equal(c.answer('GET', '/.well-known/acme-challenge/tok-1')?.status, 404);
});
