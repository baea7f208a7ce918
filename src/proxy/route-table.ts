// Picks the backend for an HTTP request from a frontend's rules: first matching rule wins,
// else the default backend. Compiled once per config so the per-request work is a few string
// compares; regexes are built here, never per request.
import type { FrontendConfig, RouteRule, StringMatch } from '../config/types.ts';

export interface RouteInput {
  method: string;
  /** Host header value as sent (may carry a port, any case). */
  host: string | undefined;
  /** Request target; the query string is ignored for path matching. */
  url: string;
  /** Header lookup by lower-case name. */
  header: (name: string) => string | undefined;
}

type Matcher = (value: string) => boolean;

interface CompiledRule {
  host?: Matcher;
  path?: Matcher;
  methods?: ReadonlySet<string>;
  headers?: { name: string; match: Matcher }[];
  backend: string;
}

export class RouteTable {
  readonly defaultBackend: string | undefined;
  private readonly rules: CompiledRule[];

  constructor(rules: readonly RouteRule[], defaultBackend: string | undefined) {
    this.rules = rules.map(compileRule);
    this.defaultBackend = defaultBackend;
  }

  static fromFrontend(cfg: FrontendConfig): RouteTable {
    return new RouteTable(cfg.rules, cfg.defaultBackend);
  }

  /** Backend name for the request, or undefined when nothing matches and there is no default. */
  route(req: RouteInput): string | undefined {
    const rules = this.rules;
    if (rules.length === 0) return this.defaultBackend;
    let host: string | undefined;
    let path: string | undefined;
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i]!;
      if (r.methods !== undefined && !r.methods.has(req.method)) continue;
      if (r.host !== undefined) {
        host ??= normaliseHost(req.host);
        if (!r.host(host)) continue;
      }
      if (r.path !== undefined) {
        path ??= pathOf(req.url);
        if (!r.path(path)) continue;
      }
      if (r.headers !== undefined && !headersMatch(r.headers, req.header)) continue;
      return r.backend;
    }
    return this.defaultBackend;
  }
}

function headersMatch(hs: { name: string; match: Matcher }[], header: (name: string) => string | undefined): boolean {
  for (const h of hs) {
    const v = header(h.name);
    if (v === undefined || !h.match(v)) return false;
  }
  return true;
}

function compileRule(rule: RouteRule): CompiledRule {
  const out: CompiledRule = { backend: rule.backend };
  if (rule.host) out.host = compileMatch(lowerMatch(rule.host), `${rule.where}.host`);
  if (rule.path) out.path = compileMatch(rule.path, `${rule.where}.path`);
  if (rule.methods && rule.methods.length > 0) out.methods = new Set(rule.methods.map((m) => m.toUpperCase()));
  if (rule.headers && rule.headers.length > 0) {
    out.headers = rule.headers.map((h, i) => ({
      name: h.name.toLowerCase(),
      match: compileMatch(h.match, `${rule.where}.headers[${i}]`),
    }));
  }
  return out;
}

// Host names are case-insensitive, so host patterns and host values are both lower-cased
// (regexes keep their own flags: the user wrote them).
function lowerMatch(m: StringMatch): StringMatch {
  return m.kind === 'regex' ? m : { kind: m.kind, value: m.value.toLowerCase() };
}

export function compileMatch(m: StringMatch, where: string): Matcher {
  const v = m.value;
  switch (m.kind) {
    case 'exact':
      return (s) => s === v;
    case 'prefix':
      return (s) => s.startsWith(v);
    case 'suffix':
      return (s) => s.endsWith(v);
    case 'wildcard': {
      const re = wildcardRegex(v);
      return (s) => re.test(s);
    }
    case 'regex': {
      let re: RegExp;
      try {
        re = new RegExp(v);
      } catch (err) {
        throw new Error(`${where}: invalid regex ${JSON.stringify(v)}: ${(err as Error).message}`, { cause: err });
      }
      return (s) => re.test(s);
    }
  }
}

/** `*` matches any run of characters (also dots: `*.example.com` matches `a.b.example.com`), `?` one. */
function wildcardRegex(pattern: string): RegExp {
  let src = '^';
  for (const ch of pattern) {
    if (ch === '*') src += '.*';
    else if (ch === '?') src += '.';
    else src += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(src + '$');
}

/** Lower-cased host without port; handles bracketed IPv6 literals. */
export function normaliseHost(host: string | undefined): string {
  if (host === undefined || host === '') return '';
  let h = host;
  if (h.charCodeAt(0) === 91 /* [ */) {
    const end = h.indexOf(']');
    h = end > 0 ? h.slice(0, end + 1) : h;
  } else {
    const colon = h.indexOf(':');
    if (colon >= 0) h = h.slice(0, colon);
  }
  if (h.length > 0 && h.charCodeAt(h.length - 1) === 46 /* trailing dot */) h = h.slice(0, -1);
  return h.toLowerCase();
}

/** Path part of a request target; absolute-form targets ("http://h/p?q") give "/p". */
export function pathOf(url: string): string {
  let start = 0;
  if (url.charCodeAt(0) !== 47 /* / */) {
    const scheme = url.indexOf('://');
    if (scheme > 0) {
      const slash = url.indexOf('/', scheme + 3);
      if (slash < 0) return '/';
      start = slash;
    }
  }
  let end = url.indexOf('?', start);
  if (end < 0) end = url.length;
  const hash = url.indexOf('#', start);
  if (hash >= 0 && hash < end) end = hash;
  return start === 0 && end === url.length ? url : url.slice(start, end);
}
