import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPolicy } from '../../../src/balance/create-policy.ts';
import type { BalanceConfig } from '../../../src/config/types.ts';

test('every algorithm maps to a policy with that name', () => {
  const cases: [BalanceConfig, string][] = [
    [{ algorithm: 'roundrobin' }, 'roundrobin'],
    [{ algorithm: 'leastconn' }, 'leastconn'],
    [{ algorithm: 'first' }, 'first'],
    [{ algorithm: 'random' }, 'random'],
    [{ algorithm: 'source' }, 'source'],
    [{ algorithm: 'uri' }, 'uri'],
    [{ algorithm: 'hdr', header: 'Host' }, 'hdr(host)'],
  ];
  for (const [cfg, name] of cases) assert.equal(createPolicy(cfg).name, name);
  assert.throws(() => createPolicy({ algorithm: 'bogus' } as unknown as BalanceConfig), /unknown algorithm "bogus"/);
});
