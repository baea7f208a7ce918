// Effective VRRP priority from the configured base and the trackers' current results,
// with keepalived's rules (vrrp_script / track_interface / track_file weights). Pure.

export interface TrackerResult {
  /** What is tracked, for logs and status: "backend webservers", "script chk_haproxy". */
  name: string;
  /** Healthy right now (a script exited 0, an interface has carrier, a backend has a usable server). */
  ok: boolean;
  /**
   * keepalived semantics: weight > 0 is added while ok; weight < 0 is added (lowering) while failing;
   * weight 0 means a failure puts the instance into FAULT.
   */
  weight: number;
  /** For file trackers: the value read, multiplied by weight instead of the ok/fail rule. */
  fileValue?: number;
}

export interface EffectivePriority {
  priority: number;
  fault: boolean;
  /** Names of trackers currently failing, for status and logs. */
  failing: string[];
}

export function effectivePriority(base: number, results: readonly TrackerResult[]): EffectivePriority {
  // An address owner (255) is never reduced by trackers, as in keepalived.
  if (base === 255) {
    const failing = results.filter((r) => !r.ok).map((r) => r.name);
    const fault = results.some((r) => !r.ok && r.weight === 0);
    return { priority: 255, fault, failing };
  }
  let priority = base;
  let fault = false;
  const failing: string[] = [];
  for (const r of results) {
    if (r.fileValue !== undefined) {
      if (r.weight === 0) {
        if (r.fileValue !== 0) {
          fault = true;
          failing.push(r.name);
        }
      } else {
        priority += r.fileValue * r.weight;
        if (r.fileValue !== 0) failing.push(r.name);
      }
      continue;
    }
    if (!r.ok) failing.push(r.name);
    if (r.weight === 0) {
      if (!r.ok) fault = true;
    } else if (r.weight > 0) {
      if (r.ok) priority += r.weight;
    } else if (!r.ok) {
      priority += r.weight;
    }
  }
  // keepalived clamps to 1..254 for a non-owner: a tracker can never make it the owner or silent.
  priority = Math.max(1, Math.min(254, priority));
  return { priority, fault, failing };
}
