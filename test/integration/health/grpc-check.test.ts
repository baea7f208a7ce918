// gRPC health checks against real grpc-js servers on loopback (test/helpers/grpc-servers.ts):
// the check's verdicts and reasons, over h2c and over TLS, and a NOT_SERVING answer taking a
// server out of a real pool through the checker set, SERVING bringing it back.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { grpcCheck } from '../../../src/health/grpc-check.ts';
import { backendTls } from '../../../src/pool/backend-tls.ts';
import { BackendPool } from '../../../src/pool/backend-pool.ts';
import { CheckerSet } from '../../../src/health/checker-set.ts';
import type { BackendConfig, HealthConfig } from '../../../src/config/types.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import { refusedPort } from '../../helpers/refused-port.ts';
import { startGrpcServer, type TestGrpcServer } from '../../helpers/grpc-servers.ts';
import { makeCa, makeLeaf, type TestCa } from '../../helpers/test-certificates.ts';
import { readFileSync } from 'node:fs';

const dir = mkdtempSync(join(tmpdir(), 'halb-grpc-check-'));
let plain: TestGrpcServer;
let secure: TestGrpcServer;
let bare: TestGrpcServer;
let ca: TestCa;
let otherCa: TestCa;
const target = (s: TestGrpcServer) => ({ host: '127.0.0.1', port: s.port });

before(async () => {
  ca = makeCa(join(dir, 'ca'));
  otherCa = makeCa(join(dir, 'other'));
  const pem = readFileSync(makeLeaf(ca, 'grpc', { names: ['grpc.test'] }), 'utf8');
  plain = await startGrpcServer('plain');
  secure = await startGrpcServer('secure', { tlsPem: pem });
  bare = await startGrpcServer('bare', { noHealth: true });
});

after(async () => {
  await Promise.all([plain?.stop(), secure?.stop(), bare?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

test('h2c: SERVING passes; NOT_SERVING, a service it does not know and no Health service fail with the reason', async () => {
  plain.health.set('', 'SERVING');
  assert.deepEqual(pick(await grpcCheck(target(plain), '', 2000)), { ok: true, reason: 'gRPC SERVING' });
  plain.health.set('', 'NOT_SERVING');
  assert.deepEqual(pick(await grpcCheck(target(plain), '', 2000)), { ok: false, reason: 'gRPC NOT_SERVING' });
  plain.health.set('', 'SERVING');
  plain.health.set('halb.test.Echo', 'SERVING');
  assert.deepEqual(pick(await grpcCheck(target(plain), 'halb.test.Echo', 2000)), { ok: true, reason: 'gRPC SERVING' });
  assert.deepEqual(pick(await grpcCheck(target(plain), 'no.such.Service', 2000)), { ok: false, reason: 'gRPC status 5 (NOT_FOUND): unknown service no.such.Service' });
  const r = await grpcCheck(target(bare), '', 2000);
  assert.equal(r.ok, false);
  assert.match(r.reason, /^gRPC status 12 \(UNIMPLEMENTED\)/);
});

test('h2c: a closed port fails as connection refused', async () => {
  const port = await refusedPort();
  assert.deepEqual(pick(await grpcCheck({ host: '127.0.0.1', port }, '', 2000)), { ok: false, reason: 'connection refused' });
});

test('over TLS: verified against ca_file with SNI it passes; a certificate of another CA fails the handshake', async () => {
  const good = backendTls({ verify: 'required', caFile: ca.caFile, sni: 'grpc.test' });
  assert.deepEqual(pick(await grpcCheck({ ...target(secure), tls: good.options('127.0.0.1') }, '', 2000)), { ok: true, reason: 'gRPC SERVING' });
  const wrong = backendTls({ verify: 'required', caFile: otherCa.caFile, sni: 'grpc.test' });
  const r = await grpcCheck({ ...target(secure), tls: wrong.options('127.0.0.1') }, '', 2000);
  assert.equal(r.ok, false);
  assert.match(r.reason, /^TLS handshake failed: /);
  // h2c to a TLS server is no gRPC answer either
  assert.equal((await grpcCheck(target(secure), '', 1000)).ok, false);
});

test('through the checker set: NOT_SERVING marks the server down in its pool, SERVING brings it back', async () => {
  const health: HealthConfig = { type: 'grpc', grpc: { service: '' }, interval: 40, fastinter: 20, downinter: 40, timeout: 1000, rise: 2, fall: 2 };
  const cfg: BackendConfig = {
    name: 'rpc',
    mode: 'http',
    proto: 'h2',
    balance: { algorithm: 'roundrobin' },
    health,
    passive: { errorLimit: 0 },
    servers: [{ name: 'g1', host: '127.0.0.1', port: plain.port, weight: 1, backup: false, disabled: false, drain: false, check: true }],
    retries: 1,
    redispatch: true,
    timeouts: { connect: 1000, client: 1000, server: 1000, httpRequest: 1000, httpKeepAlive: 1000, queue: 1000, tunnel: 1000 },
    stickSource: false,
    pipeline: 1,
    peerFallback: false,
  };
  const pool = new BackendPool(cfg, { log: silentLogger() });
  const checkers = new CheckerSet([pool], { log: silentLogger() });
  plain.health.set('', 'SERVING');
  checkers.start();
  try {
    await until(() => (checkers.states()[0]?.checks ?? 0) >= 2, 'two checks');
    assert.equal(pool.servers[0]!.up, true);
    plain.health.set('', 'NOT_SERVING');
    await until(() => !pool.servers[0]!.up, 'server down');
    assert.equal(checkers.states()[0]!.last?.reason, 'gRPC NOT_SERVING');
    plain.health.set('', 'SERVING');
    await until(() => pool.servers[0]!.up, 'server up again');
  } finally {
    checkers.stop();
    pool.close();
  }
});

function pick(r: { ok: boolean; reason: string }): { ok: boolean; reason: string } {
  return { ok: r.ok, reason: r.reason };
}

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await sleep(5);
  }
}
