// Config fuzzing: seeded mutations of the example files through load + validate, in process.
// Nothing may throw; every refusal is a located ConfigError inside the file. Replay a failure with
// HALB_FUZZ_SEED=<printed seed> node --test test/unit/config/fuzz.test.ts
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { parseConfigText, parsePairText } from '../../../src/config/load.ts';
import { importConfigs } from '../../../src/config/import.ts';
import { formatConfigError, type ConfigError } from '../../../src/config/errors.ts';
import { seededRandom as rng } from '../vrrp/seeded-random.ts';

const EXAMPLES = new URL('../../../examples/', import.meta.url);
const CASES = 3000;
const IMPORT_CASES = 1000;
const FIXTURES = new URL('../../fixtures/seed-haproxy-keepalived/', import.meta.url);

const SCALARS = ['-1', '0', '256', '99999999999999999999', '1.5', 'true', 'null', '~', '""', '"x"', '[]', '{}', '[1, 2]', '{ a: 1 }',
  '1.2.3.4.5', '300.1.1.1:80', '[::1', '*:70000', '5xs', '-2s', 'MASTER', 'BACKUP', '&a', '*a', '!!binary x', '"\\u0000"', '<<: *x', '|', '>'];

function mutate(text: string, r: () => number): { text: string; how: string } {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const lines = text.split('\n');
  const i = Math.floor(r() * lines.length);
  const line = lines[i] ?? '';
  const kind = pick(['delete', 'duplicate', 'retype', 'scalar', 'indent', 'bytes', 'truncate', 'swap-key', 'many']);
  switch (kind) {
    case 'delete':
      lines.splice(i, 1);
      break;
    case 'duplicate':
      lines.splice(i, 0, line);
      break;
    case 'retype':
    case 'scalar': {
      // Replace a value after "key:" (block or flow) with another type or a wrong scalar.
      const m = /^(.*?[A-Za-z_-]+:\s*)(.+)$/.exec(line);
      lines[i] = m ? `${m[1]}${pick(SCALARS)}` : `${line} ${pick(SCALARS)}`;
      break;
    }
    case 'indent': {
      const d = pick([-4, -2, -1, 1, 2, 3]);
      lines[i] = d > 0 ? ' '.repeat(d) + line : line.slice(Math.min(-d, line.length - line.trimStart().length));
      break;
    }
    case 'bytes': {
      const at = Math.floor(r() * (line.length + 1));
      const junk = Array.from({ length: 1 + Math.floor(r() * 6) }, () => String.fromCharCode(Math.floor(r() * 256))).join('');
      lines[i] = line.slice(0, at) + junk + line.slice(at);
      break;
    }
    case 'truncate':
      return { text: text.slice(0, Math.floor(r() * text.length)), how: kind };
    case 'swap-key': {
      // A known key name moved to a place it does not belong.
      lines[i] = line.replace(/^(\s*)([A-Za-z_-]+):/, (_, sp: string) => `${sp}${pick(['priority', 'servers', 'bind', 'nodes', 'vrrp', 'unicast', 'address', 'weight'])}:`);
      break;
    }
    case 'many': {
      let t = lines.join('\n');
      for (let k = 0; k < 3; k++) t = mutate(t, r).text;
      return { text: t, how: kind };
    }
  }
  return { text: lines.join('\n'), how: `${kind} line ${i + 1}` };
}

function checkErrors(errors: ConfigError[], file: string, text: string, ctx: string): void {
  const lineCount = text.split('\n').length;
  assert.ok(errors.length > 0, `${ctx}: refused without a reason`);
  for (const e of errors) {
    const shown = formatConfigError(e);
    assert.equal(e.file, file, `${ctx}: ${shown}`);
    assert.ok(Number.isInteger(e.line) && e.line >= 1 && e.line <= lineCount, `${ctx}: line outside the file: ${shown}`);
    assert.ok(Number.isInteger(e.column) && e.column >= 1, `${ctx}: no column: ${shown}`);
    assert.ok(e.message.length > 0 && !/\n\s+at /.test(e.message), `${ctx}: message is a stack trace: ${shown}`);
  }
}

test('mutated example configs: no exception, every error located inside the file', () => {
  const seed = Number(process.env['HALB_FUZZ_SEED'] ?? Math.floor(Math.random() * 2 ** 32));
  console.log(`config fuzz seed ${seed} (replay: HALB_FUZZ_SEED=${seed})`);
  const r = rng(seed);
  const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml')).sort();
  assert.ok(files.length >= 3, 'examples/*.yaml');
  const texts = files.map((f) => readFileSync(new URL(f, EXAMPLES), 'utf8'));
  let refused = 0;
  let accepted = 0;
  for (let n = 0; n < CASES; n++) {
    const k = n % files.length;
    const { text, how } = mutate(texts[k] as string, r);
    const name = files[k] as string;
    const ctx = `seed ${seed} case ${n} (${name}, ${how})`;
    for (const result of [parsePairText(text, name), parseConfigText(text, name, { node: 'lb1' }), parseConfigText(text, name, { hostname: 'lb2' })]) {
      if (result.ok) accepted++;
      else {
        refused++;
        checkErrors(result.errors, name, text, ctx);
      }
    }
  }
  console.log(`config fuzz: ${CASES} mutations x 3 loads over ${files.length} files: ${refused} refused (all located), ${accepted} accepted`);
});

test('mutated haproxy.cfg/keepalived.conf through import + load: no exception, located problems', () => {
  const seed = Number(process.env['HALB_FUZZ_SEED'] ?? Math.floor(Math.random() * 2 ** 32));
  console.log(`import fuzz seed ${seed} (replay: HALB_FUZZ_SEED=${seed})`);
  const r = rng(seed);
  const names = readdirSync(FIXTURES).filter((f) => /\.(cfg|conf)$/.test(f)).sort();
  assert.deepEqual(names, ['haproxy.cfg', 'keepalived-backup.conf', 'keepalived-master.conf']);
  const originals = names.map((name) => ({ name, text: readFileSync(new URL(name, FIXTURES), 'utf8') }));
  let located = 0;
  for (let n = 0; n < IMPORT_CASES; n++) {
    const k = n % originals.length;
    const { text, how } = mutate((originals[k] as { text: string }).text, r);
    const files = originals.map((f, i) => (i === k ? { name: f.name, text } : f));
    const ctx = `seed ${seed} case ${n} (${names[k]}, ${how})`;
    const result = importConfigs(files);
    for (const w of result.warnings) {
      const lines = files.find((f) => f.name === w.file)?.text.split('\n').length;
      assert.ok(lines !== undefined, `${ctx}: warning names no input file: ${JSON.stringify(w)}`);
      assert.ok(w.line >= 0 && w.line <= lines, `${ctx}: warning outside the file: ${JSON.stringify(w)}`);
    }
    for (const node of result.nodes) {
      for (const e of node.errors) {
        assert.match(e, new RegExp(`^${node.node}\\.yaml:\\d+:\\d+ `), `${ctx}: unlocated: ${e}`);
        located++;
      }
    }
  }
  console.log(`import fuzz: ${IMPORT_CASES} mutations: ${located} problems in the imported halb.yaml, all located`);
});
