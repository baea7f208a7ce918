// The BGP lab: an FRR router (ECMP, L4 hashing), halb nodes that each run their own FRR and
// announce one VIP, a web server per node and a client namespace; for test/system/bgp/ and bench/.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { Lab } from '../../helpers/netns.ts';
import { HALB_MAIN } from '../../helpers/halb-process.ts';
import { FrrRouter } from './frr-router.ts';

export const VIP = '10.77.99.10';
export const VIP6 = 'fd77:99::10';
export const ROUTER = '10.77.0.1';
export const ROUTER6 = 'fd77::1';
/** A node's IPv6 address on the lab link (dual-stack labs). */
export const v6Of = (n: NodeName): string => `fd77::${NODES[n].split('.')[3]}`;
const MD5_SECRET = 'halb-lab-md5';
export const NODES = { n1: '10.77.0.11', n2: '10.77.0.12', n3: '10.77.0.13', n4: '10.77.0.14' } as const;
export type NodeName = keyof typeof NODES;

export class EcmpLab {
  readonly lab: Lab;
  readonly router: FrrRouter;
  readonly dir = mkdtempSync(join(tmpdir(), 'halb-bgp-'));
  readonly halb = new Map<NodeName, ChildProcess>();
  readonly web = new Map<NodeName, ChildProcess>();
  readonly logs = new Map<NodeName, string[]>();
  readonly #pids: number[] = [];
  /** MED a node puts on the IPv4 VIP the next time it starts (lower wins at the router). */
  readonly med = new Map<NodeName, number>();
  readonly o: Required<EcmpLabOptions>;

  private constructor(lab: Lab, router: FrrRouter, o: Required<EcmpLabOptions>) {
    this.lab = lab;
    this.router = router;
    this.o = o;
  }

  /** The router peers with every name in NODES; `start` are started (web server + halb). */
  static async create(start: NodeName[], options: EcmpLabOptions = {}): Promise<EcmpLab> {
    const o: Required<EcmpLabOptions> = { prefix: `hg${process.pid % 1000}`, handoff: true, ipv6: false, md5: [], ...options };
    const lab = await Lab.create({ prefix: o.prefix });
    const six = (a: string): string[] => (o.ipv6 ? [`${a}/64`] : []);
    await lab.host('r', { addresses: [`${ROUTER}/24`, ...six(ROUTER6)] });
    for (const [n, a] of Object.entries(NODES)) await lab.host(n, { addresses: [`${a}/24`, ...six(v6Of(n as NodeName))] });
    await lab.host('c', { addresses: ['10.77.0.50/24', ...six('fd77::50')] });
    await lab.exec('c', 'ip', ['route', 'add', `${VIP}/32`, 'via', ROUTER]);
    if (o.ipv6) await lab.exec('c', 'ip', ['-6', 'route', 'add', `${VIP6}/128`, 'via', ROUTER6]);
    await lab.sysctl('c', { 'net.ipv4.conf.all.accept_redirects': 0, ...(o.ipv6 ? { 'net.ipv6.conf.all.accept_redirects': 0, 'net.ipv6.conf.eth0.accept_redirects': 0 } : {}) });
    const neighbors = Object.entries(NODES).map(([n, address]) => ({ address, asn: 65001, ...(o.md5.includes(n as NodeName) ? { password: MD5_SECRET } : {}) }));
    const router = await FrrRouter.start(lab, 'r', { asn: 65000, routerId: ROUTER, neighbors, ipv6: o.ipv6 });
    const e = new EcmpLab(lab, router, o);
    for (const n of start) {
      e.startWeb(n);
      e.startHalb(n);
    }
    return e;
  }

  startWeb(n: NodeName): void {
    const script = `require('node:http').createServer((q, s) => s.end(${JSON.stringify(n)})).listen(9000, '127.0.0.1')`;
    this.web.set(n, this.lab.spawn(n, process.execPath, ['-e', script]));
  }

  startHalb(n: NodeName): ChildProcess {
    const file = join(this.dir, `${n}.yaml`);
    const pwFile = join(this.dir, `${n}.md5`);
    if (this.o.md5.includes(n)) writeFileSync(pwFile, `${MD5_SECRET}\n`, { mode: 0o600 });
    writeFileSync(
      file,
      `global:
  workers: 1
  admin: { socket: ${join(this.dir, `${n}.sock`)} }
  log: { access: false }
frontends:
  web: { bind: [${this.o.ipv6 ? '"[::]:8080"' : '"0.0.0.0:8080"'}], default_backend: pool }
backends:
  pool:
    health: { http: { method: GET, path: / }, interval: 300ms, rise: 1, fall: 1 }
    servers: [{ name: local, address: 127.0.0.1:9000 }]
bgp:
  asn: 65001
  router_id: ${NODES[n]}
  neighbors: [{ address: ${ROUTER}, asn: 65000, bfd: true, hold_time: 9s${this.o.md5.includes(n) ? `, password_file: ${pwFile}` : ''} }]
  announce: [{ prefix: ${VIP}/32${this.med.has(n) ? `, med: ${this.med.get(n)}` : ''} }${this.o.ipv6 ? `, { prefix: "${VIP6}/128" }` : ''}]
  drain: 2s
${this.o.handoff ? `  peers: [${[...Object.values(NODES), ...(this.o.ipv6 ? (Object.keys(NODES) as NodeName[]).map((k) => `"${v6Of(k)}"`) : [])].join(', ')}]\n` : ''}`,
    );
    const child = this.lab.spawn(n, process.execPath, [HALB_MAIN, 'run', '-c', file, '--log-format', 'json']);
    const lines: string[] = [];
    this.logs.set(n, lines);
    for (const s of [child.stdout!, child.stderr!]) s.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
    this.halb.set(n, child);
    if (child.pid !== undefined) this.#pids.push(child.pid);
    return child;
  }

  /** `count` requests from the client namespace, each on a new connection; who answered, what failed. */
  async requests(count: number, gapMs = 0, host = VIP): Promise<{ by: Record<string, number>; failed: number; errors: string[] }> {
    const script = `
    const http = require('node:http');
    const by = {}; let failed = 0; const errors = [];
    const one = () => new Promise((resolve) => {
      const req = http.get({ host: ${JSON.stringify(host)}, port: 8080, path: '/', agent: false, timeout: 2000 }, (res) => {
        let body = ''; res.on('data', (d) => (body += d)); res.on('end', () => { if (res.statusCode === 200) by[body] = (by[body] || 0) + 1; else { failed++; errors.push('status ' + res.statusCode); } resolve(); });
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (e) => { failed++; errors.push(e.code || e.message); resolve(); });
    });
    (async () => { for (let i = 0; i < ${count}; i++) { await one(); if (${gapMs}) await new Promise((r) => setTimeout(r, ${gapMs})); } console.log(JSON.stringify({ by, failed, errors: errors.slice(0, 5) })); })();`;
    const r = await this.lab.exec('c', process.execPath, ['-e', script], { timeoutMs: 120_000 });
    return JSON.parse(r.stdout) as { by: Record<string, number>; failed: number; errors: string[] };
  }

  /**
   * `count` keep-alive connections held open for `durationMs`, each sending a request every
   * `everyMs`; per connection: the node that answered first and whether it was reset or broke.
   * A connection the router rehashes to another node (no socket for it there) is reset.
   */
  longLived(count: number, durationMs: number, everyMs = 200, host = VIP): { result: Promise<{ opened: Record<string, number>; broken: Record<string, number>; errors: Record<string, number> }> } {
    const script = `
    const net = require('node:net');
    const opened = {}, broken = {}, errors = {};
    let done = 0;
    const end = Date.now() + ${durationMs};
    for (let i = 0; i < ${count}; i++) {
      const s = net.connect(8080, ${JSON.stringify(host)});
      let node, buf = '', over = false, timer;
      const finish = (why) => {
        if (over) return;
        over = true;
        if (why) { broken[node || '?'] = (broken[node || '?'] || 0) + 1; errors[why] = (errors[why] || 0) + 1; }
        clearInterval(timer); s.destroy();
        if (++done === ${count}) console.log(JSON.stringify({ opened, broken, errors }));
      };
      s.setNoDelay(true);
      s.on('connect', () => { timer = setInterval(() => { if (Date.now() > end) return finish(); s.write('GET / HTTP/1.1\\r\\nHost: vip\\r\\n\\r\\n'); }, ${everyMs}); });
      s.on('data', (d) => { buf += d; const m = /\\r\\n\\r\\n(n[0-9])/.exec(buf); if (m) { if (!node) { node = m[1]; opened[node] = (opened[node] || 0) + 1; } buf = ''; } });
      s.on('error', (e) => finish(e.code || e.message));
      s.on('close', () => { if (Date.now() <= end) finish('closed'); });
      s.setTimeout(3000, () => finish('timeout'));
    }`;
    const child = this.lab.spawn('c', process.execPath, ['-e', script]);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const result = new Promise<{ opened: Record<string, number>; broken: Record<string, number>; errors: Record<string, number> }>((resolve, reject) => {
      child.once('exit', () => {
        try {
          resolve(JSON.parse(out));
        } catch {
          reject(new Error(`long-lived client printed ${JSON.stringify(out)}`));
        }
      });
    });
    return { result };
  }

  /** A counter from node `n`'s /metrics (0 when absent). */
  async metric(n: NodeName, name: string): Promise<number> {
    const text = (await this.lab.exec(n, 'curl', ['-s', '--unix-socket', join(this.dir, `${n}.sock`), 'http://halb/metrics'], { check: false })).stdout;
    const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
    return m ? Number(m[1]) : 0;
  }

  nextHops(vip = VIP): Promise<string[]> {
    return this.router.nextHops(vip);
  }

  /** Error lines of the nodes' logs, for a failing run's output. */
  errors(): string[] {
    return [...this.logs].flatMap(([n, lines]) => lines.filter((l) => /"level":(50|60)/.test(l)).slice(0, 5).map((l) => `${n}: ${l}`));
  }

  async destroy(): Promise<void> {
    await this.lab.destroy();
    this.router.destroy();
    rmSync(this.dir, { recursive: true, force: true });
    // A node the lab killed before its own cleanup leaves its runtime directory (the next halb
    // with bgp: would reap it; the lab leaves none behind).
    for (const pid of this.#pids) rmSync(`/run/halb/bgp-${pid}`, { recursive: true, force: true });
  }
}

export interface EcmpLabOptions {
  prefix?: string;
  /** Nodes pass segments of each other's connections on (bgp.peers); off: the MetalLB-like baseline. */
  handoff?: boolean;
  /** Dual stack: every host gets an fd77:: address too and the nodes announce VIP6 as well. */
  ipv6?: boolean;
  /** These nodes' sessions with the router use TCP-MD5. */
  md5?: NodeName[];
}

export async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, ms = 30_000): Promise<{ value: T; ms: number }> {
  const t0 = Date.now();
  for (;;) {
    const v = await read();
    if (ok(v)) return { value: v, ms: Date.now() - t0 };
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}; last: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const hops = (names: NodeName[]): string[] => names.map((n) => NODES[n]).sort();
