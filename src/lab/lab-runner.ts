// `halb lab`: the seed topology (two halb nodes sharing a VIP, three web servers, a client
// sending a steady request stream) in namespaces this process creates, with each node's admin
// API and dashboard on a root-namespace loopback port, and commands that break and heal it.
// Every action is an event of the timeline printed at the end.
import http from 'node:http';
import net from 'node:net';
import { mkdtempSync, writeFileSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { ChildProcess } from 'node:child_process';
import { LabNetwork } from './namespaces.ts';
import { LAB_CLIENT, LAB_LBS, LAB_VIP, LAB_WEBS, labNodeYaml, type LabLb } from './topology.ts';
import { buildTimeline, formatTimeline, type ClientRecord, type LabEvent } from './timeline.ts';
import { siblingModule } from '../node/sibling-module.ts';
import { adminCall } from '../cli/admin-client.ts';

const HALB_MAIN = new URL('../../bin/halb.js', import.meta.url).pathname;
const script = (name: string): string => siblingModule(import.meta.url, name);
const LBS = Object.keys(LAB_LBS) as LabLb[];

export type FailKind = 'master' | 'proxy' | 'link';

export interface LabOptions {
  name: string;
  /** Admin API + dashboard of lb1 and lb2 on 127.0.0.1 in the root namespace. */
  ports: [number, number];
  /** The client stops by itself after this long (the lab is bounded even if forgotten). */
  maxSeconds: number;
  say: (line: string) => void;
}

function waitLine(child: ChildProcess, what: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: not ready within ${timeoutMs} ms`)), timeoutMs);
    child.stdout!.once('data', () => {
      clearTimeout(timer);
      resolve();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code})`));
    });
  });
}

export class HalbLab {
  readonly net: LabNetwork;
  readonly started = Date.now();
  readonly events: LabEvent[] = [];
  readonly records: ClientRecord[] = [];
  readonly #o: LabOptions;
  readonly #dir: string;
  readonly #nodes = new Map<LabLb, ChildProcess>();
  readonly #bridges: net.Server[] = [];
  #client: ChildProcess | undefined;
  #cut = new Set<LabLb>();
  #down = new Set<LabLb>();

  private constructor(o: LabOptions) {
    this.#o = o;
    this.net = new LabNetwork(o.name);
    this.#dir = mkdtempSync(join(tmpdir(), 'halb-lab-'));
    chmodSync(this.#dir, 0o755);
  }

  static async start(o: LabOptions): Promise<HalbLab> {
    const lab = new HalbLab(o);
    try {
      await lab.#build();
    } catch (err) {
      await lab.destroy();
      throw err;
    }
    return lab;
  }

  async #build(): Promise<void> {
    const left = await this.net.removeAll();
    if (left > 0) this.#o.say(`removed ${left} namespaces (and their processes) that an earlier lab left behind`);
    await this.net.createBridge();
    for (const lb of LBS) await this.net.addHost(lb, `${LAB_LBS[lb].address}/24`, LAB_LBS[lb].mac);
    for (const [web, addr] of Object.entries(LAB_WEBS)) await this.net.addHost(web, `${addr}/24`);
    await this.net.addHost('client', `${LAB_CLIENT}/24`);
    await Promise.all(Object.entries(LAB_WEBS).map(([web, addr]) => waitLine(this.net.spawn(web, process.execPath, [script('web-server'), web, addr]), web, 10_000)));
    for (const lb of LBS) writeFileSync(join(this.#dir, `${lb}.yaml`), labNodeYaml(lb, this.#adminSocket(lb)));
    for (const [i, lb] of LBS.entries()) {
      this.#startNode(lb);
      await this.#bridgeAdmin(lb, this.#o.ports[i]!);
    }
    const client = this.net.spawn('client', process.execPath, [script('stream-client'), `http://${LAB_VIP}/`, String(this.#o.maxSeconds)]);
    this.#client = client;
    createInterface({ input: client.stdout! }).on('line', (line) => {
      try {
        this.records.push(JSON.parse(line) as ClientRecord);
      } catch {
        // not a record
      }
    });
    await this.#until(() => this.records.some((r) => r.ok), 20_000, 'the client served through the VIP');
    this.#event('lab up: lb1 MASTER, lb2 BACKUP, client sending 20 req/s');
  }

  #startNode(lb: LabLb): void {
    const child = this.net.spawn(lb, process.execPath, [HALB_MAIN, 'run', '-c', join(this.#dir, `${lb}.yaml`), '--log-format', 'json']);
    this.#nodes.set(lb, child);
    this.#down.delete(lb);
    for (const input of [child.stdout!, child.stderr!]) {
      createInterface({ input }).on('line', (line) => {
        let msg = line;
        try {
          msg = String((JSON.parse(line) as { msg?: unknown }).msg ?? line);
        } catch {
          // plain text
        }
        if (/^VRRP \S+ -> \S+$/.test(msg) || /could not start|failed/.test(msg)) this.#o.say(`${lb}: ${msg}`);
      });
    }
    child.once('exit', () => {
      if (this.#nodes.get(lb) === child) this.#down.add(lb);
    });
  }

  #adminSocket(lb: LabLb): string {
    return join(this.#dir, `${lb}-admin.sock`);
  }

  /**
   * 127.0.0.1:port (root namespace) -> the node's admin unix socket. The socket is the full admin
   * channel, so this port is too, for whoever can reach this host's loopback while the lab runs;
   * the dashboard's buttons still need its per-process CSRF token, so other sites cannot use it.
   */
  async #bridgeAdmin(lb: LabLb, port: number): Promise<void> {
    const sock = this.#adminSocket(lb);
    const server = net.createServer((c) => {
      const u = net.connect(sock);
      c.pipe(u).pipe(c);
      const close = (): void => {
        c.destroy();
        u.destroy();
      };
      c.on('error', close);
      u.on('error', close);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.#bridges.push(server);
  }

  dashboards(): Record<LabLb, string> {
    return { lb1: `http://127.0.0.1:${this.#o.ports[0]}/dashboard`, lb2: `http://127.0.0.1:${this.#o.ports[1]}/dashboard` };
  }

  /**
   * Straight to the node's admin socket, as `halb handover` does. Not through the loopback bridge
   * with fetch(): fetch sends Sec-Fetch-Mode, so the node takes it for a browser and refuses a
   * state change without the dashboard's CSRF token.
   */
  async #admin(lb: LabLb, method: string, path: string): Promise<unknown> {
    const r = await adminCall({ socket: this.#adminSocket(lb) }, method, path, undefined, 3000);
    if ('error' in r) throw new Error(r.error);
    if (!r.ok) throw new Error(`${lb} ${method} ${path}: ${r.text}`);
    return JSON.parse(r.text) as unknown;
  }

  /** The node whose VRRP instance says MASTER now. */
  async master(): Promise<LabLb | undefined> {
    for (const lb of LBS) {
      if (this.#down.has(lb)) continue;
      try {
        const st = (await this.#admin(lb, 'GET', '/status')) as { vrrp?: { keepalivedState?: string }[] };
        if (st.vrrp?.[0]?.keepalivedState === 'MASTER') return lb;
      } catch {
        // not answering: not the master we can act on
      }
    }
    return undefined;
  }

  async fail(kind: FailKind): Promise<string> {
    const lb = await this.master();
    if (!lb) throw new Error('no node is MASTER right now: heal first');
    const what = { master: `kill -9 of halb on ${lb}`, proxy: `${lb} loses its web servers`, link: `${lb}'s link goes down` }[kind];
    // The event is stamped before acting: what the client sees from then on belongs to it.
    const line = this.#event(`fail ${kind}: ${what}`);
    if (kind === 'master') {
      this.#nodes.get(lb)!.kill('SIGKILL');
      this.#down.add(lb);
    } else if (kind === 'proxy') {
      this.#cut.add(lb);
      for (const addr of Object.values(LAB_WEBS)) await this.net.exec(lb, 'ip', ['route', 'replace', 'blackhole', `${addr}/32`]);
    } else {
      this.#cut.add(lb);
      await this.net.exec('sw', 'ip', ['link', 'set', `p-${lb}`, 'down']);
    }
    return line;
  }

  async handover(): Promise<string> {
    const lb = await this.master();
    if (!lb) throw new Error('no node is MASTER right now');
    // Stamped before the call: /handover answers once the move is done.
    const line = this.#event(`handover from ${lb}`);
    await this.#admin(lb, 'POST', '/handover');
    return line;
  }

  async heal(): Promise<string> {
    const done: string[] = [];
    for (const lb of LBS) {
      if (this.#cut.has(lb)) {
        for (const addr of Object.values(LAB_WEBS)) await this.net.exec(lb, 'ip', ['route', 'del', 'blackhole', `${addr}/32`], false);
        await this.net.exec('sw', 'ip', ['link', 'set', `p-${lb}`, 'up'], false);
        this.#cut.delete(lb);
        done.push(`${lb} reconnected`);
      }
      if (this.#down.has(lb)) {
        // A killed node left its VIP on the interface, as a killed keepalived does; halb's start removes it.
        this.#startNode(lb);
        done.push(`${lb} restarted`);
      }
    }
    return this.#event(`heal${done.length ? `: ${done.join(', ')}` : ' (nothing to heal)'}`);
  }

  timeline(): string {
    return formatTimeline(buildTimeline(this.started, this.events, this.records));
  }

  /** Stop the client and the nodes, remove every namespace; returns the timeline. */
  async stop(): Promise<string> {
    this.#event('lab stopped');
    this.#client?.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 600));
    const text = this.timeline();
    await this.destroy();
    return text;
  }

  async destroy(): Promise<void> {
    for (const s of this.#bridges) s.close();
    await this.net.removeAll();
    rmSync(this.#dir, { recursive: true, force: true });
  }

  #event(what: string): string {
    const t = Date.now();
    this.events.push({ t, what });
    const line = `[${((t - this.started) / 1000).toFixed(1)} s] ${what}`;
    this.#o.say(line);
    return line;
  }

  async #until(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!pred()) {
      if (Date.now() > end) throw new Error(`lab: ${what} did not happen within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** The control channel `halb lab fail|handover|heal|stop` talk to: HTTP on a unix socket. */
export function serveControl(lab: HalbLab, path: string, onStop: () => void): Promise<http.Server> {
  rmSync(path, { force: true });
  const server = http.createServer((req, res) => {
    const reply = (code: number, body: unknown): void => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const url = new URL(req.url ?? '/', 'http://lab');
    const act = async (): Promise<string> => {
      const fail = /^\/fail\/(master|proxy|link)$/.exec(url.pathname);
      if (req.method === 'POST' && fail) return lab.fail(fail[1] as FailKind);
      if (req.method === 'POST' && url.pathname === '/handover') return lab.handover();
      if (req.method === 'POST' && url.pathname === '/heal') return lab.heal();
      if (req.method === 'GET' && url.pathname === '/timeline') return lab.timeline();
      if (req.method === 'POST' && url.pathname === '/stop') {
        setImmediate(onStop);
        return 'stopping';
      }
      throw Object.assign(new Error(`no such lab command: ${req.method} ${url.pathname}`), { status: 404 });
    };
    act().then(
      (message) => reply(200, { ok: true, message }),
      (err: Error & { status?: number }) => reply(err.status ?? 409, { ok: false, error: err.message }),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      chmodSync(path, 0o600);
      resolve(server);
    });
  });
}
