// HAProxy "balance source": the client address picks the server, so a client sticks to one
// server while the set of servers is stable.

import type { PickRequest } from './policy.ts';
import { ConsistentHashPolicy, NO_KEY } from './consistent-hash.ts';
import { hashString } from './hash.ts';

export class SourceHashPolicy extends ConsistentHashPolicy {
  readonly name = 'source';

  protected keyHash(req: PickRequest): number {
    const ip = req.sourceIp;
    return ip.length === 0 ? NO_KEY : hashString(ip);
  }
}
