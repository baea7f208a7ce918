import { test } from 'node:test';
import assert from 'node:assert/strict';
import { force, initialRiseFall, intervalFor, isUp, onError, phase, step, type RiseFall } from '../../../src/health/rise-fall.ts';

function run(s: RiseFall, results: string): string {
  // one char per check: '+' passed, '-' failed; output per check: U/D verdict and '!' on a flip
  let out = '';
  for (const c of results) {
    const r = step(s, c === '+');
    s = r.state;
    out += (r.up ? 'U' : 'D') + (r.changed ? '!' : '') + ' ';
  }
  return out.trim();
}

test('initial states follow HAProxy init-state', () => {
  assert.deepEqual(initialRiseFall(2, 3), { rise: 2, fall: 3, health: 2 });
  assert.equal(isUp(initialRiseFall(2, 3)), true);
  assert.equal(phase(initialRiseFall(2, 3)), 'going-down');
  assert.equal(initialRiseFall(2, 3, 'fully-up').health, 4);
  assert.equal(initialRiseFall(2, 3, 'down').health, 1);
  assert.equal(initialRiseFall(2, 3, 'fully-down').health, 0);
  assert.throws(() => initialRiseFall(0, 3), /rise must be an integer >= 1/);
  assert.throws(() => initialRiseFall(2, 1.5), /fall must be an integer >= 1/);
});

const table: [string, ReturnType<typeof initialRiseFall>, string, string][] = [
  ['default init: one failure takes it down', initialRiseFall(2, 3), '-', 'D!'],
  ['default init: one success makes it fully up, then fall=3 failures', initialRiseFall(2, 3), '+---', 'U U U D!'],
  ['fully up: fall failures to go down', initialRiseFall(2, 3, 'fully-up'), '---', 'U U D!'],
  ['a success in between resets the fall count', initialRiseFall(2, 3, 'fully-up'), '--+--+---', 'U U U U U U U U D!'],
  ['down: rise successes to come up', initialRiseFall(2, 3, 'fully-down'), '++', 'D U!'],
  ['a failure while rising snaps back to 0', initialRiseFall(3, 2, 'fully-down'), '++-+++', 'D D D D D U!'],
  ['init down: one success brings it up', initialRiseFall(2, 3, 'down'), '+', 'U!'],
  ['rise=1 fall=1 flips on every change', initialRiseFall(1, 1, 'fully-up'), '-+-+', 'D! U! D! U!'],
  ['repeated results do not flip again', initialRiseFall(2, 2, 'fully-up'), '-----+++++', 'U D! D D D D U! U U U'],
];

for (const [name, init, checks, want] of table) {
  test(`rise/fall: ${name}`, () => assert.equal(run(init, checks), want));
}

test('phases and intervals', () => {
  const t = { interval: 1000, fastinter: 200, downinter: 5000 };
  let s = initialRiseFall(2, 3, 'fully-up');
  assert.equal(phase(s), 'up');
  assert.equal(intervalFor(s, t), 1000);
  s = step(s, false).state;
  assert.equal(phase(s), 'going-down');
  assert.equal(intervalFor(s, t), 200);
  s = force(s, false);
  assert.equal(phase(s), 'down');
  assert.equal(intervalFor(s, t), 5000);
  s = step(s, true).state;
  assert.equal(phase(s), 'going-up');
  assert.equal(intervalFor(s, t), 200);
  assert.equal(force(s, true).health, 4);
  const same = initialRiseFall(2, 2, 'fully-up');
  assert.equal(step(same, true).state, same); // no change, same object
});

test('on-error modes from fully up (rise 2, fall 3): HAProxy 2.6 section 5.2 semantics', () => {
  const up = initialRiseFall(2, 3, 'fully-up'); // health 4
  assert.deepEqual(onError(up, 'fastinter'), { state: up, changed: false, up: true });
  assert.equal(onError(up, 'fail-check').state.health, 3);
  // sudden-death: one more failed check takes it down
  const sd = onError(up, 'sudden-death');
  assert.equal(sd.state.health, 2);
  assert.equal(sd.up, true);
  assert.equal(step(sd.state, false).changed, true);
  assert.deepEqual(onError(up, 'mark-down'), { state: { rise: 2, fall: 3, health: 0 }, changed: true, up: false });
  // a down server stays down under sudden-death
  const down = initialRiseFall(2, 3, 'fully-down');
  assert.equal(onError(down, 'sudden-death').state.health, 0);
});
