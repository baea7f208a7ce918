// The config of TLS front-door features: redirect, hsts, client certificates. Errors carry
// line:column and the key path; accepted configs normalise to what the proxy reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../../src/config/load.ts';
import { explain } from '../../../src/config/explain.ts';

function parse(...lines: string[]) {
  return parseConfigText(lines.join('\n') + '\n', 'halb.yaml');
}

function problems(...lines: string[]): string[] {
  const r = parse(...lines);
  assert.equal(r.ok, false, 'expected the config to be rejected');
  return r.ok ? [] : r.errors.map((e) => `${e.line}:${e.column} ${e.path}: ${e.message}`);
}

const BACKEND = ['backends:', '  web: { servers: [ { name: w, address: "10.0.0.1:80" } ] }'];

test('redirect: https alone needs no backend; the default code is 301; code and port are kept', () => {
  const r = parse(
    'frontends:',
    '  http: { bind: ":80", redirect: https }',
    '  http2: { bind: ":81", redirect: { to: https, code: 308, port: 8443 } }',
    '  tls: { bind: ":443", default_backend: web, tls: { crt: a.pem }, hsts: { max_age: 365d, include_subdomains: true, preload: true } }',
    '  tls2: { bind: ":444", default_backend: web, tls: { crt: a.pem }, hsts: { max_age: 600 } }',
    ...BACKEND,
  );
  assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
  assert.deepEqual(r.config.frontends.map((f) => f.redirect), [{ code: 301 }, { code: 308, port: 8443 }, undefined, undefined]);
  assert.deepEqual(r.config.frontends.map((f) => f.hsts), [undefined, undefined, 'max-age=31536000; includeSubDomains; preload', 'max-age=600']);
});

test('redirect and hsts: refused where they cannot work, with the place', () => {
  assert.deepEqual(
    problems(
      'frontends:',
      '  a: { bind: ":443", default_backend: web, tls: { crt: a.pem }, redirect: https }',
      '  b: { bind: ":80", default_backend: web, hsts: { max_age: 1d } }',
      '  c: { bind: ":444", default_backend: web, tls: { crt: a.pem }, hsts: { max_age: 1d, preload: true } }',
      ...BACKEND,
    ),
    [
      '2:75 frontends.a.redirect: redirect: https on a TLS frontend would send clients back to itself: put it on the plain (port 80) frontend',
      '3:43 frontends.b.hsts: hsts needs tls on this frontend (browsers ignore Strict-Transport-Security over plain http)',
      '4:95 frontends.c.hsts.preload: hsts preload needs include_subdomains: true and max_age of at least 365d (the preload list refuses less)',
    ],
  );
  assert.deepEqual(problems('frontends:', '  d: { bind: ":81", redirect: { to: https, code: 200 } }', ...BACKEND), [
    '2:50 frontends.d.redirect.code: expected 301 or 302 or 303 or 307 or 308, got number 200',
  ]);
});

test('client certificates: verify needs ca_file, ca_file and the headers need verify', () => {
  assert.deepEqual(
    problems(
      'frontends:',
      '  e: { bind: ":445", default_backend: web, tls: { crt: a.pem, verify: optional } }',
      '  f: { bind: ":446", default_backend: web, tls: { crt: a.pem, ca_file: ca.pem, client_cert_header: { dn: X-DN } } }',
      ...BACKEND,
    ),
    [
      '2:71 frontends.e.tls.verify: verify optional checks client certificates against ca_file: set ca_file',
      '3:72 frontends.f.tls.ca_file: ca_file is read only with verify optional or required (client certificates)',
      '3:80 frontends.f.tls.client_cert_header: client_cert_header needs verify optional or required',
    ],
  );
});

test('explain: client certificates, hsts and redirect are shown', () => {
  const r = parse(
    'frontends:',
    '  http: { bind: "127.0.0.1:80", redirect: https }',
    '  tls: { bind: "127.0.0.1:443", default_backend: web, tls: { crt: a.pem, verify: required, ca_file: ca.pem }, hsts: { max_age: 600 } }',
    ...BACKEND,
  );
  assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
  const text = explain(r.config).join('\n');
  assert.match(text, /frontend http \(http\) on 127\.0\.0\.1:80 redirect to https \(301\)\n/);
  assert.match(text, /frontend tls \(http\) on 127\.0\.0\.1:443 tls \(min TLSv1\.2, 1 crt, client certificates required\) hsts \(max-age=600\)/);
});
