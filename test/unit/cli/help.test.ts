// `halb --help` and `halb <command> --help` for every command: each exits 0, lists its options and
// ends with the examples/exit-status text of src/cli/help-text.ts, so a command added without
// help fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { helpAfter } from '../../../src/cli/help-text.ts';

const halb = fileURLToPath(new URL('../../../bin/halb.js', import.meta.url));
const help = (...args: string[]): string => execFileSync(process.execPath, [halb, ...args, '--help'], { encoding: 'utf8' });

test('halb --help lists every command and ends with examples', () => {
  const text = help();
  const section = text.slice(text.indexOf('Commands:'), text.indexOf('Examples:'));
  const commands = [...section.matchAll(/^ {2}([a-z]+)\b/gm)].map((m) => m[1]!).filter((c) => c !== 'help');
  assert.ok(commands.length >= 9, `found ${commands.join(' ')}`);
  assert.match(text, /Examples:\n {2}halb run --demo/);
  for (const c of commands) assert.ok(helpAfter[c] !== undefined, `no help text for "${c}"`);
});

for (const command of Object.keys(helpAfter).filter((c) => c !== '')) {
  test(`halb ${command} --help: options and the after-text`, () => {
    const text = help(command);
    assert.match(text, new RegExp(`^Usage: halb ${command} `, 'm'));
    assert.match(text, /-h, --help/);
    assert.ok(text.trimEnd().endsWith(helpAfter[command]!.trimEnd().split('\n').at(-1)!), `${command}: after-text missing`);
  });
}

test('halb lab <sub> --help works for every lab command', () => {
  for (const sub of ['start', 'fail', 'handover', 'heal', 'timeline', 'stop']) {
    assert.match(help('lab', sub), new RegExp(`Usage: halb lab ${sub}`));
  }
});
