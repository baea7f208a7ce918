// `redirect: https` on a plain frontend: where a request is sent instead of to a server (pure).
// The host is the request's own (its port dropped, the configured HTTPS port put in when not 443),
// the path and query are kept, so http://a.test/x?y goes to https://a.test/x?y.

/** The Location for a request, or undefined when it names no host to send the client to. */
export function httpsLocation(host: string | undefined, url: string, port: number | undefined): string | undefined {
  if (host === undefined) return undefined;
  const name = hostWithoutPort(host.trim());
  if (name === '' || !/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)$/.test(name)) return undefined;
  return `https://${name}${port !== undefined && port !== 443 ? `:${port}` : ''}${pathOf(url)}`;
}

function hostWithoutPort(host: string): string {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end < 0 ? '' : host.slice(0, end + 1);
  }
  const colon = host.indexOf(':');
  return colon < 0 ? host : host.slice(0, colon);
}

/** origin-form as it is; absolute-form (http://h/p) its path; '*' (OPTIONS) the root. */
function pathOf(url: string): string {
  if (url.startsWith('/')) return url;
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*([^#]*)/.exec(url);
  const rest = m?.[1] ?? '';
  return rest === '' ? '/' : rest.startsWith('/') ? rest : `/${rest}`;
}

export const REDIRECT_TEXT: Record<number, string> = {
  301: 'Moved Permanently',
  302: 'Found',
  303: 'See Other',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
};
