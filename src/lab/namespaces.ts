// The lab's network: one namespace per host, each with a veth into a bridge in its own
// namespace. Every name starts with the lab's name, so the next start finds and removes what a
// crashed lab left behind (its processes too: `ip netns pids`). Nothing outside those
// namespaces is touched.
import { execFile, spawn, type ChildProcess } from 'node:child_process';

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number;
}

export function run(cmd: string, args: string[], check = true): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 15_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      if (err && check) reject(new Error(`${cmd} ${args.join(' ')}: ${stderr.trim() || err.message}`));
      else resolve({ stdout, stderr, code });
    });
  });
}

const HOST_SYSCTLS = ['net.ipv4.ip_nonlocal_bind=1', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0'];

export class LabNetwork {
  readonly name: string;
  readonly #children = new Set<ChildProcess>();

  constructor(name: string) {
    if (!/^[a-z][a-z0-9]{1,9}$/.test(name)) throw new Error(`lab name "${name}" must be [a-z][a-z0-9]{1,9}`);
    this.name = name;
  }

  netns(host: string): string {
    return `${this.name}-${host}`;
  }

  /** Namespaces of this lab that exist now (a crashed run's included). */
  async existing(): Promise<string[]> {
    const r = await run('ip', ['netns', 'list'], false);
    return r.stdout.split('\n').map((l) => l.split(' ')[0]!).filter((n) => n.startsWith(`${this.name}-`));
  }

  /** Kill every process inside this lab's namespaces and delete them. */
  async removeAll(): Promise<number> {
    for (const c of this.#children) c.kill('SIGKILL');
    const names = await this.existing();
    for (const ns of names) {
      const pids = (await run('ip', ['netns', 'pids', ns], false)).stdout.split('\n').map(Number).filter((p) => p > 0);
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    for (const ns of names) await run('ip', ['netns', 'del', ns], false);
    return names.length;
  }

  async createBridge(): Promise<void> {
    const ns = this.netns('sw');
    await run('ip', ['netns', 'add', ns]);
    await run('ip', ['-n', ns, 'link', 'add', 'br0', 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0', 'mcast_snooping', '0']);
    await run('ip', ['-n', ns, 'link', 'set', 'br0', 'up']);
  }

  async addHost(host: string, cidr: string, mac?: string): Promise<void> {
    const ns = this.netns(host);
    await run('ip', ['netns', 'add', ns]);
    await run('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', ...HOST_SYSCTLS]);
    await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    await run('ip', ['-n', ns, 'link', 'add', 'eth0', ...(mac ? ['address', mac] : []), 'type', 'veth', 'peer', 'name', `p-${host}`, 'netns', this.netns('sw')]);
    await run('ip', ['-n', this.netns('sw'), 'link', 'set', `p-${host}`, 'master', 'br0', 'up']);
    await run('ip', ['-n', ns, 'addr', 'add', cidr, 'dev', 'eth0']);
    await run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
  }

  exec(host: string, cmd: string, args: string[], check = true): Promise<ExecResult> {
    return run('ip', ['netns', 'exec', this.netns(host), cmd, ...args], check);
  }

  spawn(host: string, cmd: string, args: string[]): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.netns(host), cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#children.add(child);
    child.once('exit', () => this.#children.delete(child));
    return child;
  }
}
