// Entry of a serving worker: it runs frontends and pools for the config the primary sends,
// takes server health from the primary, and reports passive failures back to it.
import { createLogger } from '../log/logger.ts';
import { ProxyRuntime } from './proxy-runtime.ts';
import { decodeKeys, ticketKeyName } from '../proxy/tls/ticket-keys.ts';
import { isToWorker, type FromWorker, type ServerCounters, type ToWorker } from './worker-messages.ts';

const log = createLogger({ format: 'json' }).child({ worker: process.pid });
const runtime = new ProxyRuntime({ log, serve: true });
let chain: Promise<unknown> = Promise.resolve();
let stopping = false;

function send(m: FromWorker): void {
  if (process.connected) process.send?.(m);
}

function watchPassive(): void {
  for (const pool of runtime.pools.values()) {
    pool.on('server-state', (s, reason) => {
      if (!s.up && reason.startsWith('passive')) send({ t: 'passive-down', backend: pool.name, server: s.name, reason });
    });
    pool.on('passive-error', (s, mode, reason) => send({ t: 'passive-error', backend: pool.name, server: s.name, mode, reason }));
  }
}

async function handle(m: ToWorker): Promise<void> {
  switch (m.t) {
    case 'config': {
      // before apply: the frontends' child loggers take the level they are created with
      log.level = m.config.global.log.level;
      const listenErrors = await runtime.apply(m.config, m.snapshot);
      watchPassive();
      send({ t: 'applied', generation: m.generation, listenErrors });
      break;
    }
    case 'health':
      runtime.pools.get(m.backend)?.setHealth(m.server, m.up, m.reason);
      break;
    case 'server': {
      const pool = runtime.pools.get(m.backend);
      if (m.admin !== undefined) pool?.setAdmin(m.server, m.admin);
      if (m.weight !== undefined) pool?.setWeight(m.server, m.weight);
      break;
    }
    case 'ticket-keys':
      runtime.ticketKeys.set(decodeKeys(m.keys));
      // the key names are no secret (every ticket starts with one); they show which keys a worker holds
      log.info({ current: ticketKeyName(runtime.ticketKeys.get()!.current) }, 'TLS session ticket keys set');
      break;
    case 'acme-challenge':
      runtime.challenges.set(m.token, m.keyAuthorization);
      send({ t: 'acme-challenge-set', id: m.id });
      break;
    case 'acme-tls-challenge':
      runtime.tlsChallenges.set(m.domain, m.cert);
      send({ t: 'acme-challenge-set', id: m.id });
      break;
    case 'tls-refresh':
      runtime.refreshCertificates(m.frontend);
      break;
    case 'stats-request': {
      const servers: ServerCounters = {};
      const queues: Record<string, number> = {};
      for (const pool of runtime.pools.values()) {
        queues[pool.name] = pool.queueLength;
        const out: ServerCounters[string] = (servers[pool.name] = {});
        for (const s of pool.servers) out[s.name] = { active: s.active, requests: s.requests, failures: s.failures };
      }
      send({ t: 'stats', servers, traffic: runtime.traffic.snapshot(), queues });
      break;
    }
    case 'stop':
      stopping = true;
      await runtime.close(m.graceMs);
      process.exit(0);
  }
}

process.on('message', (m: unknown) => {
  if (!isToWorker(m)) return;
  chain = chain.then(() => handle(m)).catch((err: unknown) => log.error({ err }, 'worker failed to handle a message'));
});
// The primary handles signals for the node; a worker only follows its messages.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => undefined);
// The primary is gone (killed, crashed): a worker without it would serve stale health forever.
process.on('disconnect', () => {
  if (stopping) return;
  stopping = true;
  setTimeout(() => process.exit(0), 2000).unref();
  void runtime.close(0).then(() => process.exit(0));
});
