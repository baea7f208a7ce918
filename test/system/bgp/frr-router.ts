// The upstream router of the BGP lab: a real FRR (zebra, bgpd, bfdd) in its own namespace, with
// ECMP (maximum-paths, L4 hashing) into the namespace's kernel table, as a ToR would run it.

import { chownSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab } from '../../helpers/netns.ts';

export interface RouterNeighbor {
  address: string;
  asn: number;
  /** TCP-MD5 secret (RFC 2385) for this session. */
  password?: string;
}

export class FrrRouter {
  readonly dir: string;
  readonly #lab: Lab;
  readonly #host: string;

  private constructor(lab: Lab, host: string, dir: string) {
    this.#lab = lab;
    this.#host = host;
    this.dir = dir;
  }

  /** `ipv6`: also take IPv6 host routes over the same sessions, ECMP and L4-hashed as IPv4. */
  static async start(lab: Lab, host: string, o: { asn: number; routerId: string; neighbors: RouterNeighbor[]; ipv6?: boolean }): Promise<FrrRouter> {
    const dir = `/tmp/${lab.prefix}-frr-${host}`;
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { mode: 0o750 });
    const [uid, gid] = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('frr:'))!.split(':').slice(2, 4).map(Number);
    chownSync(dir, uid!, gid!);
    const conf = [
      'frr defaults datacenter',
      `hostname ${host}`,
      `router bgp ${o.asn}`,
      ` bgp router-id ${o.routerId}`,
      ' no bgp ebgp-requires-policy',
      ' no bgp default ipv4-unicast',
      ' bgp bestpath as-path multipath-relax',
      ...o.neighbors.flatMap((n) => [` neighbor ${n.address} remote-as ${n.asn}`, ` neighbor ${n.address} bfd`, ` neighbor ${n.address} timers 3 9`, ...(n.password !== undefined ? [` neighbor ${n.address} password ${n.password}`] : [])]),
      ...(['ipv4', ...(o.ipv6 ? ['ipv6'] : [])] as const).flatMap((af) => [` address-family ${af} unicast`, '  maximum-paths 8', ...o.neighbors.map((n) => `  neighbor ${n.address} activate`), ' exit-address-family']),
      'exit',
      '',
    ].join('\n');
    writeFileSync(join(dir, 'frr.conf'), conf);
    await lab.sysctl(host, { 'net.ipv4.ip_forward': 1, 'net.ipv4.fib_multipath_hash_policy': 1, 'net.ipv4.conf.all.send_redirects': 0, 'net.ipv4.conf.eth0.send_redirects': 0 });
    if (o.ipv6) await lab.sysctl(host, { 'net.ipv6.conf.all.forwarding': 1, 'net.ipv6.fib_multipath_hash_policy': 1 });
    const r = new FrrRouter(lab, host, dir);
    for (const d of ['zebra', 'bgpd', 'bfdd']) {
      lab.spawn(host, `/usr/lib/frr/${d}`, ['-u', 'frr', '-g', 'frr', '-f', '/dev/null', '-i', join(dir, `${d}.pid`), '-z', join(dir, 'zserv.api'), '--vty_socket', dir, '-P', '0']);
      const end = Date.now() + 10_000;
      for (;;) {
        try {
          readFileSync(join(dir, `${d}.pid`));
          const ok = await lab.exec(host, 'test', ['-S', join(dir, `${d}.vty`)], { check: false });
          if (ok.code === 0) break;
        } catch {
          // not yet
        }
        if (Date.now() > end) throw new Error(`router FRR ${d} did not start`);
        await new Promise((res) => setTimeout(res, 100));
      }
    }
    await r.vtysh(['-f', join(dir, 'frr.conf')]);
    return r;
  }

  async vtysh(args: string[]): Promise<string> {
    return (await this.#lab.exec(this.#host, 'vtysh', ['--vty_socket', this.dir, ...args])).stdout;
  }

  /** Next hops the router's kernel has for a host route (ECMP: one per announcing node). */
  async nextHops(address: string): Promise<string[]> {
    const v6 = address.includes(':');
    const out = (await this.#lab.exec(this.#host, 'ip', [v6 ? '-6' : '-4', 'route', 'show', `${address}/${v6 ? 128 : 32}`])).stdout;
    return [...out.matchAll(/via (?:inet6 )?(\S+)/g)].map((m) => m[1]!).sort();
  }

  destroy(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
