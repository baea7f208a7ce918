// Pure admin views: the `halb status` tables, the POST /servers body check, the `halb server`
// flags, and the metrics read from a status that includes VRRP instances.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatStatus, alignColumns } from '../../../src/admin/status-table.ts';
import { parseServerChange } from '../../../src/admin/server-change.ts';
import { serverChangeFromFlags } from '../../../src/cli/admin-client.ts';
import { NodeMetrics, type StatusView } from '../../../src/admin/metrics.ts';

const NOW = 1_800_000_000_000;

const vrrpInstance = {
  instance: 'LB_VIP',
  vrid: 51,
  version: 3,
  state: 'backup',
  keepalivedState: 'BACKUP',
  configuredPriority: 100,
  priority: 50,
  effectivePriority: 50,
  masterAddress: '192.168.10.101',
  masterPriority: 101,
  holdingAddresses: false,
  fault: false,
  failingTrackers: ['backend webservers'],
  counters: { advertsSent: 0, advertsReceived: 42, priorityZeroReceived: 1, priorityZeroSent: 0, sendErrors: 0, becameMaster: 2, dropped: 3, drops: { 'wire-ttl': 3 } },
  peers: [{ address: '192.168.10.101', priority: 101, state: 'master', lastAdvertAgoMs: 420, advertIntervalMs: 1000, adverts: 42 }],
};

const status = {
  source: '/etc/halb/halb.yaml',
  generation: 2,
  workers: 2,
  frontends: [{ name: 'web', mode: 'http', bind: ['172.16.0.200:80'] }],
  backends: [
    {
      name: 'webservers',
      balance: 'roundrobin',
      usable: true,
      queue: 0,
      servers: [
        { name: 'web1', address: '10.0.0.1:80', up: true, admin: 'ready', weight: 1, backup: false, active: 3, lastCheck: { ok: true, reason: 'HTTP status 200', durationMs: 2, at: NOW - 1500 } },
        { name: 'spare', address: '10.0.0.9:80', up: false, admin: 'maint', weight: 0, backup: true, active: 0 },
      ],
    },
  ],
  vrrp: [vrrpInstance],
};

test('formatStatus: aligned tables for frontends, each backend and VRRP', () => {
  assert.equal(
    formatStatus(status, NOW),
    `halb /etc/halb/halb.yaml  generation 2  workers 2

FRONTEND  MODE  BIND             STATUS
web       http  172.16.0.200:80  listening

BACKEND webservers  roundrobin  1/2 up  usable  queue 0
  SERVER  ADDRESS      HEALTH  ADMIN  WEIGHT  ACTIVE  BACKUP  LAST CHECK
  web1    10.0.0.1:80  UP      ready  1       3       -       HTTP status 200 (2 ms, 2s ago)
  spare   10.0.0.9:80  DOWN    MAINT  0       0       backup  -

VRRP    VRID  STATE   PRIO CFG/EFF/ADV  MASTER                VIPS HERE  FAILING TRACKERS    ADVERTS TX/RX  DROPS
LB_VIP  51    BACKUP  100/50/50         192.168.10.101 (101)  no         backend webservers  0/42           wire-ttl:3

PEER OF  ADDRESS         STATE (FROM ADVERTS)  PRIO  LAST ADVERT  INTERVAL
LB_VIP   192.168.10.101  MASTER                101   0.4s ago     1000 ms
`,
  );
});

test('formatStatus: tolerates an empty or partial status (another node version)', () => {
  assert.equal(formatStatus({}, NOW), 'halb -  generation -  workers -\n\nno frontends\n\nno backends\n\nno VRRP instances\n');
  assert.match(formatStatus({ backends: [{ name: 'x', servers: [{ name: 's' }] }] }, NOW), /^ {2}s +- +DOWN +- +- +- +- +-$/m);
  assert.match(formatStatus(null, NOW), /no backends/);
});

test('formatStatus: an ACME table (state, serving certificate, names, expiry, next attempt, counts, last error) and the hand-over counts', () => {
  const day = 86_400_000;
  const fp = 'E8:E7:9F:7E:EA:5F:83:22:11:00:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF';
  const acme = {
    acme: [
      { frontend: 'site', domains: ['www.example.com', 'example.com'], state: 'valid', serving: 'acme', notAfter: new Date(NOW + 89 * day).toISOString(), fingerprint256: fp, nextAttempt: new Date(NOW + 59 * day).toISOString(), failures: 0, obtained: 1, received: 0 },
      { frontend: 'api', domains: ['api.example.com'], state: 'backoff', serving: 'fallback', failures: 3, nextAttempt: new Date(NOW + 40_000).toISOString(), lastError: 'connect ECONNREFUSED 10.0.0.5:14000', obtained: 0, received: 0 },
      { frontend: 'old', domains: ['old.example.com'], state: 'standby', serving: 'acme', notAfter: new Date(NOW - 2 * 3600_000).toISOString(), fingerprint256: fp, failures: 0, obtained: 0, received: 2 },
    ],
    acmeHandover: { sent: 2, acknowledged: 1, sendFailed: 1, received: 2, refused: { 'bad-tag': 1, replay: 0, stale: 2 } },
  };
  const lines = formatStatus(acme, NOW).split('\n');
  const at = lines.indexOf(lines.find((l) => l.startsWith('ACME '))!);
  assert.deepEqual(lines.slice(at, at + 5), [
    'ACME  STATE    SERVING   CERT SHA-256               NAMES                        EXPIRES                             NEXT ATTEMPT  OBTAINED/RECEIVED  FAILURES  LAST ERROR',
    'site  valid    acme      E8:E7:9F:7E:EA:5F:83:22..  www.example.com,example.com  2027-04-14 08:00Z (in 89d)          in 59d        1/0                0         -',
    'api   BACKOFF  FALLBACK  -                          api.example.com              -                                   in 40s        0/0                3         connect ECONNREFUSED 10.0.0.5:14000',
    'old   standby  acme      E8:E7:9F:7E:EA:5F:83:22..  old.example.com              2027-01-15 06:00Z (EXPIRED 2h ago)  -             0/2                0         -',
    'ACME HAND-OVER  sent 2  acknowledged 1  send failed 1  received 2  refused bad-tag:1,stale:2',
  ]);
  // Nothing about ACME where a node has none; a node without the channel has no hand-over line.
  assert.doesNotMatch(formatStatus(status, NOW), /ACME/);
  assert.doesNotMatch(formatStatus({ acme: acme.acme }, NOW), /HAND-OVER/);
  assert.match(formatStatus({ acmeHandover: {} }, NOW), /^ACME HAND-OVER {2}sent 0 {2}acknowledged 0 {2}send failed 0 {2}received 0 {2}refused 0$/m);
});

test('alignColumns pads every column but the last', () => {
  assert.deepEqual(alignColumns([['a', 'bb', 'c'], ['ddd', 'e', '']], '> '), ['> a    bb  c', '> ddd  e']);
});

test('parseServerChange: admin and weight checked whole, with the bad field named', () => {
  assert.deepEqual(parseServerChange({ admin: 'drain' }), { admin: 'drain' });
  assert.deepEqual(parseServerChange({ weight: 0 }), { weight: 0 });
  assert.deepEqual(parseServerChange({ admin: 'maint', weight: 256 }), { admin: 'maint', weight: 256 });
  for (const [body, message] of [
    [null, /JSON object/],
    ['drain', /JSON object/],
    [[{ admin: 'drain' }], /JSON object/],
    [{}, /nothing to change/],
    [{ admin: 'DRAIN' }, /admin must be "ready", "drain" or "maint", got "DRAIN"/],
    [{ admin: 1 }, /admin must be .* got 1/],
    [{ weight: 257 }, /weight must be an integer 0-256, got 257/],
    [{ weight: -1 }, /got -1/],
    [{ weight: null }, /got null/],
    [{ admin: 'ready', weight: 1, extra: true }, /unknown field "extra"/],
  ] as const) {
    const r = parseServerChange(body);
    assert.equal(typeof r, 'string', JSON.stringify(body));
    assert.match(r as string, message);
  }
});

test('serverChangeFromFlags: one admin flag at most, weight as an integer 0-256', () => {
  assert.deepEqual(serverChangeFromFlags({ drain: true }), { admin: 'drain' });
  assert.deepEqual(serverChangeFromFlags({ ready: true, weight: '7' }), { admin: 'ready', weight: 7 });
  assert.deepEqual(serverChangeFromFlags({ weight: '0' }), { weight: 0 });
  assert.match(serverChangeFromFlags({}) as string, /nothing to change/);
  assert.match(serverChangeFromFlags({ drain: true, ready: true, maint: true }) as string, /not --drain and --ready and --maint/);
  for (const w of ['257', '-1', '1.5', 'ten', '']) assert.match(serverChangeFromFlags({ weight: w }) as string, /--weight must be an integer 0-256/, w);
});

test('metrics: VRRP instances labelled by name, state and counters from the instance status', async () => {
  const m = new NodeMetrics(() => status as StatusView);
  const { body, contentType } = await m.render();
  assert.match(contentType, /^text\/plain/);
  const lines = body.split('\n');
  for (const l of [
    'halb_vrrp_master{vrrp_instance="LB_VIP"} 0',
    'halb_vrrp_state{vrrp_instance="LB_VIP",state="BACKUP"} 1',
    'halb_vrrp_state{vrrp_instance="LB_VIP",state="MASTER"} 0',
    'halb_vrrp_priority{vrrp_instance="LB_VIP"} 50',
    'halb_vrrp_holding_addresses{vrrp_instance="LB_VIP"} 0',
    'halb_vrrp_adverts_received_total{vrrp_instance="LB_VIP"} 42',
    'halb_vrrp_adverts_sent_total{vrrp_instance="LB_VIP"} 0',
    'halb_vrrp_became_master_total{vrrp_instance="LB_VIP"} 2',
    'halb_vrrp_dropped_packets_total{vrrp_instance="LB_VIP",reason="wire-ttl"} 3',
    'halb_server_up{backend="webservers",server="spare"} 0',
    'halb_server_admin_state{backend="webservers",server="spare",state="maint"} 1',
    'halb_config_generation 2',
    '# TYPE halb_vrrp_adverts_received_total counter',
  ]) {
    assert.ok(lines.includes(l), `missing ${l}\n${body}`);
  }
  // No check yet: no check metrics for that server rather than a made-up value.
  assert.ok(!body.includes('halb_server_check_ok{backend="webservers",server="spare"}'));
});

test('metrics: status() is read once per scrape', async () => {
  let calls = 0;
  const m = new NodeMetrics(() => {
    calls++;
    return status as StatusView;
  });
  await m.render();
  assert.equal(calls, 1);
  await m.render();
  assert.equal(calls, 2);
});

test('halb status shows BGP sessions, prefixes and the flow hand-off to the peer nodes', () => {
  const text = formatStatus(
    {
      bgp: {
        asn: 65001,
        routerId: '10.0.0.11',
        neighbors: [{ address: '10.0.0.1', asn: 65000, state: 'Established', prefixesSent: 1, uptimeMs: 42_000 }],
        prefixes: [{ prefix: '203.0.113.10/32', announced: true, reason: 'serving: web -> pool' }],
        handoff: { peers: [{ address: '10.0.0.12', device: 'eth0' }, { address: '10.9.0.13', problem: 'reached via the gateway 10.0.0.1' }], counts: { handedOn: 41, copiesDropped: 7 } },
      },
    },
    NOW,
  );
  assert.match(text, /10\.0\.0\.1\s+65000\s+Established\s+42s\s+1/);
  assert.match(text, /FLOW HAND-OFF {2}41 segments passed on, 7 copies dropped/);
  assert.match(text, /10\.0\.0\.12\s+eth0\s+-/);
  assert.match(text, /10\.9\.0\.13\s+-\s+reached via the gateway 10\.0\.0\.1/);
});
