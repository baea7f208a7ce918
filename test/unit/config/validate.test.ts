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
  assert.deepEqual(Object.keys(s.properties), ['global', 'defaults', 'frontends', 'backends', 'vrrp', 'nodes']);
  // Input side: durations accept strings and numbers, not the millisecond output.
  const text = JSON.stringify(s);
  assert.ok(text.includes('"virtual_router_id":{"type":"integer","minimum":1,"maximum":255}'));
  assert.ok(text.includes('"advert_int":{"description":"Duration'));
});

test('validate: refuses an admin listener other hosts can reach (no auth yet), with file:line:column', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'halb-validate-'));
  try {
    const body = ['frontends:', '  web: { bind: "127.0.0.1:80", default_backend: app }', 'backends:', '  app: { servers: [ { name: a, address: "10.0.0.1:80" } ] }'];
    for (const [listen, ok] of [['0.0.0.0:9100', false], ['192.168.1.5:9100', false], ['"[::]:9100"', false], ['127.0.0.1:9100', true], ['"[::1]:9100"', true]] as const) {
      const file = join(dir, 'halb.yaml');
      writeFileSync(file, ['global:', `  admin: { listen: ${listen} }`, ...body].join('\n'));
      const r = await run(file);
      if (ok) {
        assert.equal(r.code, 0, `${listen}: ${r.err.join('\n')}`);
        continue;
      }
      assert.notEqual(r.code, 0, listen);
      assert.match(r.err.join('\n'), /halb\.yaml:2:\d+ global\.admin\.listen: admin listener .* is reachable from other hosts and the admin API has no authentication/, listen);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
