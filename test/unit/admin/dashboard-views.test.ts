// The dashboard's pair view, health history, timeline and charts, drawn by the page's own script
// (run in node:vm against the small fake DOM) from a status and traffic a VRRP pair would give.
// The real-browser run with a real node is test/integration/admin/dashboard-browser.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import vm from 'node:vm';
import { dashboardPage } from '../../../src/admin/dashboard-page.ts';
import { FakeDocument, FakeText, type FakeElement } from '../../integration/admin/fake-dom.ts';

const NOW = Date.now();

const status = {
  source: '/etc/halb/halb.yaml',
  generation: 0,
  workers: 1,
  frontends: [],
  backends: [
    {
      name: 'web',
      balance: 'roundrobin',
      usable: true,
      queue: 0,
      servers: [
        {
          name: 'web1', address: '10.0.0.1:80', up: false, admin: 'ready', weight: 1, backup: false, active: 0,
          history: [
            { at: NOW - 60_000, from: 'down', to: 'up', reason: 'HTTP status 200' },
            { at: NOW - 5_000, from: 'up', to: 'down', reason: '<b>connection refused</b>' },
          ],
        },
      ],
    },
  ],
  vrrp: [
    {
      instance: 'LB_VIP', vrid: 51, state: 'backup', keepalivedState: 'BACKUP', configuredPriority: 100, priority: 100, effectivePriority: 100,
      localAddress: '192.168.10.102', masterAddress: '192.168.10.101', masterPriority: 101, masterAdverInterval: 1000,
      holdingAddresses: false, virtualAddresses: ['172.16.0.200'], vipHolder: '192.168.10.101', fault: false, failingTrackers: [], counters: {},
      peers: [
        { address: '192.168.10.101', priority: 101, state: 'master', lastAdvertAgoMs: 420, advertIntervalMs: 1000, adverts: 42 },
        { address: '192.168.10.103', priority: 0, state: 'silent', lastAdvertAgoMs: 9000, advertIntervalMs: 1000, adverts: 3 },
      ],
    },
  ],
  events: [
    { at: NOW - 9000, kind: 'vrrp', text: 'LB_VIP: initialize -> backup (priority 100): start as backup' },
    { at: NOW - 5000, kind: 'server', text: 'web/web1 DOWN: connection refused' },
  ],
};

const traffic = {
  intervalMs: 1000,
  series: [{ key: 'backend/web', points: [{ at: NOW - 2000, rps: 10, errorRate: 0, p50: 0.002, p99: 0.01 }, { at: NOW - 1000, rps: 30, errorRate: 0.5, p50: 0.004, p99: 0.02 }] }],
};

async function draw(): Promise<FakeDocument> {
  const page = dashboardPage('csrf-token');
  const script = /<script>([\s\S]*?)<\/script>/.exec(page.html)![1]!;
  const ids = [...page.html.matchAll(/id="([^"]+)"/g)].map((m) => m[1]!);
  const document = new FakeDocument(ids);
  const reply = (body: unknown) => Promise.resolve({ ok: true, status: 200, json: () => Promise.resolve(body) });
  const context = vm.createContext({
    document,
    fetch: (url: string) => reply(url === 'traffic' ? traffic : status),
    setInterval: () => 0,
    console,
  });
  vm.runInContext(script, context, { filename: 'dashboard.js' });
  for (let i = 0; i < 50 && document.getElementById('traffic')!.textContent === ''; i++) await new Promise((r) => setImmediate(r));
  return document;
}

const rows = (root: FakeElement): string[][] =>
  [...root.all()].filter((e) => e.tagName === 'TR' && e.parent?.tagName === 'TBODY').map((tr) => tr.children.map((c) => (c as FakeElement).textContent));

test('pair view: this node, then each peer as its adverts show it, and who holds the VIPs', async () => {
  const doc = await draw();
  assert.deepEqual(rows(doc.getElementById('pair')!), [
    ['LB_VIP', 'this node', '192.168.10.102', 'BACKUP', '100', '—', '1000 ms', '—'],
    ['LB_VIP', 'peer', '192.168.10.101', 'MASTER', '101', '0.4 s ago (42 heard)', '1000 ms', '172.16.0.200'],
    ['LB_VIP', 'peer', '192.168.10.103', 'silent', '0', '9 s ago (3 heard)', '1000 ms', '—'],
  ]);
});

test('health history newest first with its reason as text; timeline newest first; charts for each series', async () => {
  const doc = await draw();
  const hist = [...doc.getElementById('backends')!.all()].filter((e) => e.className.startsWith('hist '));
  assert.deepEqual(hist.map((h) => [h.className, h.textContent]), [
    ['hist down', 'DOWN 5s ago'],
    ['hist up', 'UP 1m ago'],
  ]);
  assert.match(hist[0]!.title, /up -> down: <b>connection refused<\/b>$/, 'the reason stays text');
  const events = [...doc.getElementById('timeline')!.all()].filter((e) => e.tagName === 'LI').map((li) => li.children.slice(1).map((c) => (c instanceof FakeText ? c.text : c.textContent)).join(' '));
  assert.deepEqual(events, ['server web/web1 DOWN: connection refused', 'vrrp LB_VIP: initialize -> backup (priority 100): start as backup']);
  const tr = doc.getElementById('traffic')!;
  assert.match(tr.textContent, /backend\/web/);
  const values = [...tr.all()].filter((e) => e.className === 'value').map((e) => e.textContent);
  assert.deepEqual(values, ['30.0', '50.0%', '4.00 ms / 20.0 ms']);
  const lines = [...tr.all()].filter((e) => e.tagName === 'POLYLINE');
  assert.equal(lines.length, 4, 'req/s, errors, p50 and p99');
  assert.equal(lines[0]!.attributes.points!.split(' ').length, 2);
});
