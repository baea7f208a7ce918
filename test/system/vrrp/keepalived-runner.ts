// A real keepalived (Debian's /usr/sbin/keepalived) in a lab namespace, for interop tests:
// foreground, VRRP only, its own config and pid files in a temp dir, logs to stderr.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { Lab } from '../../helpers/netns.ts';

export const KEEPALIVED = '/usr/sbin/keepalived';

export interface KeepalivedInstance {
  priority: number;
  version: 2 | 3;
  advertInt: string;
  vrid?: number;
  vip?: string;
  password?: string;
}

export function keepalivedConf(o: KeepalivedInstance): string {
  return `global_defs {
  router_id halbtest
  vrrp_version ${o.version}
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id ${o.vrid ?? 51}
  priority ${o.priority}
  advert_int ${o.advertInt}
${o.password ? `  authentication {\n    auth_type PASS\n    auth_pass ${o.password}\n  }\n` : ''}  virtual_ipaddress {
    ${o.vip ?? '10.77.0.100/24'} dev eth0
  }
}
`;
}

export class Keepalived {
  readonly child: ChildProcess;
  readonly #dir: string;
  #log = '';
  readonly exited: Promise<void>;

  constructor(lab: Lab, host: string, conf: string) {
    this.#dir = mkdtempSync(join(tmpdir(), `halb-ka-${host}-`));
    const file = join(this.#dir, 'keepalived.conf');
    writeFileSync(file, conf);
    this.child = lab.spawn(host, KEEPALIVED, [
      '-n', '-l', '-D', '-P',
      '-f', file,
      '-p', join(this.#dir, 'keepalived.pid'),
      '-r', join(this.#dir, 'vrrp.pid'),
    ]);
    const collect = (d: Buffer): void => {
      this.#log = (this.#log + d.toString()).slice(-20_000);
    };
    this.child.stdout!.on('data', collect);
    this.child.stderr!.on('data', collect);
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    // Its config and pid files go with it, however it ends (kill9/terminate/cleanup).
    void this.exited.then(() => rmSync(this.#dir, { recursive: true, force: true }));
  }

  get log(): string {
    return this.#log;
  }

  /** The VRRP child's pid (keepalived forks it); undefined until written. */
  vrrpPid(): number | undefined {
    try {
      const pid = Number(readFileSync(join(this.#dir, 'vrrp.pid'), 'utf8').trim());
      return pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  /** kill -9 of the VRRP process and the parent: no priority-0 advert. */
  async kill9(): Promise<void> {
    const pid = this.vrrpPid();
    if (pid) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM: keepalived sends priority 0 and removes its VIPs. */
  async terminate(): Promise<void> {
    this.child.kill('SIGTERM');
    await this.exited;
  }

  cleanup(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const pid = this.vrrpPid();
      if (pid) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      this.child.kill('SIGKILL');
    }
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
