// `halb status` for people: the node's /status JSON as aligned plain-text tables. Pure: the
// status and the current time in, text out. Tolerates fields it does not know, and missing ones
// (an older or newer node), because it reads JSON from another process.

interface ServerRow {
  name?: string;
  address?: string;
  up?: boolean;
  admin?: string;
  weight?: number;
  backup?: boolean;
  active?: number;
  lastCheck?: { ok?: boolean; reason?: string; durationMs?: number; at?: number };
}

interface AcmeRow {
  frontend?: string;
  domains?: string[];
  state?: string;
  serving?: string;
  notAfter?: string;
  fingerprint256?: string;
  nextAttempt?: string;
  failures?: number;
  lastError?: string;
  obtained?: number;
  received?: number;
}

interface StatusJson {
  acme?: AcmeRow[];
  acmeHandover?: { sent?: number; acknowledged?: number; sendFailed?: number; received?: number; refused?: Record<string, number> };
  bgp?: {
    asn?: number;
    routerId?: string;
    neighbors?: { address?: string; asn?: number; state?: string; prefixesSent?: number; uptimeMs?: number }[];
    prefixes?: { prefix?: string; announced?: boolean; reason?: string }[];
    handoff?: { peers?: { address?: string; device?: string; problem?: string }[]; counts?: { handedOn?: number; copiesDropped?: number } };
  };
  source?: string;
  generation?: number;
  workers?: number;
  frontends?: { name?: string; mode?: string; bind?: string[]; listenError?: string }[];
  backends?: { name?: string; balance?: string; usable?: boolean; queue?: number; servers?: ServerRow[] }[];
  vrrp?: {
    instance?: string;
    name?: string;
    vrid?: number;
    state?: string;
    keepalivedState?: string;
    configuredPriority?: number;
    effectivePriority?: number;
    priority?: number;
    masterAddress?: string;
    masterPriority?: number;
    holdingAddresses?: boolean;
    fault?: boolean;
    failingTrackers?: string[];
    counters?: { advertsSent?: number; advertsReceived?: number; dropped?: number; drops?: Record<string, number> };
    peers?: { address?: string; priority?: number; state?: string; lastAdvertAgoMs?: number; advertIntervalMs?: number }[];
  }[];
}

/** Lines of cells, columns padded to their widest cell; the last column is not padded. */
export function alignColumns(rows: readonly (readonly string[])[], indent = ''): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => indent + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd());
}

function ago(at: number | undefined, now: number): string {
  if (typeof at !== 'number') return '';
  const s = Math.max(0, Math.round((now - at) / 1000));
  return s < 60 ? `${s}s ago` : s < 3600 ? `${Math.round(s / 60)}m ago` : `${Math.round(s / 3600)}h ago`;
}

const text = (v: unknown): string => (v === undefined || v === null ? '-' : String(v));

/** "in 3d" / "2h ago" for an ISO time; "-" when absent or unreadable. */
function relative(iso: string | undefined, now: number): string {
  const at = typeof iso === 'string' ? Date.parse(iso) : NaN;
  if (Number.isNaN(at)) return '-';
  const s = Math.round(Math.abs(at - now) / 1000);
  const span = s < 60 ? `${s}s` : s < 3600 ? `${Math.round(s / 60)}m` : s < 86_400 ? `${Math.round(s / 3600)}h` : `${Math.round(s / 86_400)}d`;
  return at >= now ? `in ${span}` : `${span} ago`;
}

/** The certificates a node obtains (ACME) or is handed, and the hand-over channel's counts. */
function acmeLines(st: StatusJson, now: number): string[] {
  const rows = st.acme ?? [];
  if (rows.length === 0 && !st.acmeHandover) return [];
  const out = [''];
  if (rows.length > 0) {
    out.push(
      ...alignColumns([
        ['ACME', 'STATE', 'SERVING', 'CERT SHA-256', 'NAMES', 'EXPIRES', 'NEXT ATTEMPT', 'OBTAINED/RECEIVED', 'FAILURES', 'LAST ERROR'],
        ...rows.map((a) => {
          const expired = typeof a.notAfter === 'string' && Date.parse(a.notAfter) <= now;
          return [
            text(a.frontend),
            a.state === 'backoff' ? 'BACKOFF' : text(a.state),
            a.serving === 'fallback' ? 'FALLBACK' : text(a.serving),
            a.fingerprint256 ? `${a.fingerprint256.slice(0, 23)}..` : '-',
            (a.domains ?? []).join(',') || '-',
            a.notAfter === undefined ? '-' : `${a.notAfter.slice(0, 16).replace('T', ' ')}Z (${expired ? 'EXPIRED ' : ''}${relative(a.notAfter, now)})`,
            relative(a.nextAttempt, now),
            `${text(a.obtained ?? 0)}/${text(a.received ?? 0)}`,
            text(a.failures ?? 0),
            a.lastError ?? '-',
          ];
        }),
      ]),
    );
  }
  const h = st.acmeHandover;
  if (h) {
    const refused = Object.entries(h.refused ?? {})
      .filter(([, n]) => n > 0)
      .map(([r, n]) => `${r}:${n}`)
      .join(',');
    out.push(`ACME HAND-OVER  sent ${text(h.sent ?? 0)}  acknowledged ${text(h.acknowledged ?? 0)}  send failed ${text(h.sendFailed ?? 0)}  received ${text(h.received ?? 0)}  refused ${refused || '0'}`);
  }
  return out;
}

function checkText(c: ServerRow['lastCheck'], now: number): string {
  if (!c) return '-';
  const parts = [typeof c.durationMs === 'number' ? `${c.durationMs} ms` : '', ago(c.at, now)].filter((p) => p !== '');
  return `${c.reason ?? (c.ok ? 'ok' : 'failed')}${parts.length ? ` (${parts.join(', ')})` : ''}`;
}

export function formatStatus(status: unknown, now: number): string {
  const st = (status ?? {}) as StatusJson;
  const out: string[] = [];
  out.push(`halb ${text(st.source)}  generation ${text(st.generation)}  workers ${text(st.workers)}`);

  const frontends = st.frontends ?? [];
  out.push('');
  if (frontends.length === 0) out.push('no frontends');
  else {
    out.push(
      ...alignColumns([
        ['FRONTEND', 'MODE', 'BIND', 'STATUS'],
        ...frontends.map((f) => [text(f.name), text(f.mode), (f.bind ?? []).join(','), f.listenError ? `LISTEN ERROR: ${f.listenError}` : 'listening']),
      ]),
    );
  }

  for (const b of st.backends ?? []) {
    const servers = b.servers ?? [];
    const up = servers.filter((s) => s.up).length;
    out.push('');
    out.push(`BACKEND ${text(b.name)}  ${text(b.balance)}  ${up}/${servers.length} up  ${b.usable ? 'usable' : 'NO USABLE SERVER'}  queue ${text(b.queue)}`);
    out.push(
      ...alignColumns(
        [
          ['SERVER', 'ADDRESS', 'HEALTH', 'ADMIN', 'WEIGHT', 'ACTIVE', 'BACKUP', 'LAST CHECK'],
          ...servers.map((s) => [
            text(s.name),
            text(s.address),
            s.up ? 'UP' : 'DOWN',
            s.admin === 'ready' || s.admin === undefined ? text(s.admin) : s.admin.toUpperCase(),
            text(s.weight),
            text(s.active),
            s.backup ? 'backup' : '-',
            checkText(s.lastCheck, now),
          ]),
        ],
        '  ',
      ),
    );
  }
  if ((st.backends ?? []).length === 0) out.push('', 'no backends');

  const vrrp = st.vrrp ?? [];
  out.push('');
  if (vrrp.length === 0) out.push('no VRRP instances');
  else {
    out.push(
      ...alignColumns([
        ['VRRP', 'VRID', 'STATE', 'PRIO CFG/EFF/ADV', 'MASTER', 'VIPS HERE', 'FAILING TRACKERS', 'ADVERTS TX/RX', 'DROPS'],
        ...vrrp.map((v) => {
          const state = v.keepalivedState ?? (v.state ?? '-').toUpperCase();
          const c = v.counters ?? {};
          const drops = Object.entries(c.drops ?? {})
            .filter(([, n]) => n > 0)
            .map(([r, n]) => `${r}:${n}`)
            .join(',');
          const master = v.masterAddress !== undefined ? `${v.masterAddress}${v.masterPriority !== undefined ? ` (${v.masterPriority})` : ''}` : state === 'MASTER' ? 'this node' : '-';
          return [
            text(v.instance ?? v.name),
            text(v.vrid),
            state + (v.fault && state !== 'FAULT' ? ' (fault)' : ''),
            `${text(v.configuredPriority)}/${text(v.effectivePriority ?? v.priority)}/${text(v.priority)}`,
            master,
            v.holdingAddresses ? 'yes' : 'no',
            (v.failingTrackers ?? []).join(',') || '-',
            `${text(c.advertsSent ?? 0)}/${text(c.advertsReceived ?? 0)}`,
            drops || String(c.dropped ?? 0),
          ];
        }),
      ]),
    );
  }
  // The pair as this node hears it: every peer's last advert.
  const peers = vrrp.flatMap((v) => (v.peers ?? []).map((p) => [text(v.instance ?? v.name), text(p.address), (p.state ?? '-').toUpperCase(), text(p.priority), typeof p.lastAdvertAgoMs === 'number' ? `${(p.lastAdvertAgoMs / 1000).toFixed(1)}s ago` : '-', typeof p.advertIntervalMs === 'number' ? `${p.advertIntervalMs} ms` : '-']));
  if (peers.length > 0) out.push('', ...alignColumns([['PEER OF', 'ADDRESS', 'STATE (FROM ADVERTS)', 'PRIO', 'LAST ADVERT', 'INTERVAL'], ...peers]));
  out.push(...acmeLines(st, now));
  const bgp = st.bgp;
  if (bgp) {
    out.push('', `BGP AS${text(bgp.asn)}  router-id ${text(bgp.routerId)}`);
    out.push(...alignColumns([['NEIGHBOR', 'AS', 'SESSION', 'UP FOR', 'PREFIXES SENT'], ...(bgp.neighbors ?? []).map((n) => [text(n.address), text(n.asn), text(n.state), n.state === 'Established' && typeof n.uptimeMs === 'number' ? `${(n.uptimeMs / 1000).toFixed(0)}s` : '-', text(n.prefixesSent)])]));
    out.push(...alignColumns([['PREFIX', 'ANNOUNCED', 'WHY'], ...(bgp.prefixes ?? []).map((p) => [text(p.prefix), p.announced ? 'yes' : 'WITHDRAWN', text(p.reason)])]));
    const h = bgp.handoff;
    if (h) {
      const c = h.counts;
      out.push('', `FLOW HAND-OFF  ${c ? `${text(c.handedOn)} segments passed on, ${text(c.copiesDropped)} copies dropped` : 'counters not read yet'}`);
      out.push(...alignColumns([['PEER NODE', 'VIA', 'PROBLEM'], ...(h.peers ?? []).map((p) => [text(p.address), text(p.device), p.problem ?? '-'])]));
    }
  }
  return out.join('\n') + '\n';
}
