// The demo's web servers: small HTTP servers on loopback that say which of them answered,
// so `halb run --demo` shows balancing without any setup.
import http from 'node:http';

export interface DemoServers {
  ports: number[];
  close(): Promise<void>;
}

export async function startDemoServers(host: string, ports: readonly number[]): Promise<DemoServers> {
  const servers = await Promise.all(
    ports.map(
      (port, i) =>
        new Promise<http.Server>((resolve, reject) => {
          const name = `web${i + 1}`;
          const server = http.createServer((req, res) => {
            // Drain any request body so keep-alive connections stay usable.
            req.resume();
            req.on('end', () => {
              const body = `hello from ${name} (${host}:${port}) ${req.method} ${req.url}\n`;
              res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body), 'x-served-by': name });
              res.end(body);
            });
          });
          server.keepAliveTimeout = 60_000;
          server.once('error', reject);
          server.listen(port, host, () => resolve(server));
        }),
    ),
  );
  return {
    ports: [...ports],
    close: () =>
      Promise.all(servers.map((s) => new Promise<void>((r) => { s.closeAllConnections(); s.close(() => r()); }))).then(() => undefined),
  };
}
