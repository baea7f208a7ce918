// Three halb nodes sharing one VIP, two web servers and a client, for the chaos trials: faults
// applied to any node or pair of nodes, and one `heal` that undoes every fault at once.
//
//   client 10.76.0.50 --+                          +-- web1 10.76.0.21
//   lb1..3 10.76.0.11-13 --+-- br0 (namespace sw) --+-- web2 10.76.0.22
//                         VIP 10.76.0.100, priorities 103 / 102 / 101

import { Lab } from '../../helpers/netns.ts';
import { VrrpNode, eventually, hasAddress } from '../vrrp/vrrp-node-client.ts';
import { ClientRun } from '../node/seed-lab.ts';

export const CHAOS_VIP = '10.76.0.100';
export const NODES = ['lb1', 'lb2', 'lb3'] as const;
export type NodeName = (typeof NODES)[number];
export const NODE_ADDR: Record<NodeName, string> = { lb1: '10.76.0.11', lb2: '10.76.0.12', lb3: '10.76.0.13' };
export const PRIORITY: Record<NodeName, number> = { lb1: 103, lb2: 102, lb3: 101 };
const WEB_ADDR = { web1: '10.76.0.21', web2: '10.76.0.22' };
export const ADVERT_MS = 100;

const WEB_SCRIPT = new URL('../node/web-server.ts', import.meta.url).pathname;
const CLIENT_SCRIPT = new URL('../node/http-client.ts', import.meta.url).pathname;

function nodeYaml(host: NodeName): string {
  return [
    'global:',
    '  workers: 1',
    '  admin: { listen: "127.0.0.1:9100", read_only_open: true, token_env: HALB_TEST_ADMIN_TOKEN }',
    '  log: { level: info, access: false }',
    '  grace: 2s',
    'frontends:',
    '  web:',
    `    bind: ["${CHAOS_VIP}:80"]`,
    '    mode: http',
    '    default_backend: webservers',
    '    http-response:',
    `      - { set-header: X-Served-By, value: ${host} }`,
    'backends:',
    '  webservers:',
    '    health:',
    '      http: { method: GET, path: /, expect: { status: "200-399" } }',
    '      interval: 300ms',
    '      timeout: 250ms',
    '      rise: 2',
    '      fall: 2',
    '    servers:',
    ...Object.entries(WEB_ADDR).map(([n, a]) => `      - { name: ${n}, address: "${a}:80" }`),
    'vrrp:',
    '  instances:',
    '    VI_1:',
    '      interface: eth0',
    `      state: ${host === 'lb1' ? 'MASTER' : 'BACKUP'}`,
    `      priority: ${PRIORITY[host]}`,
    '      virtual_router_id: 76',
    '      version: 3',
    `      advert_int: ${ADVERT_MS}ms`,
    `      virtual_ipaddress: ["${CHAOS_VIP}/24"]`,
    '      track:',
    '        backends: { webservers: { weight: -60 } }',
    '',
  ].join('\n');
}

export class ChaosLab {
  readonly lab: Lab;
  readonly nodes = new Map<NodeName, VrrpNode>();
  #cutLinks = new Set<NodeName>();
  #partitioned = new Set<NodeName>();
  #noBackends = new Set<NodeName>();

  private constructor(lab: Lab) {
    this.lab = lab;
  }

  static async create(): Promise<ChaosLab> {
    const lab = await Lab.create();
    const c = new ChaosLab(lab);
    try {
      for (const n of NODES) await lab.host(n, { addresses: [`${NODE_ADDR[n]}/24`] });
      await lab.host('client', { addresses: ['10.76.0.50/24'] });
      await Promise.all(
        Object.entries(WEB_ADDR).map(async ([web, addr]) => {
          await lab.host(web, { addresses: [`${addr}/24`] });
          const child = lab.spawn(web, process.execPath, [WEB_SCRIPT, web, addr, '80']);
          await new Promise<void>((resolve, reject) => {
            child.stdout!.once('data', () => resolve());
            child.once('exit', (code) => reject(new Error(`${web} exited ${code}`)));
          });
        }),
      );
    } catch (err) {
      await lab.destroy();
      throw err;
    }
    return c;
  }

  alive(n: NodeName): boolean {
    return this.nodes.get(n)?.alive ?? false;
  }

  async start(n: NodeName): Promise<VrrpNode> {
    // A node killed with -9 left its VIP on the interface; halb's start removes stale VIPs itself.
    const node = await VrrpNode.start(this.lab, n, nodeYaml(n), { mode: 'halb', timeoutMs: 20_000 });
    this.nodes.set(n, node);
    return node;
  }

  startClient(durationMs: number): ClientRun {
    const args = { url: `http://${CHAOS_VIP}/`, intervalMs: 20, timeoutMs: 500, durationMs };
    return new ClientRun(this.lab.spawn('client', process.execPath, [CLIENT_SCRIPT, JSON.stringify(args)]));
  }

  async kill9(n: NodeName): Promise<void> {
    await this.nodes.get(n)?.kill9();
  }

  async sigterm(n: NodeName): Promise<void> {
    const node = this.nodes.get(n);
    if (!node) return;
    node.signal('SIGTERM');
    await node.exited;
  }

  reload(n: NodeName): void {
    this.nodes.get(n)?.signal('SIGHUP');
  }

  async cutLink(n: NodeName, mode: 'silent' | 'carrier'): Promise<void> {
    await this.lab.cutLink(n, mode);
    this.#cutLinks.add(n);
  }

  /** a and b stop hearing each other (VRRP and everything else); both still reach the rest. */
  async partition(a: NodeName, b: NodeName): Promise<void> {
    for (const [x, y] of [[a, b], [b, a]] as const) {
      await this.lab.exec(x, 'sh', ['-c', `nft add table inet chaos && nft add chain inet chaos in '{ type filter hook input priority 0; }' && nft add rule inet chaos in ip saddr ${NODE_ADDR[y]} drop`]);
      this.#partitioned.add(x);
    }
  }

  async loseBackends(n: NodeName): Promise<void> {
    for (const addr of Object.values(WEB_ADDR)) await this.lab.exec(n, 'ip', ['route', 'replace', 'blackhole', `${addr}/32`]);
    this.#noBackends.add(n);
  }

  /** Undo every fault: links back, partitions gone, backends back, dead nodes restarted. */
  async heal(): Promise<string[]> {
    const done: string[] = [];
    for (const n of this.#cutLinks) {
      await this.lab.healLink(n);
      done.push(`link ${n}`);
    }
    this.#cutLinks.clear();
    for (const n of this.#partitioned) {
      await this.lab.exec(n, 'nft', ['delete', 'table', 'inet', 'chaos'], { check: false });
      done.push(`partition ${n}`);
    }
    this.#partitioned.clear();
    for (const n of this.#noBackends) {
      for (const addr of Object.values(WEB_ADDR)) await this.lab.exec(n, 'ip', ['route', 'del', 'blackhole', `${addr}/32`], { check: false });
      done.push(`backends ${n}`);
    }
    this.#noBackends.clear();
    await Promise.all(
      NODES.filter((n) => !this.alive(n)).map(async (n) => {
        await this.start(n);
        done.push(`restart ${n}`);
      }),
    );
    return done;
  }

  /** Every node runs and sees all its web servers up (its health checks have risen again). */
  async settled(timeoutMs: number): Promise<void> {
    await eventually(async () => {
      for (const n of NODES) {
        if (!this.alive(n)) return false;
        const r = await this.lab.exec(n, 'curl', ['-sS', '--max-time', '2', 'http://127.0.0.1:9100/status'], { check: false });
        if (r.code !== 0) return false;
        const st = JSON.parse(r.stdout) as { backends?: { servers?: { up?: boolean }[] }[] };
        if (!(st.backends ?? []).every((b) => (b.servers ?? []).every((x) => x.up))) return false;
      }
      return true;
    }, timeoutMs, 'every node up with all its servers healthy');
  }

  async vipHolders(): Promise<NodeName[]> {
    const out: NodeName[] = [];
    for (const n of NODES) if (await hasAddress(this.lab, n, CHAOS_VIP)) out.push(n);
    return out;
  }

  async destroy(): Promise<void> {
    for (const n of this.nodes.values()) n.signal('SIGKILL');
    await this.lab.destroy();
  }
}
