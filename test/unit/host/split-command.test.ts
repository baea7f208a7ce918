import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { splitCommand } from '../../../src/host/split-command.ts';

describe('splitCommand (keepalived quoting)', () => {
  it('splits on whitespace', () => {
    assert.deepEqual(splitCommand('/etc/keepalived/master.sh'), ['/etc/keepalived/master.sh']);
    assert.deepEqual(splitCommand('  /path/fault.sh   VG_1\tx '), ['/path/fault.sh', 'VG_1', 'x']);
  });
  it('follows the keepalived.conf(5) examples', () => {
    assert.deepEqual(splitCommand(`abcd" efg h jkl "mnop`), ['abcd efg h jkl mnop']);
    assert.deepEqual(splitCommand(`abcd "efg h jkl" mnop`), ['abcd', 'efg h jkl', 'mnop']);
    assert.deepEqual(splitCommand(`/bin/notify.sh 'two words' ""`), ['/bin/notify.sh', 'two words', '']);
  });
  it('handles escapes', () => {
    assert.deepEqual(splitCommand(String.raw`a\ b "c\"d" e\\f \n`), ['a b', 'c"d', 'e\\f', '\n']);
  });
  it('rejects an unterminated quote and an empty command', () => {
    assert.throws(() => splitCommand(`/x.sh "oops`), /unterminated " quote/);
    assert.throws(() => splitCommand('   '), /empty/);
  });
});
