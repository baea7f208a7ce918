// How many processes serve the frontends: global.workers, with auto = one per core.
import os from 'node:os';
import type { Config } from '../config/types.ts';

export function workerCount(config: Config): number {
  const w = config.global.workers;
  return w === 'auto' ? Math.max(1, os.availableParallelism()) : Math.max(1, w);
}
