// What wrk asks for in each scenario.
import type { Mode } from './contestants.ts';
import { LARGE_PATH } from './nginx-backends.ts';

export interface Scenario {
  id: string;
  label: string;
  mode: Mode;
  path: string;
  /** wrk talks https:// to the contestant, which terminates TLS with the bench certificate */
  tls?: boolean;
  /** extra request headers (wrk -H) */
  headers?: readonly string[];
  /** h2load instead of wrk: HTTP/2 over TLS (ALPN h2), `streams` concurrent streams per connection */
  h2?: { streams: number };
  /** every contestant serves with session resumption off (no tickets, no session cache) */
  fullHandshakes?: boolean;
}

export const scenarios: readonly Scenario[] = [
  { id: 'http-small', label: 'HTTP, small body', mode: 'http', path: '/' },
  { id: 'http-64k', label: 'HTTP, 64 KiB body', mode: 'http', path: LARGE_PATH },
  { id: 'tcp-small', label: 'TCP mode, small body', mode: 'tcp', path: '/' },
  { id: 'https-small', label: 'HTTPS keep-alive, small body', mode: 'http', path: '/', tls: true },
  // wrk opens a new connection after each `Connection: close` response and offers the session
  // it holds (it keeps one SSL per connection and SSL_clear()s it), so these handshakes resume
  {
    id: 'https-new-conn',
    label: 'HTTPS, new TLS connection per request (sessions resumed)',
    mode: 'http',
    path: '/',
    tls: true,
    headers: ['Connection: close'],
  },
  // the same with resumption off on every proxy: each request pays a full ECDSA P-256 handshake
  {
    id: 'https-full-handshake',
    label: 'HTTPS, new TLS connection per request, full handshakes',
    mode: 'http',
    path: '/',
    tls: true,
    headers: ['Connection: close'],
    fullHandshakes: true,
  },
  // h2load -c <connections> -m 10: HTTP/2 to the proxy, HTTP/1.1 keep-alive to the backends
  { id: 'h2', label: 'HTTP/2 over TLS (h2load, 10 streams per connection)', mode: 'http', path: '/', tls: true, h2: { streams: 10 } },
];
