// Structured JSON logs via pino; pretty-printed when stdout is a terminal (or asked for).
import { pino, type Logger } from 'pino';

export type { Logger };

export interface LoggerOptions {
  level?: string;
  format?: 'auto' | 'json' | 'pretty';
  /** Write somewhere other than stdout (tests). */
  destination?: NodeJS.WritableStream;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? process.env.HALB_LOG_LEVEL ?? 'info';
  const format = opts.format ?? 'auto';
  const pretty = format === 'pretty' || (format === 'auto' && !opts.destination && process.stdout.isTTY === true);
  const base = { level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime };
  if (pretty) {
    return pino({ ...base, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } } });
  }
  if (opts.destination) return pino(base, opts.destination);
  return pino(base, pino.destination({ sync: false }));
}

/** A logger that drops everything: for unit tests of code that logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
