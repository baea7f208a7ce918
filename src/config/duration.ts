// Durations as users write them ("2s", "500ms", "1m30s", "1.5s", or a bare number) -> milliseconds.
// Bare numbers are seconds by default because that is what keepalived users type (`advert_int 1`,
// `interval 2`); HAProxy's bare-milliseconds convention is available with { bareUnit: 'ms' }
// for the importer.

import type { Millis } from './types.ts';

const UNIT_MS: Record<string, number> = {
  us: 0.001,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const PART = /(\d+(?:\.\d+)?|\.\d+)(us|ms|s|m|h|d)/y;

export interface DurationOptions {
  /** Unit of a number without a unit. Default 's'. */
  bareUnit?: 's' | 'ms';
}

export class DurationError extends Error {
  override name = 'DurationError';
}

/** Parses a duration; throws DurationError with a message fit to show the user. */
export function parseDuration(input: string | number, options: DurationOptions = {}): Millis {
  const bareMs = options.bareUnit === 'ms' ? 1 : 1000;
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) {
      throw new DurationError(`duration must be a non-negative number, got ${String(input)}`);
    }
    return roundMs(input * bareMs);
  }
  const text = input.trim();
  if (text === '') throw new DurationError('duration is empty; write e.g. "2s", "500ms", "1m"');
  if (/^\d+(?:\.\d+)?$/.test(text)) return roundMs(Number(text) * bareMs);
  let total = 0;
  PART.lastIndex = 0;
  let pos = 0;
  while (pos < text.length) {
    PART.lastIndex = pos;
    const m = PART.exec(text);
    if (!m) {
      throw new DurationError(
        `invalid duration "${input}": write a number with a unit (us, ms, s, m, h, d), e.g. "2s", "500ms", "1m30s"`,
      );
    }
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
    pos = PART.lastIndex;
  }
  return roundMs(total);
}

/** Result form for callers that collect errors instead of throwing. */
export function tryParseDuration(
  input: string | number,
  options: DurationOptions = {},
): { ok: true; ms: Millis } | { ok: false; error: string } {
  try {
    return { ok: true, ms: parseDuration(input, options) };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

/** "1500" -> "1.5s": the shortest readable form, for messages and generated YAML. */
export function formatDuration(ms: Millis): string {
  if (ms === 0) return '0s';
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  if (ms >= 1000 && (ms * 10) % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

// Sub-millisecond inputs ("1.0005s", "500us") round to whole milliseconds: every timer in halb is ms.
function roundMs(value: number): Millis {
  return Math.round(value);
}
