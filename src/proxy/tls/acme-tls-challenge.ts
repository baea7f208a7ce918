// ACME TLS-ALPN-01 answers (RFC 8737): a handshake that offers only the ALPN protocol
// "acme-tls/1" for a name under validation gets that name's challenge certificate (self-signed,
// with the acmeIdentifier extension holding the key authorisation's digest), negotiates
// acme-tls/1, and is closed once the handshake is done: no request is served on it. Set by the
// primary's order, pushed to every process that serves (as the HTTP-01 tokens are).
import tls from 'node:tls';

export const ACME_TLS_ALPN = 'acme-tls/1';

export class AcmeTlsChallenges {
  private readonly certs = new Map<string, { chain: string; key: string; context?: tls.SecureContext }>();

  set(domain: string, cert: { chain: string; key: string } | undefined): void {
    if (cert === undefined) this.certs.delete(domain.toLowerCase());
    else this.certs.set(domain.toLowerCase(), { chain: cert.chain, key: cert.key });
  }

  get size(): number {
    return this.certs.size;
  }

  /** The context for a validation handshake of `servername`, or undefined: none under way. */
  contextFor(servername: string | undefined): tls.SecureContext | undefined {
    if (servername === undefined) return undefined;
    const c = this.certs.get(servername.toLowerCase());
    if (c === undefined) return undefined;
    // RFC 8737 §4: TLS 1.2 or later; the CA's validation client decides the rest
    c.context ??= tls.createSecureContext({ cert: c.chain, key: c.key, minVersion: 'TLSv1.2' });
    return c.context;
  }
}
