// What ACME keeps on disk: the account key (made once, then reused, so the CA sees one account)
// and each certificate as a crt PEM (chain + key, the format tls.crt reads). Both are private
// keys: written 0600 in a 0700 directory, through a temporary file and rename, so a reader (a
// worker re-reading its certificates, a crash mid-write) never sees half a file.
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import acme from 'acme-client';

export async function writePrivate(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, text, { mode: 0o600 });
  // writeFile's mode applies only to a new file; a leftover temporary keeps its own
  await chmod(tmp, 0o600);
  await rename(tmp, file);
}

/** The account key at `file`, made (ECDSA P-256) and stored when there is none. */
export async function accountKey(file: string): Promise<{ pem: string; created: boolean }> {
  try {
    return { pem: await readFile(file, 'utf8'), created: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`acme account key ${file}: cannot read: ${(err as Error).message}`, { cause: err });
  }
  const pem = (await acme.crypto.createPrivateEcdsaKey('P-256')).toString();
  await writePrivate(file, pem);
  return { pem, created: true };
}

/** A certificate as tls.crt reads it: the chain (leaf first), then its key. */
export function crtPem(chain: string, key: string): string {
  return `${chain.trim()}\n${key.trim()}\n`;
}
