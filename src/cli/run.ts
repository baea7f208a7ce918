// `halb run`: load and validate the whole config first (a bad config never starts a half-built
// node), then start the node and map signals: SIGHUP reloads, SIGTERM/SIGINT stop gracefully.
import { writeFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import type { LoadResult } from '../config/load.ts';
import { loadWithCertificates } from './certificate-checks.ts';
import { formatConfigError } from '../config/errors.ts';
import { demoConfig, DEMO_SERVER_PORTS, DEMO_LISTEN_PORT, DEMO_ADMIN_SOCKET } from '../config/demo.ts';
import { createLogger } from '../log/logger.ts';
import { HalbNode } from '../node.ts';
import { checkCapabilities, logCapabilityWarnings } from '../node/capability-check.ts';
import { workerCount } from '../node/worker-count.ts';
import { startDemoServers, type DemoServers } from './demo-servers.ts';

export interface RunOptions {
  config?: string;
  demo?: boolean;
  /** The nodes: entry to run; default: the one this host's name picks. */
  node?: string;
  pidFile?: string;
  logFormat?: 'auto' | 'json' | 'pretty';
}

export async function runCommand(opts: RunOptions): Promise<number> {
  if (!opts.config && !opts.demo) {
    process.stderr.write('halb run: give a config with -c FILE, or --demo for the built-in demo\n');
    return 2;
  }
  const path = opts.config ? resolve(opts.config) : undefined;
  const load = async (): Promise<LoadResult> => (path ? loadWithCertificates(path, opts.node !== undefined ? { node: opts.node } : {}) : { ok: true, config: demoConfig(), warnings: [] });
  const first = await load();
  if (!first.ok) {
    for (const e of first.errors) process.stderr.write(formatConfigError(e) + '\n');
    process.stderr.write(`halb run: ${first.errors.length} error(s) in ${path}; nothing was started\n`);
    return 1;
  }
  const config = first.config;
  const log = createLogger({ level: config.global.log.level, format: opts.logFormat ?? config.global.log.format });
  for (const w of first.warnings) log.warn(formatConfigError(w));
  // An unprivileged node (systemd unit, setpriv) that lacks a capability its config needs is
  // refused here, before anything is bound or announced.
  const caps = checkCapabilities(config, workerCount(config));
  if (caps.errors.length > 0) {
    for (const e of caps.errors) process.stderr.write(`halb run: ${e}\n`);
    process.stderr.write('halb run: grant these capabilities (systemd AmbientCapabilities=, see packaging/halb.service) or run as root; nothing was started\n');
    return 1;
  }
  logCapabilityWarnings(caps.warnings, log);

  let demo: DemoServers | undefined;
  if (opts.demo) {
    demo = await startDemoServers('127.0.0.1', DEMO_SERVER_PORTS);
    log.info({ servers: DEMO_SERVER_PORTS.map((p) => `127.0.0.1:${p}`) }, 'demo web servers started');
  }

  let node: HalbNode;
  try {
    node = await HalbNode.start(config, { log, load });
  } catch (err) {
    log.fatal({ err: (err as Error).message }, 'halb could not start');
    await demo?.close();
    log.flush?.();
    return 1;
  }
  if (opts.demo) log.info(`demo ready: curl http://127.0.0.1:${DEMO_LISTEN_PORT}/ ; halb status --socket ${DEMO_ADMIN_SOCKET}  (stop with Ctrl-C)`);
  if (opts.pidFile) writeFileSync(opts.pidFile, `${process.pid}\n`);

  return new Promise<number>((done) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) {
        log.warn(`${signal} again: exiting now`);
        process.exit(1);
      }
      stopping = true;
      log.info({ signal }, 'graceful stop requested');
      void node
        .stop()
        .catch((err: unknown) => log.error({ err: (err as Error).message }, 'error while stopping'))
        .then(() => demo?.close())
        .then(() => {
          if (opts.pidFile) rmSync(opts.pidFile, { force: true });
          log.flush?.();
          done(0);
          // Let the logger drain, then leave even if a stray handle would keep us alive.
          setTimeout(() => process.exit(0), 200).unref();
        });
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGHUP', () => {
      log.info('SIGHUP: reloading configuration');
      // The outcome is logged by the node; an unexpected failure must not end the process.
      node.reload().catch((err: unknown) => log.error({ err: (err as Error).message }, 'reload failed; the running config keeps serving'));
    });
  });
}
