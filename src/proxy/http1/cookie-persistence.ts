// Cookie persistence (HAProxy `cookie NAME insert`): the value names the server that served the
// client; while that server is usable later requests go back to it.
import type { CookiePersistence } from '../../config/types.ts';

/** Value of cookie `name` in a Cookie header (node joins several Cookie headers with "; "). */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  let i = 0;
  while (i < header.length) {
    while (header.charCodeAt(i) === 32 || header.charCodeAt(i) === 59) i++;
    const eq = header.indexOf('=', i);
    if (eq < 0) return undefined;
    let end = header.indexOf(';', eq + 1);
    if (end < 0) end = header.length;
    if (eq - i === name.length && header.startsWith(name, i)) {
      let v = header.slice(eq + 1, end).trim();
      if (v.length >= 2 && v.charCodeAt(0) === 34 && v.charCodeAt(v.length - 1) === 34) v = v.slice(1, -1);
      try {
        return decodeURIComponent(v);
      } catch {
        return undefined;
      }
    }
    i = end + 1;
  }
  return undefined;
}

/** Set-Cookie value naming `server`. */
export function persistenceCookie(cfg: CookiePersistence, server: string): string {
  let c = `${cfg.name}=${encodeURIComponent(server)}; Path=/`;
  if (cfg.httpOnly) c += '; HttpOnly';
  if (cfg.secure) c += '; Secure';
  return c;
}
