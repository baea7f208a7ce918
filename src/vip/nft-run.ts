// One nft invocation: a script on stdin (or a list command), its output back, a clear error with
// nft's own message. The flow hand-offs (VRRP moves, BGP/ECMP) share it.

import { execFile } from 'node:child_process';

export interface NftRunOptions {
  nftPath?: string;
  /** Run nft inside this network namespace (tests). */
  netns?: string;
  timeoutMs?: number;
}

/** Run nft with `args`, `stdin` as its input; resolves with its output. ENOENT: no nft binary. */
export function runNft(args: string[], stdin: string, o: NftRunOptions = {}): Promise<string> {
  const nft = o.nftPath ?? 'nft';
  const [file, full] = o.netns ? ['ip', ['netns', 'exec', o.netns, nft, ...args]] : [nft, args];
  return new Promise((resolve, reject) => {
    const child = execFile(file, full, { timeout: o.timeoutMs ?? 1000 }, (err, stdout, stderr) => {
      if (err) {
        const e = new Error(`${nft} ${args.join(' ')}: ${stderr.trim() || err.message}`) as NodeJS.ErrnoException;
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') e.code = 'ENOENT';
        reject(e);
      } else resolve(stdout);
    });
    // nft may exit before reading its input (a list command never reads it; a failing one
    // stops early): the pipe's EPIPE is not an error of ours, the exit status says the rest.
    child.stdin!.on('error', () => undefined);
    child.stdin!.end(stdin);
  });
}

/** Delete the table if it exists (declaring it first makes the delete never fail). */
export function removeTableScript(table: string, family: 'ip' | 'ip6'): string[] {
  return [`table ${family} ${table} {}`, `delete table ${family} ${table}`];
}
