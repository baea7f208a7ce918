import { test } from 'node:test';
import assert from 'node:assert/strict';
import { persistenceCookie, readCookie } from '../../../../src/proxy/http1/cookie-persistence.ts';

test('readCookie finds the named cookie only', () => {
  assert.equal(readCookie('a=1; SRV=web2; b=3', 'SRV'), 'web2');
  assert.equal(readCookie('XSRV=web1; SRV=web3', 'SRV'), 'web3');
  assert.equal(readCookie('SRV="web1"', 'SRV'), 'web1');
  assert.equal(readCookie('a=1', 'SRV'), undefined);
  assert.equal(readCookie(undefined, 'SRV'), undefined);
  assert.equal(readCookie('SRV=%E0%A4%A', 'SRV'), undefined);
  assert.equal(readCookie(';;;', 'SRV'), undefined);
});

test('persistenceCookie writes flags and encodes the name', () => {
  assert.equal(persistenceCookie({ name: 'SRV', mode: 'insert', httpOnly: false, secure: false }, 'web1'), 'SRV=web1; Path=/');
  assert.equal(persistenceCookie({ name: 'SRV', mode: 'insert', httpOnly: true, secure: true }, 'a b'), 'SRV=a%20b; Path=/; HttpOnly; Secure');
});
