// The secure contexts one TLS frontend serves from: one per selection of certificates (sni.ts),
// built on first use and kept while this config lives. A reload builds a new TlsContexts; new
// handshakes ask the new one, connections already open keep the context they were made with.
import tls from 'node:tls';
import type { FrontendTlsConfig } from '../../config/types.ts';
import { loadCertificates, type LoadedCertificate } from './certificate-store.ts';
import { SniIndex } from './sni.ts';

export class TlsContexts {
  readonly certificates: readonly LoadedCertificate[];
  /** With acme: what serves (its certificate, or the fallback while none is held). */
  readonly acme: { serving: 'acme' | 'fallback'; reason?: string } | undefined;
  private readonly index: SniIndex;
  private readonly cfg: FrontendTlsConfig;
  /** Keyed by the selection's indices: names sharing certificates share a context. */
  private readonly contexts = new Map<string, tls.SecureContext>();

  /** Throws when a certificate cannot serve (the config loader refuses such configs first). */
  constructor(cfg: FrontendTlsConfig) {
    const set = loadCertificates(cfg);
    if (set.problems.length > 0) throw new Error(`tls: ${set.problems.map((p) => p.message).join('; ')}`);
    this.cfg = cfg;
    this.certificates = set.certificates;
    this.acme = set.acme;
    this.index = new SniIndex(set.certificates);
  }

  contextFor(servername: string | undefined): tls.SecureContext {
    const sel = this.index.select(servername);
    const key = sel.join(',');
    let ctx = this.contexts.get(key);
    if (ctx === undefined) {
      ctx = tls.createSecureContext(this.options(sel));
      this.contexts.set(key, ctx);
    }
    return ctx;
  }

  private options(sel: readonly number[]): tls.SecureContextOptions {
    const chosen = sel.map((i) => this.certificates[i] as LoadedCertificate);
    const o: tls.SecureContextOptions = {
      cert: chosen.map((c) => c.chain),
      key: chosen.map((c) => c.key),
      minVersion: this.cfg.minVersion,
    };
    if (this.cfg.ciphers !== undefined) o.ciphers = this.cfg.ciphers;
    return o;
  }
}
