// The node's ACME side: per frontend with `tls.acme`, a renewer that holds the certificate on
// disk, asks the CA when renewal-plan.ts says so (and only while this node may: on a VRRP pair,
// the master), stores what it gets and has it served (installed -> the frontends' contexts are
// swapped as on reload). It runs in the primary; challenges reach the serving processes through
// `publish`.
import { readFile, rm } from 'node:fs/promises';
import type { AcmeConfig, FrontendConfig } from '../config/types.ts';
import type { Logger } from '../log/logger.ts';
import { loadPem, type LoadedCertificate } from '../proxy/tls/certificate-store.ts';
import { accountKey, crtPem, writePrivate } from './certificate-files.ts';
import { orderCertificate, type ChallengePublisher } from './acme-order.ts';
import { planRenewal, type RenewalPlan } from './renewal-plan.ts';

export interface AcmeHooks {
  log: Logger;
  publish: ChallengePublisher;
  /** The frontend's certificate file holds a new certificate: serve it (and hand it to peers). */
  installed(frontend: string, cert: LoadedCertificate, pem: string, origin: 'ca' | 'peer'): void;
  /** Whether this node talks to the CA now: not a VRRP backup (the CA reaches the master). */
  mayOrder(): boolean;
  now?: () => Date;
}

export interface AcmeStatus {
  frontend: string;
  domains: string[];
  /** valid: a certificate is held and renewal is planned; ordering: an order is under way;
   *  backoff: the last order failed; standby: another node (the master) orders. */
  state: 'valid' | 'due' | 'ordering' | 'backoff' | 'standby';
  /** What the frontend serves: the obtained certificate, or its fallback while none is held. */
  serving: 'acme' | 'fallback';
  notAfter?: string;
  fingerprint256?: string;
  nextAttempt?: string;
  failures: number;
  lastError?: string;
  /** Certificates obtained from the CA and received from a peer since start. */
  obtained: number;
  received: number;
}

/** setTimeout's longest delay; a later renewal is re-planned when it fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

class Renewer {
  readonly frontend: string;
  cfg: AcmeConfig;
  private readonly hooks: AcmeHooks;
  private readonly log: Logger;
  private timer: NodeJS.Timeout | undefined;
  private ordering = false;
  private stopped = false;
  private failures = 0;
  private lastFailureAt: Date | undefined;
  private lastError: string | undefined;
  private plan: RenewalPlan | undefined;
  private standby = false;
  held: LoadedCertificate | undefined;
  obtained = 0;
  received = 0;

  constructor(frontend: string, cfg: AcmeConfig, hooks: AcmeHooks) {
    this.frontend = frontend;
    this.cfg = cfg;
    this.hooks = hooks;
    this.log = hooks.log.child({ frontend, acme: cfg.domains[0] });
    this.held = this.readHeld();
  }

  private now(): Date {
    return this.hooks.now?.() ?? new Date();
  }

  private readHeld(): LoadedCertificate | undefined {
    const r = loadPem(this.cfg.certFile, this.now());
    return typeof r === 'string' ? undefined : r;
  }

  /** Decide what happens next and arm the timer for it. */
  schedule(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.stopped || this.ordering) return;
    this.held = this.readHeld();
    this.plan = planRenewal({
      now: this.now(),
      certificate: this.held,
      renewBeforeMs: this.cfg.renewBefore,
      failures: this.failures,
      ...(this.lastFailureAt ? { lastFailureAt: this.lastFailureAt } : {}),
      backoff: { minMs: this.cfg.retryMin, maxMs: this.cfg.retryMax },
    });
    this.standby = !this.hooks.mayOrder();
    if (this.standby) {
      this.log.debug({ plan: this.plan.reason }, 'acme: not ordering here (not the VRRP master)');
      // re-checked when the node becomes master (wake) and when renewal would be due
    }
    if (this.plan.kind === 'now') {
      if (!this.standby) void this.order(this.plan.reason);
      return;
    }
    const at = this.plan.kind === 'at' ? this.plan.at : this.plan.until;
    const delay = Math.min(Math.max(at.getTime() - this.now().getTime(), 0), MAX_TIMER_MS);
    this.timer = setTimeout(() => this.schedule(), delay);
    this.timer.unref();
  }

  private async order(reason: string): Promise<void> {
    this.ordering = true;
    this.log.info({ reason, directory: this.cfg.directory, challenge: this.cfg.challenge }, 'acme: ordering a certificate');
    try {
      const account = await accountKey(this.cfg.accountKeyFile);
      if (account.created) this.log.info({ file: this.cfg.accountKeyFile }, 'acme: new account key stored');
      const issued = await orderCertificate(this.cfg, account.pem, this.hooks.publish);
      const pem = crtPem(issued.chain, issued.key);
      const cert = await this.store(pem);
      this.failures = 0;
      this.lastFailureAt = undefined;
      this.lastError = undefined;
      this.obtained++;
      this.log.info({ fingerprint256: cert.fingerprint256, notAfter: cert.notAfter.toISOString(), serial: cert.serialNumber }, 'acme: certificate obtained');
      this.hooks.installed(this.frontend, cert, pem, 'ca');
    } catch (err) {
      this.failures++;
      this.lastFailureAt = this.now();
      this.lastError = (err as Error).message;
      this.log.warn({ err: this.lastError, failures: this.failures }, 'acme: order failed; retrying with backoff');
    } finally {
      this.ordering = false;
      this.schedule();
    }
  }

  /** Write and re-read: only a certificate that loads as the frontend will load it counts. */
  private async store(pem: string): Promise<LoadedCertificate> {
    await writePrivate(this.cfg.certFile, pem);
    const r = loadPem(this.cfg.certFile, this.now());
    if (typeof r === 'string') throw new Error(`the stored certificate cannot serve: ${r}`);
    this.held = r;
    return r;
  }

  /** A certificate handed over by a peer: kept when it is newer than the one held. */
  async receive(pem: string): Promise<LoadedCertificate | undefined> {
    const current = this.held;
    // checked as the frontend would load it, before it can replace anything
    const staged = `${this.cfg.certFile}.peer`;
    await writePrivate(staged, pem);
    const r = loadPem(staged, this.now());
    await rm(staged, { force: true });
    if (typeof r === 'string') throw new Error(`the certificate from the peer cannot serve: ${r}`);
    if (!sameNames(r.names, this.cfg.domains)) throw new Error(`the certificate from the peer is for ${r.names.join(', ')}, not ${this.cfg.domains.join(', ')}`);
    if (current !== undefined && current.notAfter.getTime() >= r.notAfter.getTime()) return undefined;
    const cert = await this.store(pem);
    this.received++;
    this.hooks.installed(this.frontend, cert, pem, 'peer');
    this.schedule();
    return cert;
  }

  status(): AcmeStatus {
    const plan = this.plan;
    const state: AcmeStatus['state'] = this.ordering ? 'ordering' : this.standby ? 'standby' : plan?.kind === 'backoff' ? 'backoff' : plan?.kind === 'now' ? 'due' : 'valid';
    const out: AcmeStatus = { frontend: this.frontend, domains: this.cfg.domains, state, serving: this.held ? 'acme' : 'fallback', failures: this.failures, obtained: this.obtained, received: this.received };
    if (this.held) {
      out.notAfter = this.held.notAfter.toISOString();
      out.fingerprint256 = this.held.fingerprint256;
    }
    if (plan?.kind === 'at') out.nextAttempt = plan.at.toISOString();
    if (plan?.kind === 'backoff') out.nextAttempt = plan.until.toISOString();
    if (this.lastError !== undefined) out.lastError = this.lastError;
    return out;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  const x = new Set(a.map((n) => n.toLowerCase()));
  return b.every((n) => x.has(n.toLowerCase()));
}

export class AcmeManager {
  private readonly renewers = new Map<string, Renewer>();
  private readonly hooks: AcmeHooks;

  constructor(frontends: readonly FrontendConfig[], hooks: AcmeHooks) {
    this.hooks = hooks;
    this.update(frontends);
  }

  static wanted(frontends: readonly FrontendConfig[]): boolean {
    return frontends.some((f) => f.tls?.acme !== undefined);
  }

  /** Start (or, after a reload, re-plan) a renewer per acme frontend; drop removed ones. */
  update(frontends: readonly FrontendConfig[]): void {
    const wanted = new Map(frontends.flatMap((f) => (f.tls?.acme ? [[f.name, f.tls.acme] as const] : [])));
    for (const [name, r] of this.renewers) {
      if (!wanted.has(name)) {
        r.stop();
        this.renewers.delete(name);
      }
    }
    for (const [name, cfg] of wanted) {
      const r = this.renewers.get(name);
      if (r === undefined) this.renewers.set(name, new Renewer(name, cfg, this.hooks));
      else r.cfg = cfg;
    }
  }

  start(): void {
    for (const r of this.renewers.values()) {
      if (r.held === undefined) this.hooks.log.warn({ frontend: r.frontend, domains: r.cfg.domains }, 'acme: no certificate held yet: serving the fallback certificate');
      r.schedule();
    }
  }

  /** Something changed what mayOrder() says (this node became master): re-plan now. */
  wake(): void {
    for (const r of this.renewers.values()) r.schedule();
  }

  /** A certificate from a peer for `frontend`; undefined when it is not newer than the held one. */
  receive(frontend: string, pem: string): Promise<LoadedCertificate | undefined> {
    const r = this.renewers.get(frontend);
    if (r === undefined) return Promise.reject(new Error(`no acme frontend ${frontend} here`));
    return r.receive(pem);
  }

  status(): AcmeStatus[] {
    return [...this.renewers.values()].map((r) => r.status());
  }

  /** The certificates held now as crt PEM, per frontend (offered to peers at start). */
  async heldPems(): Promise<{ frontend: string; pem: string }[]> {
    const out: { frontend: string; pem: string }[] = [];
    for (const r of this.renewers.values()) {
      if (r.held === undefined) continue;
      try {
        out.push({ frontend: r.frontend, pem: await readFile(r.cfg.certFile, 'utf8') });
      } catch {
        // gone since it was read: the next renewal writes it again
      }
    }
    return out;
  }

  /** The hand-over settings: the first acme block with peer_key_file (one channel per node). */
  handover(): AcmeConfig | undefined {
    return [...this.renewers.values()].map((r) => r.cfg).find((c) => c.peerKeyFile !== undefined);
  }

  stop(): void {
    for (const r of this.renewers.values()) r.stop();
  }
}
