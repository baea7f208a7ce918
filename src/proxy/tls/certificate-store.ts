// The certificates of a TLS frontend, read from disk and checked: each PEM file (HAProxy's `crt`
// format) holds a certificate chain and the leaf's private key. Problems are returned with the
// config place they belong to (which crt entry, or crt_dir), never thrown, so `halb validate`,
// `halb run` and a reload can all refuse with file:line before anything serves.
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FrontendTlsConfig } from '../../config/types.ts';
import type { SniCandidate } from './sni.ts';

export interface LoadedCertificate extends SniCandidate {
  file: string;
  /** The chain as PEM, leaf first. */
  chain: string;
  key: string;
  notBefore: Date;
  notAfter: Date;
  fingerprint256: string;
  serialNumber: string;
}

export interface CertificateProblem {
  /** Under the frontend's tls: ['crt', index] or ['crt_dir']. */
  where: (string | number)[];
  message: string;
}

export interface CertificateSet {
  certificates: LoadedCertificate[];
  problems: CertificateProblem[];
  /** With acme: whether its certificate serves, or (none held yet, or it cannot serve) the
   *  fallback, and why. */
  acme?: { serving: 'acme' | 'fallback'; reason?: string };
}

/** Every certificate of `tls` (crt files in order, then crt_dir's *.pem by name). */
export function loadCertificates(tls: FrontendTlsConfig, now: Date = new Date()): CertificateSet {
  const certificates: LoadedCertificate[] = [];
  const problems: CertificateProblem[] = [];
  const files: { file: string; where: (string | number)[] }[] = tls.crt.map((file, i) => ({ file, where: ['crt', i] }));
  if (tls.crtDir !== undefined) {
    try {
      const names = readdirSync(tls.crtDir)
        .filter((n) => n.endsWith('.pem'))
        .sort();
      if (names.length === 0) problems.push({ where: ['crt_dir'], message: `${tls.crtDir}: holds no *.pem file` });
      for (const n of names) files.push({ file: join(tls.crtDir, n), where: ['crt_dir'] });
    } catch (err) {
      problems.push({ where: ['crt_dir'], message: `${tls.crtDir}: cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}` });
    }
  }
  let acme: CertificateSet['acme'];
  if (tls.acme !== undefined) {
    // The obtained certificate goes first (the default); a missing or unusable one is what the
    // renewal is for, not a config error, so the fallback serves meanwhile.
    const got = loadPem(tls.acme.certFile, now);
    if (typeof got !== 'string') {
      acme = { serving: 'acme' };
      certificates.push(got);
    } else {
      acme = { serving: 'fallback', reason: `${tls.acme.certFile}: ${got}` };
      if (tls.acme.fallbackCrt !== undefined) files.push({ file: tls.acme.fallbackCrt, where: ['acme', 'fallback_crt'] });
    }
  }
  for (const { file, where } of files) {
    const r = loadPem(file, now);
    if (typeof r === 'string') problems.push({ where, message: `${file}: ${r}` });
    else certificates.push(r);
  }
  if (tls.caFile !== undefined) {
    const ca = loadCaFile(tls.caFile, now);
    if (typeof ca === 'string') problems.push({ where: ['ca_file'], message: `${tls.caFile}: ${ca}` });
  }
  return acme === undefined ? { certificates, problems } : { certificates, problems, acme };
}

/** The CA certificates client certificates are checked against (mTLS), as PEM, or why they cannot
 *  serve: every certificate in the file must be a CA (basicConstraints CA:TRUE) and in date. */
export function loadCaFile(file: string, now: Date): { pem: string } | string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return `cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`;
  }
  const certs = [...text.matchAll(PEM_BLOCK)].filter((m) => m[1] === 'CERTIFICATE').map((m) => m[0]);
  if (certs.length === 0) return 'no certificate (a PEM "BEGIN CERTIFICATE" block) in the file';
  for (const [i, pem] of certs.entries()) {
    let c: X509Certificate;
    try {
      c = new X509Certificate(pem);
    } catch (err) {
      return `certificate ${i + 1} does not parse: ${(err as Error).message}`;
    }
    const who = c.subject.replace(/\n/g, ', ');
    if (!c.ca) return `certificate ${i + 1} (${who}) is not a CA (no basicConstraints CA:TRUE): ca_file holds the CA that signs client certificates`;
    if (now.getTime() > new Date(c.validTo).getTime()) return `CA certificate ${i + 1} (${who}) expired on ${new Date(c.validTo).toISOString()}`;
  }
  return { pem: certs.join('\n') };
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

/** One crt file, or why it cannot serve. */
export function loadPem(file: string, now: Date): LoadedCertificate | string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return `cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`;
  }
  const certs: string[] = [];
  const keys: string[] = [];
  for (const m of text.matchAll(PEM_BLOCK)) {
    const label = m[1] as string;
    if (label === 'CERTIFICATE') certs.push(m[0]);
    else if (label === 'ENCRYPTED PRIVATE KEY') return 'the private key is encrypted: halb needs it unencrypted (as HAProxy does without a passphrase)';
    else if (label.endsWith('PRIVATE KEY')) keys.push(m[0]);
  }
  if (certs.length === 0) return 'no certificate (a PEM "BEGIN CERTIFICATE" block) in the file';
  if (keys.length === 0) return 'no private key in the file: a crt file holds the certificate chain and its key';
  if (keys.length > 1) return `${keys.length} private keys in the file: put one certificate and its key per file`;
  let leaf: X509Certificate;
  let key: KeyObject;
  try {
    leaf = new X509Certificate(certs[0] as string);
  } catch (err) {
    return `the first certificate does not parse: ${(err as Error).message}`;
  }
  try {
    key = createPrivateKey(keys[0] as string);
  } catch (err) {
    return `the private key does not parse: ${(err as Error).message}`;
  }
  if (!leaf.checkPrivateKey(key)) return `the private key does not match the certificate (${leaf.subject.replace(/\n/g, ', ')})`;
  const notBefore = new Date(leaf.validFrom);
  const notAfter = new Date(leaf.validTo);
  if (now.getTime() > notAfter.getTime()) return `the certificate expired on ${notAfter.toISOString()} (valid ${notBefore.toISOString()} to ${notAfter.toISOString()})`;
  if (now.getTime() < notBefore.getTime()) return `the certificate is not valid before ${notBefore.toISOString()} (valid ${notBefore.toISOString()} to ${notAfter.toISOString()})`;
  const names = certificateNames(leaf);
  if (names.length === 0) return 'the certificate names no host (no DNS subjectAltName and no subject CN)';
  return {
    file,
    chain: certs.join('\n'),
    key: keys[0] as string,
    names,
    keyType: leaf.publicKey.asymmetricKeyType ?? 'unknown',
    notBefore,
    notAfter,
    fingerprint256: leaf.fingerprint256,
    serialNumber: leaf.serialNumber,
  };
}

/** SAN DNS names; the subject CN only when there are none (RFC 6125 §6.4.4). */
function certificateNames(cert: X509Certificate): string[] {
  const san = (cert.subjectAltName ?? '')
    .split(/,\s*/)
    .filter((e) => e.startsWith('DNS:'))
    .map((e) => e.slice(4).trim())
    .filter((n) => n.length > 0);
  if (san.length > 0) return san;
  const cn = /^CN=(.+)$/m.exec(cert.subject)?.[1]?.trim();
  return cn === undefined || cn === '' ? [] : [cn];
}
