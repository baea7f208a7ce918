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
  /** Options for tls.connect to `host` (add host, port and what the caller needs). */
  options(host: string): tls.ConnectionOptions;
}

/** Throws with the file and the reason when ca_file cannot be read or holds no certificate
 *  (validate and run check that before a pool is built: cli/certificate-checks.ts). */
export function backendTls(cfg: BackendTlsConfig, alpnDefault?: string[]): BackendTls {
  const contextOptions: tls.SecureContextOptions = {};
  if (cfg.caFile !== undefined) contextOptions.ca = readCaFile(cfg.caFile);
  const secureContext = tls.createSecureContext(contextOptions);
  const alpn = cfg.alpn ?? alpnDefault;
  const verify = cfg.verify;
  return {
    verify,
    options(host: string): tls.ConnectionOptions {
      const o: tls.ConnectionOptions = { secureContext, rejectUnauthorized: verify === 'required' };
      // node sends no SNI for an IP address; without `sni` the certificate is checked against
      // the address itself then (an IP subjectAltName)
      const name = cfg.sni ?? (isIP(host) === 0 ? host : undefined);
      if (name !== undefined) o.servername = name;
      if (alpn !== undefined) o.ALPNProtocols = alpn;
      return o;
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
