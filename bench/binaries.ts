// The reference programs come from Debian so anyone can reproduce the numbers: found at their
// Debian paths, installed with apt-get when missing.
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

export interface Binaries {
  haproxy: string;
  nginx: string;
  wrk: string;
}

const wanted: ReadonlyArray<{ key: keyof Binaries; path: string; pkg: string }> = [
  { key: 'haproxy', path: '/usr/sbin/haproxy', pkg: 'haproxy' },
  { key: 'nginx', path: '/usr/sbin/nginx', pkg: 'nginx' },
  { key: 'wrk', path: '/usr/bin/wrk', pkg: 'wrk' },
];

export function findBinaries(log: (line: string) => void): Binaries {
  const missing = wanted.filter((w) => !existsSync(w.path));
  if (missing.length > 0) {
    const pkgs = missing.map((m) => m.pkg);
    log(`installing ${pkgs.join(' ')} with apt-get`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    try {
      execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env, timeout: 300_000 });
      execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], { stdio: 'inherit', env, timeout: 600_000 });
    } catch (err) {
      throw new Error(`bench: apt-get install ${pkgs.join(' ')} failed: ${(err as Error).message}`, { cause: err });
    }
    // Debian starts the freshly installed services; the benchmark must not leave them running
    for (const pkg of pkgs) {
      if (pkg === 'wrk') continue;
      try {
        execFileSync('service', [pkg, 'stop'], { stdio: 'ignore', timeout: 30_000 });
      } catch {
        // no init system to talk to: nothing was started
      }
    }
  }
  const found = {} as Binaries;
  for (const w of wanted) {
    if (!existsSync(w.path)) throw new Error(`bench: ${w.path} not found after install (package ${w.pkg})`);
    found[w.key] = w.path;
  }
  return found;
}

export function versionOf(bin: Binaries): Record<keyof Binaries, string> {
  // nginx prints its version on stderr and wrk -v exits non-zero, so read both streams, any status
  const first = (path: string): string => {
    try {
      return execFileSync('sh', ['-c', `"$0" -v 2>&1 | head -n 1; true`, path], { encoding: 'utf8', timeout: 10_000 }).trim();
    } catch {
      return 'unknown';
    }
  };
  return {
    haproxy: first(bin.haproxy).replace(/ - https.*/, ''),
    nginx: first(bin.nginx).replace(/^nginx version: /, ''),
    wrk: first(bin.wrk).replace(/ \[.*/, ''),
  };
}
