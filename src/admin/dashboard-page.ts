// The dashboard: one self-contained page (no external assets) that polls ./status every second
// and draws small traffic charts (req/s, error rate, p50/p99 over the last ten minutes, from
// ./traffic, as inline SVG), frontends, backends with their servers (and each one's health history), the VRRP
// view of the pair (this node and every peer as its adverts show it, who holds the VIPs) and the
// node's event timeline, HAProxy-stats style, with drain/ready/maint buttons and a weight box calling POST ./servers/<backend>/<server>.
// Every text from the node (names come from config, reasons from the network) goes in through
// textContent / createTextNode, never innerHTML, so nothing in it is markup. Each POST carries
// this process's CSRF token (written into the script, so another site's page cannot read it)
// and, when the operator typed one, the TCP listener's bearer token.
import { createHash } from 'node:crypto';

const STYLE = `
:root { --up:#d7f2d0; --down:#f6c9c4; --drain:#d3e3f7; --maint:#dcdcdc; --backup:#fbf1c7; --line:#c9ccd1; --head:#2f3f53; }
* { box-sizing: border-box; }
body { font: 13px/1.35 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; color: #1d2430; background: #f4f5f7; }
header { background: var(--head); color: #fff; padding: 8px 14px; display: flex; gap: 18px; align-items: baseline; flex-wrap: wrap; }
header h1 { font-size: 16px; margin: 0; letter-spacing: .5px; }
header .meta { opacity: .85; }
#conn { margin-left: auto; font-weight: 600; }
#conn.bad { color: #ffb4a8; }
#token { font: inherit; font-size: 12px; padding: 1px 4px; width: 15em; }
main { padding: 10px 14px; }
h2 { font-size: 14px; margin: 14px 0 6px; }
table { border-collapse: collapse; width: 100%; background: #fff; margin-bottom: 10px; }
th, td { border: 1px solid var(--line); padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #e6e9ee; font-weight: 600; white-space: nowrap; }
caption { text-align: left; font-weight: 600; padding: 4px 6px; background: var(--head); color: #fff; }
caption .sub { font-weight: 400; opacity: .85; margin-left: 12px; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
tr.up td.st { background: var(--up); }
tr.down td.st { background: var(--down); }
tr.drain td { background: var(--drain); }
tr.maint td { background: var(--maint); color: #555; }
tr.backup td.name { background: var(--backup); }
.pill { display: inline-block; padding: 0 6px; border-radius: 8px; font-weight: 600; font-size: 12px; }
.pill.ok { background: #2e7d32; color: #fff; }
.pill.bad { background: #c62828; color: #fff; }
.pill.warn { background: #ef8f00; color: #fff; }
.pill.info { background: #1565c0; color: #fff; }
.pill.dim { background: #888; color: #fff; }
.reason { color: #555; }
.actions { white-space: nowrap; }
.actions button { font: inherit; font-size: 12px; padding: 1px 7px; margin-right: 2px; cursor: pointer; }
.actions button:disabled { cursor: default; opacity: .45; }
.actions input { width: 4.2em; font: inherit; font-size: 12px; padding: 1px 3px; }
#flash { min-height: 1.4em; margin: 4px 0; }
#flash.err { color: #b71c1c; font-weight: 600; }
#flash.ok { color: #2e7d32; }
.empty { color: #666; font-style: italic; }
.hist { display: inline-block; margin: 0 3px 2px 0; padding: 0 4px; border-radius: 3px; font-size: 11px; }
.hist.up { background: var(--up); }
.hist.down { background: var(--down); }
ol.timeline { list-style: none; margin: 0; padding: 0; background: #fff; border: 1px solid var(--line); max-height: 22em; overflow: auto; }
.charts { display: flex; flex-wrap: wrap; gap: 8px; }
.chart-group { background: #fff; border: 1px solid var(--line); padding: 4px 6px; }
.chart-group h3 { font-size: 12px; margin: 0 0 2px; }
.chart { display: inline-block; margin-right: 8px; vertical-align: top; }
.chart .label { font-size: 11px; color: #555; }
.chart .value { font-size: 12px; font-weight: 600; font-variant-numeric: tabular-nums; }
.chart svg { display: block; background: #fafbfc; border: 1px solid #eef0f3; }
ol.timeline li { padding: 2px 6px; border-bottom: 1px solid #eef0f3; }
ol.timeline .when { color: #555; font-variant-numeric: tabular-nums; margin-right: 6px; }
ol.timeline .pill { margin-right: 6px; }
`;

const SCRIPT = `
'use strict';
const $ = (id) => document.getElementById(id);
const tokenBox = $('token');
// The bearer token, only where the TCP listener wants one; kept for this tab only.
const store = typeof sessionStorage === 'undefined' ? undefined : sessionStorage;
if (tokenBox && store) {
  tokenBox.value = store.getItem('halb-admin-token') || '';
  tokenBox.addEventListener('input', () => store.setItem('halb-admin-token', tokenBox.value));
}
function auth(headers) {
  const t = tokenBox ? tokenBox.value.trim() : '';
  if (t) headers.authorization = 'Bearer ' + t;
  return headers;
}
// Reads carry the token only once the node refused one without it (read_only_open: false): a
// token half typed into the box would otherwise fail every poll on a listener open for reads.
let readsNeedToken = Boolean(tokenBox && tokenBox.value.trim());
async function read(path) {
  const r = await fetch(path, { cache: 'no-store', headers: readsNeedToken ? auth({ accept: 'application/json' }) : { accept: 'application/json' } });
  if (r.status === 401 && !readsNeedToken) readsNeedToken = true;
  return r;
}
const weightEdits = new Map();
let busy = false;

function el(tag, cls, ...kids) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  for (const k of kids) {
    if (k === undefined || k === null || k === false) continue;
    e.appendChild(typeof k === 'object' ? k : document.createTextNode(String(k)));
  }
  return e;
}
const td = (cls, ...kids) => el('td', cls, ...kids);
const pill = (cls, text) => el('span', 'pill ' + cls, text);

function ago(at) {
  if (typeof at !== 'number') return '';
  const s = Math.max(0, Math.round((Date.now() - at) / 1000));
  return s < 60 ? s + 's ago' : s < 3600 ? Math.round(s / 60) + 'm ago' : Math.round(s / 3600) + 'h ago';
}

function table(caption, headings) {
  const t = el('table');
  if (caption) t.appendChild(caption);
  const tr = el('tr');
  for (const h of headings) tr.appendChild(el('th', '', h));
  t.appendChild(el('thead', '', tr));
  const body = el('tbody');
  t.appendChild(body);
  return { t, body };
}

function frontends(st) {
  const { t, body } = table(null, ['Frontend', 'Mode', 'Bind', 'Status']);
  for (const f of st.frontends) {
    body.appendChild(el('tr', f.listenError ? 'down' : 'up',
      td('name', f.name), td('', f.mode), td('mono', (f.bind || []).join(', ')),
      td('st', f.listenError ? pill('bad', 'LISTEN ERROR') : pill('ok', 'listening'), f.listenError ? ' ' : '', f.listenError ? el('span', 'reason', f.listenError) : '')));
  }
  if (st.frontends.length === 0) body.appendChild(el('tr', '', el('td', 'empty', 'no frontends')));
  return t;
}

function serverRow(b, s) {
  const key = b.name + '/' + s.name;
  const cls = [s.up ? 'up' : 'down', s.admin === 'ready' ? '' : s.admin, s.backup ? 'backup' : ''].join(' ');
  const c = s.lastCheck;
  const check = c ? el('span', 'reason', c.reason + (typeof c.durationMs === 'number' ? ', ' + c.durationMs + ' ms' : '') + (c.at ? ', ' + ago(c.at) : '')) : el('span', 'reason', 'no check');
  const actions = td('actions');
  for (const a of ['ready', 'drain', 'maint']) {
    const btn = el('button', '', a);
    btn.type = 'button';
    btn.disabled = s.admin === a;
    btn.title = a === 'ready' ? 'take new traffic' : a === 'drain' ? 'no new traffic, let current requests finish' : 'maintenance: out of service';
    btn.dataset.action = a;
    btn.addEventListener('click', () => change(b.name, s.name, { admin: a }));
    actions.appendChild(btn);
  }
  const input = el('input');
  input.type = 'number';
  input.min = '0';
  input.max = '256';
  input.dataset.key = key;
  input.setAttribute('aria-label', 'weight of ' + key);
  input.value = weightEdits.has(key) ? weightEdits.get(key) : String(s.weight);
  input.addEventListener('input', () => weightEdits.set(key, input.value));
  const setWeight = () => {
    const w = Number(input.value);
    weightEdits.delete(key);
    change(b.name, s.name, { weight: w });
  };
  input.addEventListener('keydown', (e) => { if (e.key === 'Enter') setWeight(); if (e.key === 'Escape') { weightEdits.delete(key); input.value = String(s.weight); } });
  const wbtn = el('button', '', 'set weight');
  wbtn.type = 'button';
  wbtn.addEventListener('click', setWeight);
  actions.append(' ', input, wbtn);
  const hist = td('history');
  // Newest first; the full reason is in the tooltip so the row stays one line high.
  for (const h of (s.history || []).slice(-6).reverse()) {
    const tag = el('span', 'hist ' + h.to, h.to.toUpperCase() + ' ' + ago(h.at));
    tag.title = new Date(h.at).toLocaleTimeString() + ': ' + h.from + ' -> ' + h.to + ': ' + h.reason;
    hist.appendChild(tag);
  }
  if (!hist.firstChild) hist.appendChild(el('span', 'reason', 'no transition yet'));
  const row = el('tr', cls,
    td('name', s.name, s.backup ? ' ' : '', s.backup ? pill('warn', 'backup') : ''),
    td('mono', s.address),
    td('st', s.up ? pill('ok', 'UP') : pill('bad', 'DOWN'), ' ', check),
    td('admin', s.admin === 'ready' ? 'ready' : pill(s.admin === 'drain' ? 'info' : 'dim', s.admin.toUpperCase())),
    td('num', s.weight), td('num', s.active), hist, actions);
  row.dataset.server = key;
  return row;
}

function backend(b) {
  const up = b.servers.filter((s) => s.up).length;
  const caption = el('caption', '', b.name,
    el('span', 'sub', b.balance + ' · ' + up + '/' + b.servers.length + ' up · queue ' + b.queue + ' · '),
    b.usable ? pill('ok', 'usable') : pill('bad', 'NO USABLE SERVER'));
  const { t, body } = table(caption, ['Server', 'Address', 'Health (last check)', 'Admin', 'Weight', 'Active', 'Health history', 'Actions']);
  for (const s of b.servers) body.appendChild(serverRow(b, s));
  return t;
}

function bgp(st) {
  const b = st.bgp;
  if (!b) return el('p', 'empty', 'no BGP on this node');
  const box = el('div', '');
  box.appendChild(el('p', 'dim', 'AS' + b.asn + ' · router-id ' + b.routerId));
  const n = table(null, ['Neighbor', 'AS', 'Session', 'Up for', 'Prefixes sent']);
  for (const x of b.neighbors || []) {
    const up = x.state === 'Established';
    n.body.appendChild(el('tr', up ? 'up' : 'down', td('mono', x.address), td('num', x.asn), td('st', pill(up ? 'ok' : 'bad', x.state)),
      td('num', up ? Math.round(x.uptimeMs / 1000) + ' s' : '—'), td('num', x.prefixesSent)));
  }
  box.appendChild(n.t);
  const p = table(null, ['Prefix', 'Announced', 'Why']);
  for (const x of b.prefixes || []) {
    p.body.appendChild(el('tr', x.announced ? 'up' : 'down', td('mono', x.prefix), td('st', pill(x.announced ? 'ok' : 'bad', x.announced ? 'announced' : 'withdrawn')), td('reason', x.reason)));
  }
  box.appendChild(p.t);
  return box;
}

function vrrp(st) {
  if (!st.vrrp || st.vrrp.length === 0) return el('p', 'empty', 'no VRRP instances on this node');
  const { t, body } = table(null, ['Instance', 'VRID', 'State', 'Priority (config / effective / advertised)', 'Master', 'VIPs here', 'Failing trackers', 'Adverts (sent / received)', 'Drops']);
  for (const v of st.vrrp) {
    const state = v.keepalivedState || String(v.state || '').toUpperCase();
    const cls = state === 'MASTER' ? 'ok' : state === 'BACKUP' ? 'info' : state === 'FAULT' ? 'bad' : 'dim';
    const c = v.counters || {};
    const drops = Object.entries(c.drops || {}).filter(([, n]) => n > 0).map(([r, n]) => r + ': ' + n).join(', ');
    const master = v.masterAddress ? v.masterAddress + (v.masterPriority !== undefined ? ' (prio ' + v.masterPriority + ')' : '') : (state === 'MASTER' ? 'this node' : '');
    const failing = (v.failingTrackers || []).join(', ');
    body.appendChild(el('tr', state === 'FAULT' ? 'down' : 'up',
      td('name', v.instance || v.name), td('num', v.vrid), td('st', pill(cls, state), v.fault ? ' fault' : ''),
      td('num', v.configuredPriority + ' / ' + (v.effectivePriority ?? v.priority) + ' / ' + v.priority),
      td('mono', master), td('', v.holdingAddresses ? 'yes' : 'no'),
      td(failing ? 'reason' : '', failing || '—'),
      td('num', (c.advertsSent ?? 0) + ' / ' + (c.advertsReceived ?? 0)),
      td(drops ? 'reason' : '', drops || (c.dropped ? String(c.dropped) : '0'))));
  }
  return t;
}

const stateCls = (state) => state === 'MASTER' || state === 'master' ? 'ok' : state === 'BACKUP' ? 'info' : state === 'FAULT' ? 'bad' : state === 'stepping-down' ? 'warn' : 'dim';

// The pair as this node sees it: itself, then each peer as its adverts show it.
function pair(st) {
  if (!st.vrrp || st.vrrp.length === 0) return el('p', 'empty', 'no VRRP instances on this node');
  const { t, body } = table(null, ['Instance', 'Node', 'Address', 'State', 'Priority', 'Last advert', 'Advert interval', 'Holds VIPs']);
  for (const v of st.vrrp) {
    const state = v.keepalivedState || String(v.state || '').toUpperCase();
    const vips = (v.virtualAddresses || []).join(', ') || '—';
    const self = el('tr', 'self',
      td('name', v.instance || v.name), td('', 'this node'), td('mono', v.localAddress || '—'),
      td('st', pill(stateCls(state), state)), td('num', String(v.priority)),
      td('', state === 'MASTER' ? 'sending' : '—'), td('num', (v.masterAdverInterval ?? '') + ' ms'),
      td('mono', v.holdingAddresses ? vips : '—'));
    body.appendChild(self);
    for (const p of v.peers || []) {
      const holds = v.vipHolder === p.address || (!v.holdingAddresses && p.state === 'master' && v.masterAddress === p.address);
      body.appendChild(el('tr', 'peer',
        td('name', v.instance || v.name), td('', 'peer'), td('mono', p.address),
        td('st', pill(stateCls(p.state), p.state === 'master' ? 'MASTER' : p.state)), td('num', String(p.priority)),
        td('', Math.round(p.lastAdvertAgoMs / 100) / 10 + ' s ago (' + p.adverts + ' heard)'), td('num', p.advertIntervalMs + ' ms'),
        td('mono', holds ? vips : '—')));
    }
    if (!v.peers || v.peers.length === 0) body.appendChild(el('tr', 'peer', td('name', v.instance || v.name), td('empty', 'no peer heard yet'), td(''), td(''), td(''), td(''), td(''), td('')));
  }
  return t;
}

const KIND_CLS = { vrrp: 'info', reload: 'warn', handover: 'warn', server: 'bad', admin: 'dim', start: 'ok' };
function timeline(st) {
  const events = (st.events || []).slice(-100).reverse();
  if (events.length === 0) return el('p', 'empty', 'nothing happened yet');
  const list = el('ol', 'timeline');
  for (const e of events) {
    const cls = e.kind === 'server' && / UP: /.test(e.text) ? 'ok' : KIND_CLS[e.kind] || 'dim';
    list.appendChild(el('li', '', el('span', 'when', new Date(e.at).toLocaleTimeString()), pill(cls, e.kind), e.text));
  }
  return list;
}

const SVG = 'http://www.w3.org/2000/svg';
function svgEl(tag, attrs) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}
const W = 220, H = 48, SPAN = 600000;
// One small chart: each line is [values key, colour]; the y axis starts at 0 and fits the largest value.
function chart(label, points, lines, fmt) {
  const now = Date.now();
  let max = 0;
  for (const p of points) for (const [k] of lines) if (typeof p[k] === 'number' && p[k] > max) max = p[k];
  const svg = svgEl('svg', { width: W, height: H, viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': label });
  for (const [k, colour] of lines) {
    const xy = points.filter((p) => typeof p[k] === 'number').map((p) => {
      const x = Math.max(0, W - ((now - p.at) / SPAN) * W);
      const y = H - 2 - (max > 0 ? (p[k] / max) * (H - 4) : 0);
      return x.toFixed(1) + ',' + y.toFixed(1);
    });
    if (xy.length) svg.appendChild(svgEl('polyline', { points: xy.join(' '), fill: 'none', stroke: colour, 'stroke-width': 1.5 }));
  }
  const last = points[points.length - 1];
  const value = lines.map(([k]) => (last && typeof last[k] === 'number' ? fmt(last[k]) : '—')).join(' / ');
  const box = el('div', 'chart', el('span', 'label', label + ' '), el('span', 'value', value), svg);
  box.title = 'last 10 minutes; max ' + fmt(max);
  return box;
}
const num = (n) => n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
function charts(tr) {
  if (!tr || !tr.series || tr.series.length === 0) return el('p', 'empty', 'no traffic samples yet');
  const wrap = el('div', 'charts');
  for (const s of tr.series) {
    const g = el('div', 'chart-group', el('h3', '', s.key));
    g.dataset.series = s.key;
    g.append(
      chart('req/s', s.points, [['rps', '#1565c0']], num),
      chart('errors', s.points, [['errorRate', '#c62828']], (v) => (v * 100).toFixed(1) + '%'),
      chart('p50 / p99', s.points, [['p50', '#2e7d32'], ['p99', '#ef8f00']], (v) => num(v * 1000) + ' ms'));
    wrap.appendChild(g);
  }
  return wrap;
}

let polls = 0;
async function pollTraffic() {
  try {
    const r = await read('traffic');
    if (r.ok) $('traffic').replaceChildren(charts(await r.json()));
  } catch { /* the status poll reports an unreachable node */ }
}

function render(st) {
  const focused = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.key : undefined;
  const sel = focused ? [document.activeElement.selectionStart, document.activeElement.selectionEnd] : undefined;
  $('source').textContent = st.source + ' · generation ' + st.generation + ' · ' + st.workers + ' worker' + (st.workers === 1 ? '' : 's');
  $('frontends').replaceChildren(frontends(st));
  $('backends').replaceChildren(...(st.backends.length ? st.backends.map(backend) : [el('p', 'empty', 'no backends')]));
  $('vrrp').replaceChildren(vrrp(st));
  $('bgp').replaceChildren(bgp(st));
  $('pair').replaceChildren(pair(st));
  $('timeline').replaceChildren(timeline(st));
  if (focused) {
    const again = [...document.querySelectorAll('input[data-key]')].find((i) => i.dataset.key === focused);
    if (again) {
      again.focus();
      try { if (sel) again.setSelectionRange(sel[0], sel[1]); } catch { /* number inputs have no selection */ }
    }
  }
}

async function poll() {
  if (busy) return;
  busy = true;
  try {
    const r = await read('status');
    if (!r.ok) throw new Error('HTTP ' + r.status);
    render(await r.json());
    $('conn').textContent = 'updated ' + new Date().toLocaleTimeString();
    $('conn').className = '';
    // Samples come once a second; charts every other poll are enough, and never hold up the tables.
    if (polls++ % 2 === 0) void pollTraffic();
  } catch (e) {
    $('conn').textContent = 'cannot reach the node: ' + e.message;
    $('conn').className = 'bad';
  } finally {
    busy = false;
  }
}

async function change(backendName, serverName, body) {
  const flash = $('flash');
  const what = backendName + '/' + serverName + ': ' + JSON.stringify(body);
  try {
    const r = await fetch('servers/' + encodeURIComponent(backendName) + '/' + encodeURIComponent(serverName), {
      method: 'POST', headers: auth({ 'content-type': 'application/json', 'x-halb-csrf': CSRF }), body: JSON.stringify(body),
    });
    const reply = await r.json().catch(() => ({}));
    flash.className = r.ok ? 'ok' : 'err';
    flash.textContent = r.ok ? what + ' done' : what + ' refused: ' + (reply.error || 'HTTP ' + r.status);
  } catch (e) {
    flash.className = 'err';
    flash.textContent = what + ' failed: ' + e.message;
  }
  await poll();
}

poll();
setInterval(poll, 1000);
`;

const html = (script: string): string => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>halb dashboard</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<header><h1>halb</h1><span class="meta" id="source">loading…</span><span id="conn">connecting…</span><input id="token" type="password" autocomplete="off" placeholder="admin token (TCP listener)" aria-label="admin bearer token"></header>
<main>
<div id="flash" role="status"></div>
<h2>Traffic (last 10 minutes)</h2>
<div id="traffic"></div>
<h2>Frontends</h2>
<div id="frontends"></div>
<h2>Backends</h2>
<div id="backends"></div>
<h2>VRRP</h2>
<div id="vrrp"></div>
<h2>BGP</h2>
<div id="bgp"></div>
<h2>The pair (as this node hears it)</h2>
<div id="pair"></div>
<h2>Events</h2>
<div id="timeline"></div>
</main>
<script>${script}</script>
</body>
</html>
`;

const hash = (text: string): string => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

export interface DashboardPage {
  html: string;
  headers: Record<string, string>;
}

/** The page of one process: its CSRF token is part of the script, so the script's hash is too. */
export function dashboardPage(csrf: string): DashboardPage {
  const script = `const CSRF = ${JSON.stringify(csrf)};\n${SCRIPT}`;
  return { html: html(script), headers: headers(script) };
}

/**
 * Only this page's own inline style and script run, it talks only to its own origin, and no
 * other site can frame it (the buttons change live traffic).
 */
const headers = (script: string): Record<string, string> => ({
  'content-security-policy': [
    "default-src 'none'",
    `script-src ${hash(script)}`,
    `style-src ${hash(STYLE)}`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; '),
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
});
