// HAProxy "balance uri": the path part of the URI (before '?') picks the server, which keeps
// each object on one cache server. In TCP mode the uri is empty and round robin applies.

import type { PickRequest } from './policy.ts';
import { ConsistentHashPolicy, NO_KEY } from './consistent-hash.ts';
import { hashString } from './hash.ts';

export class UriHashPolicy extends ConsistentHashPolicy {
  readonly name = 'uri';

  protected keyHash(req: PickRequest): number {
    const uri = req.uri;
    if (uri.length === 0) return NO_KEY;
    const q = uri.indexOf('?');
    return hashString(uri, 0, q < 0 ? uri.length : q);
  }
}
