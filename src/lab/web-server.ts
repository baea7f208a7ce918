// A lab web server, run inside its namespace: answers every request with its name.
//   ip netns exec NS node web-server.ts NAME ADDRESS
import http from 'node:http';

const [name, address] = process.argv.slice(2);
if (!name || !address) {
  process.stderr.write('usage: web-server.ts NAME ADDRESS\n');
  process.exit(2);
}
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const body = `hello from ${name}\n`;
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
server.listen(80, address, () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => process.exit(0));
