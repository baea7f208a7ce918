// The TLS frontends' certificate files, checked where the node runs: unreadable, no key, a key
// that is not the certificate's, expired or not yet valid; and the CA files of backends over TLS
// (unreadable, no certificate in them). `halb validate` reports them with the
// rest of the host checks; `halb run` and every reload refuse a config with any of them before
// anything starts or changes, so a broken renewal leaves the old certificate serving.
import { readFile } from 'node:fs/promises';
import { errorAt, loadConfigFile, type LoadResult } from '../config/load.ts';
import type { NodeSelect } from '../config/node-views.ts';
import type { ConfigError } from '../config/errors.ts';
import type { Config } from '../config/types.ts';
import { loadCertificates } from '../proxy/tls/certificate-store.ts';
import { readCaFile } from '../pool/backend-tls.ts';

export function hasTls(config: Config): boolean {
  return config.frontends.some((f) => f.tls !== undefined) || config.backends.some((b) => b.tls?.caFile !== undefined);
}

/** text: the config file's text (for file:line); read from `file` when not given. */
export async function certificateProblems(config: Config, file: string, text?: string): Promise<ConfigError[]> {
  if (!hasTls(config)) return [];
  const source = text ?? (await readFile(file, 'utf8'));
  const out: ConfigError[] = [];
  for (const fe of config.frontends) {
    if (fe.tls === undefined) continue;
    for (const p of loadCertificates(fe.tls).problems) out.push(errorAt(source, file, ['frontends', fe.name, 'tls', ...p.where], p.message));
  }
  // a backend's CA file: unreadable or without a certificate, no server of it could be verified
  for (const be of config.backends) {
    const caFile = be.tls?.caFile;
    if (caFile === undefined) continue;
    try {
      readCaFile(caFile);
    } catch (err) {
      out.push(errorAt(source, file, ['backends', be.name, 'tls', 'ca_file'], (err as Error).message));
    }
  }
  return out;
}

/** loadConfigFile, and a config whose certificates cannot serve is refused like an invalid one. */
export async function loadWithCertificates(path: string, select: NodeSelect = {}): Promise<LoadResult> {
  const r = await loadConfigFile(path, select);
  if (!r.ok) return r;
  const errors = await certificateProblems(r.config, path).catch((err: unknown): ConfigError[] => [
    { file: path, line: 0, column: 0, path: '', message: `cannot read: ${(err as Error).message}` },
  ]);
  return errors.length === 0 ? r : { ok: false, errors };
}
