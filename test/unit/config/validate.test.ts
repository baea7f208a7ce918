import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { validateCommand } from '../../../src/cli/validate.ts';
import { jsonSchemaText, configJsonSchema } from '../../../src/config/json-schema.ts';

async function run(file: string, explain = false) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await validateCommand(file, { explain, out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

test('validate: ok summary and --explain in evaluation order', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'halb-validate-'));
  try {
    const file = join(dir, 'halb.yaml');
    writeFileSync(
      file,
      [
        'frontends:',
        '  web:',
        '    bind: "127.0.0.1:80"',
        '    default_backend: app',
        '    rules:',
        '      - { host: "*.example.com", path_prefix: /api, backend: api }',
        '      - { method: POST, header: { name: X-Canary }, backend: api }',
        'backends:',
        '  app: { servers: [ { name: a, address: "10.0.0.1:80" }, { name: b, address: "10.0.0.2:80", backup: true } ] }',
        '  api: { balance: leastconn, health: { http: { path: /h } }, servers: [ { name: c, address: "10.0.0.3:80", weight: 3 } ] }',
      ].join('\n'),
    );
    const r = await run(file, true);
    assert.equal(r.code, 0);
    assert.deepEqual(r.err, []);
    assert.equal(r.out[0], 'ok: 1 frontend, 2 backends (3 servers)');
    assert.equal(r.out[1], 'frontend web (http) on 127.0.0.1:80');
    assert.match(r.out[2]!, /^ {2}1\. host \*\.example\.com and path \/api\* +-> api {3}\(frontends\.web\.rules\[0\]\)$/);
    assert.match(r.out[3]!, /^ {2}2\. method POST and header x-canary present +-> api {3}\(frontends\.web\.rules\[1\]\)$/);
    assert.match(r.out[4]!, /^ {2}default +-> app$/);
    assert.ok(r.out.some((l) => l.startsWith('backend api (http): leastconn, http GET /h check every 2s (rise 2, fall 3)')));
    assert.ok(r.out.includes('    b 10.0.0.2:80 (backup)'));
    assert.ok(r.out.includes('    c 10.0.0.3:80 (weight 3)'));

    writeFileSync(file, 'frontends:\n  g:\n    bind: "127.0.0.1:81"\n    default_backend: app\n    h2c: true\n    h2: { max_concurrent_streams: 50 }\nbackends:\n  app: { servers: [ { name: a, address: "10.0.0.1:80" } ] }\n');
    const h2 = await run(file, true);
    assert.equal(h2.out[1], 'frontend g (http) on 127.0.0.1:81 h2c (50 streams, 65536 B headers, window 65535, 200 resets/10s)');

    writeFileSync(file, 'backends:\n  app:\n    servers: [ { name: a, address: "10.0.0.1:80", wieght: 2 } ]\n    retries: -1\n');
    const bad = await run(file);
    assert.equal(bad.code, 1);
    assert.deepEqual(bad.out, []);
    assert.deepEqual(bad.err, [
      `${file}:3:51 backends.app.servers[0].wieght: unknown key "wieght", did you mean "weight"?`,
      `${file}:4:14 backends.app.retries: must be 0..100, got -1`,
      `2 errors in ${file}`,
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('validate: the embedded demo', async () => {
  const r = await run('<demo>');
  assert.equal(r.code, 0);
  assert.deepEqual(r.out, ['ok: 1 frontend, 1 backend (3 servers)']);
});

test('JSON Schema: committed halb.schema.json is up to date and strict', () => {
  const committed = readFileSync(new URL('../../../halb.schema.json', import.meta.url), 'utf8');
  assert.equal(committed, jsonSchemaText(), 'regenerate with: npm run schema > halb.schema.json');
  const s = configJsonSchema() as { additionalProperties: boolean; properties: Record<string, unknown> };
  assert.equal(s.additionalProperties, false);
  assert.deepEqual(Object.keys(s.properties), ['global', 'defaults', 'frontends', 'backends', 'vrrp', 'bgp', 'nodes']);
  // Input side: durations accept strings and numbers, not the millisecond output.
  const text = JSON.stringify(s);
  assert.ok(text.includes('"virtual_router_id":{"type":"integer","minimum":1,"maximum":255}'));
  assert.ok(text.includes('"advert_int":{"description":"Duration'));
});

test('validate: admin channels, each refusal with file:line and the key that causes it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'halb-validate-'));
  try {
    const token = join(dir, 'admin.token');
    writeFileSync(token, 'a'.repeat(32) + '\n', { mode: 0o600 });
    const open = join(dir, 'open.token');
    writeFileSync(open, 'b'.repeat(32), { mode: 0o644 });
    const short = join(dir, 'short.token');
    writeFileSync(short, 'abc', { mode: 0o600 });
    const body = ['frontends:', '  web: { bind: "127.0.0.1:80", default_backend: app }', 'backends:', '  app: { servers: [ { name: a, address: "10.0.0.1:80" } ] }'];
    // [admin mapping, error (undefined: valid)]
    const cases: [string, RegExp | undefined][] = [
      ['{ socket: /run/halb/admin.sock }', undefined],
      ['{ socket: /run/halb/admin.sock, mode: 600, group: halb }', undefined],
      ['{ socket: /run/halb/admin.sock, mode: "0660", user: 0 }', undefined],
      ['{ listen: 127.0.0.1:9100, read_only_open: true }', undefined],
      ['{ listen: "[::1]:9100", read_only_open: true }', undefined],
      [`{ listen: 0.0.0.0:9100, token_file: ${token} }`, undefined],
      [`{ listen: 192.168.1.5:9100, tls: { cert_file: ${token}, key_file: ${token}, ca_file: ${token} } }`, undefined],
      ['{ listen: 127.0.0.1:9100, token_env: HALB_TEST_ADMIN_TOKEN }', undefined],
      // Other hosts could reach it and nothing says who they are, read-only or not.
      ['{ listen: 0.0.0.0:9100 }', /2:\d+ global\.admin\.listen: admin listener 0\.0\.0\.0:9100 is reachable from other hosts without authentication/],
      ['{ listen: 192.168.1.5:9100, read_only_open: true }', /2:\d+ global\.admin\.listen: admin listener 192\.168\.1\.5:9100 is reachable from other hosts without authentication/],
      ['{ listen: "[::]:9100", socket: /run/halb/admin.sock }', /2:\d+ global\.admin\.listen: .* reachable from other hosts without authentication/],
      // TLS without ca_file is encryption, not authentication.
      [`{ listen: 10.0.0.5:9100, tls: { cert_file: ${token}, key_file: ${token} } }`, /global\.admin\.listen: .* reachable from other hosts without authentication/],
      ['{ listen: 127.0.0.1:9100 }', /2:\d+ global\.admin\.listen: admin listener 127\.0\.0\.1:9100 has no token_file, token_env or tls\.ca_file, so it would answer nothing/],
      ['{ mode: 600 }', /global\.admin: admin needs socket .* and\/or listen/],
      ['{ socket: run/admin.sock }', /global\.admin\.socket: socket must be an absolute path, got "run\/admin\.sock"/],
      ['{ socket: /run/halb/admin.sock, mode: 668 }', /global\.admin\.mode: mode must be octal permission digits like 660 or "0600", got 668/],
      ['{ listen: 127.0.0.1:9100, mode: 600, read_only_open: true }', /global\.admin\.mode: mode is a property of the unix socket: set socket too/],
      ['{ socket: /run/halb/admin.sock, token_env: X_TOKEN }', /global\.admin\.token_env: token_env is a property of the TCP listener: set listen too/],
      [`{ listen: 127.0.0.1:9100, token_file: ${token}, token_env: X_TOKEN }`, /global\.admin\.token_env: give token_file or token_env, not both/],
      [`{ listen: 127.0.0.1:9100, read_only_open: true, tls: { cert_file: ${token}, key_file: ${token}, verify: optional } }`, /global\.admin\.tls\.verify: verify checks client certificates against tls\.ca_file: set ca_file/],
      ['{ listen: 127.0.0.1:9100, token_env: "not a name" }', /global\.admin\.token_env: an environment variable name/],
      // Checked against this host: the token has to be there and private.
      [`{ listen: 127.0.0.1:9100, token_file: ${open} }`, /2:\d+ global\.admin\.token_file: admin\.token_file .*open\.token: readable by other users \(mode 644\)/],
      [`{ listen: 127.0.0.1:9100, token_file: ${short} }`, /global\.admin\.token_file: .*token is 3 bytes, at least 16 needed/],
      [`{ listen: 127.0.0.1:9100, token_file: ${join(dir, 'none')} }`, /global\.admin\.token_file: .*cannot read: ENOENT/],
      ['{ listen: 127.0.0.1:9100, token_env: HALB_TEST_UNSET_TOKEN }', /global\.admin\.token_env: admin\.token_env HALB_TEST_UNSET_TOKEN: the environment variable is not set/],
      [`{ listen: 127.0.0.1:9100, tls: { cert_file: ${join(dir, 'none.pem')}, key_file: ${token}, ca_file: ${token} } }`, /global\.admin\.tls\.cert_file: .*none\.pem: cannot read: ENOENT/],
    ];
    process.env.HALB_TEST_ADMIN_TOKEN = 'c'.repeat(24);
    for (const [admin, error] of cases) {
      const file = join(dir, 'halb.yaml');
      writeFileSync(file, ['global:', `  admin: ${admin}`, ...body].join('\n'));
      const r = await run(file);
      if (error === undefined) {
        assert.equal(r.code, 0, `${admin}: ${r.err.join('\n')}`);
        continue;
      }
      assert.notEqual(r.code, 0, admin);
      // Every error carries file:line:column.
      assert.match(r.err.join('\n'), new RegExp(`halb\\.yaml:${error.source.startsWith('2:') ? '' : '\\d+:\\d+ '}${error.source}`), admin);
    }
  } finally {
    delete process.env.HALB_TEST_ADMIN_TOKEN;
    rmSync(dir, { recursive: true, force: true });
  }
});
