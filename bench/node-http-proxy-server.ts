// The node-http-proxy contestant: the http-proxy package with a keep-alive agent, round robin
// over the backends. Usage: node bench/node-http-proxy-server.ts <listenPort> <backendPort>...
import { createRequire } from 'node:module';
import { Agent, createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';

interface ProxyServer {
  web(req: IncomingMessage, res: ServerResponse, opts: { target: string }, cb: (err: Error) => void): void;
}
interface HttpProxyModule {
  createProxyServer(opts: { agent: Agent; xfwd?: boolean }): ProxyServer;
}

// http-proxy is CommonJS without bundled types; the two calls used here are typed above
const httpProxy = createRequire(import.meta.url)('http-proxy') as HttpProxyModule;

const [listenArg, ...backendArgs] = process.argv.slice(2);
const listenPort = Number(listenArg);
if (!Number.isInteger(listenPort) || backendArgs.length === 0) {
  process.stderr.write('usage: node bench/node-http-proxy-server.ts <listenPort> <backendPort>...\n');
  process.exit(2);
}
const targets = backendArgs.map((p) => `http://127.0.0.1:${Number(p)}`);
const agent = new Agent({ keepAlive: true, maxFreeSockets: 256 });
const proxy = httpProxy.createProxyServer({ agent });
let next = 0;

const onError = (err: Error): void => {
  process.stderr.write(`node-http-proxy: ${err.message}\n`);
};

createServer((req, res) => {
  const target = targets[next] as string;
  next = (next + 1) % targets.length;
  proxy.web(req, res, { target }, (err) => {
    onError(err);
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
}).listen(listenPort, '127.0.0.1', () => process.stdout.write(`listening on ${listenPort}\n`));
