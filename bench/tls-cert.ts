// One throwaway ECDSA P-256 certificate for the HTTPS scenarios, made with the openssl CLI at
// bench start so every TLS contestant serves the very same key (and nobody ships a key in git).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TlsFiles {
  /** certificate then key in one PEM: HAProxy's `crt` and halb's `tls.crt` */
  combined: string;
  /** separate files, as nginx wants them */
  cert: string;
  key: string;
}

export function makeBenchCert(dir: string): TlsFiles {
  const cert = join(dir, 'bench-cert.pem');
  const key = join(dir, 'bench-key.pem');
  const combined = join(dir, 'bench-combined.pem');
  try {
    execFileSync(
      'openssl',
      [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost',
        '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 },
    );
  } catch (err) {
    throw new Error(`bench: openssl could not make the ECDSA P-256 test certificate: ${(err as Error).message}`, { cause: err });
  }
  writeFileSync(combined, readFileSync(cert, 'utf8') + readFileSync(key, 'utf8'), { mode: 0o600 });
  return { combined, cert, key };
}
