// The admin API's access decisions, every channel and credential combination, without sockets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideAccess, type AccessFacts, type AdminChannel } from '../../../src/admin/access.ts';
import { sameSecret, readAdminToken } from '../../../src/admin/admin-token.ts';

const tool: AccessFacts = { stateChanging: false, bearer: 'none', clientCert: 'none', browser: false, csrf: 'none' };
const socket: AdminChannel = { kind: 'socket' };
const tcp = (o: Partial<Extract<AdminChannel, { kind: 'tcp' }>> = {}): AdminChannel => ({ kind: 'tcp', token: false, mtls: false, readOnlyOpen: false, ...o });
const post = { ...tool, stateChanging: true };

function refused(channel: AdminChannel, facts: AccessFacts, status: number, error: RegExp): void {
  const d = decideAccess(channel, facts);
  assert.equal(d.allow, false, JSON.stringify(facts));
  if (!d.allow) {
    assert.equal(d.status, status, d.error);
    assert.match(d.error, error);
  }
}

test('unix socket: tools may do everything; a browser (forwarded socket) needs the CSRF token', () => {
  assert.ok(decideAccess(socket, tool).allow);
  assert.ok(decideAccess(socket, post).allow);
  refused(socket, { ...post, browser: true }, 403, /without the dashboard's X-Halb-CSRF token/);
  refused(socket, { ...post, browser: true, csrf: 'invalid' }, 403, /does not match this process/);
  assert.ok(decideAccess(socket, { ...post, browser: true, csrf: 'valid' }).allow);
  refused(socket, { ...post, browser: true, csrf: 'valid', foreign: 'cross-site request refused' }, 403, /cross-site/);
});

test('TCP with a token: every call needs it unless read_only_open; a wrong one is always refused', () => {
  const c = tcp({ token: true });
  refused(c, tool, 401, /read-only view needs Authorization: Bearer <token>$/);
  refused(c, post, 401, /state-changing call needs Authorization: Bearer/);
  refused(c, { ...post, bearer: 'invalid' }, 401, /bearer token refused/);
  assert.ok(decideAccess(c, { ...post, bearer: 'valid' }).allow);
  // A bearer token cannot be attached by another site's page: no CSRF token needed with it.
  assert.ok(decideAccess(c, { ...post, bearer: 'valid', browser: true }).allow);
  refused(c, { ...post, bearer: 'valid', foreign: 'cross-site request refused' }, 403, /cross-site/);
  const open = tcp({ token: true, readOnlyOpen: true });
  assert.ok(decideAccess(open, tool).allow);
  refused(open, { ...tool, bearer: 'invalid' }, 401, /bearer token refused/);
  refused(open, post, 401, /state-changing call needs/);
});

test('TCP with mTLS: a verified certificate authenticates, and a browser needs the CSRF token too', () => {
  const c = tcp({ mtls: true });
  refused(c, tool, 401, /a client certificate signed by tls\.ca_file/);
  refused(c, { ...post, clientCert: 'unverified' }, 401, /not signed by the admin tls\.ca_file/);
  assert.ok(decideAccess(c, { ...post, clientCert: 'verified' }).allow);
  refused(c, { ...post, clientCert: 'verified', browser: true }, 403, /X-Halb-CSRF/);
  assert.ok(decideAccess(c, { ...post, clientCert: 'verified', browser: true, csrf: 'valid' }).allow);
  // A bearer sent to a listener without a token is a wrong token.
  refused(c, { ...post, clientCert: 'verified', bearer: 'invalid' }, 401, /bearer token refused/);
  const both = tcp({ mtls: true, token: true });
  refused(both, post, 401, /Bearer <token> or a client certificate/);
  assert.ok(decideAccess(both, { ...post, bearer: 'valid' }).allow);
});

test('TCP without token or mTLS: read-only views only with read_only_open, state changes never', () => {
  refused(tcp(), tool, 403, /has no token_file, token_env or tls\.ca_file/);
  const open = tcp({ readOnlyOpen: true });
  assert.ok(decideAccess(open, tool).allow);
  refused(open, post, 403, /change state through the unix socket/);
  refused(open, { ...post, browser: true, csrf: 'valid' }, 403, /unix socket/);
});

test('secrets: compared whole, any length; a token file or variable is checked before use', () => {
  const t = Buffer.from('s3cret-token-0123456789');
  assert.equal(sameSecret('s3cret-token-0123456789', t), true);
  assert.equal(sameSecret('s3cret-token-012345678', t), false);
  assert.equal(sameSecret('s3cret-token-01234567890', t), false);
  assert.equal(sameSecret('', t), false);
  assert.deepEqual(readAdminToken({ env: 'T' }, { T: ' abcdefghijklmnopq\n' }), Buffer.from('abcdefghijklmnopq'));
  assert.throws(() => readAdminToken({ env: 'T' }, {}), /admin\.token_env T: the environment variable is not set/);
  assert.throws(() => readAdminToken({ env: 'T' }, { T: 'short' }), /token is 5 bytes, at least 16/);
  assert.throws(() => readAdminToken({ env: 'T' }, { T: 'abcdefgh ijklmnopq' }), /whitespace/);
});
