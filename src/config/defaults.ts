// Built-in defaults, chosen to match what HAProxy and keepalived users expect. Where halb differs
// from them the reason is written next to the value. Every value is in milliseconds or a count.

import type { Timeouts } from './types.ts';

/** HAProxy has no built-in timeouts (it warns); these are the values of its example configs. */
export const DEFAULT_TIMEOUTS: Timeouts = {
  connect: 5_000,
  client: 30_000,
  server: 30_000,
  httpRequest: 10_000,
  httpKeepAlive: 10_000,
  queue: 5_000,
  tunnel: 3_600_000,
};

export const DEFAULTS = {
  workers: 1,
  // BGP: FRR's daemons as Debian installs them; hold 9 s / keepalive 3 s (BFD detects faster);
  // BFD 300 ms x 3 = 900 ms detection; a planned stop serves 5 s after its withdraw.
  frrDir: '/usr/lib/frr',
  bgpHoldSeconds: 9,
  bfdDetectMultiplier: 3,
  bfdIntervalMs: 300,
  bgpDrainMs: 5000,
  logLevel: 'info',
  logFormat: 'auto',
  accessLog: true,
  grace: 10_000,
  /** TLS session ticket keys: a new one every 12 h, the previous kept, so a ticket opens for 12-24 h
   *  (clients hold them for node's 300 s session timeout anyway). */
  ticketKeyRotation: 12 * 3600_000,
  /** The admin socket: owner and group read/write (HAProxy's stats socket is usually `mode 660`). */
  adminSocketMode: 0o660,
  /** Node's own default header limit (16 KiB), and HAProxy's tune.bufsize. */
  maxHeaderBytes: 16_384,
  retries: 3,
  /** HAProxy needs `option redispatch`; halb's point is failing over, so a retry may change server. */
  redispatch: true,
  forwardfor: false,
  /** HTTP/2 to clients: HAProxy's tune.h2.max-concurrent-streams (100) and the RFC 9113 initial
   *  window; a 64 KiB header list (HAProxy's bufsize bounds it near 16 KiB, browsers send ~2 KiB);
   *  200 client resets in 10 s is far above what a browser cancelling navigations sends and far
   *  below a rapid-reset flood (CVE-2023-44487: thousands per second). */
  h2: { maxConcurrentStreams: 100, maxHeaderListSize: 65_536, initialWindowSize: 65_535, maxResets: 200 },
  /** HAProxy: inter 2s, rise 2, fall 3; fastinter/downinter default to inter; timeout check to inter. */
  health: { interval: 2_000, rise: 2, fall: 3 },
  httpCheck: { method: 'GET', path: '/', expectStatus: [{ from: 200, to: 399 }] },
  /** HAProxy only observes traffic with `observe layer4`; off unless asked. */
  passiveErrorLimit: 0,
  /** HAProxy's error-limit default once `observe` is set. */
  observeErrorLimit: 10,
  weight: 1,
  /** keepalived: vrrp_script interval 1s, rise 1, fall 1, weight 0 (failure -> FAULT), timeout = interval. */
  script: { interval: 1_000, rise: 1, fall: 1, weight: 0 },
  /** keepalived: state BACKUP, priority 100, advert_int 1s, preempt on, preempt_delay 0. */
  vrrp: {
    state: 'BACKUP',
    priority: 100,
    advertInt: 1_000,
    preempt: true,
    preemptDelay: 0,
    /**
     * keepalived defaults to VRRPv2; halb defaults to v3 (RFC 9568), which carries IPv6 and
     * sub-second adverts. Set version: 2 (as `halb import` does) to talk to a default keepalived.
     */
    version: 3,
    /** keepalived: garp_master_delay 5s, garp_master_repeat 5, garp_master_refresh 0 (off), garp_interval 0. */
    garp: { masterDelay: 5_000, masterRepeat: 5, masterRefresh: 0, interval: 0 },
    /** keepalived has no notify timeout of its own (script_timeout is per-script); 30s bounds a hung hook. */
    notifyTimeout: 30_000,
  },
  /** keepalived: a tracked interface without weight puts the instance in FAULT; the same for backends/frontends. */
  trackWeight: 0,
  floatingIp: {
    digitalocean: { apiBase: 'https://api.digitalocean.com', metadataBase: 'http://169.254.169.254/metadata/v1' },
    hetzner: { apiBase: 'https://api.hetzner.cloud/v1', metadataBase: 'http://169.254.169.254/hetzner/v1/metadata' },
    verifyInterval: 30_000,
  },
} as const;
