import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clientVerdict, distinguishedName } from '../../../../src/proxy/tls/client-certificate.ts';

const none = { verifyError: undefined, hasCertificate: false };
const good = { verifyError: undefined, hasCertificate: true };
const bad = { verifyError: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', hasCertificate: true };

test('client certificate: required refuses none and a bad one, accepts a verified one', () => {
  assert.deepEqual(clientVerdict('required', none), { ok: false, reason: 'no client certificate (verify required)' });
  assert.deepEqual(clientVerdict('required', bad), { ok: false, reason: 'client certificate refused: UNABLE_TO_GET_ISSUER_CERT_LOCALLY' });
  assert.deepEqual(clientVerdict('required', good), { ok: true, verified: true });
});

test('client certificate: optional accepts none (unverified), refuses a bad one', () => {
  assert.deepEqual(clientVerdict('optional', none), { ok: true, verified: false });
  assert.equal(clientVerdict('optional', bad).ok, false);
  assert.deepEqual(clientVerdict('optional', good), { ok: true, verified: true });
});

test('client certificate: none asks nothing and verifies nothing', () => {
  assert.deepEqual(clientVerdict('none', good), { ok: true, verified: false });
});

test('client certificate: the subject in HAProxy\'s /K=V form, a slash in a value escaped', () => {
  assert.equal(distinguishedName('C=FR\nO=Org\nCN=client one'), '/C=FR/O=Org/CN=client one');
  assert.equal(distinguishedName('CN=a/b'), '/CN=a\\/b');
  assert.equal(distinguishedName(''), '');
});
