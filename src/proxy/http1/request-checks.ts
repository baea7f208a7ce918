// The request shapes llhttp accepts and a proxy must not pass on (issue 15.1): HTTP/0.9 and 2.0
// request lines, an absolute-form target whose authority disagrees with Host, a WebSocket
// upgrade without its handshake headers, a Host that is missing (HTTP/1.1) or is no host. Each would let the server see a
// request different from the one halb routed. Pure: the parsed head in, a refusal or nothing out.

export interface CheckedRequest {
  method?: string | undefined;
  /** As node reports it: 0.9, 1.0, 1.1, 2.0. */
  httpVersionMajor: number;
  httpVersionMinor: number;
  url?: string | undefined;
  /** [name, value, ...] as sent. */
  rawHeaders: readonly string[];
}

export interface RequestRefusal {
  status: 400 | 505;
  reason: string;
}

// RFC 3986 §3.2.2: IP-literal, or reg-name / IPv4 (unreserved, pct-encoded, sub-delims), then an
// optional port. An empty Host is allowed (RFC 9112 §3.2).
const HOST = /^(?:\[[0-9A-Za-z:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]*)(?::[0-9]{0,5})?$/;
const ABSOLUTE = /^([A-Za-z][A-Za-z0-9+\-.]*):\/\/([^/?#]*)/;

/** `upgrade`: node took it for one (Connection: upgrade and an Upgrade header). */
export function checkRequest(r: CheckedRequest, upgrade = false): RequestRefusal | undefined {
  if (r.httpVersionMajor !== 1) {
    return r.httpVersionMajor === 0
      ? { status: 400, reason: 'HTTP/0.9 request' }
      : { status: 505, reason: `HTTP/${r.httpVersionMajor}.${r.httpVersionMinor} on an HTTP/1 connection` };
  }
  let host: string | undefined;
  let wsKeys = 0;
  let wsVersion = false;
  let websocket = false;
  const raw = r.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    // most names are none of these: the length test keeps the common case to one compare
    switch (name.length) {
      case 4:
        if (name.toLowerCase() === 'host') host = raw[i + 1]!;
        break;
      case 7:
        if (name.toLowerCase() === 'upgrade' && /(?:^|,)\s*websocket\s*(?:,|$)/i.test(raw[i + 1]!)) websocket = true;
        break;
      case 17:
        if (name.toLowerCase() === 'sec-websocket-key') wsKeys++;
        break;
      case 21:
        if (name.toLowerCase() === 'sec-websocket-version') wsVersion = true;
        break;
    }
  }
  // RFC 9112 §3.2: a server MUST answer 400 to an HTTP/1.1 request without Host
  if (host === undefined && r.httpVersionMinor >= 1) return { status: 400, reason: 'HTTP/1.1 request without Host' };
  if (host !== undefined && !validHost(host)) return { status: 400, reason: 'invalid Host header' };
  const abs = ABSOLUTE.exec(r.url ?? '/');
  if (abs !== null) {
    const refusal = checkAuthority(abs[1]!.toLowerCase(), abs[2]!, host);
    if (refusal !== undefined) return refusal;
  }
  // HAProxy refuses a WebSocket upgrade without a key (RFC 6455 §4.1): a server answering such a
  // request with anything but 101 leaves the connection in HTTP, and a proxy that had switched to
  // a tunnel would pass what follows unparsed (the WebSocket smuggling attack). halb also wants
  // the version, which the same section requires.
  if (upgrade && websocket) {
    if (r.method !== 'GET') return { status: 400, reason: 'WebSocket upgrade with a method other than GET' };
    if (wsKeys !== 1) return { status: 400, reason: wsKeys === 0 ? 'WebSocket upgrade without Sec-WebSocket-Key' : 'more than one Sec-WebSocket-Key' };
    if (!wsVersion) return { status: 400, reason: 'WebSocket upgrade without Sec-WebSocket-Version' };
  }
  return undefined;
}

export function validHost(host: string): boolean {
  return HOST.test(host);
}

/** RFC 9112 §3.2.2: with an absolute-form target its authority is the host. halb routes on Host,
 *  so the two must name the same host (HAProxy 2.6 also answers 400 when they do not). */
function checkAuthority(scheme: string, authority: string, host: string | undefined): RequestRefusal | undefined {
  if (scheme !== 'http' && scheme !== 'https') return { status: 400, reason: `request target with scheme ${scheme}` };
  if (authority.includes('@')) return { status: 400, reason: 'userinfo in the request target' };
  if (authority === '' || !HOST.test(authority)) return { status: 400, reason: 'invalid authority in the request target' };
  // without Host (HTTP/1.0) halb would route on no host while the server reads one from the target
  if (host === undefined) return { status: 400, reason: 'absolute-form request target without Host' };
  if (sameAuthority(scheme, authority, host)) return undefined;
  return { status: 400, reason: 'request target authority differs from Host' };
}

function sameAuthority(scheme: string, a: string, b: string): boolean {
  const defaultPort = scheme === 'https' ? ':443' : ':80';
  const norm = (s: string): string => {
    const l = s.toLowerCase();
    return l.endsWith(defaultPort) ? l.slice(0, -defaultPort.length) : l;
  };
  return norm(a) === norm(b);
}
