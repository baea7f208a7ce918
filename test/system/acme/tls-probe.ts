// A client for failover measurements over HTTPS, run inside the client namespace:
//   node tls-probe.ts HOST PORT SERVERNAME CA_FILE [INTERVAL_MS] [CONNECT_TIMEOUT_MS] [DURATION_MS]
// Every INTERVAL_MS (default 20) it opens a fresh TLS connection to HOST:PORT (certificate
// verified against CA_FILE for SERVERNAME), sends GET / with Connection: close and reads the
// answer. A connection not established within CONNECT_TIMEOUT_MS (default 100) is abandoned: a
// new attempt follows anyway, so a SYN lost while the address moves costs one attempt, not the
// kernel's 1 s SYN retransmit. At most 16 attempts are in flight; the probe stops after
// DURATION_MS (default 30 s) or when stdin closes.
// Output, one JSON line each: {"ready":true} once started, then every valid answer whose server
// (X-Served-By) or certificate (SHA-256 fingerprint) differs from the previous valid one:
// {"t":<ms epoch when the answer arrived>,"start":<ms epoch of the attempt>,"status":200,"by":"lb2",
//  "fingerprint256":"AB:..","failedBefore":<attempts failed since the previous line>}.
import tls from 'node:tls';
import { readFileSync } from 'node:fs';

const [host, portText, servername, caFile, intervalText, timeoutText, durationText] = process.argv.slice(2);
if (!host || !portText || !servername || !caFile) throw new Error('usage: tls-probe.ts HOST PORT SERVERNAME CA_FILE [INTERVAL_MS] [CONNECT_TIMEOUT_MS] [DURATION_MS]');
const port = Number(portText);
const ca = readFileSync(caFile);
const intervalMs = Number(intervalText ?? 20);
const connectTimeoutMs = Number(timeoutText ?? 100);
const durationMs = Number(durationText ?? 30_000);
const MAX_IN_FLIGHT = 16;
const ANSWER_TIMEOUT_MS = 2000;

let inFlight = 0;
let failed = 0;
let last = '';
let stopped = false;

function attempt(): void {
  const start = Date.now();
  inFlight++;
  let done = false;
  let head = '';
  const socket = tls.connect({ host, port, servername, ca, rejectUnauthorized: true });
  const finish = (status?: number, by?: string, fingerprint256?: string): void => {
    if (done) return;
    done = true;
    inFlight--;
    clearTimeout(connectTimer);
    clearTimeout(answerTimer);
    socket.destroy();
    if (status !== 200 || fingerprint256 === undefined) {
      failed++;
      return;
    }
    const key = `${by} ${fingerprint256}`;
    if (key === last) return;
    last = key;
    process.stdout.write(`${JSON.stringify({ t: Date.now(), start, status, by, fingerprint256, failedBefore: failed })}\n`);
    failed = 0;
  };
  const connectTimer = setTimeout(() => finish(), connectTimeoutMs);
  const answerTimer = setTimeout(() => finish(), ANSWER_TIMEOUT_MS);
  socket.once('secureConnect', () => {
    clearTimeout(connectTimer);
    socket.write(`GET / HTTP/1.1\r\nHost: ${servername}\r\nConnection: close\r\n\r\n`);
  });
  socket.on('data', (d: Buffer) => {
    head += d.toString('latin1');
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) return;
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
    const by = /^x-served-by: *(\S+)/im.exec(head.slice(0, end))?.[1] ?? '';
    finish(status, by, socket.getPeerCertificate().fingerprint256);
  });
  socket.once('error', () => finish());
  socket.once('close', () => finish());
}

const timer = setInterval(() => {
  if (!stopped && inFlight < MAX_IN_FLIGHT) attempt();
}, intervalMs);
const stop = (): void => {
  stopped = true;
  clearInterval(timer);
  clearTimeout(endTimer);
};
const endTimer = setTimeout(stop, durationMs);
process.stdin.on('end', stop).resume();
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
