// `halb validate` checks that need the host, not just the file: a VIP the host already holds
// (halb would take it over and, on release, remove the host's own address), an HMAC key file or
// admin token file that cannot be read (or that other users can), FRR missing for `bgp:`, TLS
// certificates that cannot serve (certificate-checks.ts). Run on the
// node the config is for.

import { accessSync, constants } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { missingFrrPrograms, missingNft } from '../bgp/frr-binaries.ts';
import { errorAt } from '../config/load.ts';
import type { ConfigError } from '../config/errors.ts';
import type { Config } from '../config/types.ts';
import { LinuxAddresses } from '../vip/linux-address.ts';
import { readHmacKeyFile } from '../vrrp/hmac-key-file.ts';
import { readAdminToken } from '../admin/admin-token.ts';
import { certificateProblems, hasTls } from './certificate-checks.ts';

export async function hostProblems(config: Config, file: string, table = new LinuxAddresses()): Promise<ConfigError[]> {
  const instances = config.vrrp?.instances ?? [];
  const admin = config.global.admin;
  const bgp = config.bgp;
  if (instances.length === 0 && !admin?.token && !admin?.tls && !bgp && !hasTls(config)) return [];
  const text = await readFile(file, 'utf8');
  const out: ConfigError[] = await certificateProblems(config, file, text);
  if (admin?.token) {
    // token_env is checked too: validate runs where the node runs, usually with its environment.
    try {
      readAdminToken(admin.token);
    } catch (err) {
      out.push(errorAt(text, file, ['global', 'admin', 'file' in admin.token ? 'token_file' : 'token_env'], (err as Error).message));
    }
  }
  if (admin?.tls) {
    for (const [key, path] of [['cert_file', admin.tls.certFile], ['key_file', admin.tls.keyFile], ['ca_file', admin.tls.caFile]] as const) {
      if (path === undefined) continue;
      try {
        await readFile(path);
      } catch (err) {
        out.push(errorAt(text, file, ['global', 'admin', 'tls', key], `${path}: cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`));
      }
    }
  }
  if (bgp) {
    const missing = missingFrrPrograms(bgp);
    if (missing.length > 0) {
      out.push(errorAt(text, file, ['bgp', 'frr_dir'], `bgp needs FRR: missing ${missing.join(', ')}; install it (apt-get install frr) or set bgp.frr_dir`));
    }
    const nft = missingNft(bgp);
    if (nft !== undefined) out.push(errorAt(text, file, ['bgp', 'peers'], nft));
    bgp.neighbors.forEach((n, i) => {
      if (n.passwordFile === undefined) return;
      try {
        accessSync(n.passwordFile, constants.R_OK);
      } catch (err) {
        out.push(errorAt(text, file, ['bgp', 'neighbors', i, 'password_file'], `${n.passwordFile}: cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`));
      }
    });
  }
  for (const inst of instances) {
    const base = ['vrrp', 'instances', inst.name];
    if (inst.authentication?.type === 'hmac-sha256') {
      try {
        readHmacKeyFile(inst.authentication.keyFile, inst.authentication.keyId);
      } catch (err) {
        out.push(errorAt(text, file, [...base, 'authentication', 'key_file'], (err as Error).message));
      }
    }
    if (inst.floatingIp) continue;
    // No `ip` here (validating elsewhere): nothing to compare with.
    const foreign = await table.foreignCopies(inst.virtualIpAddresses, inst.interface).catch(() => []);
    for (const f of foreign) {
      const index = inst.virtualIpAddresses.indexOf(f.vip);
      out.push(
        errorAt(
          text,
          file,
          [...base, 'virtual_ipaddress', index],
          `${f.vip.address} is already an address of this host: ${f.held.address}/${f.held.prefix} on ${f.held.device}${f.held.label ? ` (label ${f.held.label})` : ''}; halb would take it over and remove it on release: use an address the host does not have`,
        ),
      );
    }
  }
  return out;
}

