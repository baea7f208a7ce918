// The test side of vrrp-node.ts: start a node in a lab namespace from a YAML config, follow
// its JSON-line events, ask for status, signal it. The only place that knows how a node is run.
// Two ways: the bare VrrpClaimLink of vrrp-node.ts (default), or the full `halb run -c FILE`
// (proxy + health + VRRP + admin API), whose JSON log lines are translated to the same events
// and whose status comes from the admin API inside the node's namespace.

import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { ChildProcess } from 'node:child_process';
import type { Lab } from '../../helpers/netns.ts';
import type { InstanceStatus } from '../../../src/node/vrrp-claim-link.ts';

const SCRIPT = new URL('./vrrp-node.ts', import.meta.url).pathname;
const HALB_MAIN = new URL('../../../bin/halb.js', import.meta.url).pathname;

export interface StartOptions {
  /** 'vrrp-node' (default): a bare VrrpClaimLink. 'halb': `halb run -c FILE`, needs `admin` in the config. */
  mode?: 'vrrp-node' | 'halb';
  /** Admin API as seen inside the node's namespace (halb mode). Default http://127.0.0.1:9100. */
  admin?: string;
  timeoutMs?: number;
  /** A command the node runs under, e.g. setpriv dropping to an unprivileged user (halb mode). */
  prefix?: string[];
  /** Extra `halb run` arguments (halb mode), e.g. ['--node', 'lb1']. */
  args?: string[];
}

// halb's log messages that tests follow (router.ts "VRRP a -> b", node.ts "halb node started").
const STATE_MSG = /^VRRP (\S+) -> (\S+)$/;
const ACTION_BY_STATE: Record<string, string> = {
  master: 'become-master',
  backup: 'become-backup',
  fault: 'enter-fault',
  initialize: 'stop',
  'master-handing-over': 'keep-serving',
};

/** A halb JSON log line as a node event (the raw line stays available as ev "log"). */
function logLineEvent(line: Record<string, unknown>): NodeEvent {
  const msg = typeof line.msg === 'string' ? line.msg : '';
  const t = typeof line.time === 'string' ? Date.parse(line.time) : typeof line.time === 'number' ? line.time : Date.now();
  const m = STATE_MSG.exec(msg);
  if (m) {
    const e: NodeEvent = { ev: 'state', t, from: m[1], to: m[2], action: ACTION_BY_STATE[m[2]!], priority: line.priority };
    if (line.master !== undefined) e.master = line.master;
    if (line.vrrp !== undefined) e.instance = line.vrrp;
    return e;
  }
  if (msg === 'halb node started') return { ev: 'ready', t };
  if (msg === 'stopped') return { ev: 'stopped', t };
  return { ...line, ev: 'log', t };
}

export interface NodeEvent {
  ev: string;
  t: number;
  [k: string]: unknown;
}

export class VrrpNode {
  readonly host: string;
  readonly events: NodeEvent[] = [];
  readonly child: ChildProcess;
  readonly mode: 'vrrp-node' | 'halb';
  readonly admin: string;
  readonly #lab: Lab;
  readonly #dir: string;
  readonly #token: string;
  #stderr = '';
  #waiters = new Set<() => void>();
  readonly exited: Promise<number | null>;

  private constructor(lab: Lab, host: string, yaml: string, opts: StartOptions) {
    this.host = host;
    this.mode = opts.mode ?? 'vrrp-node';
    this.admin = opts.admin ?? 'http://127.0.0.1:9100';
    this.#lab = lab;
    this.#dir = mkdtempSync(join(tmpdir(), `halb-vrrp-${host}-`));
    const file = join(this.#dir, 'halb.yaml');
    writeFileSync(file, yaml);
    // A node run as another user (prefix) must be able to read its config.
    if (opts.prefix) chmodSync(this.#dir, 0o755);
    // halb mode: configs give the TCP admin listener `token_env: HALB_TEST_ADMIN_TOKEN` (status
    // open read-only for curl); handover sends this node's token from a file only root reads.
    this.#token = randomBytes(24).toString('hex');
    writeFileSync(join(this.#dir, 'admin.token'), this.#token, { mode: 0o600 });
    const env = { ...process.env, HALB_LOG_LEVEL: process.env.HALB_LOG_LEVEL ?? 'info', HALB_TEST_ADMIN_TOKEN: this.#token };
    if (this.mode === 'halb') {
      const [cmd, ...pre] = [...(opts.prefix ?? []), process.execPath];
      this.child = lab.spawn(host, cmd!, [...pre, HALB_MAIN, 'run', '-c', file, '--log-format', 'json', ...(opts.args ?? [])], { env });
      // Logs are the event stream: both pipes, JSON lines.
      for (const input of [this.child.stdout!, this.child.stderr!]) {
        createInterface({ input }).on('line', (line) => {
          let parsed: Record<string, unknown>;
          try {
            parsed = JSON.parse(line) as Record<string, unknown>;
          } catch {
            parsed = { msg: line, raw: true };
          }
          this.#stderr = (this.#stderr + line + '\n').slice(-20_000);
          this.events.push(logLineEvent(parsed));
          for (const w of this.#waiters) w();
        });
      }
    } else {
      this.child = lab.spawn(host, process.execPath, [SCRIPT, file], { env });
      createInterface({ input: this.child.stdout! }).on('line', (line) => {
        try {
          this.events.push(JSON.parse(line) as NodeEvent);
        } catch {
          this.events.push({ ev: 'garbage', t: Date.now(), line });
        }
        for (const w of this.#waiters) w();
      });
      this.child.stderr!.on('data', (d: Buffer) => {
        this.#stderr = (this.#stderr + d.toString()).slice(-20_000);
      });
    }
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => {
      rmSync(this.#dir, { recursive: true, force: true });
      for (const w of this.#waiters) w();
      resolve(code);
    }));
  }

  /** Resolves once the node printed "ready". */
  static async start(lab: Lab, host: string, yaml: string, opts: number | StartOptions = {}): Promise<VrrpNode> {
    const o = typeof opts === 'number' ? { timeoutMs: opts } : opts;
    const node = new VrrpNode(lab, host, yaml, o);
    // Generous: a node process starting on a machine busy with other tests can take seconds.
    await node.waitFor((e) => e.ev === 'ready', o.timeoutMs ?? 30_000, 'ready');
    return node;
  }

  get stderr(): string {
    return this.#stderr;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The last state the node reported ('initialize' before any). */
  get state(): string {
    for (let i = this.events.length - 1; i >= 0; i--) if (this.events[i]!.ev === 'state') return this.events[i]!.to as string;
    return 'initialize';
  }

  /** First event (from index `since`) matching `pred`. */
  waitFor(pred: (e: NodeEvent) => boolean, timeoutMs: number, what = 'event', since = 0): Promise<NodeEvent> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const hit = this.events.slice(since).find(pred);
        if (hit) {
          done();
          resolve(hit);
          return true;
        }
        if (!this.alive && this.child.exitCode !== null) {
          done();
          reject(new Error(`${this.host}: exited (${this.child.exitCode}) before ${what}\n${this.#stderr.slice(-3000)}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${this.host}: no ${what} within ${timeoutMs} ms; state ${this.state}\n${this.#stderr.slice(-3000)}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(w);
      };
      const w = (): void => void check();
      if (check()) return;
      this.#waiters.add(w);
    });
  }

  /** Next transition to `to` after event index `since` (default: now). */
  waitState(to: string, timeoutMs: number, since = this.events.length): Promise<NodeEvent> {
    return this.waitFor((e) => e.ev === 'state' && e.to === to, timeoutMs, `state ${to}`, since);
  }

  async status(): Promise<InstanceStatus> {
    if (this.mode === 'halb') {
      const r = await this.#lab.exec(this.host, 'curl', ['-sS', '--max-time', '5', `${this.admin}/status`]);
      return (JSON.parse(r.stdout) as { vrrp: InstanceStatus[] }).vrrp[0]!;
    }
    const since = this.events.length;
    this.child.stdin!.write('status\n');
    const e = await this.waitFor((x) => x.ev === 'status', 5000, 'status', since);
    return (e.instances as InstanceStatus[])[0]!;
  }

  /** Planned handover (halb mode: `halb handover -a ADMIN` inside the namespace); resolves when done. */
  async handover(): Promise<string> {
    if (this.mode === 'halb') {
      const r = await this.#lab.exec(this.host, process.execPath, [HALB_MAIN, 'handover', '-a', this.admin, '--token-file', join(this.#dir, 'admin.token')], { timeoutMs: 30_000 });
      return r.stdout.trim();
    }
    const since = this.events.length;
    this.child.stdin!.write('handover\n');
    await this.waitFor((x) => x.ev === 'handover-done', 30_000, 'handover-done', since);
    return 'handed over';
  }

  signal(sig: NodeJS.Signals): void {
    if (this.alive) this.child.kill(sig);
  }

  /** kill -9 and wait for the exit. */
  async kill9(): Promise<void> {
    this.signal('SIGKILL');
    await this.exited;
  }
}

/** VIP present on a host's interface right now. */
export async function hasAddress(lab: Lab, host: string, address: string, iface = 'eth0'): Promise<boolean> {
  const r = await lab.exec(host, 'ip', ['-j', 'addr', 'show', 'dev', iface]);
  const links = JSON.parse(r.stdout) as { addr_info?: { local?: string }[] }[];
  return links.some((l) => (l.addr_info ?? []).some((a) => a.local === address));
}

/** Poll until `cond` holds (bounded). */
export async function eventually(cond: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > end) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export interface InstanceYaml {
  priority: number;
  state?: 'MASTER' | 'BACKUP';
  advertInt: string;
  version?: 2 | 3;
  vrid?: number;
  vip?: string;
  nopreempt?: boolean;
  unicast?: { source: string; peers: string[] };
  password?: string;
  extra?: string;
}

/** A vrrp-only halb config with one instance VI_1 on eth0. */
export function vrrpYaml(o: InstanceYaml): string {
  const lines = [
    'vrrp:',
    '  instances:',
    '    VI_1:',
    '      interface: eth0',
    `      state: ${o.state ?? 'BACKUP'}`,
    `      priority: ${o.priority}`,
    `      virtual_router_id: ${o.vrid ?? 51}`,
    `      version: ${o.version ?? 3}`,
    `      advert_int: ${o.advertInt}`,
    `      virtual_ipaddress: ["${o.vip ?? '10.77.0.100/24'}"]`,
  ];
  if (o.nopreempt) lines.push('      nopreempt: true');
  if (o.unicast) lines.push(`      unicast: { source: ${o.unicast.source}, peers: [${o.unicast.peers.join(', ')}] }`);
  if (o.password) lines.push(`      authentication: { auth_type: PASS, auth_pass: ${o.password} }`);
  if (o.extra) lines.push(o.extra);
  return `${lines.join('\n')}\n`;
}
