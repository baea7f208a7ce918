// The TCP admin listener's bearer token: read once at start from token_file or the environment
// variable token_env, kept only in memory, never logged, and compared in constant time.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';

/** 16 bytes is 128 bits when random; `openssl rand -hex 32` gives 32 characters. */
export const MIN_TOKEN_BYTES = 16;

/** Throws an Error naming where the token was looked for and what is wrong (never the token). */
export function readAdminToken(source: { file: string } | { env: string }, env: NodeJS.ProcessEnv = process.env): Buffer {
  let raw: Buffer;
  let where: string;
  if ('file' in source) {
    where = `admin.token_file ${source.file}`;
    let mode: number;
    try {
      mode = statSync(source.file).mode;
      raw = readFileSync(source.file);
    } catch (err) {
      throw new Error(`${where}: cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
    }
    // Anyone on the host who can read the token can drain servers over loopback.
    if ((mode & 0o007) !== 0) throw new Error(`${where}: readable by other users (mode ${(mode & 0o777).toString(8)}); chmod o-rwx it`);
  } else {
    where = `admin.token_env ${source.env}`;
    const value = env[source.env];
    if (value === undefined) throw new Error(`${where}: the environment variable is not set`);
    raw = Buffer.from(value, 'utf8');
  }
  // The newline an editor or `openssl rand -hex 32 > file` leaves is not part of the token.
  const token = Buffer.from(raw.toString('utf8').trim(), 'utf8');
  if (token.length < MIN_TOKEN_BYTES) throw new Error(`${where}: token is ${token.length} bytes, at least ${MIN_TOKEN_BYTES} needed (e.g. openssl rand -hex 32)`);
  if (/[\s]/.test(token.toString('utf8'))) throw new Error(`${where}: token contains whitespace, which an Authorization header cannot carry`);
  return token;
}

/**
 * Constant time in the secret: both sides are hashed first, so neither the length nor the first
 * differing byte of the expected token shows in how long a refusal takes.
 */
export function sameSecret(given: string, expected: Buffer): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The dashboard's per-process CSRF token. */
export function newCsrfToken(): string {
  return randomBytes(24).toString('base64url');
}
