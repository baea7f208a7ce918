// The YAML users write, as a zod v4 schema. Objects are strict: an unknown key is an error (with a
// "did you mean" added by load.ts). Leaf values are transformed here (durations -> ms, "host:port"
// -> HostPort, keepalived address lines -> VirtualAddress); cross-field rules live in checks.ts,
// defaults and the final shape in normalise.ts. `configSchema` chains all three.

import { z } from 'zod';
import { isIP } from 'node:net';
import { parseDuration } from './duration.ts';
import { parseHostPort, parseVirtualAddress, parseVirtualRoute } from './address.ts';
import { nearest } from './suggest.ts';
import { checkConfig } from './checks.ts';
import { normalise } from './normalise.ts';
import type { BalanceConfig, StatusRange } from './types.ts';

// ---- leaves ----

export const durationSchema = z
  .union([z.string(), z.number()])
  .describe('Duration: "2s", "500ms", "1m30s", "1h"; a bare number is seconds')
  .transform((value, ctx) => {
    try {
      return parseDuration(value);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message, input: value });
      return z.NEVER;
    }
  });

export function intIn(min: number, max: number) {
  // min/max (not a refine) so the JSON Schema carries the range too.
  const error = (iss: { input?: unknown }) => `must be ${min}..${max}, got ${String(iss.input)}`;
  return z.int({ error: (iss) => (iss.input === undefined ? undefined : `must be an integer ${min}..${max}, got ${describeValue(iss.input)}`) })
    .min(min, { error })
    .max(max, { error });
}

function describeValue(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : Array.isArray(v) ? 'a list' : v !== null && typeof v === 'object' ? 'a mapping' : String(v);
}

function hostPortSchema(allowWildcard: boolean) {
  return z
    .string()
    .describe(allowWildcard ? '"host:port", "[v6]:port" or "*:port"' : '"host:port" or "[v6]:port"')
    .transform((text, ctx) => {
      const r = parseHostPort(text, { allowWildcard });
      if (r.ok) return r.value;
      ctx.addIssue({ code: 'custom', message: r.error, input: text });
      return z.NEVER;
    });
}

const ipSchema = z
  .string()
  .refine((s) => isIP(s) !== 0, { error: (iss) => `not an IP address: "${String(iss.input)}"` });

const nameSchema = z
  .string()
  .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/, { error: 'names may use letters, digits, "_", "-" and "."' });

const headerNameSchema = z
  .string()
  .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, { error: (iss) => `not a valid header name: "${String(iss.input)}"` });

const regexSchema = z.string().refine(
  (s) => {
    try {
      new RegExp(s);
      return true;
    } catch {
      return false;
    }
  },
  { error: (iss) => `invalid regular expression: ${String(iss.input)}` },
);

const modeSchema = z.enum(['http', 'tcp']);

export const timeoutsSchema = z.strictObject({
  connect: durationSchema.optional(),
  client: durationSchema.optional(),
  server: durationSchema.optional(),
  'http-request': durationSchema.optional(),
  'http-keep-alive': durationSchema.optional(),
  queue: durationSchema.optional(),
  tunnel: durationSchema.optional(),
});

// ---- global / defaults ----

// Socket file mode as HAProxy writes it (`mode 660`): YAML reads 0660 and 660 as the decimal
// number 660, so a number's digits are read as octal; a string may say "0660" or "0o660".
const socketModeSchema = z
  .union([z.string(), z.int()])
  .describe('socket file mode in octal, e.g. 660 or "0660"')
  .transform((value, ctx) => {
    const digits = String(value).replace(/^0o/i, '');
    if (!/^[0-7]{1,4}$/.test(digits) || Number.parseInt(digits, 8) > 0o777) {
      ctx.addIssue({ code: 'custom', message: `mode must be octal permission digits like 660 or "0600", got ${JSON.stringify(value)}`, input: value });
      return z.NEVER;
    }
    return Number.parseInt(digits, 8);
  });

const globalSchema = z.strictObject({
  workers: z.union([z.literal('auto'), intIn(1, 256)]).optional(),
  admin: z
    .strictObject({
      socket: z.string().min(1).describe('unix socket of the admin API (HAProxy\'s stats socket), e.g. /run/halb/admin.sock').optional(),
      mode: socketModeSchema.optional(),
      user: z.union([z.string().min(1), intIn(0, 4294967294)]).describe('owner of the socket file (name or uid)').optional(),
      group: z.union([z.string().min(1), intIn(0, 4294967294)]).describe('group of the socket file (name or gid)').optional(),
      listen: hostPortSchema(true).optional(),
      token_file: z.string().min(1).describe('file holding the bearer token the TCP listener requires').optional(),
      token_env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name').describe('environment variable holding the bearer token').optional(),
      tls: z
        .strictObject({
          cert_file: z.string().min(1),
          key_file: z.string().min(1),
          ca_file: z.string().min(1).describe('CA of the client certificates (mTLS)').optional(),
          verify: z.enum(['required', 'optional']).describe('required: no handshake without a client certificate; optional: read-only views without one').optional(),
        })
        .optional(),
      read_only_open: z.boolean().describe('TCP listener: status, metrics and dashboard without token or certificate').optional(),
    })
    .optional(),
  log: z
    .strictObject({
      level: z.enum(['trace', 'debug', 'info', 'warn', 'error']).optional(),
      format: z.enum(['auto', 'json', 'pretty']).optional(),
      access: z.boolean().optional(),
    })
    .optional(),
  grace: durationSchema.optional(),
  max_header_bytes: intIn(1024, 1048576).optional(),
  ticket_key_rotation: durationSchema
    .describe('how often the TLS session ticket key is replaced (the previous one still opens tickets); default 12h')
    .optional(),
});

const defaultsSchema = z.strictObject({
  mode: modeSchema.optional(),
  timeouts: timeoutsSchema.optional(),
  retries: intIn(0, 100).optional(),
  redispatch: z.boolean().optional(),
  forwardfor: z.boolean().optional(),
  maxconn: intIn(1, 10_000_000).optional(),
});

// ---- frontends ----

const bindEntrySchema = z.union([
  hostPortSchema(true),
  z.strictObject({ address: hostPortSchema(true), accept_proxy: z.boolean().optional() }),
]);

const headerMatchSchema = z
  .strictObject({
    name: headerNameSchema,
    value: z.string().optional(),
    prefix: z.string().optional(),
    regex: regexSchema.optional(),
  })
  .superRefine((h, ctx) => {
    const n = [h.value, h.prefix, h.regex].filter((x) => x !== undefined).length;
    if (n > 1) ctx.addIssue({ code: 'custom', message: 'use one of value, prefix, regex (or none: header present)' });
  });

const ruleSchema = z
  .strictObject({
    host: z.string().optional().describe('exact host, or a wildcard like "*.example.com"'),
    host_regex: regexSchema.optional(),
    path: z.string().optional().describe('exact path'),
    path_prefix: z.string().optional(),
    path_suffix: z.string().optional(),
    path_regex: regexSchema.optional(),
    method: z.string().optional(),
    methods: z.array(z.string()).min(1).optional(),
    header: z.union([headerMatchSchema, z.array(headerMatchSchema).min(1)]).optional(),
    backend: nameSchema,
  })
  .superRefine((r, ctx) => {
    const hosts = (['host', 'host_regex'] as const).filter((k) => r[k] !== undefined);
    const paths = (['path', 'path_prefix', 'path_suffix', 'path_regex'] as const).filter((k) => r[k] !== undefined);
    if (hosts.length > 1) ctx.addIssue({ code: 'custom', message: `use one of host, host_regex (got ${hosts.join(', ')})` });
    if (paths.length > 1) {
      ctx.addIssue({ code: 'custom', message: `use one of path, path_prefix, path_suffix, path_regex (got ${paths.join(', ')})` });
    }
    if (r.method !== undefined && r.methods !== undefined) {
      ctx.addIssue({ code: 'custom', message: 'use either method or methods, not both' });
    }
    if (hosts.length + paths.length === 0 && r.method === undefined && r.methods === undefined && r.header === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: 'a rule needs a condition (host, path, path_prefix, path_regex, method, header); use default_backend for everything else',
      });
    }
  });

const headerOpSchema = z
  .strictObject({
    'set-header': headerNameSchema.optional(),
    'add-header': headerNameSchema.optional(),
    'del-header': headerNameSchema.optional(),
    value: z.string().optional(),
  })
  .superRefine((op, ctx) => {
    const kinds = (['set-header', 'add-header', 'del-header'] as const).filter((k) => op[k] !== undefined);
    if (kinds.length !== 1) {
      ctx.addIssue({ code: 'custom', message: 'each entry needs exactly one of set-header, add-header, del-header' });
    } else if (kinds[0] === 'del-header' && op.value !== undefined) {
      ctx.addIssue({ code: 'custom', message: 'del-header takes no value', path: ['value'] });
    } else if (kinds[0] !== 'del-header' && op.value === undefined) {
      ctx.addIssue({ code: 'custom', message: `${kinds[0]} needs a value` });
    }
  });

const acmeSchema = z.strictObject({
  email: z
    .string()
    .regex(/^[^@\s]+@[^@\s]+\.[^@\s]+$/, 'an e-mail address (the CA writes to it about expiring certificates), e.g. ops@example.com')
    .describe('contact address of the ACME account'),
  directory: z
    .string()
    .refine((u) => /^https:\/\/[^/\s]+/.test(u) && URL.canParse(u), 'an https:// URL of the CA\'s ACME directory, e.g. https://acme-v02.api.letsencrypt.org/directory')
    .describe('the ACME directory URL of the CA (RFC 8555 §7.1.1)'),
  domains: z
    .array(z.string().regex(/^(?=.{1,253}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/, 'a DNS name (no wildcard: HTTP-01 and TLS-ALPN-01 cannot prove one)'))
    .min(1, 'acme needs at least one domain')
    .describe('names of the certificate; the first is its subject'),
  challenge: z.enum(['http-01', 'tls-alpn-01']).describe('http-01 (default): a plain http frontend on port 80 answers; tls-alpn-01: this frontend answers on 443').optional(),
  http_port: intIn(1, 65535).describe('port of the plain http frontend the CA reaches for http-01 (default 80; a test CA may use another)').optional(),
  storage: z.string().min(1).describe('directory of the account key and certificates (default /var/lib/halb/acme)').optional(),
  renew_before: durationSchema.describe('renew this long before the certificate expires (default 30d)').optional(),
  ca_file: z.string().min(1).describe('CA certificate(s) trusted for the directory URL (a private CA such as pebble)').optional(),
  retry_min: durationSchema.describe('first wait after a failed order (default 1m); doubles per failure').optional(),
  retry_max: durationSchema.describe('longest wait between failed orders (default 6h)').optional(),
  fallback_crt: z.string().min(1).describe('crt PEM served while no ACME certificate is held (and said so in logs and status)').optional(),
  peer_key_file: z.string().min(1).describe('shared key of the certificate hand-over between the nodes of a pair (docs/acme-handover.md)').optional(),
  peers: z.array(ipSchema).min(1).describe('addresses of the peers that receive the certificates (default: the VRRP unicast peers)').optional(),
  peer_listen: ipSchema.describe('address the hand-over listener binds (default: the VRRP unicast source, else every address)').optional(),
  peer_port: intIn(1, 65535).describe('TCP port of the certificate hand-over listener (default 7946)').optional(),
});

const frontendTlsSchema = z
  .strictObject({
    crt: z
      .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
      .describe('PEM file(s), each the certificate chain and its private key (HAProxy\'s crt); the first is the default')
      .optional(),
    crt_dir: z.string().min(1).describe('directory whose *.pem files are certificates as in crt (HAProxy\'s `bind ... ssl crt DIR/`)').optional(),
    min_version: z.enum(['1.2', '1.3']).describe('lowest TLS version accepted; default 1.2').optional(),
    alpn: z
      .array(z.string().min(1))
      .min(1)
      .superRefine((list, ctx) => {
        list.forEach((p, i) => {
          if (p !== 'h2' && p !== 'http/1.1') ctx.addIssue({ code: 'custom', path: [i], message: `alpn ${JSON.stringify(p)}: an http frontend speaks h2 and http/1.1 only` });
          else if (list.indexOf(p) !== i) ctx.addIssue({ code: 'custom', path: [i], message: `alpn ${p} is listed twice` });
        });
      })
      .describe('protocols offered in ALPN, in the server\'s order of preference, e.g. [h2, http/1.1]; default [http/1.1]')
      .optional(),
    ciphers: z.string().min(1).describe('OpenSSL cipher list for TLS 1.2 (TLS 1.3 suites are OpenSSL\'s defaults)').optional(),
    tickets: z
      .boolean()
      .describe('session tickets, so a returning client resumes without a full handshake; false (HAProxy\'s no-tls-tickets) makes every handshake a full one; default true')
      .optional(),
    verify: z
      .enum(['none', 'optional', 'required'])
      .describe('client certificates (mTLS, HAProxy\'s verify): required refuses a client without one signed by ca_file; optional accepts none but refuses a bad one; default none')
      .optional(),
    ca_file: z.string().min(1).describe('PEM file of the CA certificate(s) client certificates must be signed by (HAProxy\'s ca-file)').optional(),
    client_cert_header: z
      .strictObject({
        dn: headerNameSchema.describe('header carrying the client certificate\'s subject, /CN=.../O=...; default X-SSL-Client-DN').optional(),
        verify: headerNameSchema.describe('header saying SUCCESS (a verified certificate) or NONE; default X-SSL-Client-Verify').optional(),
      })
      .describe('headers telling the server about the client certificate (with verify optional or required); a client-sent header of the same name is removed')
      .optional(),
    acme: acmeSchema.describe('obtain and renew the certificate from an ACME CA (RFC 8555), as Caddy does').optional(),
  })
  .superRefine((t, ctx) => {
    if (t.crt === undefined && t.crt_dir === undefined && t.acme === undefined) ctx.addIssue({ code: 'custom', message: 'tls needs crt, crt_dir or acme (the certificates to serve)' });
    if (t.acme !== undefined && t.crt === undefined && t.crt_dir === undefined && t.acme.fallback_crt === undefined) {
      ctx.addIssue({ code: 'custom', path: ['acme', 'fallback_crt'], message: 'acme needs fallback_crt (or tls crt): what the frontend serves until the first certificate is obtained' });
    }
    const verifying = t.verify === 'optional' || t.verify === 'required';
    if (verifying && t.ca_file === undefined) ctx.addIssue({ code: 'custom', path: ['verify'], message: `verify ${t.verify} checks client certificates against ca_file: set ca_file` });
    if (!verifying && t.ca_file !== undefined) ctx.addIssue({ code: 'custom', path: ['ca_file'], message: 'ca_file is read only with verify optional or required (client certificates)' });
    if (!verifying && t.client_cert_header !== undefined) ctx.addIssue({ code: 'custom', path: ['client_cert_header'], message: 'client_cert_header needs verify optional or required' });
  });

// HAProxy's tune.h2.* words, per frontend. Defaults in config/defaults.ts.
const frontendH2Schema = z.strictObject({
  max_concurrent_streams: intIn(1, 1000).describe('streams a client may have open on one connection (SETTINGS_MAX_CONCURRENT_STREAMS); default 100, as HAProxy').optional(),
  max_header_list_size: intIn(1024, 1_048_576).describe('largest decoded header list a request may carry, in bytes (SETTINGS_MAX_HEADER_LIST_SIZE); larger ones get 431; default 65536').optional(),
  initial_window_size: intIn(65_535, 2_147_483_647).describe('flow-control window of each stream, in bytes (SETTINGS_INITIAL_WINDOW_SIZE); default 65535').optional(),
  max_resets: intIn(1, 100_000).describe('client RST_STREAMs per connection in 10 s before it is closed with GOAWAY ENHANCE_YOUR_CALM (rapid reset, CVE-2023-44487); default 200').optional(),
});

const frontendSchema = z.strictObject({
  bind: z.union([bindEntrySchema, z.array(bindEntrySchema).min(1)]),
  mode: modeSchema.optional(),
  default_backend: nameSchema.optional(),
  forwardfor: z.boolean().optional(),
  forwarded: z.boolean().optional(),
  rules: z.array(ruleSchema).optional(),
  'http-request': z.array(headerOpSchema).optional(),
  'http-response': z.array(headerOpSchema).optional(),
  timeouts: timeoutsSchema.optional(),
  maxconn: intIn(1, 10_000_000).optional(),
  tls: frontendTlsSchema.optional(),
  h2c: z.boolean().describe('also serve HTTP/2 with prior knowledge (h2c) on plain binds: a connection opening with the HTTP/2 preface is h2, any other HTTP/1.1; default false').optional(),
  h2: frontendH2Schema.describe('limits of HTTP/2 connections (tls alpn h2, or h2c)').optional(),
  redirect: z
    .union([
      z.literal('https'),
      z.strictObject({
        to: z.literal('https'),
        code: z.union([z.literal(301), z.literal(302), z.literal(303), z.literal(307), z.literal(308)]).describe('default 301; 308 keeps the method and body of a POST').optional(),
        port: intIn(1, 65535).describe('the HTTPS port in the Location, when not 443').optional(),
      }),
    ])
    .describe('answer every request with a redirect to the same host and path over https (HAProxy\'s `redirect scheme https`); nothing reaches a server')
    .optional(),
  hsts: z
    .strictObject({
      max_age: durationSchema.describe('how long browsers keep to https, e.g. 365d; sent in seconds'),
      include_subdomains: z.boolean().optional(),
      preload: z.boolean().optional(),
    })
    .describe('Strict-Transport-Security on every response of a TLS frontend')
    .optional(),
});

// ---- backends ----

const BALANCE_WORDS = ['roundrobin', 'leastconn', 'first', 'random', 'source', 'uri', 'hdr(Name)'];

const balanceSchema = z
  .string()
  .describe('roundrobin, leastconn, first, random, source, uri, or hdr(Header-Name)')
  .transform((text, ctx): BalanceConfig => {
    const t = text.trim();
    const hdr = /^hdr\(\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*\)$/.exec(t);
    if (hdr) return { algorithm: 'hdr', header: (hdr[1] as string).toLowerCase() };
    if (['roundrobin', 'leastconn', 'first', 'random', 'source', 'uri'].includes(t)) {
      return { algorithm: t } as BalanceConfig;
    }
    const guess = t.startsWith('hdr') ? 'hdr(Name)' : nearest(t, BALANCE_WORDS);
    ctx.addIssue({
      code: 'custom',
      input: text,
      message:
        `unknown balance algorithm "${text}"` +
        (guess ? `, did you mean "${guess}"?` : `; one of ${BALANCE_WORDS.join(', ')}`),
    });
    return z.NEVER;
  });

function parseStatusItem(item: string | number): StatusRange | string {
  if (typeof item === 'number') {
    return Number.isInteger(item) && item >= 100 && item <= 599 ? { from: item, to: item } : `status ${item} is not 100..599`;
  }
  const m = /^\s*(\d{3})\s*(?:-\s*(\d{3})\s*)?$/.exec(item);
  const x = /^\s*([1-5])xx\s*$/i.exec(item);
  if (x) return { from: Number(x[1]) * 100, to: Number(x[1]) * 100 + 99 };
  if (!m) return `status "${item}" is not "NNN", "NNN-MMM" or "2xx"`;
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  if (from < 100 || to > 599 || from > to) return `status range "${item}" must be within 100..599 and low-high`;
  return { from, to };
}

const statusSchema = z
  .union([z.string(), z.number(), z.array(z.union([z.string(), z.number()])).min(1)])
  .describe('"200-399", 200, "2xx", or a list of those')
  .transform((value, ctx) => {
    const out: StatusRange[] = [];
    for (const item of Array.isArray(value) ? value : [value]) {
      const r = parseStatusItem(item);
      if (typeof r === 'string') ctx.addIssue({ code: 'custom', message: r, input: item });
      else out.push(r);
    }
    return out;
  });

const httpCheckSchema = z.strictObject({
  method: z.string().regex(/^[A-Z]+$/, { error: 'method must be upper-case letters, e.g. GET or HEAD' }).optional(),
  path: z.string().startsWith('/', { error: 'path must start with "/"' }).optional(),
  host: z.string().optional(),
  expect: z.strictObject({ status: statusSchema.optional(), body: z.string().optional() }).optional(),
});

const grpcCheckSchema = z.strictObject({
  service: z.string().describe('the service name asked of grpc.health.v1.Health/Check; "" (default) is the whole server').optional(),
});

const healthSchema = z
  .strictObject({
    tcp: z.literal(true).optional(),
    http: httpCheckSchema.optional(),
    grpc: grpcCheckSchema.describe('a grpc.health.v1.Health/Check call (h2c, or h2 over the backend\'s tls); SERVING passes').optional(),
    interval: durationSchema.optional(),
    fastinter: durationSchema.optional(),
    downinter: durationSchema.optional(),
    timeout: durationSchema.optional(),
    rise: intIn(1, 100).optional(),
    fall: intIn(1, 100).optional(),
  })
  .superRefine((h, ctx) => {
    if ([h.tcp, h.http, h.grpc].filter((x) => x !== undefined).length > 1) ctx.addIssue({ code: 'custom', message: 'use one of tcp, http or grpc' });
  });

const serverSchema = z.strictObject({
  name: nameSchema,
  address: hostPortSchema(false),
  weight: intIn(0, 256).optional(),
  backup: z.boolean().optional(),
  maxconn: intIn(1, 10_000_000).optional(),
  maxqueue: intIn(0, 10_000_000).optional(),
  disabled: z.boolean().optional(),
  drain: z.boolean().optional(),
  send_proxy: z.enum(['v1', 'v2']).optional(),
  check: z.boolean().optional(),
});

const cookieSchema = z.union([
  z.string(),
  z.strictObject({ name: z.string(), httponly: z.boolean().optional(), secure: z.boolean().optional() }),
]);

// HAProxy's `server ... ssl verify required ca-file X sni str(name) alpn h2`, per backend.
const backendTlsSchema = z.strictObject({
  verify: z.enum(['required', 'none']).describe('required (default): the server certificate must chain to ca_file (or the system CAs) and name the server').optional(),
  ca_file: z.string().min(1).describe('PEM file of the CAs that sign the servers\' certificates; default: the system CAs').optional(),
  sni: z.string().min(1).describe('server name sent (SNI) and checked against the certificate; default: the server\'s host name (none for an IP address)').optional(),
  alpn: z.array(z.string().min(1).max(255)).min(1).describe('protocols offered in ALPN, e.g. [h2] or [http/1.1]').optional(),
});

const backendSchema = z.strictObject({
  mode: modeSchema.optional(),
  proto: z.enum(['h1', 'h2']).describe('what halb speaks to the servers: h1 (HTTP/1.1, default) or h2 (HTTP/2: h2c, or h2 over tls; for gRPC)').optional(),
  tls: backendTlsSchema.describe('connections to the servers over TLS').optional(),
  balance: balanceSchema.optional(),
  health: healthSchema.optional(),
  passive: z
    .strictObject({
      // HAProxy's `observe`: which failures on live traffic count.
      observe: z.enum(['layer4', 'layer7']).optional(),
      // HAProxy's on-error; halb's default stays mark-down (HAProxy's is fail-check).
      on_error: z.enum(['fastinter', 'fail-check', 'sudden-death', 'mark-down']).optional(),
      error_limit: intIn(0, 1000).optional(),
    })
    .optional(),
  retries: intIn(0, 100).optional(),
  redispatch: z.boolean().optional(),
  timeouts: timeoutsSchema.optional(),
  cookie: cookieSchema.optional(),
  stick: z.literal('source').optional(),
  pipeline: intIn(1, 64).optional(),
  peer_fallback: z.boolean().optional(),
  peer_fallback_address: z.ipv4().or(z.ipv6()).optional(),
  servers: z.array(serverSchema).min(1, { error: 'a backend needs at least one server' }),
});

// ---- vrrp ----

const trackWeight = intIn(-254, 254);

const scriptSchema = z.strictObject({
  script: z.string().min(1),
  interval: durationSchema.optional(),
  timeout: durationSchema.optional(),
  rise: intIn(1, 100).optional(),
  fall: intIn(1, 100).optional(),
  weight: trackWeight.optional(),
});

const trackSchema = z.strictObject({
  backends: z.record(nameSchema, z.strictObject({ weight: trackWeight.optional() }).nullable()).optional(),
  frontends: z.record(nameSchema, z.strictObject({ weight: trackWeight.optional() }).nullable()).optional(),
  scripts: z.array(z.union([nameSchema, z.strictObject({ name: nameSchema, weight: trackWeight.optional() })])).optional(),
  interfaces: z
    .array(z.union([z.string(), z.strictObject({ name: z.string(), weight: trackWeight.optional() })]))
    .optional(),
  files: z.array(z.union([z.string(), z.strictObject({ path: z.string(), weight: trackWeight.optional() })])).optional(),
});

const floatingIpCommon = {
  ip: ipSchema,
  token_env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'not an environment variable name' }).optional(),
  token_file: z.string().min(1).optional(),
  api_base: z.url().optional(),
  metadata_base: z.url().optional(),
  verify_interval: durationSchema.optional(),
};

const floatingIpSchema = z.discriminatedUnion('provider', [
  z.strictObject({ provider: z.literal('digitalocean'), ...floatingIpCommon, droplet_id: intIn(1, Number.MAX_SAFE_INTEGER).optional() }),
  z.strictObject({
    provider: z.literal('hetzner'),
    ...floatingIpCommon,
    floating_ip_id: intIn(1, Number.MAX_SAFE_INTEGER).optional(),
    server_id: intIn(1, Number.MAX_SAFE_INTEGER).optional(),
  }),
], {
  error: (iss) => {
    const input = iss.input as { provider?: unknown } | undefined;
    const p = input?.provider;
    if (p === undefined) return 'missing required key "provider" (digitalocean or hetzner)';
    const guess = typeof p === 'string' ? nearest(p, ['digitalocean', 'hetzner']) : undefined;
    return `unknown provider ${JSON.stringify(p)}` + (guess ? `, did you mean "${guess}"?` : '; supported: digitalocean, hetzner');
  },
});

const virtualAddressSchema = z
  .string()
  .describe('keepalived syntax: "172.16.0.200/24 dev eth0"')
  .transform((text, ctx) => {
    const r = parseVirtualAddress(text);
    if (r.ok) return r.value;
    ctx.addIssue({ code: 'custom', message: r.error, input: text });
    return z.NEVER;
  });

const virtualRouteSchema = z.string().transform((text, ctx) => {
  const r = parseVirtualRoute(text);
  if (r.ok) return r.value;
  ctx.addIssue({ code: 'custom', message: r.error, input: text });
  return z.NEVER;
});

const instanceSchema = z.strictObject({
  interface: z.string().min(1),
  state: z.enum(['MASTER', 'BACKUP']).optional(),
  priority: intIn(1, 255).optional(),
  virtual_router_id: intIn(1, 255),
  version: z.union([z.literal(2), z.literal(3)]).optional(),
  advert_int: durationSchema.optional(),
  preempt: z.boolean().optional(),
  nopreempt: z.boolean().optional(),
  preempt_delay: durationSchema.optional(),
  unicast: z.strictObject({ source: ipSchema.optional(), peers: z.array(ipSchema).optional() }).optional(),
  authentication: z
    .strictObject({
      auth_type: z
        .enum(['PASS'], {
          error: (iss) =>
            iss.input === 'AH'
              ? 'auth_type AH is obsolete and unsupported (RFC 3768 dropped it); use PASS or omit authentication'
              : `auth_type must be PASS, got ${JSON.stringify(iss.input)}`,
        })
        .optional(),
      auth_pass: z.string().min(1).max(8, { error: 'auth_pass is at most 8 characters (VRRPv2 limit)' }).optional(),
      // halb-to-halb HMAC-SHA256 (docs/vrrp-hmac.md): v2 and v3, unicast and multicast.
      type: z.enum(['hmac-sha256'], { error: (iss) => `type must be hmac-sha256, got ${JSON.stringify(iss.input)}` }).optional(),
      key_file: z.string().min(1).optional(),
      key_id: intIn(0, 255).optional(),
    })
    .optional(),
  virtual_ipaddress: z.array(virtualAddressSchema).min(1, { error: 'virtual_ipaddress needs at least one address' }).optional(),
  virtual_routes: z.array(virtualRouteSchema).optional(),
  track: trackSchema.optional(),
  notify_master: z.string().optional(),
  notify_backup: z.string().optional(),
  notify_fault: z.string().optional(),
  notify_stop: z.string().optional(),
  notify: z.string().optional(),
  notify_timeout: durationSchema.optional(),
  floating_ip: floatingIpSchema.optional(),
  garp_master_delay: durationSchema.optional(),
  garp_master_repeat: intIn(1, 255).optional(),
  garp_master_refresh: durationSchema.optional(),
  garp_interval: durationSchema.optional(),
  handover_bound: durationSchema.optional(),
});

const vrrpSchema = z.strictObject({
  scripts: z.record(nameSchema, scriptSchema).optional(),
  instances: z.record(nameSchema, instanceSchema),
});

// ---- bgp: announce the VIPs to routers (ECMP over active-active nodes) ----

// 4-byte ASNs (RFC 6793); 0 and AS_TRANS are refused in checks.ts with a reason.
const asnSchema = z
  .int({ error: (iss) => (iss.input === undefined ? undefined : `an ASN is an integer 1..4294967295, got ${describeValue(iss.input)}`) })
  .min(1, { error: (iss) => `an ASN is 1..4294967295, got ${String(iss.input)}` })
  .max(4294967295, { error: (iss) => `an ASN is 1..4294967295, got ${String(iss.input)}` });

const hostPrefixSchema = z
  .string()
  .describe('"203.0.113.10/32" or "2001:db8::10/128" (a bare address means the host route)')
  .transform((text, ctx) => {
    const [addr = '', len, extra] = text.split('/');
    const family = isIP(addr);
    const full = family === 4 ? 32 : 128;
    if (family === 0 || extra !== undefined || (len !== undefined && Number(len) !== full)) {
      ctx.addIssue({ code: 'custom', message: `announce a host route: "<ipv4>/32" or "<ipv6>/128", got "${text}"`, input: text });
      return z.NEVER;
    }
    return { address: addr, prefixLength: full, family: family as 4 | 6 };
  });

const communitySchema = z.string().refine(
  (c) => {
    const m = /^(\d+):(\d+)$/.exec(c);
    return m !== null && Number(m[1]) <= 65535 && Number(m[2]) <= 65535;
  },
  { error: (iss) => `a community is "<0-65535>:<0-65535>", got "${String(iss.input)}"` },
);

const bgpNeighborSchema = z.strictObject({
  address: ipSchema,
  asn: asnSchema,
  password_file: z.string().min(1).describe('TCP-MD5 password (RFC 2385), read from this file so it never sits in halb.yaml').optional(),
  bfd: z.boolean().optional(),
  hold_time: durationSchema.optional(),
  keepalive: durationSchema.optional(),
});

const bgpAnnounceSchema = z.strictObject({
  prefix: hostPrefixSchema,
  communities: z.array(communitySchema).optional(),
  med: intIn(0, 4294967295).optional(),
  local_pref: intIn(0, 4294967295).optional(),
  track: z
    .strictObject({ backends: z.array(nameSchema).optional(), frontends: z.array(nameSchema).optional() })
    .describe('announced only while these frontends listen and these backends have a server up (default: the frontends binding the prefix and their backends)')
    .optional(),
});

const bgpSchema = z.strictObject({
  asn: asnSchema,
  router_id: z.ipv4({ error: (iss) => `router_id is an IPv4 address, got ${describeValue(iss.input)}` }),
  daemon: z.enum(['frr'], { error: (iss) => `daemon must be frr, got ${describeValue(iss.input)}` }).optional(),
  frr_dir: z.string().min(1).describe("where FRR's daemons are (default /usr/lib/frr)").optional(),
  neighbors: z.array(bgpNeighborSchema).min(1, { error: 'bgp needs at least one neighbor' }),
  bfd: z
    .strictObject({ detect_multiplier: intIn(2, 255).optional(), receive_interval: durationSchema.optional(), transmit_interval: durationSchema.optional() })
    .optional(),
  announce: z.array(bgpAnnounceSchema).min(1, { error: 'bgp needs at least one prefix to announce' }),
  drain: durationSchema.describe('planned stop: after the withdraw, keep serving this long (router convergence plus a grace)').optional(),
  peers: z
    .array(ipSchema)
    .describe("the halb nodes announcing the same prefixes, on a shared link (this node's own address may be listed: it is skipped); segments of their connections the routers move here are passed to them instead of reset")
    .optional(),
});

// ---- nodes: one file for the pair ----

// Per-node overrides of the shared settings (node-views.ts merges them in). Shapes only: each value
// is checked again, with every other rule, in the node's merged view.
const nodeSchema = z.strictObject({
  address: ipSchema.describe('this node\'s address: its unicast source, and a peer of the other nodes').optional(),
  hostname: z.union([z.string().min(1), z.array(z.string().min(1))]).describe('host names that pick this entry (besides the entry name)').optional(),
  global: globalSchema.partial().optional(),
  vrrp: z.record(nameSchema, instanceSchema.partial()).describe('per-instance overrides: priority, state, interface, unicast ...').optional(),
  bgp: bgpSchema.partial().describe('per-node overrides: router_id, neighbors, announce attributes ...').optional(),
});

// ---- whole file ----

/** The user's YAML, shape-checked with leaf values converted; no cross-field rules, no defaults. */
export const inputSchema = z.strictObject({
  global: globalSchema.optional(),
  defaults: defaultsSchema.optional(),
  frontends: z.record(nameSchema, frontendSchema).optional(),
  backends: z.record(nameSchema, backendSchema).optional(),
  vrrp: vrrpSchema.optional(),
  bgp: bgpSchema.optional(),
  nodes: z.record(nameSchema, nodeSchema).optional(),
});

/** What the YAML may contain (editors, JSON Schema). */
export type ConfigInput = z.input<typeof inputSchema>;
/** After leaf transforms; what checks.ts and normalise.ts read. */
export type ParsedInput = z.output<typeof inputSchema>;
export type ParsedFrontend = ParsedInput['frontends'] extends Record<string, infer F> | undefined ? F : never;
export type ParsedBackend = ParsedInput['backends'] extends Record<string, infer B> | undefined ? B : never;
export type ParsedInstance = NonNullable<ParsedInput['vrrp']>['instances'][string];
export type ParsedBgp = NonNullable<ParsedInput['bgp']>;

/** Input -> validated, normalised Config (source is set to "" here; load.ts fills it in). */
// Cross-field checks run only on a shape-clean input: zod lets refinements run after "continuable"
// issues (an unknown key, a value out of range), which would add noise about half-valid data.
export const configSchema = inputSchema
  .superRefine(checkConfig, { when: (payload) => payload.issues.length === 0 })
  .transform((input) => normalise(input, ''));
