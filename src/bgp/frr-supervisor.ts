// The node's own FRR: zebra, bgpd and (with BFD) bfdd, started by halb with their sockets in one
// runtime directory, configured through vtysh (which sends each line of the integrated config to
// the daemon it belongs to), and stopped with the node. I/O only; what to announce is decided in
// announce-policy.ts and written in frr-config.ts.

import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { BgpAnnounceConfig, BgpConfig } from '../config/types.ts';
import type { Logger } from '../log/logger.ts';
import { announceCommands, renderFrrConfig, withdrawCommands } from './frr-config.ts';
import { VTYSH } from './frr-binaries.ts';

export interface FrrSupervisorOptions {
  bgp: BgpConfig;
  hostname: string;
  /** Sockets, pid files and frr.conf live here (mode 0750, owned by the daemons' user). */
  runDir: string;
  log: Logger;
}

export interface NeighborState {
  address: string;
  asn: number;
  /** FRR's words: Idle, Connect, Active, OpenSent, OpenConfirm, Established. */
  state: string;
  prefixesSent: number;
  uptimeMs: number;
}

/** The daemons drop to user frr (FRR's vty group, frrvty, admits only its members). */
function frrUser(): { uid: number; gid: number } | undefined {
  try {
    const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('frr:'));
    if (!line) return undefined;
    const f = line.split(':');
    return { uid: Number(f[2]), gid: Number(f[3]) };
  } catch {
    return undefined;
  }
}

const REAPER = 'read _; for f in "$1"/*.pid; do kill -TERM "$(cat "$f")"; done 2>/dev/null; sleep 2; for f in "$1"/*.pid; do kill -KILL "$(cat "$f")"; done 2>/dev/null; rm -rf "$1"';

/**
 * Runtime directories of halb processes that are gone (`bgp-<pid>`): their FRR daemons, if any
 * survived, are stopped and the directories removed, so a restarted node starts clean.
 */
export function reapStale(parent: string, log: Logger): void {
  let entries: string[];
  try {
    entries = readdirSync(parent);
  } catch {
    return;
  }
  for (const e of entries) {
    const m = /^bgp-(\d+)$/.exec(e);
    if (!m || alive(Number(m[1]))) continue;
    const dir = join(parent, e);
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.pid'))) {
      const pid = Number(readFileSync(join(dir, f), 'utf8').trim());
      if (pid > 0 && alive(pid)) {
        process.kill(pid, 'SIGKILL');
        log.warn({ pid, dir }, 'stopped an FRR daemon left by a halb that is gone');
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class FrrSupervisor {
  readonly #o: FrrSupervisorOptions;
  readonly #children = new Map<string, ChildProcess>();
  #reaper: ChildProcess | undefined;
  #stopping = false;

  constructor(o: FrrSupervisorOptions) {
    this.#o = o;
  }

  async start(passwords: ReadonlyMap<string, string>): Promise<void> {
    const { bgp, runDir, log } = this.#o;
    const user = frrUser();
    if (!user) throw new Error('bgp: FRR user "frr" not found (install the frr package)');
    // The parent must let user frr through; the directory itself is the daemons' alone.
    mkdirSync(dirname(runDir), { recursive: true, mode: 0o755 });
    reapStale(dirname(runDir), log);
    mkdirSync(runDir, { recursive: true, mode: 0o750 });
    const conf = join(runDir, 'frr.conf');
    writeFileSync(conf, renderFrrConfig(bgp, this.#o.hostname, passwords), { mode: 0o600 });
    if (process.getuid?.() === 0) {
      chownSync(runDir, user.uid, user.gid);
      chownSync(conf, user.uid, user.gid);
    }
    // FRR's daemons outlive a halb killed with SIGKILL (they are not in its process group's fate,
    // and PR_SET_PDEATHSIG is cleared when they drop to user frr): a reaper shell waits on a pipe
    // only halb holds open and, when it reads EOF (halb gone), stops them, so the sessions close
    // and the routers withdraw this node instead of sending it traffic no proxy takes.
    this.#reaper = spawn('/bin/sh', ['-c', REAPER, 'halb-frr-reaper', runDir], { stdio: ['pipe', 'ignore', 'ignore'] });
    this.#reaper.unref();
    const zserv = join(runDir, 'zserv.api');
    const daemons = ['zebra', 'bgpd', ...(bgp.neighbors.some((n) => n.bfd) ? ['bfdd'] : [])];
    for (const d of daemons) {
      const args = ['-u', 'frr', '-g', 'frr', '-f', '/dev/null', '-i', join(runDir, `${d}.pid`), '-z', zserv, '--vty_socket', runDir, '-P', '0'];
      const child = spawn(join(bgp.frrDir, d), args, { stdio: ['ignore', 'pipe', 'pipe'] });
      this.#children.set(d, child);
      for (const s of [child.stdout, child.stderr]) createInterface({ input: s }).on('line', (line) => log.debug({ daemon: d }, line));
      child.on('exit', (code, signal) => {
        this.#children.delete(d);
        if (!this.#stopping) log.error({ daemon: d, code, signal }, `FRR ${d} exited; BGP announcements from this node stop`);
      });
      await this.#waitFor(join(runDir, `${d}.vty`), d);
    }
    await this.vtysh(['-f', conf]);
    log.info({ daemons, runDir, asn: bgp.asn, neighbors: bgp.neighbors.map((n) => n.address) }, 'FRR started');
  }

  async #waitFor(path: string, daemon: string): Promise<void> {
    const end = Date.now() + 10_000;
    while (!existsSync(path)) {
      if (!this.#children.has(daemon)) throw new Error(`bgp: FRR ${daemon} exited at start (run it by hand to see why: ${join(this.#o.bgp.frrDir, daemon)})`);
      if (Date.now() > end) throw new Error(`bgp: FRR ${daemon} did not open ${path} within 10 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  vtysh(args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(VTYSH, ['--vty_socket', this.#o.runDir, ...args], { timeout: 10_000 }, (err, stdout, stderr) => {
        // vtysh exits 0 on some refusals and prints them: both count as failure.
        if (err || /% (Unknown|Invalid|Command incomplete)/.test(stdout + stderr)) reject(new Error(`vtysh ${args.join(' ')}: ${(stderr || stdout || String(err)).trim()}`));
        else resolve(stdout);
      });
    });
  }

  async announce(a: BgpAnnounceConfig): Promise<void> {
    await this.vtysh(announceCommands(this.#o.bgp, a).flatMap((c) => ['-c', c]));
  }

  async withdraw(a: BgpAnnounceConfig): Promise<void> {
    await this.vtysh(withdrawCommands(this.#o.bgp, a).flatMap((c) => ['-c', c]));
  }

  /** Each configured neighbor's session, from `show bgp summary json` (both families). */
  async neighbors(): Promise<NeighborState[]> {
    const out = new Map<string, NeighborState>();
    for (const n of this.#o.bgp.neighbors) out.set(n.address, { address: n.address, asn: n.asn, state: 'Idle', prefixesSent: 0, uptimeMs: 0 });
    const j = JSON.parse(await this.vtysh(['-c', 'show bgp summary json'])) as Record<string, { peers?: Record<string, { state?: string; pfxSnt?: number; peerUptimeMsec?: number }> }>;
    for (const fam of Object.values(j)) {
      for (const [addr, p] of Object.entries(fam.peers ?? {})) {
        const n = out.get(addr);
        if (!n) continue;
        n.state = p.state ?? n.state;
        n.prefixesSent += p.pfxSnt ?? 0;
        n.uptimeMs = Math.max(n.uptimeMs, p.peerUptimeMsec ?? 0);
      }
    }
    return [...out.values()];
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#reaper?.kill('SIGKILL');
    const exits = [...this.#children.values()].map(
      (c) =>
        new Promise<void>((resolve) => {
          const kill = setTimeout(() => c.kill('SIGKILL'), 5000);
          c.once('exit', () => {
            clearTimeout(kill);
            resolve();
          });
          c.kill('SIGTERM');
        }),
    );
    await Promise.all(exits);
  }
}
