// Reads real PEM files made by openssl in a tmp dir (the store's job is reading files).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, copyFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCertificates, loadPem } from '../../../../src/proxy/tls/certificate-store.ts';
import type { FrontendTlsConfig } from '../../../../src/config/types.ts';
import { makeCa, makeLeaf, makeMismatched } from '../../../helpers/test-certificates.ts';

const dir = mkdtempSync(join(tmpdir(), 'halb-certstore-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const ca = makeCa(dir);
const ec = makeLeaf(ca, 'a-ec', { names: ['a.test', '*.a.test'], key: 'ec' });
const rsa = makeLeaf(ca, 'a-rsa', { names: ['a.test'], key: 'rsa' });
const cnOnly = makeLeaf(ca, 'cn', { names: [], cn: 'cn.test' });
const expired = makeLeaf(ca, 'old', { names: ['old.test'], start: '20200101000000Z', end: '20200201000000Z' });
const future = makeLeaf(ca, 'future', { names: ['new.test'], start: '20400101000000Z', end: '20410101000000Z' });
const mismatched = makeMismatched(ca, 'bad', ['bad.test']);
const noKey = join(dir, 'nokey.pem');
writeFileSync(noKey, readFileSync(join(dir, 'a-ec.crt')));
const now = new Date();

function cfg(over: Partial<FrontendTlsConfig>): FrontendTlsConfig {
  return { crt: [], minVersion: 'TLSv1.2', alpn: ['http/1.1'], verify: 'none', clientCertHeader: { dn: 'X-SSL-Client-DN', verify: 'X-SSL-Client-Verify' }, ...over };
}

test('certificate store: names from SAN, CN only without SAN; key type, serial and fingerprint', () => {
  const e = loadPem(ec, now);
  assert.ok(typeof e !== 'string', String(e));
  assert.deepEqual(e.names, ['a.test', '*.a.test']);
  assert.equal(e.keyType, 'ec');
  assert.match(e.fingerprint256, /^[0-9A-F:]{95}$/);
  assert.ok(e.chain.includes(ca.ca.trim()), 'the chain keeps the CA certificate after the leaf');
  const r = loadPem(rsa, now);
  assert.ok(typeof r !== 'string' && r.keyType === 'rsa');
  const c = loadPem(cnOnly, now);
  assert.ok(typeof c !== 'string');
  assert.deepEqual(c.names, ['cn.test']);
});

test('certificate store: each refusal says why', () => {
  assert.match(String(loadPem(expired, now)), /expired on 2020-02-01T00:00:00\.000Z \(valid 2020-01-01T00:00:00\.000Z to 2020-02-01/);
  assert.match(String(loadPem(future, now)), /not valid before 2040-01-01T00:00:00\.000Z/);
  assert.match(String(loadPem(mismatched, now)), /private key does not match the certificate \(CN=bad\.test\)/);
  assert.match(String(loadPem(noKey, now)), /no private key in the file/);
  assert.match(String(loadPem(join(dir, 'none.pem'), now)), /cannot read: ENOENT/);
});

test('certificate store: crt entries in order, then crt_dir *.pem by name; problems say where', () => {
  const sub = join(dir, 'certs');
  mkdirSync(sub);
  copyFileSync(rsa, join(sub, 'b.pem'));
  copyFileSync(cnOnly, join(sub, 'a.pem'));
  writeFileSync(join(sub, 'notes.txt'), 'not a certificate');
  const ok = loadCertificates(cfg({ crt: [ec], crtDir: sub }), now);
  assert.deepEqual(ok.problems, []);
  assert.deepEqual(
    ok.certificates.map((c) => c.file),
    [ec, join(sub, 'a.pem'), join(sub, 'b.pem')],
  );
  const bad = loadCertificates(cfg({ crt: [ec, expired], crtDir: join(dir, 'missing') }), now);
  assert.deepEqual(
    bad.problems.map((p) => p.where),
    [['crt_dir'], ['crt', 1]],
  );
  const empty = join(dir, 'empty');
  mkdirSync(empty);
  assert.match(loadCertificates(cfg({ crtDir: empty }), now).problems[0]?.message ?? '', /holds no \*\.pem file/);
});
