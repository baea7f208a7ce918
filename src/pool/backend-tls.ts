// A backend's TLS client settings (config `tls:` on a backend) as the options node's tls.connect
// takes, built once per pool: the CA file is read and turned into one secure context here, so a
// connection or a health check costs no file read or context build. Both the proxy's upstream
// pool and the health checks connect with these, so a check verifies what traffic verifies.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import tls from 'node:tls';
import type { BackendTlsConfig } from '../config/types.ts';

export interface BackendTls {
  readonly verify: 'required' | 'none';
  /** Options for tls.connect to `host` (add host, port and what the caller needs). Health checks
   *  use these as they are: every check is a full handshake, so the certificate is checked each time. */
  options(host: string): tls.ConnectionOptions;
  /** A connection for traffic: resumes the server's last TLS session when it gave one, so a new
   *  pooled connection costs an abbreviated handshake (as HAProxy reuses server sessions). */
  connect(host: string, port: number, extra?: tls.ConnectionOptions): tls.TLSSocket;
}

/** Servers whose sessions are kept, per backend; past it the oldest is forgotten. */
const MAX_SESSIONS = 1024;

/** Throws with the file and the reason when ca_file cannot be read or holds no certificate
 *  (validate and run check that before a pool is built: cli/certificate-checks.ts). */
export function backendTls(cfg: BackendTlsConfig, alpnDefault?: string[]): BackendTls {
  const contextOptions: tls.SecureContextOptions = {};
  if (cfg.caFile !== undefined) contextOptions.ca = readCaFile(cfg.caFile);
  const secureContext = tls.createSecureContext(contextOptions);
  const alpn = cfg.alpn ?? alpnDefault;
  const verify = cfg.verify;
  // the last session ticket each server gave, by host:port (Map order: oldest first)
  const sessions = new Map<string, Buffer>();
  const options = (host: string): tls.ConnectionOptions => {
    const o: tls.ConnectionOptions = { secureContext, rejectUnauthorized: verify === 'required' };
    // node sends no SNI for an IP address; without `sni` the certificate is checked against
    // the address itself then (an IP subjectAltName)
    const name = cfg.sni ?? (isIP(host) === 0 ? host : undefined);
    if (name !== undefined) o.servername = name;
    if (alpn !== undefined) o.ALPNProtocols = alpn;
    return o;
  };
  return {
    verify,
    options,
    connect(host: string, port: number, extra?: tls.ConnectionOptions): tls.TLSSocket {
      const key = `${host}:${port}`;
      const o: tls.ConnectionOptions = { ...options(host), ...extra, host, port };
      const session = sessions.get(key);
      if (session !== undefined) o.session = session;
      const s = tls.connect(o);
      s.on('session', (ticket: Buffer) => {
        sessions.delete(key);
        sessions.set(key, ticket);
        if (sessions.size > MAX_SESSIONS) sessions.delete(sessions.keys().next().value!);
      });
      return s;
    },
  };
}

/** The PEM text of a CA file, checked to hold at least one certificate. */
export function readCaFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`ca_file ${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) throw new Error(`ca_file ${file}: no PEM certificate in it`);
  return text;
}
