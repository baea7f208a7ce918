// Client certificates (mTLS) on a TLS frontend, decided from what the handshake left (pure): whether
// the connection may go on, and what the server is told about the client. verify required: a
// verified certificate or nothing; optional: no certificate is fine, a bad one is refused (a
// client that sent one meant to be known by it, and must not pass as anonymous).

export type VerifyMode = 'none' | 'optional' | 'required';

export interface PeerFacts {
  /** OpenSSL's verification result code (e.g. UNABLE_TO_GET_ISSUER_CERT_LOCALLY); undefined: verified. */
  verifyError: string | undefined;
  hasCertificate: boolean;
}

export type ClientVerdict = { ok: true; verified: boolean } | { ok: false; reason: string };

export function clientVerdict(mode: VerifyMode, peer: PeerFacts): ClientVerdict {
  if (mode === 'none') return { ok: true, verified: false };
  if (!peer.hasCertificate) return mode === 'required' ? { ok: false, reason: 'no client certificate (verify required)' } : { ok: true, verified: false };
  if (peer.verifyError !== undefined) return { ok: false, reason: `client certificate refused: ${peer.verifyError}` };
  return { ok: true, verified: true };
}

/** A subject as HAProxy's ssl_c_s_dn prints it, /C=FR/O=Org/CN=name, from node's one-per-line
 *  form (X509Certificate.subject); a '/' inside a value is escaped so the fields stay apart. */
export function distinguishedName(subject: string): string {
  return subject
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => `/${l.replace(/\//g, '\\/')}`)
    .join('');
}
