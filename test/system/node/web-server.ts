// A web server for the node system tests, run inside a web namespace: answers every request
// with 200 and its own name, so the client can tell which server a response came from.
//
//   ip netns exec NS node test/system/node/web-server.ts NAME HOST PORT

import http from 'node:http';

const [name, host, port] = process.argv.slice(2);
if (!name || !host || !port) {
  process.stderr.write('usage: web-server.ts NAME HOST PORT\n');
  process.exit(2);
}
const body = Buffer.from(`${name}\n`);
const server = http.createServer((req, res) => {
  req.resume();
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length, 'x-web': name });
  res.end(body);
});
server.keepAliveTimeout = 5000;
server.listen(Number(port), host, () => process.stdout.write(`listening ${host}:${port}\n`));
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
