// One halb.yaml for every node of a pair: `nodes:` holds what differs per node, as overrides of the
// shared settings. A node's view is the shared file with its entry merged in, so every other rule
// (schema, checks, normalise) sees an ordinary single-node config. Each merged value remembers the
// place it came from, so an error in a view points at the line the user wrote.
//
// Works on the raw YAML data, before the schema: it must never throw on malformed input (the schema
// reports a node entry of the wrong shape; merging simply skips what is not a mapping).

import { pathText, type PathItem } from './checks.ts';

type Data = Record<string, unknown>;

export interface NodeView {
  node: string;
  /** The file's data with this node's overrides applied and unicast source/peers derived. */
  data: Data;
  /** pathText(merged path) -> the path in the file the value came from. */
  origins: Map<string, PathItem[]>;
}

export interface NodeSelect {
  /** --node NAME; wins over the host name. */
  node?: string;
  /** os.hostname(); matched against the node names and their `hostname:` entries. */
  hostname?: string;
}

function isRecord(v: unknown): v is Data {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The node names, or undefined when the file has no (mapping-shaped) `nodes:` section. */
export function nodeNames(data: unknown): string[] | undefined {
  if (!isRecord(data) || !isRecord(data['nodes'])) return undefined;
  return Object.keys(data['nodes']);
}

/** Which node entry this host runs, or a reason none fits. */
export function selectNode(data: unknown, select: NodeSelect): { ok: true; node: string } | { ok: false; message: string } {
  const names = nodeNames(data) ?? [];
  if (select.node !== undefined) {
    if (names.includes(select.node)) return { ok: true, node: select.node };
    return { ok: false, message: `--node ${select.node}: no such entry in nodes (defined: ${names.join(', ') || 'none'})` };
  }
  const host = select.hostname ?? '';
  const short = host.split('.')[0] ?? host;
  const nodes = (data as Data)['nodes'] as Data;
  const matches = names.filter((n) => {
    if (n === host || n === short) return true;
    const h = isRecord(nodes[n]) ? nodes[n]['hostname'] : undefined;
    const list = typeof h === 'string' ? [h] : Array.isArray(h) ? h : [];
    return list.some((x) => x === host || x === short);
  });
  if (matches.length === 1) return { ok: true, node: matches[0] as string };
  if (matches.length > 1) return { ok: false, message: `host name "${host}" matches several nodes (${matches.join(', ')}); pass --node NAME` };
  return { ok: false, message: `no entry in nodes matches this host's name "${host}"; pass --node NAME (defined: ${names.join(', ')})` };
}

/** The view of one node: shared settings, then its overrides, then derived unicast addresses. */
export function nodeView(data: Data, node: string): NodeView {
  const origins = new Map<string, PathItem[]>();
  const merged = structuredClone(data);
  const nodes = isRecord(data['nodes']) ? data['nodes'] : {};
  const entry = isRecord(nodes[node]) ? nodes[node] : {};
  const at: PathItem[] = ['nodes', node];

  if (isRecord(entry['global'])) {
    merged['global'] = mergeInto(merged['global'], entry['global'], ['global'], [...at, 'global'], origins);
  }
  if (isRecord(entry['bgp'])) {
    merged['bgp'] = mergeInto(merged['bgp'], entry['bgp'], ['bgp'], [...at, 'bgp'], origins);
  }
  const instances = vrrpInstances(merged);
  if (isRecord(entry['vrrp']) && instances) {
    for (const [iname, over] of Object.entries(entry['vrrp'])) {
      // An override of an instance the file does not define is reported by the pair checks.
      if (!(iname in instances)) continue;
      instances[iname] = mergeInto(instances[iname], over, ['vrrp', 'instances', iname], [...at, 'vrrp', iname], origins);
    }
  }
  if (instances) deriveUnicast(instances, nodes, node, origins);
  derivePeerFallback(merged, nodes, node, origins);
  return { node, data: merged, origins };
}

function vrrpInstances(data: Data): Data | undefined {
  const vrrp = data['vrrp'];
  if (!isRecord(vrrp) || !isRecord(vrrp['instances'])) return undefined;
  return vrrp['instances'];
}

/** Mappings merge key by key; anything else (scalars, lists) replaces what the file had. */
function mergeInto(base: unknown, over: unknown, mergedPath: PathItem[], overPath: PathItem[], origins: Map<string, PathItem[]>): unknown {
  if (!isRecord(base) || !isRecord(over)) {
    origins.set(pathText(mergedPath), overPath);
    return structuredClone(over);
  }
  const out: Data = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] = k in base ? mergeInto(base[k], v, [...mergedPath, k], [...overPath, k], origins) : structuredClone(v);
    if (!(k in base)) origins.set(pathText([...mergedPath, k]), [...overPath, k]);
  }
  return out;
}

/** Where a node sends its adverts from for an instance: its unicast.source override, else its address. */
export function nodeSource(nodes: Data, node: string, iname: string): { ip: string; path: PathItem[] } | undefined {
  const entry = nodes[node];
  if (!isRecord(entry)) return undefined;
  const vrrp = entry['vrrp'];
  const inst = isRecord(vrrp) ? vrrp[iname] : undefined;
  const uni = isRecord(inst) ? inst['unicast'] : undefined;
  const src = isRecord(uni) ? uni['source'] : undefined;
  if (typeof src === 'string') return { ip: src, path: ['nodes', node, 'vrrp', iname, 'unicast', 'source'] };
  const addr = entry['address'];
  if (typeof addr === 'string') return { ip: addr, path: ['nodes', node, 'address'] };
  return undefined;
}

// A unicast instance without source/peers takes them from the nodes map: keepalived users list
// both by hand and get one of them wrong; here the pair's addresses are written once.
function deriveUnicast(instances: Data, nodes: Data, node: string, origins: Map<string, PathItem[]>): void {
  for (const [iname, inst] of Object.entries(instances)) {
    if (!isRecord(inst) || !isRecord(inst['unicast'])) continue;
    const uni: Data = { ...inst['unicast'] };
    const base: PathItem[] = ['vrrp', 'instances', iname, 'unicast'];
    if (uni['source'] === undefined) {
      const own = nodeSource(nodes, node, iname);
      if (own) {
        uni['source'] = own.ip;
        origins.set(pathText([...base, 'source']), own.path);
      }
    }
    if (uni['peers'] === undefined) {
      const peers: string[] = [];
      for (const other of Object.keys(nodes)) {
        if (other === node) continue;
        const s = nodeSource(nodes, other, iname);
        if (!s) continue;
        origins.set(pathText([...base, 'peers', peers.length]), s.path);
        peers.push(s.ip);
      }
      if (peers.length > 0) {
        uni['peers'] = peers;
        origins.set(pathText([...base, 'peers']), ['nodes']);
      }
    }
    inst['unicast'] = uni;
  }
}

// peer_fallback forwards to the pair's other node: with two nodes in the map, that is the other
// one's address, multicast or unicast alike (unicast alone would also find it in its peers).
function derivePeerFallback(data: Data, nodes: Data, node: string, origins: Map<string, PathItem[]>): void {
  const backends = data['backends'];
  if (!isRecord(backends)) return;
  const others = Object.keys(nodes).filter((n) => n !== node);
  const other = others.length === 1 ? nodes[others[0]!] : undefined;
  const address = isRecord(other) && typeof other['address'] === 'string' ? other['address'] : undefined;
  if (address === undefined) return;
  for (const [bname, be] of Object.entries(backends)) {
    if (!isRecord(be) || be['peer_fallback'] !== true || be['peer_fallback_address'] !== undefined) continue;
    be['peer_fallback_address'] = address;
    origins.set(pathText(['backends', bname, 'peer_fallback_address']), ['nodes', others[0]!, 'address']);
  }
}

/** The place in the file a merged path came from: the longest remembered prefix, plus the rest. */
export function sourcePath(origins: Map<string, PathItem[]> | undefined, path: readonly PropertyKey[]): PathItem[] {
  const p = path.map((x) => (typeof x === 'number' ? x : String(x)));
  if (!origins) return p;
  for (let n = p.length; n > 0; n--) {
    const o = origins.get(pathText(p.slice(0, n)));
    if (o) return [...o, ...p.slice(n)];
  }
  return p;
}
