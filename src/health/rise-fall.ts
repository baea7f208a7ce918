// HAProxy's check health counter, as a pure function. `health` runs from 0 to rise+fall-1; the
// server is UP while health >= rise. A failed check decrements it, and once it drops below
// `rise` it snaps to 0 (DOWN); a passed check increments it, and once it reaches `rise` it snaps
// to rise+fall-1 (fully UP). So from fully up it takes `fall` failures to go down, from down it
// takes `rise` successes to come up.
//
// Initial state follows HAProxy's default `init-state up`: the server starts UP with
// health = rise, so it takes traffic at once, one passing check makes it fully up, and a single
// failing check takes it DOWN (HAProxy configuration manual, server "init-state": "up (the
// default): the server is considered immediately available and will initiate a health check
// that can turn it to the DOWN state immediately if it fails").

export interface RiseFall {
  readonly rise: number;
  readonly fall: number;
  /** 0 .. rise+fall-1; up while >= rise. */
  readonly health: number;
}

/** Where the counter is: fully up/down, or between ("UP, going down" / "DOWN, going up"). */
export type Phase = 'up' | 'going-down' | 'down' | 'going-up';

export type InitState = 'up' | 'fully-up' | 'down' | 'fully-down';

export function initialRiseFall(rise: number, fall: number, init: InitState = 'up'): RiseFall {
  if (!Number.isInteger(rise) || rise < 1) throw new RangeError(`health: rise must be an integer >= 1, got ${rise}`);
  if (!Number.isInteger(fall) || fall < 1) throw new RangeError(`health: fall must be an integer >= 1, got ${fall}`);
  const max = rise + fall - 1;
  const health = init === 'fully-up' ? max : init === 'up' ? rise : init === 'down' ? rise - 1 : 0;
  return { rise, fall, health };
}

export function isUp(s: RiseFall): boolean {
  return s.health >= s.rise;
}

export function phase(s: RiseFall): Phase {
  if (s.health >= s.rise) return s.health === s.rise + s.fall - 1 ? 'up' : 'going-down';
  return s.health === 0 ? 'down' : 'going-up';
}

export interface StepResult {
  state: RiseFall;
  /** The up/down verdict flipped on this check. */
  changed: boolean;
  up: boolean;
}

export function step(s: RiseFall, passed: boolean): StepResult {
  const max = s.rise + s.fall - 1;
  let health = s.health;
  if (passed) {
    if (health < max) {
      health++;
      if (health >= s.rise) health = max;
    }
  } else if (health > 0) {
    health--;
    if (health < s.rise) health = 0;
  }
  const wasUp = s.health >= s.rise;
  const up = health >= s.rise;
  return { state: health === s.health ? s : { rise: s.rise, fall: s.fall, health }, changed: up !== wasUp, up };
}

/** Force the verdict (passive mark-down, admin): fully down or fully up. */
export function force(s: RiseFall, up: boolean): RiseFall {
  return { rise: s.rise, fall: s.fall, health: up ? s.rise + s.fall - 1 : 0 };
}

/** Check interval for the phase: HAProxy's inter / fastinter / downinter. */
export function intervalFor(s: RiseFall, t: { interval: number; fastinter: number; downinter: number }): number {
  const p = phase(s);
  return p === 'up' ? t.interval : p === 'down' ? t.downinter : t.fastinter;
}

import type { OnError } from '../config/types.ts';

export type { OnError };

/**
 * The counter after a passive error-limit (HAProxy 2.6, 5.2 "on-error"): fastinter leaves it,
 * fail-check counts one failed check, sudden-death leaves one failed check to DOWN (a pre-fatal
 * failure), mark-down goes fully down. Every mode then checks again at fastinter.
 */
export function onError(s: RiseFall, mode: OnError): StepResult {
  const wasUp = isUp(s);
  let state = s;
  if (mode === 'fail-check') state = step(s, false).state;
  else if (mode === 'mark-down') state = force(s, false);
  else if (mode === 'sudden-death' && s.health > s.rise) state = { rise: s.rise, fall: s.fall, health: s.rise };
  const up = isUp(state);
  return { state, changed: up !== wasUp, up };
}
