// Putting VIPs on (and taking them off) Linux interfaces, through iproute2. Every operation
// is idempotent, so a restart or a repeated transition never fails on "already there" or
// "already gone": a master that crashed with the VIP still configured recovers by itself.
// IPv6 VIPs are added `nodad`: a VIP that waits for duplicate address detection cannot be
// used (or announced) for a second, and the peer holding it is exactly who DAD would find.

import { execFile } from 'node:child_process';
import { isIPv6 } from 'node:net';
import { addAddress as netlinkAddAddress } from '#rawsock';
import type { VirtualAddress, VirtualRoute } from '../config/types.ts';

export interface LinuxAddressOptions {
  /** Run `ip -n NETNS ...` (tests). Default: the current namespace. */
  netns?: string;
  /** Default "ip" from PATH. */
  ipPath?: string;
  /** Per-command timeout, default 5 s. */
  timeoutMs?: number;
  /**
   * Add addresses with one netlink request instead of `ip addr add` (default: when neither
   * netns nor ipPath is given). A new master waits on this before its VIP takes clients: the
   * process costs 10-15 ms on a busy machine, a fifth of a takeover at 20 ms adverts.
   */
  netlink?: boolean;
}

export interface InterfaceAddress {
  device: string;
  address: string;
  prefix: number;
  family: 4 | 6;
  /** Kernel flags: "secondary", "nodad", "tentative", "dynamic", ... */
  flags: string[];
  label?: string;
}

export type AddResult = 'added' | 'present';
export type RemoveResult = 'removed' | 'absent';

interface IpJsonAddrInfo {
  family?: string;
  local?: string;
  prefixlen?: number;
  label?: string;
  secondary?: boolean;
  nodad?: boolean;
  tentative?: boolean;
  dynamic?: boolean;
  deprecated?: boolean;
  dadfailed?: boolean;
}
interface IpJsonLink {
  ifname?: string;
  addr_info?: IpJsonAddrInfo[];
}

// "Already there" / "not there", in both the errno words (RTNETLINK answers: File exists)
// and the kernel's extended-ack words (Error: ipv4: Address already assigned.).
const EXISTS = /File exists|already assigned|already exists/i;
const ABSENT = /Cannot assign requested address|No such process|address not found|does not exist/i;

export class IpCommandError extends Error {
  readonly args: string[];
  readonly stderr: string;
  constructor(args: string[], stderr: string, cause?: unknown) {
    super(`ip ${args.join(' ')}: ${stderr.trim() || String(cause)}`, { cause });
    this.name = 'IpCommandError';
    this.args = args;
    this.stderr = stderr;
  }
}

/** The canonical text of an address, so "fd77:0::1" and "fd77::1" compare equal. */
function canonical(address: string): string {
  if (!isIPv6(address)) return address;
  return new URL(`http://[${address}]/`).hostname.slice(1, -1);
}

export class LinuxAddresses {
  readonly #opts: LinuxAddressOptions;

  constructor(opts: LinuxAddressOptions = {}) {
    this.#opts = opts;
  }

  /** `ip -j addr show [dev DEVICE]`, flattened. */
  async list(device?: string): Promise<InterfaceAddress[]> {
    const out = await this.#ip(['-j', 'addr', 'show', ...(device ? ['dev', device] : [])]);
    let links: IpJsonLink[];
    try {
      links = JSON.parse(out.trim() === '' ? '[]' : out) as IpJsonLink[];
    } catch (err) {
      throw new Error(`ip -j addr show: unparseable output`, { cause: err });
    }
    const result: InterfaceAddress[] = [];
    for (const link of links) {
      for (const a of link.addr_info ?? []) {
        if (!a.local || (a.family !== 'inet' && a.family !== 'inet6')) continue;
        const flags = (['secondary', 'nodad', 'tentative', 'dynamic', 'deprecated', 'dadfailed'] as const).filter((f) => a[f] === true);
        result.push({
          device: link.ifname ?? '',
          address: canonical(a.local),
          prefix: a.prefixlen ?? (a.family === 'inet' ? 32 : 128),
          family: a.family === 'inet' ? 4 : 6,
          flags,
          ...(a.label !== undefined ? { label: a.label } : {}),
        });
      }
    }
    return result;
  }

  /** Is the VIP configured on its device (any prefix length)? */
  async has(vip: VirtualAddress, defaultDevice: string): Promise<boolean> {
    const device = vip.device ?? defaultDevice;
    const want = canonical(vip.address);
    return (await this.list(device)).some((a) => a.address === want);
  }

  /** `ip addr add VIP/PREFIX dev DEVICE [nodad]`; 'present' when it already was. */
  async add(vip: VirtualAddress, defaultDevice: string): Promise<AddResult> {
    const device = vip.device ?? defaultDevice;
    const args = ['addr', 'add', `${vip.address}/${vip.prefix}`, 'dev', device];
    // The marker that lets a later start tell our copies from the host's own addresses.
    const label = halbLabel(device);
    if (vip.family === 4 && label !== undefined) args.push('label', label);
    if (vip.family === 6) args.push('nodad');
    if (this.#opts.netlink ?? (this.#opts.netns === undefined && this.#opts.ipPath === undefined)) {
      try {
        return netlinkAddAddress(device, vip.family, vip.address, vip.prefix, vip.family === 6, vip.family === 4 ? label : undefined) ? 'added' : 'present';
      } catch (err) {
        throw new IpCommandError(args, `netlink: ${(err as Error).message}`, err);
      }
    }
    try {
      await this.#ip(args);
      return 'added';
    } catch (err) {
      if (err instanceof IpCommandError && EXISTS.test(err.stderr)) return 'present';
      throw err;
    }
  }

  /** `ip addr del VIP/PREFIX dev DEVICE`; 'absent' when it was not there. */
  async remove(vip: VirtualAddress, defaultDevice: string): Promise<RemoveResult> {
    const device = vip.device ?? defaultDevice;
    try {
      await this.#ip(['addr', 'del', `${vip.address}/${vip.prefix}`, 'dev', device]);
      return 'removed';
    } catch (err) {
      if (err instanceof IpCommandError && ABSENT.test(err.stderr)) return 'absent';
      throw err;
    }
  }

  /**
   * At startup nobody is MASTER yet: remove every VIP left behind by a previous run (a crash,
   * kill -9). Only exact copies of what add() makes: same address and prefix, and our marker
   * (IPv4: the label "<dev>:halb"; IPv6: nodad, which iproute2 6.1 here leaves as the only mark:
   * address `proto` needs iproute2/kernel 6.3). An address the host has (127.0.0.1/8 on lo) is
   * never removed; foreignCopies() reports it. Returns the ones that were removed.
   */
  async removeStale(vips: readonly VirtualAddress[], defaultDevice: string): Promise<VirtualAddress[]> {
    const removed: VirtualAddress[] = [];
    const byDevice = new Map<string, InterfaceAddress[]>();
    for (const vip of vips) {
      const device = vip.device ?? defaultDevice;
      let current = byDevice.get(device);
      if (!current) {
        current = await this.list(device).catch(() => []);
        byDevice.set(device, current);
      }
      const want = canonical(vip.address);
      for (const a of current.filter((c) => c.address === want && isOurCopy(c, vip, device))) {
        if ((await this.remove({ ...vip, prefix: a.prefix, device }, device)) === 'removed') removed.push(vip);
      }
    }
    return removed;
  }

  /** Addresses equal to a VIP that halb did not add (another prefix, no marker): the host's own. */
  async foreignCopies(vips: readonly VirtualAddress[], defaultDevice: string): Promise<{ vip: VirtualAddress; held: InterfaceAddress }[]> {
    const all = await this.list();
    const out: { vip: VirtualAddress; held: InterfaceAddress }[] = [];
    for (const vip of vips) {
      const device = vip.device ?? defaultDevice;
      const want = canonical(vip.address);
      for (const a of all) if (a.address === want && !(a.device === device && isOurCopy(a, vip, device))) out.push({ vip, held: a });
    }
    return out;
  }

  /** `ip route add TO [via VIA] [dev DEV]`; 'present' when it already was. */
  async addRoute(route: VirtualRoute, defaultDevice?: string): Promise<AddResult> {
    try {
      await this.#ip(this.#routeArgs('add', route, defaultDevice));
      return 'added';
    } catch (err) {
      if (err instanceof IpCommandError && EXISTS.test(err.stderr)) return 'present';
      throw err;
    }
  }

  /** `ip route del ...`; 'absent' when it was not there. */
  async removeRoute(route: VirtualRoute, defaultDevice?: string): Promise<RemoveResult> {
    try {
      await this.#ip(this.#routeArgs('del', route, defaultDevice));
      return 'removed';
    } catch (err) {
      if (err instanceof IpCommandError && ABSENT.test(err.stderr)) return 'absent';
      throw err;
    }
  }

  #routeArgs(verb: 'add' | 'del', route: VirtualRoute, defaultDevice?: string): string[] {
    const v6 = route.to.includes(':') || (route.via?.includes(':') ?? false);
    const device = route.device ?? (route.via ? undefined : defaultDevice);
    return [v6 ? '-6' : '-4', 'route', verb, route.to, ...(route.via ? ['via', route.via] : []), ...(device ? ['dev', device] : [])];
  }

  #ip(args: string[]): Promise<string> {
    const full = this.#opts.netns ? ['-n', this.#opts.netns, ...args] : args;
    return new Promise((resolve, reject) => {
      execFile(this.#opts.ipPath ?? 'ip', full, { timeout: this.#opts.timeoutMs ?? 5000 }, (err, stdout, stderr) => {
        if (err) reject(new IpCommandError(full, stderr, err));
        else resolve(stdout);
      });
    });
  }
}

/** IPv4 address label halb sets: must start with the device name, at most 15 characters. */
export function halbLabel(device: string): string | undefined {
  const label = `${device}:halb`;
  return label.length <= 15 ? label : undefined;
}

function isOurCopy(a: InterfaceAddress, vip: VirtualAddress, device: string): boolean {
  if (a.prefix !== vip.prefix) return false;
  if (vip.family === 4) {
    const label = halbLabel(device);
    return label !== undefined && a.label === label;
  }
  return a.flags.includes('nodad');
}
