// TLS session resumption through halb with two workers: new connections per second with a full
// handshake each, against the same clients offering a session ticket (resumed on whichever worker
// the kernel picks, since the workers share the primary's ticket keys). One request per
// connection (`Connection: close`). Client, halb and the backend share the machine: the ratio is
// the figure, not the absolute rates. Writes bench/results/<date>-tls-resumption.md.
//   node bench/tls-resumption.ts [--seconds 5] [--concurrency 16]
import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeBenchCert } from './tls-cert.ts';

const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const seconds = arg('seconds', 5);
const concurrency = arg('concurrency', 16);
const dir = mkdtempSync(join(tmpdir(), 'halb-bench-resume-'));
const files = makeBenchCert(dir);

const backend = http.createServer((_req, res) => res.end('ok'));
await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
const port = await new Promise<number>((resolve) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => {
    const p = (s.address() as net.AddressInfo).port;
    s.close(() => resolve(p));
  });
});
const cfg = join(dir, 'halb.yaml');
writeFileSync(
  cfg,
  `global: { workers: 2, log: { access: false, level: warn } }
frontends:
  web: { bind: ["127.0.0.1:${port}"], mode: http, default_backend: app, tls: { crt: ${files.combined} } }
backends:
  app: { servers: [ { name: a, address: "127.0.0.1:${(backend.address() as net.AddressInfo).port}" } ] }
`,
);
const halb = spawn(process.execPath, ['--max-semi-space-size=8', new URL('../bin/halb.js', import.meta.url).pathname, 'run', '-c', cfg], { stdio: 'ignore' });

function once(session: Buffer | undefined): Promise<{ reused: boolean; session: Buffer | undefined }> {
  return new Promise((resolve, reject) => {
    let got: Buffer | undefined;
    const s = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false, session }, () =>
      s.write('GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'),
    );
    s.on('session', (x: Buffer) => (got = x));
    s.on('data', () => undefined);
    s.on('end', () => resolve({ reused: s.isSessionReused(), session: got }));
    s.on('error', reject);
  });
}

for (let i = 0; i < 100; i++) {
  try {
    await once(undefined);
    break;
  } catch {
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function measure(resume: boolean): Promise<{ perSecond: number; resumed: number; total: number }> {
  const first = await once(undefined);
  let n = 0;
  let resumed = 0;
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const r = await once(resume ? first.session : undefined);
        n++;
        if (r.reused) resumed++;
      }
    }),
  );
  return { perSecond: n / ((performance.now() - t0) / 1000), resumed, total: n };
}

const rows: string[] = [];
// interleaved, two rounds each
const results: Record<string, { perSecond: number; resumed: number; total: number }[]> = { full: [], resumed: [] };
for (let round = 0; round < 2; round++) {
  results.full!.push(await measure(false));
  results.resumed!.push(await measure(true));
}
const best = (k: string) => results[k]!.reduce((a, b) => (b.perSecond > a.perSecond ? b : a));
for (const k of ['full', 'resumed']) {
  const b = best(k);
  rows.push(`| ${k} | ${Math.round(b.perSecond)} | ${b.resumed} / ${b.total} |`);
}
const ratio = best('resumed').perSecond / best('full').perSecond;
const table = [
  `TLS session resumption through halb (2 workers, ECDSA P-256, TLS 1.3, ${concurrency} clients, ${seconds} s, best of 2 interleaved rounds), ${new Date().toISOString()}`,
  '',
  '| handshakes | connections/s | resumed |',
  '|---|---|---|',
  ...rows,
  '',
  `resumed / full: ${ratio.toFixed(2)}x`,
  '',
].join('\n');
process.stdout.write(table);
const out = new URL('./results/', import.meta.url).pathname;
mkdirSync(out, { recursive: true });
writeFileSync(join(out, `${new Date().toISOString().slice(0, 10)}-tls-resumption.md`), table);
halb.kill('SIGTERM');
backend.close();
rmSync(dir, { recursive: true, force: true });
