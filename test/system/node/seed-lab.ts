// The seed topology for full-node system tests, built in namespaces this run owns:
//
//   client 10.77.0.50 --+                         +-- web1 10.77.0.21
//   lb1    10.77.0.11 --+-- br0 (namespace sw) --+-- web2 10.77.0.22
//   lb2    10.77.0.12 --+                         +-- web3 10.77.0.23
//                         VIP 10.77.0.100 floats between lb1 and lb2
//
// halb runs on lb1/lb2 as `halb run` (VrrpNode in 'halb' mode): a frontend bound to the VIP
// that stamps `X-Served-By: <lb>` on every response, a backend of web1..3 with http checks,
// and one VRRP instance tracking the backend with weight -60 (lb1 101 -> 41 < lb2 100).
// The web servers answer with their name; the client (http-client.ts) records who answered.

import { createInterface } from 'node:readline';
import type { ChildProcess } from 'node:child_process';
import { Lab } from '../../helpers/netns.ts';
import { VrrpNode, hasAddress } from '../vrrp/vrrp-node-client.ts';

export const VIP = '10.77.0.100';
export const LB_ADDR: Record<string, string> = { lb1: '10.77.0.11', lb2: '10.77.0.12' };
export const WEB_ADDR: Record<string, string> = { web1: '10.77.0.21', web2: '10.77.0.22', web3: '10.77.0.23' };
export const CLIENT_ADDR = '10.77.0.50';
export const LB_MAC: Record<string, string> = { lb1: '02:77:00:00:00:11', lb2: '02:77:00:00:00:12' };

const WEB_SCRIPT = new URL('./web-server.ts', import.meta.url).pathname;
const CLIENT_SCRIPT = new URL('./http-client.ts', import.meta.url).pathname;
const HELD_SCRIPT = new URL('./held-connection.ts', import.meta.url).pathname;

export interface LbOptions {
  priority: number;
  /** e.g. "1s", "100ms". */
  advertInt: string;
  state?: 'MASTER' | 'BACKUP';
  nopreempt?: boolean;
  /** Extra instance lines (6 spaces of indent). */
  extra?: string[];
}

/** halb.yaml for one load balancer of the seed topology. */
export function lbYaml(host: string, o: LbOptions): string {
  const servers = Object.entries(WEB_ADDR).map(([name, a]) => `      - { name: ${name}, address: "${a}:80" }`);
  return [
    'global:',
    '  workers: 1',
    '  admin: { listen: "127.0.0.1:9100", read_only_open: true, token_env: HALB_TEST_ADMIN_TOKEN }',
    '  log: { level: info, access: false }',
    '  grace: 2s',
    'frontends:',
    '  web:',
    `    bind: ["${VIP}:80"]`,
    '    mode: http',
    '    default_backend: webservers',
    '    http-response:',
    `      - { set-header: X-Served-By, value: ${host} }`,
    'backends:',
    '  webservers:',
    '    balance: roundrobin',
    '    health:',
    '      http: { method: GET, path: /, expect: { status: "200-399" } }',
    '      interval: 300ms',
    '      timeout: 250ms',
    '      rise: 2',
    '      fall: 2',
    '    servers:',
    ...servers,
    'vrrp:',
    '  instances:',
    '    VI_1:',
    '      interface: eth0',
    `      state: ${o.state ?? 'BACKUP'}`,
    `      priority: ${o.priority}`,
    '      virtual_router_id: 51',
    '      version: 3',
    `      advert_int: ${o.advertInt}`,
    `      virtual_ipaddress: ["${VIP}/24"]`,
    '      track:',
    '        backends: { webservers: { weight: -60 } }',
    ...(o.nopreempt ? ['      nopreempt: true'] : []),
    ...(o.extra ?? []),
    '',
  ].join('\n');
}

export interface ClientRecord {
  t: number;
  end: number;
  ok: boolean;
  by?: string;
  web?: string;
  err?: string;
}

/** A running continuous client; `records` fills as requests finish. */
export class ClientRun {
  readonly records: ClientRecord[] = [];
  readonly child: ChildProcess;
  readonly finished: Promise<void>;

  constructor(child: ChildProcess) {
    this.child = child;
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    let sawDone = false;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const r = JSON.parse(line) as ClientRecord & { done?: boolean };
      if (r.done) sawDone = true;
      else this.records.push(r);
    });
    this.finished = new Promise((resolve, reject) =>
      child.once('exit', (code) => {
        // Let readline deliver the last lines.
        setImmediate(() => (sawDone || code === 0 ? resolve() : reject(new Error(`client exited ${code}: ${stderr}`))));
      }),
    );
  }

  /** Stop launching, wait for the requests in flight (bounded by the client's timeout). */
  async stop(): Promise<ClientRecord[]> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    await this.finished;
    return this.records;
  }

  /** Resolves once `n` more requests after now succeeded via `lb`. */
  async servedBy(lb: string, n: number, timeoutMs: number): Promise<void> {
    const from = this.records.length;
    const end = Date.now() + timeoutMs;
    while (this.records.slice(from).filter((r) => r.ok && r.by === lb).length < n) {
      if (Date.now() > end) throw new Error(`client: not ${n} successes via ${lb} within ${timeoutMs} ms; last: ${JSON.stringify(this.records.slice(-3))}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

export interface Switchover {
  failed: number;
  total: number;
  /** Last success via `from` before the first success via `to` (start times, ms). */
  lastFrom?: number;
  firstTo?: number;
  /** firstTo - lastFrom: how long no request was served across the switch. */
  gap?: number;
  errors: Record<string, number>;
}

/** What the client saw across a move of the VIP from `from` to `to`. */
export function switchover(records: readonly ClientRecord[], from: string, to: string, after = 0): Switchover {
  const rs = [...records].filter((r) => r.t >= after).sort((a, b) => a.t - b.t);
  const firstToIdx = rs.findIndex((r) => r.ok && r.by === to);
  const firstTo = firstToIdx >= 0 ? rs[firstToIdx]!.t : undefined;
  let lastFrom: number | undefined;
  for (const r of rs) if (r.ok && r.by === from && (firstTo === undefined || r.t <= firstTo)) lastFrom = r.t;
  const errors: Record<string, number> = {};
  for (const r of rs) if (!r.ok) errors[r.err ?? '?'] = (errors[r.err ?? '?'] ?? 0) + 1;
  const s: Switchover = { failed: rs.filter((r) => !r.ok).length, total: rs.length, errors };
  if (lastFrom !== undefined) s.lastFrom = lastFrom;
  if (firstTo !== undefined) s.firstTo = firstTo;
  if (lastFrom !== undefined && firstTo !== undefined) s.gap = firstTo - lastFrom;
  return s;
}

export interface HeldRecord {
  ok: boolean;
  by?: string;
  err?: string;
  /** The request travelled on the connection an earlier request opened. */
  reused?: boolean;
}

/** One keep-alive client connection to the VIP (held-connection.ts): a GET at start, more on demand. */
export class HeldConnection {
  readonly child: ChildProcess;
  readonly #lines: HeldRecord[] = [];
  #waiters: (() => void)[] = [];

  constructor(child: ChildProcess) {
    this.child = child;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      this.#lines.push(JSON.parse(line) as HeldRecord);
      for (const w of this.#waiters.splice(0)) w();
    });
  }

  /** The next answer (the first call returns the opening request's). */
  async #answer(timeoutMs: number): Promise<HeldRecord> {
    const end = Date.now() + timeoutMs;
    while (this.#lines.length === 0) {
      if (Date.now() > end || this.child.exitCode !== null) throw new Error('held connection: no answer');
      await new Promise<void>((r) => {
        this.#waiters.push(r);
        setTimeout(r, 50);
      });
    }
    return this.#lines.shift()!;
  }

  first(): Promise<HeldRecord> {
    return this.#answer(5000);
  }

  /** One more GET on the same connection. */
  again(): Promise<HeldRecord> {
    this.child.stdin!.write('again\n');
    return this.#answer(5000);
  }

  close(): void {
    this.child.stdin!.end();
  }
}

export class SeedLab {
  readonly lab: Lab;
  readonly nodes = new Set<VrrpNode>();
  readonly clients = new Set<ClientRun>();

  private constructor(lab: Lab) {
    this.lab = lab;
  }

  /** Bridge, lb1, lb2, web1..3 (serving), client. */
  static async create(opts: { prefix?: string } = {}): Promise<SeedLab> {
    const lab = await Lab.create(opts);
    const seed = new SeedLab(lab);
    try {
      for (const lb of ['lb1', 'lb2']) await lab.host(lb, { addresses: [`${LB_ADDR[lb]}/24`], mac: LB_MAC[lb] });
      await lab.host('client', { addresses: [`${CLIENT_ADDR}/24`] });
      const ready: Promise<void>[] = [];
      for (const [web, addr] of Object.entries(WEB_ADDR)) {
        await lab.host(web, { addresses: [`${addr}/24`] });
        const child = lab.spawn(web, process.execPath, [WEB_SCRIPT, web, addr, '80']);
        ready.push(
          new Promise((resolve, reject) => {
            child.stdout!.once('data', () => resolve());
            child.once('exit', (code) => reject(new Error(`${web} server exited ${code}`)));
          }),
        );
      }
      await Promise.all(ready);
    } catch (err) {
      await lab.destroy();
      throw err;
    }
    return seed;
  }

  /** `halb run` on lb1/lb2; resolves when the node logged that it started. */
  async startLb(host: string, o: LbOptions, prefix?: string[]): Promise<VrrpNode> {
    const node = await VrrpNode.start(this.lab, host, lbYaml(host, o), { mode: 'halb', timeoutMs: 15_000, ...(prefix ? { prefix } : {}) });
    this.nodes.add(node);
    void node.exited.then(() => this.nodes.delete(node));
    return node;
  }

  /** `halb run -c FILE ARGS...` on lb1/lb2 with a config the test wrote (e.g. one pair file and --node). */
  async startLbFile(host: string, yaml: string, args: string[]): Promise<VrrpNode> {
    const node = await VrrpNode.start(this.lab, host, yaml, { mode: 'halb', timeoutMs: 15_000, args });
    this.nodes.add(node);
    void node.exited.then(() => this.nodes.delete(node));
    return node;
  }

  /** Start the continuous client: 50 req/s, fresh connection each, 500 ms timeout. */
  startClient(o: { intervalMs?: number; timeoutMs?: number; durationMs?: number } = {}): ClientRun {
    const args = { url: `http://${VIP}/`, intervalMs: o.intervalMs ?? 20, timeoutMs: o.timeoutMs ?? 500, durationMs: o.durationMs ?? 30_000 };
    const run = new ClientRun(this.lab.spawn('client', process.execPath, [CLIENT_SCRIPT, JSON.stringify(args)]));
    this.clients.add(run);
    void run.finished.catch(() => undefined).then(() => this.clients.delete(run));
    return run;
  }

  /** Open one keep-alive connection to the VIP (2 s per request); close() ends it. */
  holdConnection(): HeldConnection {
    const child = this.lab.spawn('client', process.execPath, [HELD_SCRIPT, JSON.stringify({ url: `http://${VIP}/`, timeoutMs: 2000 })]);
    return new HeldConnection(child);
  }

  /** The MAC the client's neighbour table has for the VIP right now ('' if none). */
  async clientVipMac(): Promise<string> {
    const r = await this.lab.exec('client', 'ip', ['-j', 'neigh', 'show', VIP], { check: false });
    const entries = JSON.parse(r.stdout || '[]') as { lladdr?: string }[];
    return entries[0]?.lladdr ?? '';
  }

  async vipHolders(): Promise<string[]> {
    const out: string[] = [];
    for (const h of ['lb1', 'lb2']) if (await hasAddress(this.lab, h, VIP)) out.push(h);
    return out;
  }

  /** Cut (or restore) one lb's path to every web server: blackhole routes inside its namespace. */
  async cutWeb(lb: string, cut = true): Promise<void> {
    for (const addr of Object.values(WEB_ADDR)) {
      await this.lab.exec(lb, 'ip', ['route', cut ? 'add' : 'del', 'blackhole', `${addr}/32`]);
    }
  }

  /** Between tests: every lb and client gone, no VIP left behind, routes restored. */
  async reset(): Promise<void> {
    await Promise.all([...this.clients].map((c) => c.stop().catch(() => undefined)));
    await Promise.all([...this.nodes].map((n) => n.kill9()));
    for (const h of ['lb1', 'lb2']) {
      await this.lab.exec(h, 'ip', ['addr', 'del', `${VIP}/24`, 'dev', 'eth0'], { check: false });
      for (const addr of Object.values(WEB_ADDR)) await this.lab.exec(h, 'ip', ['route', 'del', 'blackhole', `${addr}/32`], { check: false });
    }
    // Forget which MAC the VIP had: each test starts from a clean neighbour table.
    await this.lab.exec('client', 'ip', ['neigh', 'flush', 'all'], { check: false });
  }

  async destroy(): Promise<void> {
    for (const c of this.clients) c.child.kill('SIGKILL');
    for (const n of this.nodes) n.signal('SIGKILL');
    await this.lab.destroy();
  }
}
