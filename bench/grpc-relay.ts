// gRPC through the h2 relay (src/proxy/h2/) against gRPC straight to the server: a grpc-js client
// in this process makes unary calls (and, for streaming, one message round trip per call on a
// few open Chat streams) for a while, with a fixed number in flight; a grpc-js server runs in one
// child process, the relay (node http2 server -> relayH2Stream -> UpstreamH2Pool) in another.
// Prints calls/s and latency percentiles and writes bench/results/grpc-relay-<time>.json.
//
//   node bench/grpc-relay.ts [--duration 5] [--concurrency 32] [--runs 2]
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import http2 from 'node:http2';
import grpc from '@grpc/grpc-js';
import { parseArgs } from 'node:util';
import { EchoService, startGrpcServer } from '../test/helpers/grpc-servers.ts';
import { BackendPool } from '../src/pool/backend-pool.ts';
import { silentLogger } from '../src/log/logger.ts';
import { UpstreamH2Pool } from '../src/proxy/h2/upstream-h2-pool.ts';
import { relayH2Stream } from '../src/proxy/h2/h2-stream-relay.ts';

const SELF = fileURLToPath(import.meta.url);
const { values } = parseArgs({
  options: {
    role: { type: 'string' },
    target: { type: 'string' },
    duration: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '32' },
    runs: { type: 'string', default: '2' },
  },
});

async function serveRole(): Promise<void> {
  if (values.role === 'server') {
    const s = await startGrpcServer('bench');
    process.send!({ port: s.port });
    return;
  }
  const target = Number(values.target);
  const pool = new BackendPool(
    {
      name: 'rpc', mode: 'http', proto: 'h2', balance: { algorithm: 'roundrobin' }, passive: { errorLimit: 0 },
      servers: [{ name: 'a', host: '127.0.0.1', port: target, weight: 1, backup: false, disabled: false, drain: false, check: false }],
      retries: 1, redispatch: true, stickSource: false, pipeline: 1, peerFallback: false,
      timeouts: { connect: 2000, client: 30_000, server: 30_000, httpRequest: 30_000, httpKeepAlive: 30_000, queue: 2000, tunnel: 30_000 },
    },
    { log: silentLogger() },
  );
  const upstream = new UpstreamH2Pool();
  const front = http2.createServer();
  front.on('stream', (stream, headers) => void relayH2Stream(stream, headers, pool, { upstream, log: silentLogger() }));
  front.listen(0, '127.0.0.1', () => process.send!({ port: (front.address() as { port: number }).port }));
}

function child(args: string[]): Promise<{ proc: ChildProcess; port: number }> {
  const proc = fork(SELF, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve) => proc.once('message', (m: { port: number }) => resolve({ proc, port: m.port })));
}

interface EchoClient extends grpc.Client {
  Say(req: { text: string }, cb: (err: grpc.ServiceError | null) => void): void;
  Chat(): grpc.ClientDuplexStream<{ text: string }, { text: string }>;
}

interface Measure {
  calls: number;
  errors: number;
  perSecond: number;
  p50: number;
  p99: number;
}

function summarise(lat: number[], errors: number, seconds: number): Measure {
  lat.sort((a, b) => a - b);
  const q = (p: number): number => Math.round((lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? 0) * 1000) / 1000;
  return { calls: lat.length, errors, perSecond: Math.round(lat.length / seconds), p50: q(0.5), p99: q(0.99) };
}

async function unary(port: number, seconds: number, concurrency: number): Promise<Measure> {
  const c = new EchoService(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as EchoClient;
  await new Promise<void>((r, j) => c.waitForReady(Date.now() + 5000, (e) => (e ? j(e) : r())));
  const lat: number[] = [];
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  const worker = async (): Promise<void> => {
    while (performance.now() < end) {
      const t0 = performance.now();
      const err = await new Promise<grpc.ServiceError | null>((r) => c.Say({ text: 'x' }, r));
      if (err) errors++;
      else lat.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  c.close();
  return summarise(lat, errors, seconds);
}

async function streaming(port: number, seconds: number, concurrency: number): Promise<Measure> {
  const c = new EchoService(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as EchoClient;
  const lat: number[] = [];
  const end = performance.now() + seconds * 1000;
  const worker = async (): Promise<void> => {
    const call = c.Chat();
    // the status may come after the children are stopped
    call.on('error', () => {});
    while (performance.now() < end) {
      const t0 = performance.now();
      const got = new Promise((r) => call.once('data', r));
      call.write({ text: 'x' });
      await got;
      lat.push(performance.now() - t0);
    }
    call.end();
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  c.close();
  return summarise(lat, 0, seconds);
}

async function main(): Promise<void> {
  const seconds = Number(values.duration);
  const concurrency = Number(values.concurrency);
  const runs = Number(values.runs);
  const server = await child(['--role', 'server']);
  const relay = await child(['--role', 'relay', '--target', String(server.port)]);
  const rows: Record<string, unknown>[] = [];
  try {
    for (let run = 1; run <= runs; run++) {
      // interleaved, so drift hits both alike
      for (const [via, port] of [['direct', server.port], ['relay', relay.port]] as const) {
        for (const [kind, fn] of [['unary', unary], ['bidi-roundtrip', streaming]] as const) {
          const m = await fn(port, seconds, concurrency);
          rows.push({ run, via, kind, ...m });
          console.log(`run ${run} ${via.padEnd(6)} ${kind.padEnd(14)} ${String(m.perSecond).padStart(7)} calls/s  p50 ${m.p50} ms  p99 ${m.p99} ms  errors ${m.errors}`);
        }
      }
    }
  } finally {
    server.proc.kill();
    relay.proc.kill();
  }
  const dir = fileURLToPath(new URL('./results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const file = `${dir}grpc-relay-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
  writeFileSync(file, JSON.stringify({ seconds, concurrency, rows }, null, 2) + '\n');
  console.log(`wrote ${file}`);
}

if (values.role !== undefined) await serveRole();
else await main();
