// Run inside a lab node's namespace: listens on a unix socket (a path in the filesystem, which
// every network namespace shares) and connects each client to a TCP address inside the
// namespace. The lab serves each node's admin API and dashboard on a root-namespace loopback
// port through it, since loopback inside the namespace cannot be reached from outside.
//   ip netns exec NS node ns-forwarder.ts SOCKET_PATH HOST PORT
import net from 'node:net';
import { rmSync } from 'node:fs';

const [path, host, port] = process.argv.slice(2);
if (!path || !host || !port) {
  process.stderr.write('usage: ns-forwarder.ts SOCKET_PATH HOST PORT\n');
  process.exit(2);
}
rmSync(path, { force: true });
const server = net.createServer((client) => {
  const upstream = net.connect(Number(port), host);
  client.pipe(upstream).pipe(client);
  const close = (): void => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', close);
  upstream.on('error', close);
});
server.listen(path, () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => {
  rmSync(path, { force: true });
  process.exit(0);
});
