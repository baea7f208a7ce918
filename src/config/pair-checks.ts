// Rules across the nodes of one file: do the views agree on what they share (VRID, VIPs, version),
// do their unicast peers point at each other, and does the election pick the node marked MASTER?
// Pure: takes every node's validated view, returns problems at paths in the file.

import { sourcePath } from './node-views.ts';
import type { PathItem, Problem } from './checks.ts';
import type { Config, VrrpInstanceConfig } from './types.ts';

export interface PairView {
  node: string;
  config: Config;
  origins: Map<string, PathItem[]>;
}

export interface PairProblems {
  errors: Problem[];
  warnings: Problem[];
}

interface Member {
  node: string;
  inst: VrrpInstanceConfig;
  config: Config;
  /** Path in the file of a field of this node's instance (an override if it has one). */
  at: (...field: PathItem[]) => PathItem[];
}

// keepalived's effective priority stays within 1..254 whatever the trackers add.
const clamp = (p: number) => Math.min(254, Math.max(1, p));

export function pairProblems(views: readonly PairView[]): PairProblems {
  const errors: Problem[] = [];
  const warnings: Problem[] = [];
  const names = new Set(views.flatMap((v) => (v.config.vrrp?.instances ?? []).map((i) => i.name)));
  for (const iname of names) {
    const members: Member[] = [];
    for (const v of views) {
      const inst = v.config.vrrp?.instances.find((i) => i.name === iname);
      if (inst) members.push({ node: v.node, inst, config: v.config, at: (...f) => sourcePath(v.origins, ['vrrp', 'instances', iname, ...f]) });
    }
    if (members.length < 2) continue;
    sameEverywhere(members, errors, warnings);
    unicastPeers(members, errors, warnings);
    election(iname, members, errors, warnings);
  }
  return { errors, warnings };
}

function sameEverywhere(members: Member[], errors: Problem[], warnings: Problem[]): void {
  const first = members[0] as Member;
  const vips = (i: VrrpInstanceConfig) => i.virtualIpAddresses.map((a) => `${a.address}/${a.prefix}`).sort().join(', ');
  for (const m of members.slice(1)) {
    const differs = (what: string, mine: string | number, theirs: string | number) =>
      `${what} ${mine} on ${m.node} differs from ${theirs} on ${first.node}: both nodes of the pair must use the same`;
    if (m.inst.virtualRouterId !== first.inst.virtualRouterId) {
      errors.push({ path: m.at('virtual_router_id'), message: differs('virtual_router_id', m.inst.virtualRouterId, first.inst.virtualRouterId) });
    }
    if (vips(m.inst) !== vips(first.inst)) {
      errors.push({
        path: m.at('virtual_ipaddress'),
        message: `virtual addresses on ${m.node} (${vips(m.inst) || 'none'}) differ from ${first.node}'s (${vips(first.inst) || 'none'}): the pair must float the same VIPs`,
      });
    }
    if (m.inst.version !== first.inst.version) {
      errors.push({ path: m.at('version'), message: differs('VRRP version', m.inst.version, first.inst.version) });
    }
    if ((m.inst.unicast === undefined) !== (first.inst.unicast === undefined)) {
      errors.push({
        path: m.at('unicast'),
        message: `${m.node} uses ${m.inst.unicast ? 'unicast' : 'multicast'} but ${first.node} uses ${first.inst.unicast ? 'unicast' : 'multicast'}: they would never hear each other`,
      });
    }
    if (m.inst.advertInt !== first.inst.advertInt) {
      // RFC 5798 lets a backup learn the master's interval, but keepalived logs every advert as a mismatch.
      warnings.push({ path: m.at('advert_int'), message: differs('advert_int', `${m.inst.advertInt}ms`, `${first.inst.advertInt}ms`) });
    }
  }
}

function unicastPeers(members: Member[], errors: Problem[], warnings: Problem[]): void {
  const sources = new Map<string, string>();
  for (const m of members) {
    if (!m.inst.unicast) continue;
    const src = m.inst.unicast.source;
    if (src === undefined) {
      errors.push({
        path: m.at('unicast'),
        message: `${m.node} has no unicast source: give nodes.${m.node}.address (or a unicast.source), so the other nodes can list it as a peer`,
      });
    } else sources.set(src, m.node);
  }
  for (const m of members) {
    if (!m.inst.unicast) continue;
    for (const other of members) {
      const src = other.inst.unicast?.source;
      if (other === m || src === undefined) continue;
      if (!m.inst.unicast.peers.includes(src)) {
        errors.push({
          path: m.at('unicast', 'peers'),
          message: `${m.node}'s peers (${m.inst.unicast.peers.join(', ') || 'none'}) do not include ${other.node}'s unicast source ${src}: ${m.node} would not send it adverts`,
        });
      }
    }
    m.inst.unicast.peers.forEach((p, i) => {
      if (p === m.inst.unicast?.source) {
        errors.push({ path: m.at('unicast', 'peers', i), message: `${m.node} lists its own source ${p} as a peer` });
      } else if (!sources.has(p)) {
        warnings.push({ path: m.at('unicast', 'peers', i), message: `peer ${p} of ${m.node} is not the unicast source of any node in nodes (a host outside this file?)` });
      }
    });
  }
}

interface Tracker {
  what: string;
  weight: number;
  path: PathItem[];
}

function trackers(m: Member): Tracker[] {
  const t = m.inst.track;
  const out: Tracker[] = [];
  for (const [name, r] of Object.entries(t.backends)) out.push({ what: `backend ${name}`, weight: r.weight, path: m.at('track', 'backends', name) });
  for (const [name, r] of Object.entries(t.frontends)) out.push({ what: `frontend ${name}`, weight: r.weight, path: m.at('track', 'frontends', name) });
  t.scripts.forEach((s, i) => {
    const w = s.weight ?? m.config.vrrp?.scripts[s.name]?.weight ?? 0;
    out.push({ what: `script ${s.name}`, weight: w, path: m.at('track', 'scripts', i) });
  });
  t.interfaces.forEach((x, i) => out.push({ what: `interface ${x.name}`, weight: x.weight, path: m.at('track', 'interfaces', i) }));
  t.files.forEach((x, i) => out.push({ what: `file ${x.path}`, weight: x.weight, path: m.at('track', 'files', i) }));
  // Weight 0 means FAULT, which always gives the VIP up: it cannot be mis-ordered.
  return out.filter((x) => x.weight !== 0);
}

function election(iname: string, members: Member[], errors: Problem[], warnings: Problem[]): void {
  const masters = members.filter((m) => m.inst.state === 'MASTER');
  const first = members[0] as Member;
  if (masters.length === 0) {
    errors.push({
      path: first.at(),
      message: `no node is state: MASTER for ${iname} (nodes: ${members.map((m) => `${m.node} ${m.inst.priority}`).join(', ')}): mark the node that should hold the VIP`,
    });
  }
  for (const extra of masters.slice(1)) {
    errors.push({
      path: extra.at('state'),
      message: `${extra.node} and ${(masters[0] as Member).node} are both state: MASTER for ${iname}: exactly one node is the intended master`,
    });
  }
  const seen = new Map<number, string>();
  for (const m of members) {
    const same = seen.get(m.inst.priority);
    if (same !== undefined) {
      errors.push({
        path: m.at('priority'),
        message: `priority ${m.inst.priority} on ${m.node} equals ${same}'s: a tie is broken by the higher source address, not by intent; give each node its own priority`,
      });
    } else seen.set(m.inst.priority, m.node);
  }
  if (masters.length !== 1) return;
  const master = masters[0] as Member;
  const backups = members.filter((m) => m !== master);
  for (const b of backups) {
    if (b.inst.priority > master.inst.priority) {
      errors.push({
        path: master.at('priority'),
        message: `MASTER ${master.node} has priority ${master.inst.priority} but ${b.node} has ${b.inst.priority}: ${b.node} would win the election; give the MASTER the highest priority`,
      });
    }
  }
  if (master.inst.priority === 255) return;

  // With every tracker healthy, positive weights are applied and negative ones are not.
  const healthy = (m: Member) => clamp(m.inst.priority + trackers(m).reduce((s, t) => s + Math.max(0, t.weight), 0));
  const mHealthy = healthy(master);
  for (const b of backups) {
    const bHealthy = healthy(b);
    if (b.inst.priority < master.inst.priority && bHealthy >= mHealthy) {
      warnings.push({
        path: b.at('track'),
        message: `with every tracker healthy ${b.node} reaches priority ${bHealthy}, not below MASTER ${master.node}'s ${mHealthy}: its positive track weights take the VIP from a healthy master`,
      });
    }
  }
  // A failing negative tracker on the master that leaves it above every backup moves nothing.
  const bestBackup = Math.max(...backups.map(healthy));
  for (const t of trackers(master)) {
    if (t.weight >= 0) continue;
    const after = clamp(mHealthy + t.weight);
    if (after > bestBackup) {
      warnings.push({
        path: t.path,
        message: `when ${t.what} fails, MASTER ${master.node} drops to ${after}, still above the best backup (${bestBackup}): that failure alone does not move the VIP`,
      });
    }
  }
}
