// Reads which capabilities this process holds and refuses a node that cannot do what its config
// asks (capabilities.ts decides). Run before anything is started, so a node that lacks
// CAP_NET_RAW fails at start with the reason, not at its first failover.
import { readFileSync } from 'node:fs';
import type { Config } from '../config/types.ts';
import type { Logger } from '../log/logger.ts';
import { capabilityNeeds, describeMissing, missingCapabilities, parseCapEff, type ProcessFacts } from './capabilities.ts';

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

export function readProcessFacts(): ProcessFacts {
  const nonlocalBindOn = new Set<4 | 6>();
  if (readOr('/proc/sys/net/ipv4/ip_nonlocal_bind', '0').trim() === '1') nonlocalBindOn.add(4);
  if (readOr('/proc/sys/net/ipv6/ip_nonlocal_bind', '0').trim() === '1') nonlocalBindOn.add(6);
  return {
    // Not Linux (no /proc): nothing to check, assume a full set.
    effective: parseCapEff(readOr('/proc/self/status', 'CapEff:\tffffffffffffffff\n')),
    unprivilegedPortStart: Number(readOr('/proc/sys/net/ipv4/ip_unprivileged_port_start', '1024').trim()) || 1024,
    nonlocalBindOn,
  };
}

/** Errors (the node must not start) and warnings (it starts, degraded) for this process. */
export function checkCapabilities(config: Config, workers: number, facts = readProcessFacts()): { errors: string[]; warnings: string[] } {
  const missing = missingCapabilities(capabilityNeeds(config, facts, workers), facts.effective);
  return {
    errors: describeMissing(missing.filter((m) => m.required)),
    warnings: describeMissing(missing.filter((m) => !m.required)),
  };
}

export function logCapabilityWarnings(warnings: readonly string[], log: Logger): void {
  for (const w of warnings) log.warn(w);
}
