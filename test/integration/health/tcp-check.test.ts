import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Socket, type AddressInfo } from 'node:net';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { tcpCheck } from '../../../src/health/tcp-check.ts';

test('listening port passes', async () => {
  const srv = createServer((s) => s.end());
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  try {
    const res = await tcpCheck({ host: '127.0.0.1', port: (srv.address() as AddressInfo).port }, 1000);
    assert.deepEqual([res.ok, res.reason], [true, 'TCP connect ok']);
  } finally {
    await new Promise((r) => srv.close(r));
  }
});

test('closed port is refused', async () => {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise((r) => srv.close(r));
  const res = await tcpCheck({ host: '127.0.0.1', port }, 1000);
  assert.deepEqual([res.ok, res.reason], [false, 'connection refused']);
});

test('a listener that never accepts (full backlog) times out', async (t) => {
  // Node always accepts, so a tiny Python listener with backlog 0 that never calls accept();
  // once its accept queue is full Linux drops further SYNs and connect() hangs.
  const py = spawn('python3', ['-c', [
    'import socket, sys, time',
    's = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(0)',
    'print(s.getsockname()[1], flush=True)',
    'sys.stdin.read()',
  ].join('\n')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const fillers: Socket[] = [];
  try {
    const [line] = (await once(py.stdout, 'data')) as [Buffer];
    const port = Number(line.toString().trim());
    assert.ok(port > 0);
    // fill the accept queue (backlog 0 still admits one or two)
    for (let i = 0; i < 4; i++) {
      const s = connect({ host: '127.0.0.1', port });
      s.on('error', () => {});
      fillers.push(s);
    }
    await new Promise((r) => setTimeout(r, 100));
    const res = await tcpCheck({ host: '127.0.0.1', port }, 200);
    if (res.ok) {
      t.skip('kernel accepted despite the full backlog; cannot provoke a connect timeout here');
      return;
    }
    assert.equal(res.reason, 'connect timeout after 200ms');
  } finally {
    for (const s of fillers) s.destroy();
    py.stdin.end();
    py.kill();
  }
});
