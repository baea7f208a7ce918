// Reads the shared secret of `authentication: { type: hmac-sha256, key_file }`. Every node of a
// virtual router reads the same file; its bytes, without trailing whitespace (the newline an
// editor or `openssl rand -hex 32 > file` leaves), are the HMAC key.

import { readFileSync, statSync } from 'node:fs';
import type { HmacKey } from './hmac-trailer.ts';

/** RFC 2104 §3: a key shorter than the hash output weakens it; 32 hex characters are 16 bytes of entropy. */
export const MIN_KEY_BYTES = 16;

/** Throws an Error naming the file and what is wrong with it. */
export function readHmacKeyFile(path: string, id: number, field = 'authentication.key_file'): HmacKey {
  const where = `${field} ${path}`;
  let mode: number;
  let secret: Buffer;
  try {
    mode = statSync(path).mode;
    secret = readFileSync(path);
  } catch (err) {
    throw new Error(`${where}: cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
  // A key everyone on the host can read lets any local user forge adverts.
  if ((mode & 0o007) !== 0) throw new Error(`${where}: readable by other users (mode ${(mode & 0o777).toString(8)}); chmod o-rwx it`);
  let end = secret.length;
  while (end > 0 && (secret[end - 1] === 0x0a || secret[end - 1] === 0x0d || secret[end - 1] === 0x20 || secret[end - 1] === 0x09)) end--;
  const key = secret.subarray(0, end);
  if (key.length < MIN_KEY_BYTES) throw new Error(`${where}: key is ${key.length} bytes, at least ${MIN_KEY_BYTES} needed (e.g. openssl rand -hex 32)`);
  return { id, secret: Buffer.from(key) };
}
