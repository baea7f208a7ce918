// The secure contexts one TLS frontend serves from: one per selection of certificates (sni.ts)
// and session ticket key (ticket-keys.ts), built on first use and kept while this config lives
// (contexts of keys rotated out are dropped). A reload builds a new TlsContexts; new handshakes
// ask the new one, connections already open keep the context they were made with.
import { constants, createHash } from 'node:crypto';
import tls from 'node:tls';
import type { FrontendTlsConfig } from '../../config/types.ts';
import { loadCaFile, loadCertificates, type CertificateSet, type LoadedCertificate } from './certificate-store.ts';
import { SniIndex } from './sni.ts';
import { ticketKeyName, type TicketKeys, type TicketKeyStore } from './ticket-keys.ts';
import { tlsContext, type TlsContextHandle } from '#netio';

export class TlsContexts {
  readonly certificates: readonly LoadedCertificate[];
  /** With acme: what serves (its certificate, or the fallback while none is held). */
  readonly acme: { serving: 'acme' | 'fallback'; reason?: string } | undefined;
  private readonly index: SniIndex;
  private readonly cfg: FrontendTlsConfig;
  /** Keyed by the selection's indices and the ticket key's name: names sharing certificates
   *  share a context. */
  private readonly contexts = new Map<string, tls.SecureContext>();
  /** The same selections as OpenSSL contexts of the C layer (nativeFor). */
  private readonly natives = new Map<string, TlsContextHandle>();
  private readonly keys: TicketKeyStore | undefined;
  /** The keys the cached contexts were made for; on a change the rotated-out ones are dropped. */
  private seenKeys: TicketKeys | undefined;
  /** The same in every worker and across reloads: OpenSSL resumes a session only in the context
   *  id it was made in, and refuses to resume at all without one when it asks for certificates. */
  private readonly sessionIdContext: string;
  /** The CA client certificates are checked against (verify optional/required). */
  private readonly ca: string | undefined;

  /** Throws when a certificate cannot serve (the config loader refuses such configs first).
   *  `frontend`: the frontend's name (the session id context). `loaded`: the certificates when
   *  the caller has read them already (a watched directory that changed). */
  constructor(cfg: FrontendTlsConfig, frontend = '', keys?: TicketKeyStore, loaded?: CertificateSet) {
    this.keys = keys;
    this.sessionIdContext = createHash('sha256').update(`halb frontend ${frontend}`).digest('hex').slice(0, 32);
    const set = loaded ?? loadCertificates(cfg);
    if (set.problems.length > 0) throw new Error(`tls: ${set.problems.map((p) => p.message).join('; ')}`);
    if (cfg.caFile !== undefined) {
      const ca = loadCaFile(cfg.caFile, new Date());
      if (typeof ca === 'string') throw new Error(`tls: ca_file ${cfg.caFile}: ${ca}`);
      this.ca = ca.pem;
    }
    this.cfg = cfg;
    this.certificates = set.certificates;
    this.acme = set.acme;
    this.index = new SniIndex(set.certificates);
  }

  /** `ticket`: the key name of the session ticket the client offers (client-hello.ts). */
  contextFor(servername: string | undefined, ticket?: string): tls.SecureContext {
    const { id, sel, ticketKey } = this.selection(servername, ticket);
    let ctx = this.contexts.get(id);
    if (ctx === undefined) {
      ctx = tls.createSecureContext(this.options(sel, ticketKey));
      this.contexts.set(id, ctx);
    }
    return ctx;
  }

  /** What contextFor selects, as a context of the C layer's TLS (tls.c): same certificates,
   *  versions, ciphers, session id context and ticket key, so a session resumes on either. */
  nativeFor(servername: string | undefined, ticket?: string): TlsContextHandle {
    const { id, sel, ticketKey } = this.selection(servername, ticket);
    let ctx = this.natives.get(id);
    if (ctx === undefined) {
      const o = this.options(sel, ticketKey);
      const ciphers = (this.cfg.ciphers ?? tls.DEFAULT_CIPHERS).split(':').filter((c) => c !== '');
      const alpn = Buffer.concat(this.cfg.alpn.map((p) => Buffer.concat([Buffer.from([Buffer.byteLength(p)]), Buffer.from(p)])));
      ctx = tlsContext(
        o.cert as string[],
        o.key as string[],
        this.cfg.minVersion,
        ciphers.filter((c) => !c.startsWith('TLS_')).join(':'),
        ciphers.filter((c) => c.startsWith('TLS_')).join(':'),
        this.sessionIdContext,
        ticketKey,
        alpn,
        this.cfg.tickets !== false,
      );
      this.natives.set(id, ctx);
    }
    return ctx;
  }

  private selection(servername: string | undefined, ticket: string | undefined): { id: string; sel: readonly number[]; ticketKey: Buffer | undefined } {
    const sel = this.index.select(servername);
    const keys = this.cfg.tickets === false ? undefined : this.keys?.get();
    if (keys !== this.seenKeys) this.dropRotatedOut(keys);
    // a ticket sealed with the previous key goes to a context holding that key; any other
    // (none, the current key's, one unknown or expired) to the current key's
    const ticketKey = keys === undefined ? undefined : keys.previous !== undefined && ticket === ticketKeyName(keys.previous) ? keys.previous : keys.current;
    return { id: `${sel.join(',')}|${ticketKey === undefined ? '' : ticketKeyName(ticketKey)}`, sel, ticketKey };
  }

  private dropRotatedOut(keys: TicketKeys | undefined): void {
    this.seenKeys = keys;
    const live = new Set([keys?.current, keys?.previous].map((k) => (k === undefined ? '' : ticketKeyName(k))));
    for (const m of [this.contexts, this.natives]) for (const id of m.keys()) if (!live.has(id.slice(id.indexOf('|') + 1))) m.delete(id);
  }

  private options(sel: readonly number[], ticketKey: Buffer | undefined): tls.SecureContextOptions {
    const chosen = sel.map((i) => this.certificates[i] as LoadedCertificate);
    const o: tls.SecureContextOptions = {
      cert: chosen.map((c) => c.chain),
      key: chosen.map((c) => c.key),
      minVersion: this.cfg.minVersion,
      sessionIdContext: this.sessionIdContext,
    };
    if (ticketKey !== undefined) o.ticketKeys = ticketKey;
    // TLS 1.3 tickets still go out (node sets no ticket count), but none opens: every handshake is full
    if (this.cfg.tickets === false) o.secureOptions = constants.SSL_OP_NO_TICKET;
    if (this.cfg.ciphers !== undefined) o.ciphers = this.cfg.ciphers;
    if (this.ca !== undefined) o.ca = this.ca;
    return o;
  }
}
