import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RouteTable, normaliseHost, pathOf, type RouteInput } from '../../../src/proxy/route-table.ts';
import type { RouteRule } from '../../../src/config/types.ts';

function input(over: Partial<RouteInput> & { headers?: Record<string, string> } = {}): RouteInput {
  const headers = over.headers ?? {};
  return { method: over.method ?? 'GET', host: over.host ?? 'example.com', url: over.url ?? '/', header: (n) => headers[n] };
}

const rules: RouteRule[] = [
  { where: 'r[0]', host: { kind: 'exact', value: 'API.example.com' }, backend: 'api' },
  { where: 'r[1]', host: { kind: 'suffix', value: '.static.example.com' }, backend: 'static' },
  { where: 'r[2]', host: { kind: 'wildcard', value: '*.img.example.com' }, backend: 'img' },
  { where: 'r[3]', path: { kind: 'prefix', value: '/admin' }, methods: ['post', 'PUT'], backend: 'admin-write' },
  { where: 'r[4]', path: { kind: 'exact', value: '/health' }, backend: 'health' },
  { where: 'r[5]', path: { kind: 'regex', value: '^/v[0-9]+/' }, backend: 'versioned' },
  { where: 'r[6]', headers: [{ name: 'X-Canary', match: { kind: 'exact', value: '1' } }], backend: 'canary' },
];
const table = new RouteTable(rules, 'default');

test('host matches are case-insensitive and ignore the port', () => {
  assert.equal(table.route(input({ host: 'api.EXAMPLE.com:8080' })), 'api');
  assert.equal(table.route(input({ host: 'a.static.example.com' })), 'static');
  assert.equal(table.route(input({ host: 'static.example.com' })), 'default');
  assert.equal(table.route(input({ host: 'x.y.img.example.com' })), 'img');
  assert.equal(table.route(input({ host: 'img.example.com' })), 'default');
});

test('path rules ignore the query; methods restrict', () => {
  assert.equal(table.route(input({ method: 'POST', url: '/admin/users?x=1' })), 'admin-write');
  assert.equal(table.route(input({ method: 'GET', url: '/admin/users' })), 'default');
  assert.equal(table.route(input({ url: '/health?full=1' })), 'health');
  assert.equal(table.route(input({ url: '/healthz' })), 'default');
  assert.equal(table.route(input({ url: '/v2/items' })), 'versioned');
  assert.equal(table.route(input({ url: 'http://example.com/v3/x?q' })), 'versioned');
});

test('header rules and first match wins', () => {
  assert.equal(table.route(input({ headers: { 'x-canary': '1' } })), 'canary');
  assert.equal(table.route(input({ host: 'api.example.com', headers: { 'x-canary': '1' } })), 'api');
  assert.equal(table.route(input({ headers: { 'x-canary': '0' } })), 'default');
});

test('no default backend gives undefined', () => {
  assert.equal(new RouteTable([], undefined).route(input()), undefined);
  assert.equal(new RouteTable(rules, undefined).route(input({ url: '/nothing' })), undefined);
});

test('a bad regex is reported with its place', () => {
  assert.throws(() => new RouteTable([{ where: 'frontends.web.rules[3]', path: { kind: 'regex', value: '(' }, backend: 'x' }], 'd'), /frontends\.web\.rules\[3\]\.path/);
});

test('normaliseHost and pathOf', () => {
  assert.equal(normaliseHost('[::1]:80'), '[::1]');
  assert.equal(normaliseHost('Example.COM.'), 'example.com');
  assert.equal(normaliseHost(undefined), '');
  assert.equal(pathOf('/a/b?c#d'), '/a/b');
  assert.equal(pathOf('/a#x?y'), '/a');
  assert.equal(pathOf('http://h'), '/');
  assert.equal(pathOf('*'), '*');
});
