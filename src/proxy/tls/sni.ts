// Which certificates answer a TLS ClientHello's server name (pure). Names come from the
// certificates (SAN DNS names, the subject CN when there are none); an exact name beats a
// wildcard, a wildcard "*.example.com" stands for exactly one label (as browsers and RFC 6125
// read it), and no name or no match gets the default: the first certificate. A selection holds at
// most one certificate per key type, so an ECDSA and an RSA certificate for the same name go to
// the handshake together and OpenSSL picks by the client's signature algorithms.

export interface SniCandidate {
  readonly names: readonly string[];
  /** 'rsa', 'ec', 'ed25519', ...: OpenSSL keeps one certificate per type in a context. */
  readonly keyType: string;
}

export class SniIndex {
  private readonly exact = new Map<string, number[]>();
  /** Keyed by what follows "*." */
  private readonly wildcard = new Map<string, number[]>();
  /** Indices of the certificates a client without a matching name gets. */
  readonly fallback: readonly number[];

  constructor(candidates: readonly SniCandidate[]) {
    candidates.forEach((c, i) => {
      for (const raw of new Set(c.names.map(normaliseName))) {
        const map = raw.startsWith('*.') ? this.wildcard : this.exact;
        const key = raw.startsWith('*.') ? raw.slice(2) : raw;
        const list = map.get(key) ?? [];
        // the first certificate of each key type for a name wins, in config order
        if (!list.some((j) => candidates[j]?.keyType === c.keyType)) list.push(i);
        map.set(key, list);
      }
    });
    const first = candidates[0];
    if (first === undefined) {
      this.fallback = [];
      return;
    }
    // The default is the first certificate and, for its first name, its siblings of other types.
    const name = first.names[0] === undefined ? undefined : normaliseName(first.names[0]);
    const siblings = name === undefined ? [] : ((name.startsWith('*.') ? this.wildcard.get(name.slice(2)) : this.exact.get(name)) ?? []);
    this.fallback = [0, ...siblings.filter((j) => j !== 0 && candidates[j]?.keyType !== first.keyType)];
  }

  /** The certificates for a server name; the default when there is none or nothing matches. */
  select(servername: string | undefined): readonly number[] {
    if (servername === undefined || servername === '') return this.fallback;
    const name = normaliseName(servername);
    const hit = this.exact.get(name);
    if (hit !== undefined) return hit;
    const dot = name.indexOf('.');
    if (dot > 0) {
      const wild = this.wildcard.get(name.slice(dot + 1));
      if (wild !== undefined) return wild;
    }
    return this.fallback;
  }
}

/** DNS names compare case-insensitively and without a trailing root dot. */
function normaliseName(name: string): string {
  const n = name.toLowerCase();
  return n.endsWith('.') ? n.slice(0, -1) : n;
}
