// BalanceConfig -> a fresh BalancePolicy. Each backend (and each reload) gets its own instance.

import type { BalanceConfig } from '../config/types.ts';
import type { BalancePolicy } from './policy.ts';
import { FirstPolicy } from './first.ts';
import { HeaderHashPolicy } from './hdr.ts';
import { LeastConnPolicy } from './leastconn.ts';
import { RandomPolicy } from './random.ts';
import { RoundRobinPolicy } from './roundrobin.ts';
import { SourceHashPolicy } from './source.ts';
import { UriHashPolicy } from './uri.ts';

export function createPolicy(config: BalanceConfig): BalancePolicy {
  switch (config.algorithm) {
    case 'roundrobin':
      return new RoundRobinPolicy();
    case 'leastconn':
      return new LeastConnPolicy();
    case 'first':
      return new FirstPolicy();
    case 'random':
      return new RandomPolicy();
    case 'source':
      return new SourceHashPolicy();
    case 'uri':
      return new UriHashPolicy();
    case 'hdr':
      return new HeaderHashPolicy(config.header);
    default: {
      const never: never = config;
      throw new Error(`balance: unknown algorithm ${JSON.stringify((never as { algorithm: unknown }).algorithm)}`);
    }
  }
}
