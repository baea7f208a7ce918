// Loopback ports for the benchmark and a readiness probe that waits until a server answers HTTP.
import { createServer } from 'node:net';
import { request } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** A port the kernel just handed out as free. Closed again before use, so the caller races
 *  other programs for it; on a quiet benchmark machine that race is not lost in practice. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function freePorts(n: number): Promise<number[]> {
  // hold none open between calls: the kernel does not hand the same ephemeral port twice in a row
  const out = new Set<number>();
  while (out.size < n) out.add(await freePort());
  return [...out];
}

function getOnce(port: number, path: string, tls: boolean): Promise<number> {
  return new Promise((resolve) => {
    const onResponse = (res: IncomingMessage): void => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
      res.once('error', () => resolve(0));
    };
    const opts = { host: '127.0.0.1', port, path, agent: false as const, timeout: 1000 };
    // the bench certificate is self-signed: readiness only needs an answer, not trust
    const req = tls ? httpsRequest({ ...opts, rejectUnauthorized: false }, onResponse) : request(opts, onResponse);
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(0));
    req.end();
  });
}

/** Waits until GET path on the port answers 200. Returns false at the deadline or when
 *  stillRunning() says the process behind the port has died. */
export async function waitHttpReady(
  port: number,
  path: string,
  timeoutMs: number,
  stillRunning: () => boolean = () => true,
  tls = false,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!stillRunning()) return false;
    if ((await getOnce(port, path, tls)) === 200) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}
