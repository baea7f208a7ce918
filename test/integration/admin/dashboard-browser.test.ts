// The dashboard in a real browser: headless Debian chromium (driven by puppeteer-core) loads
// the page of a real halb with real backends, sees a server go down when its backend stops,
// the operator types the admin token and clicks drain, and both the page and /status show the
// server draining. The screenshot is saved under test-output/ and its path printed. Skips only
// when no chromium binary exists (CI installs Debian's: scripts/provision.sh --apt).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type net from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startHalb, freePort, type HalbProcess } from '../../helpers/halb-process.ts';
import type { NodeStatus } from '../../../src/node.ts';

const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p): p is string => p !== undefined && p !== '' && existsSync(p));
const OUTPUT = fileURLToPath(new URL('../../../test-output/', import.meta.url));

const dir = mkdtempSync(join(tmpdir(), 'halb-dash-'));
const servers: http.Server[] = [];
let halb: HalbProcess | undefined;

async function backend(name: string): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end(name));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return { server, port: (server.address() as net.AddressInfo).port };
}

after(() => {
  halb?.kill('SIGKILL');
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
  rmSync(dir, { recursive: true, force: true });
});

test('dashboard in headless chromium: a server goes down, drain is clicked, the page and the node show it; traffic is charted', { timeout: 90_000 }, async (t) => {
  if (!CHROMIUM) {
    t.skip('no chromium binary (/usr/bin/chromium or CHROMIUM_PATH): apt-get install chromium to run the browser test');
    return;
  }
  const { default: puppeteer } = await import('puppeteer-core');
  const a = await backend('a');
  const b = await backend('b');
  const token = 'dashboard-browser-test-token-0123456789';
  const tokenFile = join(dir, 'admin.token');
  writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  const adminPort = await freePort();
  const webPort = await freePort();
  const file = join(dir, 'halb.yaml');
  writeFileSync(
    file,
    `global:
  workers: 1
  admin: { listen: 127.0.0.1:${adminPort}, token_file: ${tokenFile}, read_only_open: true }
  log: { access: false }
frontends:
  web: { bind: ["127.0.0.1:${webPort}"], mode: http, default_backend: pool }
backends:
  pool:
    health: { http: { method: GET, path: /health }, interval: 200ms, rise: 1, fall: 1 }
    servers:
      - { name: a, address: 127.0.0.1:${a.port} }
      - { name: b, address: 127.0.0.1:${b.port} }
`,
  );
  halb = startHalb(['run', '-c', file]);
  await halb.waitFor((l) => l.msg === 'halb node started');
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  const status = async (): Promise<NodeStatus> => (await (await fetch(`${adminUrl}/status`)).json()) as NodeStatus;

  const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: false, args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-extensions', '--disable-background-networking', '--renderer-process-limit=1', '--window-size=1400,1000'] });
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 1000 });
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(String(err)));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
    await page.goto(`${adminUrl}/dashboard`, { waitUntil: 'load' });
    const row = 'tr[data-server="pool/b"]';
    await page.waitForSelector(`${row}.up`, { timeout: 15_000 });
    // The TCP listener wants its token for state changes: the operator pastes it into the box.
    await page.type('#token', token);

    // Traffic through the proxy, so the backend's req/s chart has something to draw.
    for (let i = 0; i < 20; i++) assert.equal(await (await fetch(`http://127.0.0.1:${webPort}/`)).status, 200);
    // The sampler takes a sample a second: wait for the step that holds those requests.
    let charted = false;
    for (let i = 0; i < 50 && !charted; i++) {
      const traffic = (await (await fetch(`${adminUrl}/traffic`)).json()) as { series: { key: string; points: { rps: number }[] }[] };
      charted = traffic.series.find((x) => x.key === 'backend/pool')?.points.some((p) => p.rps > 0) ?? false;
      if (!charted) await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(charted, 'the traffic series shows the requests');
    // The req/s chart's scale (its tooltip) reaches above zero once the page has that step.
    await page.waitForFunction(`!/max 0\\.00$/.test(document.querySelector('[data-series="backend/pool"] .chart')?.title ?? 'max 0.00')`, { timeout: 10_000 });
    assert.ok(await page.$('[data-series="backend/pool"] svg polyline'));

    b.server.closeAllConnections();
    await new Promise<void>((r) => b.server.close(() => r()));
    await page.waitForSelector(`${row}.down`, { timeout: 15_000 });
    // The health history of b shows the transition, the timeline the event.
    await page.waitForSelector(`${row} td.history .hist.down`, { timeout: 5_000 });

    await page.click(`${row} button[data-action="drain"]`);
    await page.waitForSelector(`${row}.drain`, { timeout: 10_000 });
    const flash = await page.$eval('#flash', (e) => e.textContent ?? '');
    assert.match(flash, /pool\/b.*drain.*done/);
    assert.equal(await page.$eval(`${row} td.admin`, (e) => e.textContent), 'DRAIN');
    assert.equal(await page.$eval(`${row} button[data-action="drain"]`, (e) => (e as unknown as { disabled: boolean }).disabled), true);
    await page.waitForFunction(`(document.querySelector('#timeline')?.textContent ?? '').includes('pool/b set drain')`, { timeout: 5_000 });
    const timeline = await page.$eval('#timeline', (e) => e.textContent ?? '');
    assert.match(timeline, /pool\/b DOWN/);

    const st = await status();
    const sb = st.backends[0]!.servers.find((s) => s.name === 'b')!;
    assert.equal(sb.admin, 'drain');
    assert.equal(sb.up, false);
    assert.deepEqual(sb.history.map((h) => [h.from, h.to]), [['up', 'down']]);
    assert.ok(st.events.some((e) => e.kind === 'admin' && e.text === 'pool/b set drain'));
    assert.equal(st.backends[0]!.servers.find((s) => s.name === 'a')!.admin, 'ready');
    assert.deepEqual(pageErrors, [], 'the page logged no error');

    mkdirSync(OUTPUT, { recursive: true });
    const shot = join(OUTPUT, 'dashboard.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`dashboard screenshot: ${shot}`);
    assert.ok(existsSync(shot));
  } finally {
    await browser.close();
  }
});
