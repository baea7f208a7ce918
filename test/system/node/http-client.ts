// The continuous client of the node system tests, run inside the client namespace: a GET to
// the VIP every `intervalMs` on a fresh connection (open loop: a slow request never delays the
// next), each bounded by `timeoutMs`. One JSON line per finished request on stdout:
//   {"t":<start ms>,"end":<ms>,"ok":true,"by":"lb1","web":"web2"}   or   {"t":..,"ok":false,"err":"ETIMEDOUT"}
// Stops launching at `durationMs` or on SIGTERM, waits for the requests in flight, prints
// {"done":true,"sent":N} and exits. Bounded in count and time by construction.
//
//   ip netns exec NS node test/system/node/http-client.ts '{"url":"http://10.77.0.100/","intervalMs":20,"timeoutMs":500,"durationMs":30000}'

import http from 'node:http';

interface ClientOptions {
  url: string;
  intervalMs: number;
  timeoutMs: number;
  durationMs: number;
}

const opts = JSON.parse(process.argv[2] ?? '{}') as ClientOptions;
if (!opts.url || !(opts.intervalMs > 0) || !(opts.timeoutMs > 0) || !(opts.durationMs > 0)) {
  process.stderr.write('usage: http-client.ts \'{"url":..,"intervalMs":..,"timeoutMs":..,"durationMs":..}\'\n');
  process.exit(2);
}
const url = new URL(opts.url);
const started = Date.now();
let sent = 0;
let inFlight = 0;
let stopping = false;

function record(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

function one(): void {
  const t = Date.now();
  sent++;
  inFlight++;
  let finished = false;
  const finish = (line: Record<string, unknown>): void => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    inFlight--;
    record({ t, end: Date.now(), ...line });
    if (stopping && inFlight === 0) done();
  };
  const req = http.get({ host: url.hostname, port: url.port || 80, path: url.pathname, agent: false, headers: { connection: 'close' } }, (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (d: string) => (body += d));
    res.on('end', () => {
      const by = res.headers['x-served-by'];
      if (res.statusCode === 200) finish({ ok: true, by, web: body.trim() });
      else finish({ ok: false, by, err: `HTTP ${res.statusCode}` });
    });
    res.on('error', (err: NodeJS.ErrnoException) => finish({ ok: false, by: res.headers['x-served-by'], err: err.code ?? err.message }));
  });
  req.on('error', (err: NodeJS.ErrnoException) => finish({ ok: false, err: err.code ?? err.message }));
  const timer = setTimeout(() => {
    finish({ ok: false, err: 'ETIMEDOUT' });
    req.destroy();
  }, opts.timeoutMs);
}

function done(): void {
  record({ done: true, sent });
  process.exit(0);
}

function stop(): void {
  if (stopping) return;
  stopping = true;
  clearInterval(ticker);
  if (inFlight === 0) done();
}

const ticker = setInterval(() => {
  if (Date.now() - started >= opts.durationMs) stop();
  else one();
}, opts.intervalMs);
one();
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
