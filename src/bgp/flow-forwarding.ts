// The I/O half of keeping connections through ECMP changes: finds how each peer node is reached,
// puts the rules of flow-forward-rules.ts in (one table per address family), reads their
// counters, and takes them out on a planned stop. A killed node's table stays in its kernel and
// keeps passing strays on, which is what the other nodes' connections need; the next start
// replaces it in one transaction.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Logger } from '../log/logger.ts';
import { removeTableScript, runNft } from '../vip/nft-run.ts';
import { flowForwardRuleset, flowForwardTableName, parseForwardCounters, type FlowForwardPeer, type ForwardCounts } from './flow-forward-rules.ts';

const exec = promisify(execFile);

export interface FlowForwardingOptions {
  vips: readonly { address: string; family: 4 | 6 }[];
  /** The halb nodes announcing the same VIPs, as configured (this node's own address is skipped). */
  peers: readonly string[];
  log: Logger;
  nftPath?: string;
}

export interface FlowPeerStatus {
  address: string;
  /** Where its copies leave; absent when it is not used (why in `problem`). */
  device?: string;
  problem?: string;
}

export interface FlowForwardingStatus {
  peers: FlowPeerStatus[];
  /** Undefined until the counters were read once (or when nft is missing). */
  counts?: ForwardCounts;
}

type Family = 'ip' | 'ip6';

export class FlowForwarding {
  readonly #o: FlowForwardingOptions;
  #peers: FlowPeerStatus[] = [];
  #tables: Family[] = [];
  #counts: ForwardCounts | undefined;

  constructor(o: FlowForwardingOptions) {
    this.#o = o;
  }

  /** Resolves once the rules are in (or could not be: logged, the node runs without them). */
  async start(): Promise<void> {
    if (this.#o.peers.length === 0) return;
    this.#peers = await Promise.all(this.#o.peers.map((p) => reach(p)));
    for (const p of this.#peers.filter((x) => x.problem !== undefined && x.problem !== SELF)) {
      this.#o.log.warn({ peer: p.address, problem: p.problem }, 'bgp: flow hand-off will not reach this peer: its connections that the routers move here will be dropped');
    }
    for (const family of ['ip', 'ip6'] as const) {
      const fam = family === 'ip' ? 4 : 6;
      const vips = this.#o.vips.filter((v) => v.family === fam).map((v) => v.address);
      if (vips.length === 0) continue;
      const peers = this.#peers.filter((p): p is FlowForwardPeer => p.device !== undefined && (p.address.includes(':') ? 6 : 4) === fam);
      const table = flowForwardTableName(family);
      try {
        await runNft(['-f', '-'], flowForwardRuleset({ table, family, vips, peers }), this.#nftOptions());
        this.#tables.push(family);
        this.#o.log.info({ table, peers: peers.map((p) => p.address) }, 'bgp: segments of connections other nodes own are passed on to them');
      } catch (err) {
        const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
        this.#o.log.warn({ err: (err as Error).message }, `${missing ? 'nft not found (install nftables)' : 'could not install the flow hand-off rules'}: connections the routers move to this node will be reset`);
      }
    }
  }

  /** Reads the kernel's counters (summed over families); keeps the last on a failed read. */
  async refreshCounts(): Promise<void> {
    if (this.#tables.length === 0) return;
    let sum: ForwardCounts | undefined = { handedOn: 0, copiesDropped: 0 };
    for (const family of this.#tables) {
      const out = await runNft(['-j', 'list', 'counters', 'table', family, flowForwardTableName(family)], '', this.#nftOptions()).catch(() => '');
      const c = parseForwardCounters(out);
      if (c === undefined || sum === undefined) sum = undefined;
      else sum = { handedOn: sum.handedOn + c.handedOn, copiesDropped: sum.copiesDropped + c.copiesDropped };
    }
    if (sum !== undefined) this.#counts = sum;
  }

  async stop(): Promise<void> {
    const tables = this.#tables;
    this.#tables = [];
    for (const family of tables) {
      await runNft(['-f', '-'], `${removeTableScript(flowForwardTableName(family), family).join('\n')}\n`, this.#nftOptions()).catch((err: unknown) =>
        this.#o.log.warn({ err: (err as Error).message }, 'could not remove the flow hand-off rules'),
      );
    }
  }

  status(): FlowForwardingStatus {
    return { peers: this.#peers.filter((p) => p.problem !== SELF), ...(this.#counts ? { counts: this.#counts } : {}) };
  }

  #nftOptions(): { nftPath?: string; timeoutMs: number } {
    return { timeoutMs: 2000, ...(this.#o.nftPath !== undefined ? { nftPath: this.#o.nftPath } : {}) };
  }
}

const SELF = 'this node';

interface RouteGet {
  type?: string;
  gateway?: string;
  dev?: string;
}

/** How `address` is reached: directly on a link (a copy can go there), via a gateway, or it is us. */
async function reach(address: string): Promise<FlowPeerStatus> {
  try {
    const { stdout } = await exec('ip', ['-j', 'route', 'get', address], { timeout: 2000 });
    const r = (JSON.parse(stdout) as RouteGet[])[0];
    if (r?.type === 'local') return { address, problem: SELF };
    if (r?.gateway !== undefined) return { address, problem: `reached via the gateway ${r.gateway}: a copy can only go to a peer on a shared link` };
    if (r?.dev === undefined) return { address, problem: 'no route' };
    return { address, device: r.dev };
  } catch (err) {
    return { address, problem: `no route (${(err as Error).message.split('\n').find((l) => /RTNETLINK|Error/.test(l)) ?? 'ip route get failed'})` };
  }
}
