// A continuous HTTP client for failover tests: GET URL, one fresh connection per request (a
// kept-alive socket would stay pinned to the dead node), a short timeout, a short pause, again.
// Bounded in count and time. One JSON line per request on stdout:
//   {"s": <ms epoch at start>, "t": <ms epoch at completion>, "port": <local port, to find the
//    request in halb's access log>, "ok": true, "by": "<X-Served-By>"}  or  {"s", "t", "port", "ok": false, "err"}
// Readers place requests in time by "s", not by when they read the line (the pipe lags).
//
//   node http-prober.ts URL [--interval-ms 20] [--timeout-ms 250] [--max-count 6000] [--max-ms 90000]
// Stops early on SIGTERM or when stdin closes.

import http from 'node:http';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'interval-ms': { type: 'string', default: '20' },
    'timeout-ms': { type: 'string', default: '250' },
    'max-count': { type: 'string', default: '6000' },
    'max-ms': { type: 'string', default: '90000' },
  },
});
const url = positionals[0];
if (!url) {
  process.stderr.write('usage: http-prober.ts URL [--interval-ms N] [--timeout-ms N] [--max-count N] [--max-ms N]\n');
  process.exit(2);
}
const interval = Number(values['interval-ms']);
const timeout = Number(values['timeout-ms']);
const maxCount = Number(values['max-count']);
const end = Date.now() + Number(values['max-ms']);

let stopping = false;
process.on('SIGTERM', () => (stopping = true));
process.stdin.on('end', () => (stopping = true));
process.stdin.resume();

function once(): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    let settled = false;
    const start = Date.now();
    let port: number | undefined;
    const finish = (o: Record<string, unknown>): void => {
      if (settled) return;
      settled = true;
      resolve({ s: start, t: Date.now(), port, ...o });
    };
    const req = http.get(url!, { agent: false, headers: { connection: 'close' }, timeout }, (res) => {
      const by = res.headers['x-served-by'];
      res.resume();
      res.on('end', () => finish(res.statusCode === 200 ? { ok: true, by } : { ok: false, err: `status ${res.statusCode}`, by }));
      res.on('error', (e) => finish({ ok: false, err: e.message }));
    });
    req.on('socket', (sock) => sock.on('connect', () => (port = sock.localPort)));
    req.on('timeout', () => {
      port ??= req.socket?.localPort;
      req.destroy(new Error('timeout'));
    });
    req.on('error', (e: NodeJS.ErrnoException) => finish({ ok: false, err: e.code ?? e.message }));
  });
}

for (let i = 0; i < maxCount && !stopping && Date.now() < end; i++) {
  process.stdout.write(JSON.stringify(await once()) + '\n');
  await sleep(interval);
}
process.exit(0);
