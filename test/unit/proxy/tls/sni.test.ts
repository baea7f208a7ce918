import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SniIndex, type SniCandidate } from '../../../../src/proxy/tls/sni.ts';

const certs: SniCandidate[] = [
  { names: ['a.test', 'www.a.test'], keyType: 'ec' }, // 0: the default
  { names: ['a.test'], keyType: 'rsa' }, // 1: a.test's RSA sibling
  { names: ['*.w.test'], keyType: 'ec' }, // 2
  { names: ['exact.w.test'], keyType: 'ec' }, // 3
  { names: ['a.test'], keyType: 'ec' }, // 4: a second ECDSA for a.test: never chosen
  { names: ['B.Test.'], keyType: 'rsa' }, // 5
];
const index = new SniIndex(certs);

test('sni: an exact name gets every key type for it, first per type in config order', () => {
  assert.deepEqual(index.select('a.test'), [0, 1]);
  assert.deepEqual(index.select('www.a.test'), [0]);
});

test('sni: a wildcard stands for exactly one label, and an exact name beats it', () => {
  assert.deepEqual(index.select('x.w.test'), [2]);
  assert.deepEqual(index.select('exact.w.test'), [3]);
  assert.deepEqual(index.select('w.test'), index.fallback);
  assert.deepEqual(index.select('a.b.w.test'), index.fallback);
});

test('sni: names compare without case and trailing dot', () => {
  assert.deepEqual(index.select('A.TEST'), [0, 1]);
  assert.deepEqual(index.select('b.test'), [5]);
  assert.deepEqual(index.select('X.W.Test.'), [2]);
});

test('sni: no name or an unknown name gets the first certificate and its siblings for its first name', () => {
  assert.deepEqual(index.fallback, [0, 1]);
  assert.deepEqual(index.select(undefined), [0, 1]);
  assert.deepEqual(index.select(''), [0, 1]);
  assert.deepEqual(index.select('other.test'), [0, 1]);
});

test('sni: a wildcard default and an empty set', () => {
  assert.deepEqual(new SniIndex([{ names: ['*.w.test'], keyType: 'rsa' }, { names: ['*.w.test'], keyType: 'ec' }]).fallback, [0, 1]);
  assert.deepEqual(new SniIndex([]).select('a.test'), []);
});
