import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyHeaderOps, compileHeaderOps, findHeader, removeHeader } from '../../../../src/proxy/http1/header-ops.ts';

test('set replaces every occurrence, add appends, del removes; case-insensitive', () => {
  const ops = compileHeaderOps([
    { action: 'set', name: 'X-Env', value: 'prod' },
    { action: 'add', name: 'Via', value: 'halb' },
    { action: 'del', name: 'server' },
  ]);
  const h = applyHeaderOps(ops, ['x-env', 'a', 'Server', 'nginx', 'X-ENV', 'b', 'Via', 'proxy1', 'Keep', 'me']);
  assert.deepEqual(h, ['Via', 'proxy1', 'Keep', 'me', 'X-Env', 'prod', 'Via', 'halb']);
});

test('findHeader and removeHeader', () => {
  const h = ['A', '1', 'b', '2', 'a', '3'];
  assert.equal(findHeader(h, 'a'), '1');
  assert.equal(findHeader(h, 'c'), undefined);
  removeHeader(h, 'a');
  assert.deepEqual(h, ['b', '2']);
});
