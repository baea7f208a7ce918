// The validated, normalised configuration every other layer consumes.
// The YAML schema (schema.ts) parses user input and transforms it into these shapes:
// durations are milliseconds, addresses are split into host and port, defaults are filled in.
// Nothing here is runtime state: health, connection counts and VRRP state live elsewhere.

export type Millis = number;

export interface HostPort {
  host: string;
  port: number;
}

export interface Timeouts {
  connect: Millis;
  client: Millis;
  server: Millis;
  /** Whole request head must arrive within this (slowloris guard). HAProxy: timeout http-request. */
  httpRequest: Millis;
  /** Idle time allowed between keep-alive requests from a client. */
  httpKeepAlive: Millis;
  /** Longest a request waits for a server slot when every server is at maxconn. */
  queue: Millis;
  /** Idle timeout of a tunnel (TCP mode, WebSocket/Upgrade). */
  tunnel: Millis;
}

export interface GlobalConfig {
  workers: number | 'auto';
  admin?: AdminConfig;
  log: { level: 'trace' | 'debug' | 'info' | 'warn' | 'error'; format: 'auto' | 'json' | 'pretty'; access: boolean };
  /** SIGTERM: how long in-flight requests get to finish. */
  grace: Millis;
  /** Largest request head (request line + headers) accepted; over it the client gets 431. */
  maxHeaderBytes: number;
  /** TLS session ticket key lifetime: the primary makes a new one this often. */
  ticketKeyRotation: Millis;
}

/**
 * The admin API's channels. The unix socket is trusted by its file permissions; the TCP
 * listener needs a bearer token or a client certificate for every state-changing call.
 */
export interface AdminConfig {
  socket?: { path: string; mode: number; user?: string | number; group?: string | number };
  listen?: HostPort;
  /** Where the TCP listener's bearer token is read from (the token itself is never in the config). */
  token?: { file: string } | { env: string };
  /** HTTPS on the TCP listener; with caFile, client certificates (mTLS). */
  tls?: { certFile: string; keyFile: string; caFile?: string; verify: 'required' | 'optional' };
  /** TCP listener: GET status, metrics and dashboard need no token or certificate. */
  readOnlyOpen: boolean;
}

export interface BindConfig extends HostPort {
  acceptProxy: boolean;
}

export type HeaderOp =
  | { action: 'set'; name: string; value: string }
  | { action: 'add'; name: string; value: string }
  | { action: 'del'; name: string };

export type StringMatch =
  | { kind: 'exact'; value: string }
  | { kind: 'prefix'; value: string }
  | { kind: 'suffix'; value: string }
  | { kind: 'wildcard'; value: string }
  | { kind: 'regex'; value: string };

export interface RouteRule {
  /** Shown in `halb validate --explain` and errors, e.g. "frontends.web.rules[2]". */
  where: string;
  host?: StringMatch;
  path?: StringMatch;
  methods?: string[];
  headers?: { name: string; match: StringMatch }[];
  backend: string;
}

export interface FrontendConfig {
  name: string;
  bind: BindConfig[];
  mode: 'http' | 'tcp';
  defaultBackend?: string;
  rules: RouteRule[];
  forwardfor: boolean;
  /** RFC 7239 Forwarded header in addition to X-Forwarded-*. */
  forwarded: boolean;
  requestHeaders: HeaderOp[];
  responseHeaders: HeaderOp[];
  timeouts: Timeouts;
  maxconn?: number;
  /** TLS termination on every bind of this (http) frontend. */
  tls?: FrontendTlsConfig;
  /** A plain frontend that sends every request to https instead of a server. */
  redirect?: { code: 301 | 302 | 303 | 307 | 308; port?: number };
  /** The Strict-Transport-Security value a TLS frontend adds to responses. */
  hsts?: string;
  /** HTTP/2 with prior knowledge on plain binds (a connection opening with the h2 preface). */
  h2c?: boolean;
  /** Limits of HTTP/2 client connections (alpn h2 or h2c); DEFAULTS.h2 when absent. */
  h2?: H2Limits;
}

export interface H2Limits {
  maxConcurrentStreams: number;
  maxHeaderListSize: number;
  initialWindowSize: number;
  /** Client RST_STREAMs per connection within 10 s before GOAWAY ENHANCE_YOUR_CALM. */
  maxResets: number;
}

export interface FrontendTlsConfig {
  /** PEM files (chain + key), in config order; the first certificate found is the default. */
  crt: string[];
  /** Directory whose *.pem files follow crt, in name order. */
  crtDir?: string;
  minVersion: 'TLSv1.2' | 'TLSv1.3';
  alpn: string[];
  ciphers?: string;
  /** false: no session tickets, so no resumption (every handshake is a full one). */
  tickets?: boolean;
  /** Client certificates (mTLS): none, or checked against caFile. */
  verify: 'none' | 'optional' | 'required';
  caFile?: string;
  /** Where the client certificate's subject and verification go in requests to servers. */
  clientCertHeader: { dn: string; verify: string };
  /** Certificates obtained from an ACME CA; served before crt, or fallbackCrt while none is held. */
  acme?: AcmeConfig;
}

export interface AcmeConfig {
  email: string;
  directory: string;
  domains: string[];
  challenge: 'http-01' | 'tls-alpn-01';
  /** The port of the plain http frontend that answers http-01. */
  httpPort: number;
  /** Account key and certificates live here. */
  storage: string;
  renewBefore: Millis;
  /** Failed orders are retried after retryMin, doubling to retryMax. */
  retryMin: Millis;
  retryMax: Millis;
  /** Derived from storage: the ACME account's key, and the certificate as a crt PEM (chain + key). */
  accountKeyFile: string;
  certFile: string;
  caFile?: string;
  fallbackCrt?: string;
  /** Shared HMAC key of the hand-over to peers; without it certificates are not handed over. */
  peerKeyFile?: string;
  /** Peer addresses of the hand-over; default: the VRRP instances' unicast peers. */
  peers?: string[];
  /** Address of the hand-over listener; default: the VRRP unicast source, else every address. */
  peerListen?: string;
  peerPort: number;
}

export type BalanceConfig =
  | { algorithm: 'roundrobin' }
  | { algorithm: 'leastconn' }
  | { algorithm: 'first' }
  | { algorithm: 'random' }
  | { algorithm: 'source' }
  | { algorithm: 'uri' }
  | { algorithm: 'hdr'; header: string };

export interface StatusRange {
  from: number;
  to: number;
}

export interface HealthConfig {
  type: 'tcp' | 'http' | 'grpc';
  /** grpc.health.v1.Health/Check: `service` "" asks about the whole server. */
  grpc?: { service: string };
  http?: {
    method: string;
    path: string;
    host?: string;
    expectStatus: StatusRange[];
    expectBody?: string;
  };
  interval: Millis;
  /** Interval while a server is transitioning (between up and down). HAProxy: fastinter. */
  fastinter: Millis;
  /** Interval while a server is fully down. HAProxy: downinter. */
  downinter: Millis;
  timeout: Millis;
  rise: number;
  fall: number;
}

/** HAProxy's `on-error`: what reaching error-limit on live traffic does to the server's check. */
export type OnError = 'fastinter' | 'fail-check' | 'sudden-death' | 'mark-down';

export interface PassiveHealthConfig {
  /** Consecutive proxy errors (connect failure, reset, 5xx from timeouts) that mark a server down; 0 disables. */
  errorLimit: number;
  /**
   * HAProxy's `observe`: layer4 counts failed connects (refused, unreachable, connect timeout);
   * layer7 counts those and failed exchanges (reset, invalid response, response timeout). Absent: as layer7.
   */
  observe?: 'layer4' | 'layer7';
  /** Absent: mark-down. Other modes act through the active check, so they need one. */
  onError?: OnError;
}

export interface ServerConfig {
  name: string;
  host: string;
  port: number;
  weight: number;
  backup: boolean;
  maxconn?: number;
  /** Longest queue for this server when at maxconn; beyond it the request goes elsewhere or gets 503. */
  maxqueue?: number;
  disabled: boolean;
  drain: boolean;
  sendProxy?: 'v1' | 'v2';
  /** Run active checks on this server (HAProxy's `check`); default true when the backend has health. */
  check: boolean;
}

export interface CookiePersistence {
  name: string;
  /** insert: halb sets the cookie; the value is the server name. */
  mode: 'insert';
  httpOnly: boolean;
  secure: boolean;
}

/** Connections to a backend's servers over TLS (HAProxy's server `ssl verify ... ca-file ... sni ...`). */
export interface BackendTlsConfig {
  /** required: the certificate must chain to caFile (system CAs without it) and name the server. */
  verify: 'required' | 'none';
  caFile?: string;
  /** Server name sent and verified; default the server's host when it is a name. */
  sni?: string;
  alpn?: string[];
}

export interface BackendConfig {
  name: string;
  mode: 'http' | 'tcp';
  /** What halb speaks to the servers: HTTP/1.1 (absent), or HTTP/2 (h2c, or h2 over tls). */
  proto?: 'h1' | 'h2';
  tls?: BackendTlsConfig;
  balance: BalanceConfig;
  health?: HealthConfig;
  passive: PassiveHealthConfig;
  servers: ServerConfig[];
  retries: number;
  redispatch: boolean;
  timeouts: Timeouts;
  cookie?: CookiePersistence;
  stickSource: boolean;
  /** Up to this many GET/HEAD requests that arrive together go to a server on one connection, in
   *  one send (HTTP/1.1 pipelining); 1: one request per connection at a time. */
  pipeline: number;
  /** With no own server usable, send requests to the peer halb node (issue 12; src/pool/peer-fallback.ts). */
  peerFallback: boolean;
  /** The peer's real address; default: the VRRP instance's single unicast peer. */
  peerFallbackAddress?: string;
}

// ---- VRRP ----

export type VrrpState = 'MASTER' | 'BACKUP';

export interface VirtualAddress {
  /** "172.16.0.200" or "fd00::200" */
  address: string;
  family: 4 | 6;
  prefix: number;
  device?: string;
}

export interface VirtualRoute {
  to: string;
  via?: string;
  device?: string;
}

export interface ScriptTrackerConfig {
  name: string;
  script: string;
  interval: Millis;
  timeout: Millis;
  rise: number;
  fall: number;
  /** Priority change while the script fails (negative) or succeeds (positive); 0 means fault on failure. */
  weight: number;
}

export interface TrackRef {
  /** 0 means: go to FAULT instead of changing priority. */
  weight: number;
}

export interface TrackConfig {
  /** In-process: every server of the backend is down -> apply weight. */
  backends: Record<string, TrackRef>;
  /** In-process: a frontend cannot listen -> apply weight. */
  frontends: Record<string, TrackRef>;
  scripts: { name: string; weight?: number }[];
  interfaces: { name: string; weight: number }[];
  files: { path: string; weight: number }[];
}

export interface NotifyConfig {
  master?: string;
  backup?: string;
  fault?: string;
  stop?: string;
  /** Called for every transition with keepalived's arguments. */
  any?: string;
  timeout: Millis;
}

export type FloatingIpConfig =
  | {
      provider: 'digitalocean';
      ip: string;
      tokenEnv?: string;
      tokenFile?: string;
      dropletId?: number;
      apiBase: string;
      metadataBase: string;
      verifyInterval: Millis;
    }
  | {
      provider: 'hetzner';
      ip: string;
      floatingIpId?: number;
      tokenEnv?: string;
      tokenFile?: string;
      serverId?: number;
      apiBase: string;
      metadataBase: string;
      verifyInterval: Millis;
    };

export interface VrrpInstanceConfig {
  name: string;
  interface: string;
  state: VrrpState;
  priority: number;
  virtualRouterId: number;
  version: 2 | 3;
  family: 4 | 6;
  advertInt: Millis;
  preempt: boolean;
  preemptDelay: Millis;
  unicast?: { source?: string; peers: string[] };
  /** PASS: keepalived's plaintext password (v2). hmac-sha256: halb's signed adverts (docs/vrrp-hmac.md). */
  authentication?: { type: 'PASS'; password: string } | { type: 'hmac-sha256'; keyFile: string; keyId: number };
  virtualIpAddresses: VirtualAddress[];
  virtualRoutes: VirtualRoute[];
  track: TrackConfig;
  notify: NotifyConfig;
  floatingIp?: FloatingIpConfig;
  garp: { masterDelay: Millis; masterRepeat: number; masterRefresh: Millis; interval: Millis };
  /** Handover: longest a stepping-down master keeps the VIP waiting for the new master's advert. */
  handoverBound: Millis;
}

export interface VrrpConfig {
  scripts: Record<string, ScriptTrackerConfig>;
  instances: VrrpInstanceConfig[];
}

export interface Config {
  /** File the config came from, for messages; "<demo>" for the embedded default. */
  source: string;
  /** The `nodes:` entry this config is the view of, when the file has one. */
  node?: string;
  global: GlobalConfig;
  frontends: FrontendConfig[];
  backends: BackendConfig[];
  vrrp?: VrrpConfig;
  bgp?: BgpConfig;
}

/** A BGP neighbor (the upstream router) this node peers with. */
export interface BgpNeighborConfig {
  address: string;
  asn: number;
  /** TCP-MD5 password file (read when the daemon is configured, never logged). */
  passwordFile?: string;
  bfd: boolean;
  /** Seconds as BGP counts them: hold 0 (no keepalives) or 3..65535, keepalive below hold / 3. */
  holdTimeSeconds: number;
  keepaliveSeconds: number;
}

export interface BgpAnnounceConfig {
  address: string;
  prefixLength: 32 | 128;
  family: 4 | 6;
  communities: string[];
  med?: number;
  localPref?: number;
  /** Announced only while these frontends listen and these backends have a usable server. */
  trackFrontends: string[];
  trackBackends: string[];
}

export interface BgpConfig {
  asn: number;
  routerId: string;
  daemon: 'frr';
  frrDir: string;
  neighbors: BgpNeighborConfig[];
  bfd: { detectMultiplier: number; receiveIntervalMs: Millis; transmitIntervalMs: Millis };
  announce: BgpAnnounceConfig[];
  /** Planned stop: after withdrawing, keep serving this long. */
  drainMs: Millis;
  /** The other halb nodes announcing the same prefixes (flow hand-off after ECMP changes). */
  peers: string[];
}
