// Prometheus metrics, computed from the node's status at scrape time so the request path pays
// nothing for them beyond the pool's own counters (summed over workers by the node).
import { Counter, Gauge, Registry } from 'prom-client';
import type { TrafficSnapshot } from '../proxy/traffic-stats.ts';
import { renderTraffic } from './traffic-metrics.ts';

/** The parts of the node's status read here; structural, so admin/ does not import node.ts. */
export interface StatusView {
  generation?: number;
  frontends?: { name: string; bind: string[]; listenError?: string }[];
  backends: {
    name: string;
    usable: boolean;
    queue: number;
    servers: {
      name: string;
      up: boolean;
      admin: string;
      weight: number;
      active: number;
      requests?: number;
      failures?: number;
      backup?: boolean;
      wentDown?: number;
      wentUp?: number;
      lastCheck?: unknown;
    }[];
  }[];
  vrrp: unknown[];
  bgp?: { neighbors: { address: string; state: string }[]; prefixes: { prefix: string; announced: boolean }[]; handoff?: { counts?: { handedOn: number; copiesDropped: number } } };
}

/** The fields of a VRRP instance's status read here (node/vrrp-claim-link.ts InstanceStatus). */
interface VrrpView {
  instance?: string;
  name?: string;
  state?: string;
  keepalivedState?: string;
  priority?: number;
  configuredPriority?: number;
  effectivePriority?: number;
  fault?: boolean;
  holdingAddresses?: boolean;
  counters?: {
    advertsSent?: number;
    advertsReceived?: number;
    priorityZeroSent?: number;
    priorityZeroReceived?: number;
    sendErrors?: number;
    becameMaster?: number;
    transitions?: { to: string; reason: string; count: number }[];
    drops?: Record<string, number | undefined>;
  };
  floatingIp?: { calls?: Record<string, number> };
}

interface CheckView {
  ok?: boolean;
  durationMs?: number;
}

const ADMIN_STATES = ['ready', 'drain', 'maint'] as const;
const VRRP_STATES = ['INIT', 'BACKUP', 'MASTER', 'FAULT', 'STOP'] as const;

// The label is vrrp_instance, not instance: Prometheus sets `instance` to the scrape target and
// would rename ours to exported_instance.
const instanceName = (v: VrrpView): string => v.instance ?? v.name ?? '';
const vrrpState = (v: VrrpView): string => v.keepalivedState ?? (v.state ?? '').toUpperCase();

export class NodeMetrics {
  private readonly registry = new Registry();
  /** Forgets the status read by the previous scrape. */
  private readonly beforeScrape: () => void;
  private readonly traffic: (() => TrafficSnapshot) | undefined;

  constructor(status: () => StatusView, traffic?: () => TrafficSnapshot) {
    this.traffic = traffic;
    const reg = [this.registry];
    // One status() per scrape, however many metrics read it.
    let cached: StatusView | undefined;
    const view = (): StatusView => (cached ??= status());
    this.beforeScrape = () => {
      cached = undefined;
    };
    const servers = function* (): Generator<[string, StatusView['backends'][number]['servers'][number]]> {
      for (const b of view().backends) for (const s of b.servers) yield [b.name, s];
    };
    const vrrp = (): VrrpView[] => view().vrrp as VrrpView[];

    type ServerView = StatusView['backends'][number]['servers'][number];
    /** A per-server metric: `value` returns undefined where the metric has no sample yet. */
    const perServer = (kind: 'gauge' | 'counter', name: string, help: string, value: (s: ServerView) => number | undefined): void => {
      const collect = function (this: Gauge | Counter): void {
        this.reset();
        for (const [b, s] of servers()) {
          const v = value(s);
          if (v === undefined) continue;
          if (this instanceof Gauge) this.set({ backend: b, server: s.name }, v);
          else this.inc({ backend: b, server: s.name }, v);
        }
      };
      const opts = { name, help, labelNames: ['backend', 'server'], registers: reg, collect };
      if (kind === 'gauge') new Gauge(opts);
      else new Counter(opts);
    };
    perServer('gauge', 'halb_server_up', '1 when the server passes its health checks', (s) => (s.up ? 1 : 0));
    perServer('gauge', 'halb_server_active', 'requests or connections in flight to the server, all workers', (s) => s.active);
    perServer('counter', 'halb_server_requests_total', 'requests (HTTP) or connections (TCP) finished on the server, all workers', (s) => s.requests ?? 0);
    perServer('counter', 'halb_server_failures_total', 'requests or connections to the server that ended in a connect error, server error or timeout', (s) => s.failures ?? 0);
    perServer('gauge', 'halb_server_backup', '1 for a backup server (used only when no normal server can take traffic)', (s) => (s.backup ? 1 : 0));
    perServer('gauge', 'halb_server_check_duration_seconds', 'duration of the last active health check', (s) => {
      const c = s.lastCheck as CheckView | undefined;
      return typeof c?.durationMs === 'number' ? c.durationMs / 1000 : undefined;
    });
    perServer('gauge', 'halb_server_check_ok', '1 when the last active health check passed (absent before the first check)', (s) => {
      const c = s.lastCheck as CheckView | undefined;
      return typeof c?.ok === 'boolean' ? (c.ok ? 1 : 0) : undefined;
    });
    new Counter({
      name: 'halb_server_health_transitions_total',
      help: 'server health changes (active checks, passive health), by the state entered (HAProxy chkdown is to="down")',
      labelNames: ['backend', 'server', 'to'],
      registers: reg,
      collect() {
        this.reset();
        for (const [b, s] of servers()) {
          this.inc({ backend: b, server: s.name, to: 'down' }, s.wentDown ?? 0);
          this.inc({ backend: b, server: s.name, to: 'up' }, s.wentUp ?? 0);
        }
      },
    });
    new Gauge({
      name: 'halb_server_weight',
      help: 'effective weight of the server',
      labelNames: ['backend', 'server', 'admin'],
      registers: reg,
      collect() {
        this.reset();
        for (const [b, s] of servers()) this.set({ backend: b, server: s.name, admin: s.admin }, s.weight);
      },
    });
    new Gauge({
      name: 'halb_server_admin_state',
      help: '1 for the admin state the server is in (ready, drain, maint), 0 for the others',
      labelNames: ['backend', 'server', 'state'],
      registers: reg,
      collect() {
        this.reset();
        for (const [b, s] of servers()) for (const st of ADMIN_STATES) this.set({ backend: b, server: s.name, state: st }, s.admin === st ? 1 : 0);
      },
    });
    new Gauge({
      name: 'halb_backend_usable',
      help: '1 when the backend has a server that can take traffic',
      labelNames: ['backend'],
      registers: reg,
      collect() {
        this.reset();
        for (const b of view().backends) this.set({ backend: b.name }, b.usable ? 1 : 0);
      },
    });
    new Gauge({
      name: 'halb_backend_queue',
      help: 'requests waiting for a server slot',
      labelNames: ['backend'],
      registers: reg,
      collect() {
        this.reset();
        for (const b of view().backends) this.set({ backend: b.name }, b.queue);
      },
    });
    new Gauge({
      name: 'halb_frontend_listening',
      help: '1 when every bind of the frontend is listening, 0 when one could not listen',
      labelNames: ['frontend'],
      registers: reg,
      collect() {
        this.reset();
        for (const f of view().frontends ?? []) this.set({ frontend: f.name }, f.listenError === undefined ? 1 : 0);
      },
    });
    new Gauge({
      name: 'halb_config_generation',
      help: 'number of successful reloads since start',
      registers: reg,
      collect() {
        this.set(view().generation ?? 0);
      },
    });
    new Gauge({
      name: 'halb_vrrp_master',
      help: '1 while the instance is MASTER',
      labelNames: ['vrrp_instance'],
      registers: reg,
      collect() {
        this.reset();
        for (const v of vrrp()) this.set({ vrrp_instance: instanceName(v) }, vrrpState(v) === 'MASTER' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'halb_vrrp_state',
      help: '1 for the keepalived state the instance is in, 0 for the others',
      labelNames: ['vrrp_instance', 'state'],
      registers: reg,
      collect() {
        this.reset();
        for (const v of vrrp()) for (const st of VRRP_STATES) this.set({ vrrp_instance: instanceName(v), state: st }, vrrpState(v) === st ? 1 : 0);
      },
    });
    new Gauge({
      name: 'halb_vrrp_priority',
      help: 'effective VRRP priority after trackers',
      labelNames: ['vrrp_instance'],
      registers: reg,
      collect() {
        this.reset();
        for (const v of vrrp()) {
          const p = v.effectivePriority ?? v.priority;
          if (typeof p === 'number') this.set({ vrrp_instance: instanceName(v) }, p);
        }
      },
    });
    new Gauge({
      name: 'halb_vrrp_holding_addresses',
      help: '1 while the virtual addresses are configured on this node',
      labelNames: ['vrrp_instance'],
      registers: reg,
      collect() {
        this.reset();
        for (const v of vrrp()) this.set({ vrrp_instance: instanceName(v) }, v.holdingAddresses ? 1 : 0);
      },
    });
    const counter = (name: string, help: string, read: (c: NonNullable<VrrpView['counters']>) => number | undefined): void => {
      new Counter({
        name,
        help,
        labelNames: ['vrrp_instance'],
        registers: reg,
        collect() {
          this.reset();
          for (const v of vrrp()) {
            const n = v.counters ? read(v.counters) : undefined;
            if (typeof n === 'number' && n > 0) this.inc({ vrrp_instance: instanceName(v) }, n);
            else this.inc({ vrrp_instance: instanceName(v) }, 0);
          }
        },
      });
    };
    counter('halb_vrrp_adverts_sent_total', 'VRRP advertisements sent', (c) => c.advertsSent);
    counter('halb_vrrp_adverts_received_total', 'valid VRRP advertisements received for our VRID', (c) => c.advertsReceived);
    counter('halb_vrrp_priority_zero_sent_total', 'priority-0 advertisements sent (this master stepping down)', (c) => c.priorityZeroSent);
    counter('halb_vrrp_priority_zero_received_total', 'priority-0 advertisements received (a master stepping down)', (c) => c.priorityZeroReceived);
    counter('halb_vrrp_send_errors_total', 'advertisement sends the kernel refused', (c) => c.sendErrors);
    counter('halb_vrrp_became_master_total', 'transitions into MASTER', (c) => c.becameMaster);
    new Gauge({
      name: 'halb_bgp_session_established',
      help: '1 while the BGP session with the neighbor is Established',
      labelNames: ['neighbor'],
      registers: reg,
      collect() {
        this.reset();
        for (const n of view().bgp?.neighbors ?? []) this.set({ neighbor: n.address }, n.state === 'Established' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'halb_bgp_prefix_announced',
      help: '1 while this node announces the prefix (it can serve it), 0 while withdrawn',
      labelNames: ['prefix'],
      registers: reg,
      collect() {
        this.reset();
        for (const p of view().bgp?.prefixes ?? []) this.set({ prefix: p.prefix }, p.announced ? 1 : 0);
      },
    });
    // Read from the kernel's nftables counters (bgp/flow-forwarding.ts), not counted here.
    const handoff = (name: string, help: string, read: (c: { handedOn: number; copiesDropped: number }) => number): void => {
      new Counter({
        name,
        help,
        registers: reg,
        collect() {
          this.reset();
          const c = view().bgp?.handoff?.counts;
          if (c) this.inc(read(c));
        },
      });
    };
    handoff('halb_bgp_segments_handed_on_total', 'TCP segments of connections another node owns, that the routers sent here and this node passed on to its peers', (c) => c.handedOn);
    handoff('halb_bgp_peer_copies_dropped_total', 'segments peers passed on here for connections this node does not own either (dropped, not reset)', (c) => c.copiesDropped);
    new Counter({
      name: 'halb_vrrp_transitions_total',
      help: 'VRRP state changes, by the state entered and why (master-down, takeover, heard-master, fault, handover, ...)',
      labelNames: ['vrrp_instance', 'to', 'reason'],
      registers: reg,
      collect() {
        this.reset();
        for (const v of vrrp()) for (const t of v.counters?.transitions ?? []) this.inc({ vrrp_instance: instanceName(v), to: t.to, reason: t.reason }, t.count);
      },
    });
    new Counter({
      name: 'halb_cloud_api_calls_total',
      help: 'calls to the cloud provider API that moves the floating IP, by result (ok, http_4xx, http_5xx, transport, aborted)',
      labelNames: ['vrrp_instance', 'result'],
      registers: reg,
      collect() {
        this.reset();
        for (const v of vrrp()) for (const [result, n] of Object.entries(v.floatingIp?.calls ?? {})) this.inc({ vrrp_instance: instanceName(v), result }, n);
      },
    });
    new Counter({
      name: 'halb_vrrp_dropped_packets_total',
      help: 'VRRP packets dropped, by reason',
      labelNames: ['vrrp_instance', 'reason'],
      registers: reg,
      collect() {
        this.reset();
        for (const v of vrrp()) for (const [reason, n] of Object.entries(v.counters?.drops ?? {})) if (typeof n === 'number') this.inc({ vrrp_instance: instanceName(v), reason }, n);
      },
    });
  }

  async render(): Promise<{ contentType: string; body: string }> {
    this.beforeScrape();
    const body = await this.registry.metrics();
    return { contentType: this.registry.contentType, body: this.traffic ? body + renderTraffic(this.traffic()) : body };
  }
}
