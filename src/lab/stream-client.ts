// The lab's client, run inside its namespace: a GET to the VIP every 50 ms on a fresh connection
// (open loop), each bounded by 500 ms, one JSON line per finished request on stdout:
//   {"t":<start ms>,"ok":true,"by":"lb1"}   or   {"t":..,"ok":false,"err":"ECONNREFUSED"}
// Stops on SIGTERM or after its maximum duration (bounded by construction).
//   ip netns exec NS node stream-client.ts URL MAX_SECONDS
import http from 'node:http';

const url = new URL(process.argv[2] ?? 'http://127.0.0.1/');
const maxMs = Number(process.argv[3] ?? 3600) * 1000;
const INTERVAL_MS = 50;
const TIMEOUT_MS = 500;
const started = Date.now();

function one(): void {
  const t = Date.now();
  let finished = false;
  const finish = (line: Record<string, unknown>): void => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    process.stdout.write(`${JSON.stringify({ t, ...line })}\n`);
  };
  const req = http.get({ host: url.hostname, port: url.port || 80, path: url.pathname, agent: false, headers: { connection: 'close' } }, (res) => {
    res.resume();
    res.on('end', () => {
      const by = res.headers['x-served-by'];
      finish(res.statusCode === 200 ? { ok: true, by } : { ok: false, by, err: `HTTP ${res.statusCode}` });
    });
    res.on('error', (err: NodeJS.ErrnoException) => finish({ ok: false, err: err.code ?? err.message }));
  });
  req.on('error', (err: NodeJS.ErrnoException) => finish({ ok: false, err: err.code ?? err.message }));
  const timer = setTimeout(() => {
    finish({ ok: false, err: 'ETIMEDOUT' });
    req.destroy();
  }, TIMEOUT_MS);
}

const ticker = setInterval(() => (Date.now() - started >= maxMs ? stop() : one()), INTERVAL_MS);
function stop(): void {
  clearInterval(ticker);
  setTimeout(() => process.exit(0), TIMEOUT_MS + 50);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
