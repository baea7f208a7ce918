// One ACME order (RFC 8555 §7.4) through acme-client: account (found or created with the
// stored key), a fresh ECDSA P-256 certificate key and CSR for the domains, the challenge each
// authorisation needs published through `publish`, and the issued chain.
import https from 'node:https';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import acme from 'acme-client';
import type { AcmeConfig } from '../config/types.ts';

/** How a challenge is made answerable, and withdrawn again. */
export interface ChallengePublisher {
  /** http-01: GET /.well-known/acme-challenge/<token> answers keyAuthorization. */
  http01(token: string, keyAuthorization: string | undefined): Promise<void>;
  /** tls-alpn-01: a handshake for `domain` with ALPN acme-tls/1 gets this certificate (RFC 8737). */
  tlsAlpn01(domain: string, cert: { chain: string; key: string } | undefined): Promise<void>;
}

export interface Issued {
  chain: string;
  key: string;
}

// acme-client retries a failed request itself (5 times, up to 25 s apart); halb's renewal plan
// owns the retrying, with its own bounded backoff, so a CA outage is one failed attempt.
(acme.axios.defaults as unknown as { acmeSettings: { retryMaxAttempts: number } }).acmeSettings.retryMaxAttempts = 0;
acme.axios.defaults.timeout = 30_000;

const trusted = new Set<string>();

/**
 * acme-client talks through one axios instance per process: a private CA's certificate (ca_file)
 * is added to the roots it trusts, beside the system's, for every order this process makes.
 */
function trust(caFile: string | undefined): void {
  if (caFile === undefined || trusted.has(caFile)) return;
  trusted.add(caFile);
  const extra = [...trusted].map((f) => readFileSync(f, 'utf8'));
  acme.axios.defaults.httpsAgent = new https.Agent({ ca: [...tls.rootCertificates, ...extra], keepAlive: false });
}

/**
 * GET the directory first: with its own retries off, acme-client 5.4 loses a network error
 * (connection refused, timeout) behind a TypeError, and "the CA is down" is what the log needs.
 */
function reachDirectory(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const agent = acme.axios.defaults.httpsAgent as https.Agent | undefined;
    const req = https.get(url, { agent: agent ?? https.globalAgent, timeout: 30_000 }, (res) => {
      res.resume();
      if (res.statusCode === 200) resolve();
      else reject(new Error(`the CA directory ${url} answered HTTP ${res.statusCode}`));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (err: NodeJS.ErrnoException) => reject(new Error(`cannot reach the CA directory ${url}: ${err.code ?? err.message}`, { cause: err })));
  });
}

export async function orderCertificate(cfg: AcmeConfig, accountKeyPem: string, publish: ChallengePublisher): Promise<Issued> {
  trust(cfg.caFile);
  await reachDirectory(cfg.directory);
  const client = new acme.Client({ directoryUrl: cfg.directory, accountKey: accountKeyPem });
  const [key, csr] = await acme.crypto.createCsr({ commonName: cfg.domains[0] as string, altNames: cfg.domains }, await acme.crypto.createPrivateEcdsaKey('P-256'));
  const chain = await client.auto({
    csr,
    email: cfg.email,
    termsOfServiceAgreed: true,
    challengePriority: [cfg.challenge],
    // acme-client's own pre-check resolves the name from here; the CA's view is what counts
    skipChallengeVerification: true,
    challengeCreateFn: async (authz, challenge, keyAuthorization) => {
      // acme-client's types predate RFC 8737 and know no tls-alpn-01
      const type: string = challenge.type;
      if (type === 'http-01') await publish.http01(challenge.token, keyAuthorization);
      else if (type === 'tls-alpn-01') {
        const [k, c] = await acme.crypto.createAlpnCertificate(authz, keyAuthorization);
        await publish.tlsAlpn01(authz.identifier.value, { chain: c.toString(), key: k.toString() });
      }
    },
    challengeRemoveFn: async (authz, challenge) => {
      const type: string = challenge.type;
      if (type === 'http-01') await publish.http01(challenge.token, undefined);
      else if (type === 'tls-alpn-01') await publish.tlsAlpn01(authz.identifier.value, undefined);
    },
  });
  return { chain, key: key.toString() };
}
