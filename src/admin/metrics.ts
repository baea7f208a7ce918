// Prometheus metrics, computed from the node's status at scrape time so the request path pays
// nothing for them.
import { Gauge, Registry } from 'prom-client';

interface StatusView {
  backends: { name: string; usable: boolean; queue: number; servers: { name: string; up: boolean; admin: string; weight: number; active: number }[] }[];
  vrrp: unknown[];
}

interface VrrpView {
  name: string;
  state: string;
  priority: number;
  effectivePriority?: number;
  counters?: { advertsSent?: number; advertsReceived?: number; drops?: Record<string, number> };
}

export class NodeMetrics {
  private readonly registry = new Registry();

  constructor(status: () => StatusView) {
    const reg = [this.registry];
    new Gauge({
      name: 'halb_server_up',
      help: '1 when the server passes its health checks',
      labelNames: ['backend', 'server'],
      registers: reg,
      collect() {
        this.reset();
        for (const b of status().backends) for (const s of b.servers) this.set({ backend: b.name, server: s.name }, s.up ? 1 : 0);
      },
    });
    new Gauge({
      name: 'halb_server_active',
      help: 'requests or connections in flight to the server (this process)',
      labelNames: ['backend', 'server'],
      registers: reg,
      collect() {
        this.reset();
        for (const b of status().backends) for (const s of b.servers) this.set({ backend: b.name, server: s.name }, s.active);
      },
    });
    new Gauge({
      name: 'halb_server_weight',
      help: 'effective weight of the server',
      labelNames: ['backend', 'server', 'admin'],
      registers: reg,
      collect() {
        this.reset();
        for (const b of status().backends) for (const s of b.servers) this.set({ backend: b.name, server: s.name, admin: s.admin }, s.weight);
      },
    });
    new Gauge({
      name: 'halb_backend_usable',
      help: '1 when the backend has a server that can take traffic',
      labelNames: ['backend'],
      registers: reg,
      collect() {
        this.reset();
        for (const b of status().backends) this.set({ backend: b.name }, b.usable ? 1 : 0);
      },
    });
    new Gauge({
      name: 'halb_backend_queue',
      help: 'requests waiting for a server slot',
      labelNames: ['backend'],
      registers: reg,
      collect() {
        this.reset();
        for (const b of status().backends) this.set({ backend: b.name }, b.queue);
      },
    });
    new Gauge({
      name: 'halb_vrrp_master',
      help: '1 while the instance is MASTER',
      labelNames: ['instance'],
      registers: reg,
      collect() {
        this.reset();
        for (const v of status().vrrp as VrrpView[]) this.set({ instance: v.name }, v.state.toLowerCase().startsWith('master') ? 1 : 0);
      },
    });
    new Gauge({
      name: 'halb_vrrp_priority',
      help: 'effective VRRP priority after trackers',
      labelNames: ['instance'],
      registers: reg,
      collect() {
        this.reset();
        for (const v of status().vrrp as VrrpView[]) this.set({ instance: v.name }, v.effectivePriority ?? v.priority);
      },
    });
    new Gauge({
      name: 'halb_vrrp_dropped_packets',
      help: 'VRRP packets dropped, by reason',
      labelNames: ['instance', 'reason'],
      registers: reg,
      collect() {
        this.reset();
        for (const v of status().vrrp as VrrpView[]) for (const [reason, n] of Object.entries(v.counters?.drops ?? {})) this.set({ instance: v.name, reason }, n);
      },
    });
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
