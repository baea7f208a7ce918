// Connections the old master accepted survive a planned move. When a node takes over from a
// master that is still alive (preemption, handover, SIGTERM), the clients move to it one
// neighbour entry at a time, and a connection that was open on the old master at that instant
// sends its next segment here. Our kernel knows no such connection and answers with a reset.
// The old master keeps the VIP a moment after yielding (AddressClaim #releaseAddresses), so for
// that moment we send those segments on to it: an nftables rule duplicates every TCP segment
// for a VIP that opens no connection (no SYN) and belongs to none conntrack saw start here,
// to the old master's address on the VRRP link, and drops the original. The old master owns
// the VIP and the connection, so it answers the client directly.
//
// The rule must be in before the VIP is added, so conntrack sees every connection of ours from
// its SYN. A backup therefore keeps it armed for the master it follows (arm(): no window, no
// connections of its own, nothing reaches it for the VIP while it is not master), and a
// takeover from that master adds the VIP and announces at once instead of waiting for nft
// (20-60 ms under load: at 20 ms adverts, more than the takeover itself). A window begun
// without arming puts the rule in first, with set entries that time out in the kernel. The
// table is deleted when the window ends, when a takeover follows a master that went silent
// (no one to hand to), and at the next start. Never armed on a node that still holds the
// VIP: conntrack would pick its open connections up mid-stream as new and send them away.
// Without the nft binary the move still works, and open connections are reset as before.
//
// Three nodes: when the master stops, two backups can take over at once (skew times of adjacent
// priorities differ by under 1 ms), and the lower one yields a moment later, keeping the VIP
// with the connections it accepted meanwhile. The winner hears its advert and hands on to it as
// well (include()): each segment goes to every holder, and each node's guard (guardRuleset,
// in from start to stop) drops the copies of connections it does not know instead of
// resetting them, so only the owner answers. The guard also keeps conntrack on from the start,
// so a node's connections are known from their SYN whenever a window begins.

import type { Logger } from '../log/logger.ts';
import { removeTableScript, runNft } from './nft-run.ts';

export interface HandoffRulesetOptions {
  /** nftables table name (letters, digits, underscore). */
  table: string;
  family: 'ip' | 'ip6';
  /** The VIPs of that family. */
  vips: readonly string[];
  /** The holders' addresses on the VRRP link (advert sources): the old master, then any other. */
  peers: readonly string[];
  /** The VRRP interface, where the peer is reached. */
  iface: string;
  /** How long the rule matches (ms); undefined: until the table is removed (armed). */
  windowMs: number | undefined;
}

/** The table for one handoff, replacing any table of that name, as one `nft -f` script. */
export function handoffRuleset(o: HandoffRulesetOptions): string {
  const type = o.family === 'ip' ? 'ipv4_addr' : 'ipv6_addr';
  const timeout = o.windowMs === undefined ? '' : ` timeout ${Math.max(1, Math.round(o.windowMs))}ms`;
  const elements = o.vips.map((v) => `${v}${timeout}`).join(', ');
  return [
    ...removeTableScript(o.table, o.family),
    `table ${o.family} ${o.table} {`,
    `  set vips { type ${type}; flags timeout; elements = { ${elements} }; }`,
    // After conntrack (priority -200), before the routing decision.
    '  chain prerouting {',
    '    type filter hook prerouting priority mangle; policy accept;',
    // The copy leaves with TTL 1 (the dup takes one off in prerouting): delivered on the peer,
    // never forwarded again, so a peer that has already dropped the VIP and forwards packets
    // cannot bounce it back to us for another round.
    `    ${o.family} daddr @vips ct state new,invalid tcp flags & syn == 0 counter ${o.family === 'ip' ? 'ip ttl' : 'ip6 hoplimit'} set 2 ${o.peers.map((p) => `dup to ${p} device ${JSON.stringify(o.iface)} `).join('')}drop`,
    '  }',
    '}',
    '',
  ].join('\n');
}

/**
 * A node's guard: a copy handed on by a peer (TTL/hop limit 1 on arrival) of a connection this
 * node does not know is dropped, not answered with a reset: another holder owns it. Before the
 * handoff chain (priority mangle - 1), so a copy is never handed on again.
 */
export function guardRuleset(o: { table: string; family: 'ip' | 'ip6'; vips: readonly string[] }): string {
  const ttl = o.family === 'ip' ? 'ip ttl' : 'ip6 hoplimit';
  return [
    ...removeTableScript(o.table, o.family),
    `table ${o.family} ${o.table} {`,
    '  chain prerouting {',
    '    type filter hook prerouting priority -151; policy accept;',
    `    ${o.family} daddr { ${o.vips.join(', ')} } ${ttl} 1 ct state new,invalid tcp flags & syn == 0 counter drop`,
    '  }',
    '}',
    '',
  ].join('\n');
}

/** "halb_handoff_<instance>": nft identifiers take letters, digits and underscores. */
export function handoffTableName(instance: string, kind: 'handoff' | 'guard' = 'handoff'): string {
  return `halb_${kind}_${instance.replace(/[^A-Za-z0-9_]/g, '_')}`.slice(0, 64);
}

export interface FlowHandoffOptions {
  /** The vrrp instance name (the table's name derives from it). */
  instance: string;
  /** The instance's VIPs (one family). */
  vips: readonly string[];
  iface: string;
  log: Logger;
  nftPath?: string;
  /** Run nft inside this network namespace (tests). */
  netns?: string;
  timeoutMs?: number;
}

/** The part of FlowHandoff the instance uses (tests pass a double). */
export interface Handoff {
  begin(peer: string, windowMs: number): Promise<boolean>;
  /** Put the rule in for `peer` ahead of a takeover (not master, not holding the VIP). */
  arm?(peer: string): Promise<boolean>;
  /** As master: hand on to `peer` too (another holder heard), for at least `windowMs`. */
  include?(peer: string, windowMs: number): Promise<boolean>;
  end(): Promise<void>;
  /** At start: remove what a previous run left, and put the guard in. */
  removeStale(): Promise<void>;
  /** At stop, after end(): the guard goes. */
  close?(): Promise<void>;
}

export class FlowHandoff implements Handoff {
  readonly table: string;
  readonly guardTable: string;
  readonly #o: FlowHandoffOptions;
  readonly #family: 'ip' | 'ip6';
  #active = false;
  /** The rule is in for #peers[0] with no window yet (a backup's). */
  #armed = false;
  /** Who the rule hands on to: the master armed for or taken over from, then other holders. */
  #peers: string[] = [];
  #windowEnd = 0;
  /** Segments the last finished window sent on (from the rule's counter), for logs and tests. */
  lastHandedOn: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  #warnedMissing = false;
  /** nft runs one at a time: a window ending must not delete the table a new window just put in. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(o: FlowHandoffOptions) {
    this.#o = o;
    this.table = handoffTableName(o.instance);
    this.guardTable = handoffTableName(o.instance, 'guard');
    this.#family = o.vips.some((v) => v.includes(':')) ? 'ip6' : 'ip';
  }

  /**
   * Send other connections' segments to `peer` for `windowMs`. Resolves true once the rule is
   * in; false (logged) when it could not be put in, and the move goes on without it.
   */
  begin(peer: string, windowMs: number): Promise<boolean> {
    if (!this.#fits(peer)) return Promise.resolve(false);
    this.#clearTimer();
    return this.#serial(() => this.#begin(peer, windowMs));
  }

  arm(peer: string): Promise<boolean> {
    if (!this.#fits(peer)) return Promise.resolve(false);
    return this.#serial(async () => {
      if (this.#armed && this.#peers[0] === peer) return true;
      if (this.#active) return false;
      if (!(await this.#install([peer], undefined))) return false;
      this.#armed = true;
      this.#peers = [peer];
      this.#o.log.debug({ peer, table: this.table }, 'hand-off rule armed for the master we follow');
      return true;
    });
  }

  #fits(peer: string): boolean {
    return this.#o.vips.length > 0 && peer.includes(':') === (this.#family === 'ip6');
  }

  /**
   * Another holder was heard while we are master (it took over with us and yielded): its
   * connections reach us too once its clients follow our announcements. Added to the window in
   * progress (lengthened to `windowMs` from now if shorter), or a window of its own.
   */
  include(peer: string, windowMs: number): Promise<boolean> {
    if (!this.#fits(peer)) return Promise.resolve(false);
    return this.#serial(async () => {
      if (!this.#active || this.#armed) return this.#begin(peer, windowMs);
      if (this.#peers.includes(peer)) return true;
      const end = Math.max(this.#windowEnd, Date.now() + windowMs);
      if (!(await this.#install([...this.#peers, peer], end - Date.now()))) return false;
      this.#peers.push(peer);
      this.#o.log.info({ peers: this.#peers, table: this.table }, 'another holder heard: its connections are handed on to it too');
      this.#schedule(end);
      return true;
    });
  }

  async #install(peers: readonly string[], windowMs: number | undefined): Promise<boolean> {
    const script = handoffRuleset({ table: this.table, family: this.#family, vips: this.#o.vips, peers, iface: this.#o.iface, windowMs });
    try {
      await this.#nft(['-f', '-'], script);
      return true;
    } catch (err) {
      this.#warn(err, 'could not install the handoff rule; connections open on the old master will be reset when they reach this node');
      // A timed-out nft may still have committed its batch: do not leave that behind.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') await this.#removeTable();
      return false;
    }
  }

  async #begin(peer: string, windowMs: number): Promise<boolean> {
    // Armed for this peer: the rule is in already; the window only needs its end.
    const armed = this.#armed && this.#peers[0] === peer;
    this.#armed = false;
    if (!armed && !(await this.#install([peer], windowMs))) return false;
    this.#active = true;
    this.#peers = [peer];
    this.#o.log.info({ peer, windowMs, armed, table: this.table }, 'sending segments of connections open on the old master to it while it keeps the VIP');
    this.#schedule(Date.now() + windowMs);
    return true;
  }

  #schedule(end: number): void {
    this.#clearTimer();
    this.#windowEnd = end;
    this.#timer = setTimeout(() => void this.end(), Math.max(0, end - Date.now()));
    this.#timer.unref();
  }

  /** Remove the rule now (idempotent). */
  end(): Promise<void> {
    this.#clearTimer();
    return this.#serial(() => this.#end());
  }

  async #end(): Promise<void> {
    if (this.#armed) {
      this.#armed = false;
      await this.#removeTable();
      return;
    }
    if (!this.#active) return;
    this.#active = false;
    // What the window did, for the operator: how many segments went to the old master.
    this.lastHandedOn = await this.#nft(['list', 'table', this.#family, this.table]).then(
      (out) => Number(/counter packets (\d+)/.exec(out)?.[1] ?? NaN),
      () => undefined,
    );
    this.#o.log.info({ peers: this.#peers, segments: this.lastHandedOn }, 'handoff window over: segments sent on to the old master');
    await this.#removeTable();
  }

  /** Delete our table whatever state it is in (a crashed run's, at start), and put the guard in. */
  removeStale(): Promise<void> {
    this.#armed = false;
    return this.#serial(async () => {
      await this.#removeTable();
      if (this.#o.vips.length === 0) return;
      try {
        await this.#nft(['-f', '-'], guardRuleset({ table: this.guardTable, family: this.#family, vips: this.#o.vips }));
      } catch (err) {
        this.#warn(err, 'could not install the handoff guard; a copy handed on by a peer for a connection of another node will be reset here');
      }
    });
  }

  /** The guard goes (at stop, after end()). */
  close(): Promise<void> {
    return this.#serial(() => this.#removeTable(this.guardTable));
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #removeTable(table = this.table): Promise<void> {
    try {
      await this.#nft(['-f', '-'], `${removeTableScript(table, this.#family).join('\n')}\n`);
    } catch (err) {
      this.#warn(err, 'could not remove the handoff rule');
    }
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #warn(err: unknown, msg: string): void {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      if (this.#warnedMissing) return;
      this.#warnedMissing = true;
      this.#o.log.warn({ nft: this.#o.nftPath ?? 'nft' }, `nft not found (install nftables): ${msg}`);
      return;
    }
    this.#o.log.warn({ err: err instanceof Error ? err.message : String(err) }, msg);
  }

  #nft(args: string[], stdin = ''): Promise<string> {
    // Short: a new master waits for this before adding the VIP.
    const o = { timeoutMs: this.#o.timeoutMs ?? 1000, ...(this.#o.nftPath !== undefined ? { nftPath: this.#o.nftPath } : {}), ...(this.#o.netns !== undefined ? { netns: this.#o.netns } : {}) };
    return runNft(args, stdin, o);
  }
}
