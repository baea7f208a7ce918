// Which Linux capabilities a node needs for what its config asks, so that a node started as an
// unprivileged user (systemd AmbientCapabilities, setpriv, setcap) refuses to start with the
// reason, instead of failing later in the middle of a failover ("socket: Operation not permitted"
// when it should become master). Pure: the config and the facts read from /proc go in, the
// verdicts come out; capability-check.ts reads the facts.
import type { Config } from '../config/types.ts';
import { familiesBindingVips } from './nonlocal-bind.ts';

/** Bit numbers from linux/capability.h. */
export const CAPABILITY_BITS = {
  CAP_NET_BIND_SERVICE: 10,
  CAP_NET_ADMIN: 12,
  CAP_NET_RAW: 13,
  CAP_BPF: 39,
} as const;

export type CapabilityName = keyof typeof CAPABILITY_BITS;

export interface CapabilityNeed {
  cap: CapabilityName;
  /** What in the config needs it, for the message. */
  why: string;
  /** Without it the node cannot do its job (refuse to start); otherwise it degrades (warn). */
  required: boolean;
}

export interface ProcessFacts {
  /** CapEff of /proc/self/status. */
  effective: bigint;
  /** net.ipv4.ip_unprivileged_port_start: binds below it need CAP_NET_BIND_SERVICE. */
  unprivilegedPortStart: number;
  /** Families whose ip_nonlocal_bind is already 1 (then halb need not write the sysctl). */
  nonlocalBindOn: ReadonlySet<4 | 6>;
}

/** "CapEff:\t0000003fffffffff" -> bigint; missing line -> 0 (no capability). */
export function parseCapEff(procStatus: string): bigint {
  const m = /^CapEff:\s*([0-9a-fA-F]+)\s*$/m.exec(procStatus);
  return m ? BigInt(`0x${m[1]}`) : 0n;
}

export function hasCapability(effective: bigint, cap: CapabilityName): boolean {
  return (effective >> BigInt(CAPABILITY_BITS[cap])) & 1n ? true : false;
}

export function capabilityNeeds(config: Config, facts: Pick<ProcessFacts, 'unprivilegedPortStart' | 'nonlocalBindOn'>, workers: number): CapabilityNeed[] {
  const needs: CapabilityNeed[] = [];
  for (const inst of config.vrrp?.instances ?? []) {
    needs.push({ cap: 'CAP_NET_RAW', why: `vrrp instance ${inst.name} sends and receives adverts on a raw IP socket (protocol 112)`, required: true });
    if (inst.virtualIpAddresses.length > 0) {
      needs.push({ cap: 'CAP_NET_ADMIN', why: `vrrp instance ${inst.name} adds and removes its virtual addresses (${inst.virtualIpAddresses.map((v) => v.address).join(', ')})`, required: true });
      needs.push({ cap: 'CAP_NET_ADMIN', why: `vrrp instance ${inst.name} keeps open connections through planned moves with an nftables rule`, required: false });
    }
  }
  for (const family of familiesBindingVips(config)) {
    if (!facts.nonlocalBindOn.has(family)) {
      needs.push({ cap: 'CAP_NET_ADMIN', why: `frontends bind a virtual IPv${family} address before holding it: halb turns on net.ipv${family}.ip_nonlocal_bind`, required: true });
    }
  }
  const adminPort = config.global.admin?.listen?.port;
  const lowBinds = [
    ...config.frontends.flatMap((fe) => fe.bind.filter((b) => b.port > 0 && b.port < facts.unprivilegedPortStart).map((b) => `frontend ${fe.name} binds ${b.host}:${b.port}`)),
    ...(adminPort !== undefined && adminPort > 0 && adminPort < facts.unprivilegedPortStart ? [`the admin API listens on port ${adminPort}`] : []),
  ];
  for (const why of lowBinds) needs.push({ cap: 'CAP_NET_BIND_SERVICE', why: `${why} (below ${facts.unprivilegedPortStart})`, required: true });
  if (workers > 1) {
    needs.push({ cap: 'CAP_BPF', why: `${workers} workers take new connections in turn through a reuseport eBPF program`, required: false });
  }
  return needs;
}

/** Needs the effective set does not cover; each capability once per reason. */
export function missingCapabilities(needs: readonly CapabilityNeed[], effective: bigint): CapabilityNeed[] {
  return needs.filter((n) => !hasCapability(effective, n.cap));
}

/** One line per missing capability, for the log or stderr. */
export function describeMissing(missing: readonly CapabilityNeed[]): string[] {
  return missing.map((m) => `${m.cap} is missing: ${m.why}${m.required ? '' : ' (halb goes on without it)'}`);
}
