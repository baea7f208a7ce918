// One keep-alive connection to the VIP, held open across a planned move, run inside the client
// namespace: a GET at start, then one more GET on the same connection per line read from stdin.
// One JSON line per request on stdout:
//   {"ok":true,"by":"lb2","reused":false}   or   {"ok":false,"err":"ECONNRESET"}
// Exits when stdin ends. Each request is bounded by `timeoutMs`.
//
//   ip netns exec NS node test/system/node/held-connection.ts '{"url":"http://10.77.0.100/","timeoutMs":2000}'

import http from 'node:http';
import { createInterface } from 'node:readline';

const opts = JSON.parse(process.argv[2] ?? '{}') as { url: string; timeoutMs: number };
const url = new URL(opts.url);
// One socket, kept: the second request must travel on the connection the first one opened.
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function one(): Promise<void> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (line: Record<string, unknown>): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      process.stdout.write(`${JSON.stringify(line)}\n`);
      resolve();
    };
    const req = http.get({ host: url.hostname, port: url.port || 80, path: url.pathname, agent }, (res) => {
      res.resume();
      res.on('end', () => finish({ ok: res.statusCode === 200, status: res.statusCode, by: res.headers['x-served-by'], reused: req.reusedSocket }));
      res.on('error', (err: NodeJS.ErrnoException) => finish({ ok: false, err: err.code ?? err.message }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => finish({ ok: false, err: err.code ?? err.message, reused: req.reusedSocket }));
    const timer = setTimeout(() => {
      finish({ ok: false, err: 'ETIMEDOUT' });
      req.destroy();
    }, opts.timeoutMs);
  });
}

let chain = one();
createInterface({ input: process.stdin })
  .on('line', () => (chain = chain.then(one)))
  .on('close', () => void chain.then(() => process.exit(0)));
