// Who may do what on the admin API: one pure decision per request, from facts the server shell
// gathered (which channel, what the token and certificate checks said, whether a browser sent
// it). The shell compares secrets in constant time; this file only decides, so every refusal is
// tested without sockets.

/** How the request arrived. The unix socket is guarded by its file mode, so its peer is trusted. */
export type AdminChannel = { kind: 'socket' } | { kind: 'tcp'; token: boolean; mtls: boolean; readOnlyOpen: boolean };

export interface AccessFacts {
  /** POST/PUT: reload, handover, server changes. */
  stateChanging: boolean;
  /** Authorization: Bearer compared with the configured token (absent: none given). */
  bearer: 'none' | 'valid' | 'invalid';
  /** The TLS client certificate, as the handshake verified it against ca_file. */
  clientCert: 'none' | 'verified' | 'unverified';
  /** Origin, Referer or Sec-Fetch-* present: a browser sent this (curl and halb send none). */
  browser: boolean;
  /** X-Halb-CSRF compared with this process's dashboard token. */
  csrf: 'none' | 'valid' | 'invalid';
  /** Why Origin / Sec-Fetch-Site mark a cross-site request, if they do. */
  foreign?: string | undefined;
}

export type AccessDecision = { allow: true } | { allow: false; status: 401 | 403; error: string };

const refuse = (status: 401 | 403, error: string): AccessDecision => ({ allow: false, status, error });

export function decideAccess(channel: AdminChannel, f: AccessFacts): AccessDecision {
  // A page on another site never changes state, whatever credentials the browser attaches.
  if (f.stateChanging && f.foreign !== undefined) return refuse(403, f.foreign);
  if (channel.kind === 'tcp') {
    // A wrong token is refused even where none is needed, so a typo is noticed, not ignored.
    if (f.bearer === 'invalid') return refuse(401, 'bearer token refused');
    if (f.bearer === 'none' && f.clientCert === 'unverified') return refuse(401, 'client certificate not signed by the admin tls.ca_file');
    const authenticated = (channel.token && f.bearer === 'valid') || (channel.mtls && f.clientCert === 'verified');
    if (!authenticated) {
      if (!f.stateChanging && channel.readOnlyOpen) return { allow: true };
      if (!channel.token && !channel.mtls) {
        return refuse(403, 'this TCP admin listener has no token_file, token_env or tls.ca_file: it serves read-only views; change state through the unix socket (admin.socket)');
      }
      const how = [channel.token ? 'Authorization: Bearer <token>' : '', channel.mtls ? 'a client certificate signed by tls.ca_file' : ''].filter(Boolean).join(' or ');
      return refuse(401, `${f.stateChanging ? 'state-changing call' : 'read-only view'} needs ${how}`);
    }
  }
  // A browser attaches a client certificate, and reaches a socket forwarded to a port, on its own:
  // from a browser, only the dashboard's per-process token proves the page is ours. A bearer
  // token cannot be attached by another site's page, so it needs no second proof.
  if (f.stateChanging && f.browser && f.bearer !== 'valid' && f.csrf !== 'valid') {
    return refuse(403, f.csrf === 'none' ? 'browser request without the dashboard\'s X-Halb-CSRF token refused: use the dashboard served by this admin API' : 'X-Halb-CSRF token does not match this process (the page is from an earlier run: reload it)');
  }
  return { allow: true };
}
