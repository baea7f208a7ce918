// A throw-away network for system tests: network namespaces joined by one bridge.
//
//   const lab = await Lab.create();
//   await lab.host('a', { addresses: ['10.77.0.11/24', 'fd77::11/64'] });
//   await lab.host('b', { addresses: ['10.77.0.12/24'] });
//   await lab.exec('a', 'ping', ['-c1', '10.77.0.12']);
//   ... finally: await lab.destroy();
//
// Every namespace carries a per-run prefix, so a crashed run never collides with the next.
// Interfaces are created directly inside their namespaces, so their names (eth0, br0, p-<host>)
// never touch the root namespace. Teardown kills what we spawned and deletes the namespaces;
// it also runs on process exit, SIGINT and SIGTERM, and is safe to call twice.

import { execFile, execFileSync, spawn } from 'node:child_process';
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export interface HostOptions {
  /** CIDR addresses for the host's interface, e.g. "10.77.0.11/24", "fd77::11/64". Only 10.77.x.x / fd77:: please. */
  addresses?: string[];
  /** Interface name inside the host namespace. Default "eth0". */
  iface?: string;
  /** Fixed MAC for the host interface (stable neighbour-table assertions). */
  mac?: string;
  /** Extra sysctls for this namespace, applied after the defaults. */
  sysctls?: Record<string, string | number>;
}

export interface LabHost {
  name: string;
  /** Namespace name, for `ip netns exec` / `ip -n`. */
  netns: string;
  /** Interface inside the host namespace. */
  iface: string;
  /** The veth end attached to the bridge, inside the bridge namespace. */
  bridgePort: string;
  addresses: string[];
}

export interface ExecOptions {
  /** Default true: a non-zero exit rejects with stderr in the message. */
  check?: boolean;
  /** Default 15 s. */
  timeoutMs?: number;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number;
}

export type CutMode = 'silent' | 'carrier';

const NAME_RE = /^[a-z][a-z0-9]{0,9}$/;

// The sysctls every host gets: bind the VIP before owning it, IPv6 on, no DAD wait.
const HOST_SYSCTLS: Record<string, string | number> = {
  'net.ipv4.ip_nonlocal_bind': 1,
  'net.ipv6.ip_nonlocal_bind': 1,
  'net.ipv6.conf.all.disable_ipv6': 0,
  'net.ipv6.conf.default.disable_ipv6': 0,
  'net.ipv6.conf.all.accept_dad': 0,
  'net.ipv6.conf.default.accept_dad': 0,
  'net.ipv4.conf.all.rp_filter': 0,
  'net.ipv4.conf.default.rp_filter': 0,
};

const liveLabs = new Set<Lab>();
let exitHooksInstalled = false;

function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.on('exit', () => {
    for (const lab of liveLabs) lab.destroySync();
  });
  // `on`, not `once`: under `node --test` a file gets SIGTERM twice (from the group signal of
  // `timeout`/CI and from the runner cancelling it). With `once` the listener is gone after the
  // first, so the second kills the process with the default action in the middle of the
  // teardown, and the namespaces stayed behind. Later signals are ignored until exit.
  let terminating = false;
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
    process.on(signal, () => {
      if (terminating) return;
      terminating = true;
      for (const lab of liveLabs) lab.destroySync();
      process.exit(code);
    });
  }
}

function run(cmd: string, args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const check = opts.check ?? true;
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: opts.timeoutMs ?? 15_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      if (err && check) {
        reject(new Error(`${cmd} ${args.join(' ')} failed (${String(err.code ?? err.signal)}): ${stderr.trim() || err.message}`));
        return;
      }
      resolve({ stdout, stderr, code });
    });
  });
}

export class Lab {
  readonly prefix: string;
  readonly bridgeNetns: string;
  readonly bridgeName = 'br0';
  readonly hosts = new Map<string, LabHost>();
  #bridgeReady: Promise<void> | undefined;
  #namespaces: string[] = [];
  #children = new Set<ChildProcess>();
  #destroyed = false;

  private constructor(prefix: string) {
    this.prefix = prefix;
    this.bridgeNetns = `${prefix}-sw`;
  }

  /** Needs root. `prefix` defaults to h<pid%1000><4 random hex>, unique per run. */
  static async create(opts: { prefix?: string } = {}): Promise<Lab> {
    if (process.getuid?.() !== 0) throw new Error('Lab needs root (network namespaces)');
    const prefix = opts.prefix ?? `h${process.pid % 1000}${randomBytes(2).toString('hex')}`;
    if (!/^[a-z][a-z0-9]{1,11}$/.test(prefix)) throw new Error(`Lab prefix "${prefix}" must be [a-z][a-z0-9]{1,11}`);
    const lab = new Lab(prefix);
    installExitHooks();
    liveLabs.add(lab);
    return lab;
  }

  /** Namespace name of a host (or of the bridge for "sw"). */
  netns(host: string | LabHost): string {
    if (typeof host !== 'string') return host.netns;
    if (host === 'sw') return this.bridgeNetns;
    const h = this.hosts.get(host);
    if (!h) throw new Error(`Lab ${this.prefix}: no host "${host}"`);
    return h.netns;
  }

  /** Creates the bridge namespace with br0 (no STP, no multicast snooping). Idempotent. */
  bridge(): Promise<void> {
    this.#bridgeReady ??= (async () => {
      await this.#addNetns(this.bridgeNetns);
      const ns = this.bridgeNetns;
      await run('ip', ['-n', ns, 'link', 'add', this.bridgeName, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0', 'mcast_snooping', '0']);
      await run('ip', ['-n', ns, 'link', 'set', this.bridgeName, 'up']);
      await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    })();
    return this.#bridgeReady;
  }

  /** A namespace with one veth into the bridge. Names: [a-z][a-z0-9]{0,9}, "sw" is taken. */
  async host(name: string, opts: HostOptions = {}): Promise<LabHost> {
    this.#assertAlive();
    if (!NAME_RE.test(name) || name === 'sw') throw new Error(`Lab host name "${name}" must match ${NAME_RE} and not be "sw"`);
    if (this.hosts.has(name)) throw new Error(`Lab host "${name}" exists`);
    await this.bridge();
    const netns = `${this.prefix}-${name}`;
    const iface = opts.iface ?? 'eth0';
    const bridgePort = `p-${name}`;
    const host: LabHost = { name, netns, iface, bridgePort, addresses: [...(opts.addresses ?? [])] };
    this.hosts.set(name, host);
    await this.#addNetns(netns);
    await this.sysctl(netns, { ...HOST_SYSCTLS, ...opts.sysctls });
    await run('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
    // Created straight inside both namespaces: the root namespace never sees these names.
    await run('ip', ['-n', netns, 'link', 'add', iface, ...(opts.mac ? ['address', opts.mac] : []), 'type', 'veth', 'peer', 'name', bridgePort, 'netns', this.bridgeNetns]);
    await run('ip', ['-n', this.bridgeNetns, 'link', 'set', bridgePort, 'master', this.bridgeName, 'up']);
    for (const cidr of host.addresses) {
      await run('ip', ['-n', netns, 'addr', 'add', cidr, 'dev', iface, ...(cidr.includes(':') ? ['nodad'] : [])]);
    }
    await run('ip', ['-n', netns, 'link', 'set', iface, 'up']);
    return host;
  }

  /** Write sysctls inside a namespace (host name, "sw" or a raw namespace name). */
  async sysctl(hostOrNetns: string, values: Record<string, string | number>): Promise<void> {
    const netns = this.#namespaces.includes(hostOrNetns) ? hostOrNetns : this.netns(hostOrNetns);
    const args = Object.entries(values).map(([k, v]) => `${k}=${v}`);
    if (args.length > 0) await run('ip', ['netns', 'exec', netns, 'sysctl', '-q', '-w', ...args]);
  }

  /** Run a command inside a host's namespace and wait for it. */
  exec(host: string | LabHost, cmd: string, args: string[] = [], opts: ExecOptions = {}): Promise<ExecResult> {
    this.#assertAlive();
    return run('ip', ['netns', 'exec', this.netns(host), cmd, ...args], opts);
  }

  /** Start a long-running process inside a host's namespace; killed by destroy(). */
  spawn(host: string | LabHost, cmd: string, args: string[] = [], opts: SpawnOptions = {}): ChildProcess {
    this.#assertAlive();
    // `ip netns exec` execs the command, so child.pid is the command's own pid.
    const child = spawn('ip', ['netns', 'exec', this.netns(host), cmd, ...args], { stdio: ['pipe', 'pipe', 'pipe'], ...opts });
    this.#children.add(child);
    child.once('exit', () => this.#children.delete(child));
    child.once('error', () => this.#children.delete(child));
    return child;
  }

  /**
   * Disconnect a host from the bridge.
   * 'silent' (default): the bridge port leaves the bridge; the host still sees carrier, like a
   * dead switch or a partition. 'carrier': the bridge end goes down; the host sees NO-CARRIER.
   */
  async cutLink(host: string | LabHost, mode: CutMode = 'silent'): Promise<void> {
    const h = this.#host(host);
    if (mode === 'carrier') await run('ip', ['-n', this.bridgeNetns, 'link', 'set', h.bridgePort, 'down']);
    else await run('ip', ['-n', this.bridgeNetns, 'link', 'set', h.bridgePort, 'nomaster']);
  }

  /** Undo cutLink (either mode). */
  async healLink(host: string | LabHost): Promise<void> {
    const h = this.#host(host);
    await run('ip', ['-n', this.bridgeNetns, 'link', 'set', h.bridgePort, 'master', this.bridgeName, 'up']);
  }

  /** Kill what we started, delete the namespaces (which removes their links). Safe to call twice. */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
    liveLabs.delete(this);
    const waits: Promise<void>[] = [];
    for (const child of this.#children) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      waits.push(
        new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            child.kill('SIGKILL');
            resolve();
          }, 2000);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          child.kill('SIGTERM');
        }),
      );
    }
    await Promise.all(waits);
    this.#children.clear();
    for (const ns of [...this.#namespaces].reverse()) {
      // Anything still running in our namespace was started by this lab (e.g. a daemon that forked).
      const pids = await run('ip', ['netns', 'pids', ns], { check: false });
      for (const pid of pids.stdout.split(/\s+/).filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await run('ip', ['netns', 'del', ns], { check: false });
    }
    this.#namespaces = [];
  }

  /** Synchronous teardown for process 'exit' and signals. */
  destroySync(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    liveLabs.delete(this);
    for (const child of this.#children) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
    this.#children.clear();
    for (const ns of [...this.#namespaces].reverse()) {
      try {
        const pids = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
        for (const pid of pids.split(/\s+/).filter(Boolean)) {
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch {
            // already gone
          }
        }
      } catch {
        // namespace already gone
      }
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch {
        // namespace already gone
      }
    }
    this.#namespaces = [];
  }

  #host(host: string | LabHost): LabHost {
    const name = typeof host === 'string' ? host : host.name;
    const h = this.hosts.get(name);
    if (!h) throw new Error(`Lab ${this.prefix}: no host "${name}"`);
    return h;
  }

  #assertAlive(): void {
    if (this.#destroyed) throw new Error(`Lab ${this.prefix} was destroyed`);
  }

  async #addNetns(ns: string): Promise<void> {
    this.#assertAlive();
    await run('ip', ['netns', 'add', ns]);
    this.#namespaces.push(ns);
  }
}
