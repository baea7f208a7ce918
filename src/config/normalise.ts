// Parsed input -> the normalised Config: defaults filled in, timeouts inherited
// (built-in < defaults < frontend/backend), shorthands expanded. Assumes checks.ts passed.

import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { DEFAULTS, DEFAULT_TIMEOUTS } from './defaults.ts';
import { bindServes } from './address.ts';
import { resolveBackendModes } from './modes.ts';
import type { ParsedBackend, ParsedBgp, ParsedFrontend, ParsedInput, ParsedInstance } from './schema.ts';
import type {
  AdminConfig,
  BgpAnnounceConfig,
  BgpConfig,
  BgpNeighborConfig,
  BackendConfig,
  BindConfig,
  Config,
  FloatingIpConfig,
  FrontendConfig,
  HeaderOp,
  HealthConfig,
  RouteRule,
  ScriptTrackerConfig,
  StringMatch,
  Timeouts,
  TrackConfig,
  VrrpConfig,
  VrrpInstanceConfig,
} from './types.ts';

type TimeoutsInput = NonNullable<ParsedFrontend['timeouts']>;

function mergeTimeouts(base: Timeouts, t: TimeoutsInput | undefined): Timeouts {
  if (!t) return base;
  return {
    connect: t.connect ?? base.connect,
    client: t.client ?? base.client,
    server: t.server ?? base.server,
    httpRequest: t['http-request'] ?? base.httpRequest,
    httpKeepAlive: t['http-keep-alive'] ?? base.httpKeepAlive,
    queue: t.queue ?? base.queue,
    tunnel: t.tunnel ?? base.tunnel,
  };
}

export function normalise(input: ParsedInput, source: string): Config {
  const g = input.global ?? {};
  const d = input.defaults ?? {};
  const timeouts = mergeTimeouts(DEFAULT_TIMEOUTS, d.timeouts);
  const modes = resolveBackendModes(input);
  const config: Config = {
    source,
    global: {
      workers: g.workers ?? DEFAULTS.workers,
      log: {
        level: g.log?.level ?? DEFAULTS.logLevel,
        format: g.log?.format ?? DEFAULTS.logFormat,
        access: g.log?.access ?? DEFAULTS.accessLog,
      },
      grace: g.grace ?? DEFAULTS.grace,
      maxHeaderBytes: g.max_header_bytes ?? DEFAULTS.maxHeaderBytes,
      ticketKeyRotation: g.ticket_key_rotation ?? DEFAULTS.ticketKeyRotation,
    },
    frontends: Object.entries(input.frontends ?? {}).map(([name, fe]) => frontend(name, fe, input, timeouts)),
    backends: Object.entries(input.backends ?? {}).map(([name, be]) =>
      backend(name, be, input, timeouts, modes.get(name)?.mode ?? d.mode ?? 'http'),
    ),
  };
  if (g.admin) config.global.admin = admin(g.admin);
  if (input.vrrp) config.vrrp = vrrp(input.vrrp);
  if (input.bgp) config.bgp = bgp(input.bgp, config.frontends);
  return config;
}

/** The frontends that serve a prefix: those binding its address, 0.0.0.0 (IPv4) or :: (dual-stack). */
export function frontendsServing(address: string, family: 4 | 6, frontends: readonly FrontendConfig[]): FrontendConfig[] {
  return frontends.filter((f) => f.bind.some((b) => bindServes(b.host, address, family)));
}

function bgp(b: ParsedBgp, frontends: readonly FrontendConfig[]): BgpConfig {
  return {
    asn: b.asn,
    routerId: b.router_id,
    daemon: b.daemon ?? 'frr',
    frrDir: b.frr_dir ?? DEFAULTS.frrDir,
    neighbors: b.neighbors.map((n) => {
      const hold = n.hold_time !== undefined ? Math.round(n.hold_time / 1000) : DEFAULTS.bgpHoldSeconds;
      const out: BgpNeighborConfig = {
        address: n.address,
        asn: n.asn,
        bfd: n.bfd ?? false,
        holdTimeSeconds: hold,
        keepaliveSeconds: n.keepalive !== undefined ? Math.round(n.keepalive / 1000) : Math.floor(hold / 3),
      };
      if (n.password_file !== undefined) out.passwordFile = n.password_file;
      return out;
    }),
    bfd: {
      detectMultiplier: b.bfd?.detect_multiplier ?? DEFAULTS.bfdDetectMultiplier,
      receiveIntervalMs: b.bfd?.receive_interval ?? DEFAULTS.bfdIntervalMs,
      transmitIntervalMs: b.bfd?.transmit_interval ?? DEFAULTS.bfdIntervalMs,
    },
    announce: b.announce.map((a) => {
      const serving = frontendsServing(a.prefix.address, a.prefix.family, frontends);
      const trackFrontends = a.track?.frontends ?? serving.map((f) => f.name);
      const trackBackends =
        a.track?.backends ?? [...new Set(serving.flatMap((f) => [...(f.defaultBackend !== undefined ? [f.defaultBackend] : []), ...f.rules.map((r) => r.backend)]))];
      const out: BgpAnnounceConfig = {
        address: a.prefix.address,
        prefixLength: a.prefix.family === 4 ? 32 : 128,
        family: a.prefix.family,
        communities: a.communities ?? [],
        trackFrontends,
        trackBackends,
      };
      if (a.med !== undefined) out.med = a.med;
      if (a.local_pref !== undefined) out.localPref = a.local_pref;
      return out;
    }),
    drainMs: b.drain ?? DEFAULTS.bgpDrainMs,
    peers: b.peers ?? [],
  };
}

function admin(a: NonNullable<NonNullable<ParsedInput['global']>['admin']>): AdminConfig {
  const out: AdminConfig = { readOnlyOpen: a.read_only_open ?? false };
  if (a.socket !== undefined) {
    out.socket = { path: a.socket, mode: a.mode ?? DEFAULTS.adminSocketMode };
    if (a.user !== undefined) out.socket.user = a.user;
    if (a.group !== undefined) out.socket.group = a.group;
  }
  if (a.listen !== undefined) out.listen = a.listen;
  if (a.token_file !== undefined) out.token = { file: a.token_file };
  else if (a.token_env !== undefined) out.token = { env: a.token_env };
  if (a.tls) {
    out.tls = { certFile: a.tls.cert_file, keyFile: a.tls.key_file, verify: a.tls.verify ?? 'required' };
    if (a.tls.ca_file !== undefined) out.tls.caFile = a.tls.ca_file;
  }
  return out;
}

function frontend(name: string, fe: ParsedFrontend, input: ParsedInput, timeouts: Timeouts): FrontendConfig {
  const mode = fe.mode ?? input.defaults?.mode ?? 'http';
  const binds = (Array.isArray(fe.bind) ? fe.bind : [fe.bind]).map(
    (b): BindConfig =>
      'address' in b ? { ...b.address, acceptProxy: b.accept_proxy ?? false } : { ...b, acceptProxy: false },
  );
  const out: FrontendConfig = {
    name,
    bind: binds,
    mode,
    rules: (fe.rules ?? []).map((r, i) => rule(r, `frontends.${name}.rules[${i}]`)),
    forwardfor: mode === 'http' && (fe.forwardfor ?? input.defaults?.forwardfor ?? DEFAULTS.forwardfor),
    forwarded: mode === 'http' && (fe.forwarded ?? false),
    requestHeaders: (fe['http-request'] ?? []).map(headerOp),
    responseHeaders: (fe['http-response'] ?? []).map(headerOp),
    timeouts: mergeTimeouts(timeouts, fe.timeouts),
  };
  if (fe.default_backend !== undefined) out.defaultBackend = fe.default_backend;
  const maxconn = fe.maxconn ?? input.defaults?.maxconn;
  if (maxconn !== undefined) out.maxconn = maxconn;
  if (fe.tls !== undefined) {
    const t = fe.tls;
    out.tls = {
      crt: t.crt === undefined ? [] : Array.isArray(t.crt) ? t.crt : [t.crt],
      minVersion: t.min_version === '1.3' ? 'TLSv1.3' : 'TLSv1.2',
      // a tcp frontend carries whatever protocol: it offers none unless told
      alpn: t.alpn ?? (mode === 'tcp' ? [] : ['http/1.1']),
      verify: t.verify ?? 'none',
      clientCertHeader: { dn: t.client_cert_header?.dn ?? 'X-SSL-Client-DN', verify: t.client_cert_header?.verify ?? 'X-SSL-Client-Verify' },
    };
    if (t.ca_file !== undefined) out.tls.caFile = t.ca_file;
    if (t.crt_dir !== undefined) out.tls.crtDir = t.crt_dir;
    if (t.ciphers !== undefined) out.tls.ciphers = t.ciphers;
    if (t.tickets === false) out.tls.tickets = false;
    if (t.acme !== undefined) {
      const a = t.acme;
      const storage = a.storage ?? '/var/lib/halb/acme';
      out.tls.acme = {
        email: a.email,
        directory: a.directory,
        domains: a.domains.map((d) => d.toLowerCase()),
        challenge: a.challenge ?? 'http-01',
        httpPort: a.http_port ?? 80,
        storage,
        renewBefore: a.renew_before ?? 30 * 86_400_000,
        retryMin: a.retry_min ?? 60_000,
        retryMax: a.retry_max ?? 6 * 3_600_000,
        // one account per CA and contact; the certificate is named for its first domain
        accountKeyFile: join(storage, `account-${createHash('sha256').update(`${a.directory} ${a.email}`).digest('hex').slice(0, 16)}.key`),
        certFile: join(storage, `${a.domains[0]?.toLowerCase() ?? 'none'}.pem`),
        peerPort: a.peer_port ?? 7946,
      };
      if (a.ca_file !== undefined) out.tls.acme.caFile = a.ca_file;
      if (a.fallback_crt !== undefined) out.tls.acme.fallbackCrt = a.fallback_crt;
      if (a.peer_key_file !== undefined) out.tls.acme.peerKeyFile = a.peer_key_file;
      if (a.peers !== undefined) out.tls.acme.peers = a.peers;
      if (a.peer_listen !== undefined) out.tls.acme.peerListen = a.peer_listen;
    }
  }
  if (mode === 'http') {
    const h = fe.h2;
    const d = DEFAULTS.h2;
    out.h2c = fe.h2c ?? false;
    out.h2 = {
      maxConcurrentStreams: h?.max_concurrent_streams ?? d.maxConcurrentStreams,
      maxHeaderListSize: h?.max_header_list_size ?? d.maxHeaderListSize,
      initialWindowSize: h?.initial_window_size ?? d.initialWindowSize,
      maxResets: h?.max_resets ?? d.maxResets,
    };
  }
  if (fe.redirect !== undefined) {
    const r: { code?: 301 | 302 | 303 | 307 | 308; port?: number } = fe.redirect === 'https' ? {} : fe.redirect;
    out.redirect = { code: r.code ?? 301 };
    if (r.port !== undefined) out.redirect.port = r.port;
  }
  if (fe.hsts !== undefined) {
    const h = fe.hsts;
    out.hsts = `max-age=${Math.floor(h.max_age / 1000)}${h.include_subdomains === true ? '; includeSubDomains' : ''}${h.preload === true ? '; preload' : ''}`;
  }
  return out;
}

type RuleInput = NonNullable<ParsedFrontend['rules']>[number];

function hostMatch(host: string): StringMatch {
  // Host names compare case-insensitively; the proxy lower-cases the request's Host before matching.
  const h = host.toLowerCase();
  return h.includes('*') ? { kind: 'wildcard', value: h } : { kind: 'exact', value: h };
}

function rule(r: RuleInput, where: string): RouteRule {
  const out: RouteRule = { where, backend: r.backend };
  if (r.host !== undefined) out.host = hostMatch(r.host);
  if (r.host_regex !== undefined) out.host = { kind: 'regex', value: r.host_regex };
  if (r.path !== undefined) out.path = { kind: 'exact', value: r.path };
  if (r.path_prefix !== undefined) out.path = { kind: 'prefix', value: r.path_prefix };
  if (r.path_suffix !== undefined) out.path = { kind: 'suffix', value: r.path_suffix };
  if (r.path_regex !== undefined) out.path = { kind: 'regex', value: r.path_regex };
  const methods = r.methods ?? (r.method !== undefined ? [r.method] : undefined);
  if (methods) out.methods = methods.map((m) => m.toUpperCase());
  if (r.header !== undefined) {
    out.headers = (Array.isArray(r.header) ? r.header : [r.header]).map((h) => ({
      name: h.name.toLowerCase(),
      match:
        h.value !== undefined
          ? { kind: 'exact', value: h.value }
          : h.regex !== undefined
            ? { kind: 'regex', value: h.regex }
            : { kind: 'prefix', value: h.prefix ?? '' },
    }));
  }
  return out;
}

function headerOp(op: NonNullable<ParsedFrontend['http-request']>[number]): HeaderOp {
  if (op['set-header'] !== undefined) return { action: 'set', name: op['set-header'], value: op.value ?? '' };
  if (op['add-header'] !== undefined) return { action: 'add', name: op['add-header'], value: op.value ?? '' };
  return { action: 'del', name: op['del-header'] ?? '' };
}

function backend(
  name: string,
  be: ParsedBackend,
  input: ParsedInput,
  timeouts: Timeouts,
  mode: 'http' | 'tcp',
): BackendConfig {
  const health = be.health ? healthConfig(be.health) : undefined;
  const out: BackendConfig = {
    name,
    mode,
    balance: be.balance ?? { algorithm: 'roundrobin' },
    passive: passiveConfig(be.passive),
    servers: be.servers.map((s) => {
      const server: BackendConfig['servers'][number] = {
        name: s.name,
        host: s.address.host,
        port: s.address.port,
        weight: s.weight ?? DEFAULTS.weight,
        backup: s.backup ?? false,
        disabled: s.disabled ?? false,
        drain: s.drain ?? false,
        check: health !== undefined && (s.check ?? true),
      };
      if (s.maxconn !== undefined) server.maxconn = s.maxconn;
      if (s.maxqueue !== undefined) server.maxqueue = s.maxqueue;
      if (s.send_proxy !== undefined) server.sendProxy = s.send_proxy;
      return server;
    }),
    retries: be.retries ?? input.defaults?.retries ?? DEFAULTS.retries,
    redispatch: be.redispatch ?? input.defaults?.redispatch ?? DEFAULTS.redispatch,
    timeouts: mergeTimeouts(timeouts, be.timeouts),
    stickSource: be.stick === 'source',
    pipeline: be.pipeline ?? 1,
    peerFallback: be.peer_fallback ?? false,
  };
  if (be.peer_fallback_address !== undefined) out.peerFallbackAddress = be.peer_fallback_address;
  if (health) out.health = health;
  if (be.proto !== undefined) out.proto = be.proto;
  if (be.tls !== undefined) {
    const t = be.tls;
    out.tls = { verify: t.verify ?? 'required' };
    if (t.ca_file !== undefined) out.tls.caFile = t.ca_file;
    if (t.sni !== undefined) out.tls.sni = t.sni;
    if (t.alpn !== undefined) out.tls.alpn = t.alpn;
  }
  if (be.cookie !== undefined) {
    const c = typeof be.cookie === 'string' ? { name: be.cookie } : be.cookie;
    out.cookie = {
      name: c.name,
      mode: 'insert',
      httpOnly: ('httponly' in c ? c.httponly : undefined) ?? true,
      secure: ('secure' in c ? c.secure : undefined) ?? false,
    };
  }
  return out;
}

function healthConfig(h: NonNullable<ParsedBackend['health']>): HealthConfig {
  const interval = h.interval ?? DEFAULTS.health.interval;
  // Without an http section the check is a TCP connect, as HAProxy's plain `check`.
  const type: HealthConfig['type'] = h.http !== undefined ? 'http' : h.grpc !== undefined ? 'grpc' : 'tcp';
  const out: HealthConfig = {
    type,
    interval,
    fastinter: h.fastinter ?? interval,
    downinter: h.downinter ?? interval,
    timeout: h.timeout ?? interval,
    rise: h.rise ?? DEFAULTS.health.rise,
    fall: h.fall ?? DEFAULTS.health.fall,
  };
  if (h.grpc) out.grpc = { service: h.grpc.service ?? '' };
  if (h.http) {
    out.http = {
      method: h.http.method ?? DEFAULTS.httpCheck.method,
      path: h.http.path ?? DEFAULTS.httpCheck.path,
      expectStatus: h.http.expect?.status ?? DEFAULTS.httpCheck.expectStatus.map((r) => ({ ...r })),
    };
    if (h.http.host !== undefined) out.http.host = h.http.host;
    if (h.http.expect?.body !== undefined) out.http.expectBody = h.http.expect.body;
  }
  return out;
}

function vrrp(v: NonNullable<ParsedInput['vrrp']>): VrrpConfig {
  const scripts: Record<string, ScriptTrackerConfig> = {};
  for (const [name, s] of Object.entries(v.scripts ?? {})) {
    const interval = s.interval ?? DEFAULTS.script.interval;
    scripts[name] = {
      name,
      script: s.script,
      interval,
      timeout: s.timeout ?? interval,
      rise: s.rise ?? DEFAULTS.script.rise,
      fall: s.fall ?? DEFAULTS.script.fall,
      weight: s.weight ?? DEFAULTS.script.weight,
    };
  }
  return { scripts, instances: Object.entries(v.instances).map(([name, i]) => instance(name, i)) };
}

function instance(name: string, i: ParsedInstance): VrrpInstanceConfig {
  const V = DEFAULTS.vrrp;
  const vips = i.virtual_ipaddress ?? [];
  const family: 4 | 6 =
    vips[0]?.family ?? (i.floating_ip?.ip.includes(':') ? 6 : undefined) ?? (i.unicast?.peers?.[0]?.includes(':') ? 6 : 4);
  const advertInt = i.advert_int ?? V.advertInt;
  const out: VrrpInstanceConfig = {
    name,
    interface: i.interface,
    state: i.state ?? V.state,
    priority: i.priority ?? V.priority,
    virtualRouterId: i.virtual_router_id,
    version: i.version ?? V.version,
    family,
    advertInt,
    preempt: i.nopreempt !== undefined ? !i.nopreempt : (i.preempt ?? V.preempt),
    preemptDelay: i.preempt_delay ?? V.preemptDelay,
    virtualIpAddresses: vips,
    virtualRoutes: i.virtual_routes ?? [],
    track: track(i.track),
    notify: { timeout: i.notify_timeout ?? V.notifyTimeout },
    garp: {
      masterDelay: i.garp_master_delay ?? V.garp.masterDelay,
      masterRepeat: i.garp_master_repeat ?? V.garp.masterRepeat,
      masterRefresh: i.garp_master_refresh ?? V.garp.masterRefresh,
      interval: i.garp_interval ?? V.garp.interval,
    },
    // A stepping-down master waits at most one master-down interval (about 3 adverts) for the new master.
    handoverBound: i.handover_bound ?? 3 * advertInt,
  };
  if (i.unicast) {
    out.unicast = { peers: i.unicast.peers ?? [] };
    if (i.unicast.source !== undefined) out.unicast.source = i.unicast.source;
  }
  if (i.authentication?.type === 'hmac-sha256' && i.authentication.key_file !== undefined) {
    out.authentication = { type: 'hmac-sha256', keyFile: i.authentication.key_file, keyId: i.authentication.key_id ?? 1 };
  } else if (i.authentication?.auth_pass !== undefined) {
    out.authentication = { type: 'PASS', password: i.authentication.auth_pass };
  }
  if (i.notify_master !== undefined) out.notify.master = i.notify_master;
  if (i.notify_backup !== undefined) out.notify.backup = i.notify_backup;
  if (i.notify_fault !== undefined) out.notify.fault = i.notify_fault;
  if (i.notify_stop !== undefined) out.notify.stop = i.notify_stop;
  if (i.notify !== undefined) out.notify.any = i.notify;
  if (i.floating_ip) out.floatingIp = floatingIp(i.floating_ip);
  return out;
}

function track(t: ParsedInstance['track']): TrackConfig {
  const W = DEFAULTS.trackWeight;
  const refs = (r: Record<string, { weight?: number | undefined } | null> | undefined) =>
    Object.fromEntries(Object.entries(r ?? {}).map(([k, v]) => [k, { weight: v?.weight ?? W }]));
  return {
    backends: refs(t?.backends),
    frontends: refs(t?.frontends),
    scripts: (t?.scripts ?? []).map((s) => {
      if (typeof s === 'string') return { name: s };
      return s.weight !== undefined ? { name: s.name, weight: s.weight } : { name: s.name };
    }),
    interfaces: (t?.interfaces ?? []).map((x) =>
      typeof x === 'string' ? { name: x, weight: W } : { name: x.name, weight: x.weight ?? W },
    ),
    files: (t?.files ?? []).map((x) => (typeof x === 'string' ? { path: x, weight: W } : { path: x.path, weight: x.weight ?? W })),
  };
}

function floatingIp(f: NonNullable<ParsedInstance['floating_ip']>): FloatingIpConfig {
  const F = DEFAULTS.floatingIp;
  if (f.provider === 'digitalocean') {
    const out: FloatingIpConfig = {
      provider: 'digitalocean',
      ip: f.ip,
      apiBase: f.api_base ?? F.digitalocean.apiBase,
      metadataBase: f.metadata_base ?? F.digitalocean.metadataBase,
      verifyInterval: f.verify_interval ?? F.verifyInterval,
    };
    if (f.token_env !== undefined) out.tokenEnv = f.token_env;
    if (f.token_file !== undefined) out.tokenFile = f.token_file;
    if (f.droplet_id !== undefined) out.dropletId = f.droplet_id;
    return out;
  }
  const out: FloatingIpConfig = {
    provider: 'hetzner',
    ip: f.ip,
    apiBase: f.api_base ?? F.hetzner.apiBase,
    metadataBase: f.metadata_base ?? F.hetzner.metadataBase,
    verifyInterval: f.verify_interval ?? F.verifyInterval,
  };
  if (f.token_env !== undefined) out.tokenEnv = f.token_env;
  if (f.token_file !== undefined) out.tokenFile = f.token_file;
  if (f.floating_ip_id !== undefined) out.floatingIpId = f.floating_ip_id;
  if (f.server_id !== undefined) out.serverId = f.server_id;
  return out;
}

/** `observe` alone turns passive health on with HAProxy's error-limit default (10). */
function passiveConfig(p: ParsedBackend['passive']): BackendConfig['passive'] {
  if (p === undefined) return { errorLimit: DEFAULTS.passiveErrorLimit };
  const errorLimit = p.error_limit ?? (p.observe !== undefined ? DEFAULTS.observeErrorLimit : DEFAULTS.passiveErrorLimit);
  const out: BackendConfig['passive'] = { errorLimit };
  if (p.observe !== undefined) out.observe = p.observe;
  if (p.on_error !== undefined) out.onError = p.on_error;
  return out;
}
