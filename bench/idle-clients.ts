// Many keep-alive client connections that each make one request and then sit idle: the load a
// proxy meets from browsers and mobile clients, and what its memory per connection is made of.
import { connect } from 'node:net';
import type { Socket } from 'node:net';

export interface IdleClients {
  /** connections whose request was answered */
  opened: number;
  failed: number;
  /** connections still open now (not closed by the proxy) */
  stillOpen(): number;
  closeAll(): void;
}

const REQUEST = 'GET / HTTP/1.1\r\nHost: bench\r\nConnection: keep-alive\r\n\r\n';

function openOne(port: number, sockets: Set<Socket>, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    let answered = false;
    const timer = setTimeout(() => {
      s.destroy();
      resolve(false);
    }, timeoutMs);
    s.setEncoding('latin1');
    s.once('connect', () => s.write(REQUEST));
    s.on('data', (chunk: string) => {
      // the first bytes of the status line are all we wait for; the small body follows at once
      if (!answered && chunk.startsWith('HTTP/1.1 200')) {
        answered = true;
        clearTimeout(timer);
        sockets.add(s);
        resolve(true);
      }
    });
    s.once('close', () => {
      sockets.delete(s);
      if (!answered) {
        clearTimeout(timer);
        resolve(false);
      }
    });
    s.on('error', () => {
      // 'close' follows and settles the promise
    });
  });
}

/** Opens `count` connections, at most `parallel` handshakes in flight, each bounded by timeoutMs. */
export async function openIdleClients(port: number, count: number, parallel = 200, timeoutMs = 10_000): Promise<IdleClients> {
  const sockets = new Set<Socket>();
  let opened = 0;
  let failed = 0;
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) {
      next++;
      if (await openOne(port, sockets, timeoutMs)) opened++;
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, lane));
  return {
    opened,
    failed,
    stillOpen: () => sockets.size,
    closeAll: () => {
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
  };
}
