// Certificates made at test time with the openssl CLI: a CA and leaves signed by it, each leaf
// written as HAProxy's crt format (chain + key in one PEM). `openssl ca` is used for the leaves
// because it can set past validity dates (OpenSSL 3.0's x509 cannot), which the expired case needs.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestCa {
  dir: string;
  /** The CA certificate, for clients' --cacert / ca. */
  caFile: string;
  ca: string;
}

export interface LeafOptions {
  /** DNS names (subjectAltName); the first is also the CN. Empty: CN only, from `cn`. */
  names: string[];
  /** IP subjectAltNames besides the DNS names. */
  ips?: string[];
  cn?: string;
  key?: 'rsa' | 'ec';
  /** openssl ca -startdate/-enddate, YYYYMMDDHHMMSSZ; default: valid from now for 30 days. */
  start?: string;
  end?: string;
}

function openssl(cwd: string, args: string[]): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function keyArgs(key: 'rsa' | 'ec'): string[] {
  return key === 'rsa' ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
}

export function makeCa(dir: string): TestCa {
  mkdirSync(join(dir, 'db'), { recursive: true });
  writeFileSync(join(dir, 'db', 'index.txt'), '');
  writeFileSync(join(dir, 'db', 'serial'), '1000\n');
  writeFileSync(
    join(dir, 'ca.cnf'),
    [
      '[ ca ]', 'default_ca = d', '[ d ]', 'database = db/index.txt', 'new_certs_dir = db', 'serial = db/serial', 'default_md = sha256',
      'policy = p', 'unique_subject = no', 'copy_extensions = copy', '[ p ]', 'commonName = supplied', '',
    ].join('\n'),
  );
  openssl(dir, ['req', '-x509', ...keyArgs('ec'), '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=halb test CA', '-days', '30']);
  const caFile = join(dir, 'ca.crt');
  return { dir, caFile, ca: readFileSync(caFile, 'utf8') };
}

/** Writes `<name>.pem` (leaf, CA, key) under ca.dir and returns its path. */
export function makeLeaf(ca: TestCa, name: string, o: LeafOptions): string {
  const cn = o.cn ?? o.names[0] ?? name;
  const req = ['req', '-new', ...keyArgs(o.key ?? 'ec'), '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`];
  const san = [...o.names.map((n) => `DNS:${n}`), ...(o.ips ?? []).map((a) => `IP:${a}`)];
  if (san.length > 0) req.push('-addext', `subjectAltName=${san.join(',')}`);
  openssl(ca.dir, req);
  const dates = o.start !== undefined || o.end !== undefined ? ['-startdate', o.start ?? '20200101000000Z', '-enddate', o.end ?? '20200201000000Z'] : ['-days', '30'];
  openssl(ca.dir, ['ca', '-batch', '-config', 'ca.cnf', '-cert', 'ca.crt', '-keyfile', 'ca.key', '-in', `${name}.csr`, '-out', `${name}.crt`, '-notext', ...dates]);
  const file = join(ca.dir, `${name}.pem`);
  writeFileSync(file, readFileSync(join(ca.dir, `${name}.crt`), 'utf8') + ca.ca + readFileSync(join(ca.dir, `${name}.key`), 'utf8'));
  return file;
}

/** A leaf PEM with another key than its certificate's. */
export function makeMismatched(ca: TestCa, name: string, names: string[]): string {
  makeLeaf(ca, name, { names });
  openssl(ca.dir, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.other.key`]);
  const file = join(ca.dir, `${name}.pem`);
  writeFileSync(file, readFileSync(join(ca.dir, `${name}.crt`), 'utf8') + readFileSync(join(ca.dir, `${name}.other.key`), 'utf8'));
  return file;
}
