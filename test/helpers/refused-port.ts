// A loopback port where nothing listens, for "server refuses" tests.
//
// The usual trick (listen on port 0, read the port, close) races with every other process on
// the machine: parallel test files, benchmarks and child processes also take ephemeral ports,
// and one of them can bind the port between our close() and the test's connect(). That was
// seen: a "dead" server answered with another test's reply. Ports below 1024 are never handed
// out for port 0 and only root binds them, so a reserved low port that refuses now keeps refusing.
import net from 'node:net';

// tcpmux, compressnet, echo-ish and other historic services nobody runs here.
const CANDIDATES = [1, 2, 3, 4, 5, 6, 8, 10, 12, 14, 16, 18];
let next = 0;

function refuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect({ host: '127.0.0.1', port });
    c.once('connect', () => {
      c.destroy();
      resolve(false);
    });
    c.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
}

/** A port on 127.0.0.1 where connect() gets ECONNREFUSED; successive calls give different ports. */
export async function refusedPort(): Promise<number> {
  for (let i = 0; i < CANDIDATES.length; i++) {
    const port = CANDIDATES[next++ % CANDIDATES.length]!;
    if (await refuses(port)) return port;
  }
  throw new Error(`refusedPort: something listens on every one of 127.0.0.1:${CANDIDATES.join(',')}`);
}
