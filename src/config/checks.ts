// Rules that span fields: references between sections, duplicates, bind conflicts, VRRP coherence.
// Runs on the shape-valid, leaf-transformed input so every problem keeps the path the user wrote.

import type { z } from 'zod';
import { isWildcardHost, ipFamily } from './address.ts';
import { formatDuration } from './duration.ts';
import { nearest } from './suggest.ts';
import { resolveBackendModes } from './modes.ts';
import { bgpProblems } from './bgp-checks.ts';
import type { HostPort } from './types.ts';
import type { ParsedInput } from './schema.ts';

export type PathItem = string | number;
export interface Problem {
  path: PathItem[];
  message: string;
}

/** zod superRefine adapter. */
export function checkConfig(input: ParsedInput, ctx: z.RefinementCtx): void {
  for (const p of findProblems(input)) ctx.addIssue({ code: 'custom', path: p.path, message: p.message });
}

function unknownName(kind: string, name: string, known: string[]): string {
  const guess = nearest(name, known);
  if (guess) return `unknown ${kind} "${name}", did you mean "${guess}"?`;
  return known.length > 0
    ? `unknown ${kind} "${name}" (defined: ${known.join(', ')})`
    : `unknown ${kind} "${name}" (none defined)`;
}

export function findProblems(input: ParsedInput): Problem[] {
  const out: Problem[] = [];
  const frontends = input.frontends ?? {};
  const backends = input.backends ?? {};
  const backendNames = Object.keys(backends);
  const frontendNames = Object.keys(frontends);
  const modes = resolveBackendModes(input);
  const defaultMode = input.defaults?.mode ?? 'http';

  // ---- frontends: references, mode coherence ----
  for (const [fname, fe] of Object.entries(frontends)) {
    const base: PathItem[] = ['frontends', fname];
    const mode = fe.mode ?? defaultMode;
    const refs: { path: PathItem[]; backend: string }[] = [];
    if (fe.default_backend !== undefined) refs.push({ path: [...base, 'default_backend'], backend: fe.default_backend });
    (fe.rules ?? []).forEach((r, i) => refs.push({ path: [...base, 'rules', i, 'backend'], backend: r.backend }));
    if (fe.default_backend === undefined && (fe.rules ?? []).length === 0 && fe.redirect === undefined) {
      out.push({ path: base, message: 'frontend needs default_backend or rules' });
    }
    for (const ref of refs) {
      if (!(ref.backend in backends)) {
        out.push({ path: ref.path, message: unknownName('backend', ref.backend, backendNames) });
        continue;
      }
      const resolved = modes.get(ref.backend);
      const bmode = resolved?.mode;
      if (bmode !== undefined && bmode !== mode && !resolved?.conflict) {
        out.push({
          path: ref.path,
          message: `frontend is mode ${mode} but backend "${ref.backend}" is mode ${bmode}`,
        });
      }
    }
    if (fe.redirect !== undefined && fe.tls !== undefined) {
      out.push({ path: [...base, 'redirect'], message: 'redirect: https on a TLS frontend would send clients back to itself: put it on the plain (port 80) frontend' });
    }
    if (fe.redirect !== undefined && mode === 'tcp') out.push({ path: [...base, 'redirect'], message: 'redirect needs mode http' });
    if (fe.hsts !== undefined && mode === 'tcp') out.push({ path: [...base, 'hsts'], message: 'hsts needs mode http' });
    else if (fe.hsts !== undefined && fe.tls === undefined) {
      out.push({ path: [...base, 'hsts'], message: 'hsts needs tls on this frontend (browsers ignore Strict-Transport-Security over plain http)' });
    }
    if (fe.hsts?.preload === true && (fe.hsts.include_subdomains !== true || fe.hsts.max_age < 365 * 86400_000)) {
      out.push({ path: [...base, 'hsts', 'preload'], message: 'hsts preload needs include_subdomains: true and max_age of at least 365d (the preload list refuses less)' });
    }
    if (mode === 'tcp') {
      (fe.rules ?? []).forEach((_, i) =>
        out.push({ path: [...base, 'rules', i], message: 'routing rules need mode http (a tcp frontend only has default_backend)' }),
      );
      for (const k of ['http-request', 'http-response'] as const) {
        if (fe[k] !== undefined && fe[k].length > 0) out.push({ path: [...base, k], message: `${k} needs mode http` });
      }
      if (fe.tls?.client_cert_header !== undefined) {
        out.push({ path: [...base, 'tls', 'client_cert_header'], message: 'client_cert_header needs mode http (a tcp frontend sends the servers bytes, not headers)' });
      }
      if (fe.h2c !== undefined) out.push({ path: [...base, 'h2c'], message: 'h2c needs mode http (a tcp frontend relays bytes, not streams)' });
      if (fe.h2 !== undefined) out.push({ path: [...base, 'h2'], message: 'h2 limits need mode http (a tcp frontend relays bytes, not streams)' });
    } else {
      if (fe.h2c === true && fe.tls !== undefined) {
        out.push({ path: [...base, 'h2c'], message: 'h2c is HTTP/2 on plain binds; a tls frontend offers h2 with tls.alpn: [h2, http/1.1]' });
      }
      const h2On = fe.h2c === true || (fe.tls?.alpn ?? []).includes('h2');
      if (fe.h2 !== undefined && !h2On) {
        out.push({ path: [...base, 'h2'], message: 'h2 limits are read only when the frontend speaks HTTP/2: set h2c: true, or tls.alpn: [h2, http/1.1]' });
      }
    }
  }
  out.push(...acmeProblems(input, defaultMode));
  for (const [bname, m] of modes) {
    const pipeline = backends[bname]?.pipeline;
    if (m.mode === 'tcp' && pipeline !== undefined && pipeline > 1) {
      out.push({ path: ['backends', bname, 'pipeline'], message: 'pipeline needs mode http (a tcp backend relays bytes, not requests)' });
    }
    if (m.mode === 'tcp' && backends[bname]?.proto === 'h2') {
      out.push({ path: ['backends', bname, 'proto'], message: 'proto h2 needs mode http (a tcp backend relays bytes, not streams)' });
    }
    if (m.mode === 'tcp' && backends[bname]?.tls !== undefined) {
      out.push({ path: ['backends', bname, 'tls'], message: 'tls on a tcp backend is not supported yet: use mode http, or pass TLS through' });
    }
    if (m.mode === 'tcp' && backends[bname]?.peer_fallback === true) {
      out.push({ path: ['backends', bname, 'peer_fallback'], message: 'peer_fallback needs mode http (the peer mark is an HTTP header)' });
    }
    if (m.conflict) {
      out.push({
        path: ['backends', bname],
        message: `backend is used by http and tcp frontends (${m.conflict.join(', ')}); set its mode or split it`,
      });
    }
  }

  // ---- binds: the same address:port twice, or a wildcard overlapping a specific address ----
  const binds: { hp: HostPort; path: PathItem[] }[] = [];
  for (const [fname, fe] of Object.entries(frontends)) {
    const list = Array.isArray(fe.bind) ? fe.bind : [fe.bind];
    list.forEach((b, i) => {
      const hp = 'address' in b ? b.address : b;
      binds.push({ hp, path: Array.isArray(fe.bind) ? ['frontends', fname, 'bind', i] : ['frontends', fname, 'bind'] });
    });
  }
  const admin = input.global?.admin;
  if (admin?.listen) binds.push({ hp: admin.listen, path: ['global', 'admin', 'listen'] });
  if (admin) out.push(...adminProblems(admin));
  for (let i = 0; i < binds.length; i++) {
    for (let j = 0; j < i; j++) {
      const a = binds[j] as (typeof binds)[number];
      const b = binds[i] as (typeof binds)[number];
      if (bindsOverlap(a.hp, b.hp)) {
        out.push({
          path: b.path,
          message: `${fmt(b.hp)} conflicts with ${fmt(a.hp)} at ${pathText(a.path)}`,
        });
        break;
      }
    }
  }

  // ---- backends: duplicate server names ----
  for (const [bname, be] of Object.entries(backends)) {
    const seen = new Map<string, number>();
    be.servers.forEach((s, i) => {
      const first = seen.get(s.name);
      if (first !== undefined) {
        out.push({
          path: ['backends', bname, 'servers', i, 'name'],
          message: `duplicate server name "${s.name}" (first at servers[${first}])`,
        });
      } else seen.set(s.name, i);
    });
    if (be.health === undefined && be.servers.some((s) => s.check === true)) {
      const i = be.servers.findIndex((s) => s.check === true);
      out.push({ path: ['backends', bname, 'servers', i, 'check'], message: 'check: true needs a health section in the backend' });
    }
  }

  // ---- vrrp ----
  if (input.vrrp) out.push(...vrrpProblems(input, frontendNames, backendNames));
  if (input.bgp) out.push(...bgpProblems(input, input.bgp, frontendNames, backendNames));
  return out;
}

function vrrpProblems(input: ParsedInput, frontendNames: string[], backendNames: string[]): Problem[] {
  const out: Problem[] = [];
  const vrrp = input.vrrp as NonNullable<ParsedInput['vrrp']>;
  const scriptNames = Object.keys(vrrp.scripts ?? {});
  const vrids = new Map<string, string>();
  for (const [iname, inst] of Object.entries(vrrp.instances)) {
    const base: PathItem[] = ['vrrp', 'instances', iname];
    const version = inst.version ?? 3;
    const state = inst.state ?? 'BACKUP';

    // A notify_master/notify hook may be what moves the address (keepalived + master.sh in a cloud).
    if (inst.virtual_ipaddress === undefined && inst.floating_ip === undefined && inst.notify_master === undefined && inst.notify === undefined) {
      out.push({ path: base, message: 'instance needs virtual_ipaddress, floating_ip, or a notify_master/notify hook that moves the address' });
    }

    // Address family: the first VIP decides; everything else must match it.
    const vips = inst.virtual_ipaddress ?? [];
    const family = vips[0]?.family ?? (inst.floating_ip ? ipFamily(inst.floating_ip.ip) : 0) ?? 0;
    const famName = (f: number) => (f === 6 ? 'IPv6' : 'IPv4');
    vips.forEach((v, i) => {
      if (i > 0 && v.family !== family) {
        out.push({
          path: [...base, 'virtual_ipaddress', i],
          message: `${famName(v.family)} address ${v.address} in an ${famName(family)} instance (virtual_ipaddress[0] is ${famName(family)}); use a separate instance per family`,
        });
      }
    });
    if (family === 6 && version === 2) {
      out.push({ path: [...base, 'version'], message: 'IPv6 needs VRRP version 3 (VRRPv2 is IPv4 only)' });
    }

    if (inst.unicast) {
      const peers = inst.unicast.peers ?? [];
      if (peers.length === 0) {
        out.push({
          path: inst.unicast.peers === undefined ? [...base, 'unicast'] : [...base, 'unicast', 'peers'],
          message: 'unicast needs at least one address in peers (omit unicast for multicast)',
        });
      }
      const uniFamily = family || ipFamily(inst.unicast.source ?? peers[0] ?? '');
      peers.forEach((p, i) => {
        if (uniFamily !== 0 && ipFamily(p) !== uniFamily) {
          out.push({
            path: [...base, 'unicast', 'peers', i],
            message: `peer ${p} is ${famName(ipFamily(p))} but the instance is ${famName(uniFamily)}`,
          });
        }
      });
      if (inst.unicast.source !== undefined && uniFamily !== 0 && ipFamily(inst.unicast.source) !== uniFamily) {
        out.push({
          path: [...base, 'unicast', 'source'],
          message: `source ${inst.unicast.source} is ${famName(ipFamily(inst.unicast.source))} but the instance is ${famName(uniFamily)}`,
        });
      }
    }

    if (inst.advert_int !== undefined) {
      const ms = inst.advert_int;
      if (version === 2 && (ms % 1000 !== 0 || ms < 1000 || ms > 255_000)) {
        out.push({
          path: [...base, 'advert_int'],
          message: `VRRPv2 advert_int must be whole seconds 1s..255s, got ${formatDuration(ms)} (sub-second needs version: 3)`,
        });
      } else if (version === 3 && (ms % 10 !== 0 || ms < 10 || ms > 40_950)) {
        out.push({
          path: [...base, 'advert_int'],
          message: `VRRPv3 advert_int must be a multiple of 10ms within 10ms..40.95s, got ${formatDuration(ms)}`,
        });
      }
    }

    if (inst.priority === 255 && state !== 'MASTER') {
      out.push({
        path: [...base, 'priority'],
        message: 'priority 255 means address owner; it needs state: MASTER (use 1..254 for a backup)',
      });
    }
    if (inst.priority === 255 && inst.nopreempt === true) {
      out.push({ path: [...base, 'nopreempt'], message: 'an address owner (priority 255) always preempts; drop nopreempt' });
    }
    if (inst.preempt !== undefined && inst.nopreempt !== undefined && inst.preempt === inst.nopreempt) {
      out.push({ path: [...base, 'nopreempt'], message: `preempt: ${inst.preempt} contradicts nopreempt: ${inst.nopreempt}; keep one` });
    }
    if (inst.preempt_delay !== undefined && inst.preempt_delay > 1_000_000) {
      out.push({ path: [...base, 'preempt_delay'], message: `preempt_delay must be at most 1000s, got ${formatDuration(inst.preempt_delay)}` });
    }
    const auth = inst.authentication;
    const hmac = auth?.type !== undefined || auth?.key_file !== undefined || auth?.key_id !== undefined;
    const pass = auth?.auth_type !== undefined || auth?.auth_pass !== undefined;
    if (auth && hmac && pass) {
      out.push({
        path: [...base, 'authentication'],
        message: 'choose one: auth_type/auth_pass (keepalived PASS) or type: hmac-sha256 with key_file, not both',
      });
    } else if (auth && hmac) {
      if (auth.type === undefined) out.push({ path: [...base, 'authentication'], message: 'missing required key "type" (hmac-sha256)' });
      if (auth.key_file === undefined) {
        out.push({ path: [...base, 'authentication'], message: 'type hmac-sha256 needs key_file (a file with the shared secret, e.g. openssl rand -hex 32)' });
      }
    } else if (auth) {
      if (auth.auth_type === undefined) out.push({ path: [...base, 'authentication'], message: 'missing required key "auth_type" (PASS), or use type: hmac-sha256' });
      if (auth.auth_pass === undefined) out.push({ path: [...base, 'authentication'], message: 'auth_type PASS needs auth_pass' });
      if (version === 3) {
        out.push({
          path: [...base, 'authentication'],
          message: 'auth_type PASS exists only in VRRPv2 (RFC 5798 removed it); set version: 2, or use type: hmac-sha256 (v2 and v3)',
        });
      }
    }

    const vridKey = `${inst.interface}/${family || 4}/${inst.virtual_router_id}`;
    const other = vrids.get(vridKey);
    if (other !== undefined) {
      out.push({
        path: [...base, 'virtual_router_id'],
        message: `virtual_router_id ${inst.virtual_router_id} on ${inst.interface} is already used by instance "${other}"`,
      });
    } else vrids.set(vridKey, iname);

    const t = inst.track;
    if (t) {
      for (const b of Object.keys(t.backends ?? {})) {
        if (!backendNames.includes(b)) out.push({ path: [...base, 'track', 'backends', b], message: unknownName('backend', b, backendNames) });
      }
      for (const f of Object.keys(t.frontends ?? {})) {
        if (!frontendNames.includes(f)) out.push({ path: [...base, 'track', 'frontends', f], message: unknownName('frontend', f, frontendNames) });
      }
      (t.scripts ?? []).forEach((s, i) => {
        const name = typeof s === 'string' ? s : s.name;
        if (!scriptNames.includes(name)) {
          out.push({
            path: typeof s === 'string' ? [...base, 'track', 'scripts', i] : [...base, 'track', 'scripts', i, 'name'],
            message: unknownName('script (vrrp.scripts)', name, scriptNames),
          });
        }
      });
    }

    const fip = inst.floating_ip;
    if (fip) {
      const fbase = [...base, 'floating_ip'];
      if (fip.token_env === undefined && fip.token_file === undefined) {
        out.push({ path: fbase, message: 'floating_ip needs an API token source: token_env or token_file' });
      } else if (fip.token_env !== undefined && fip.token_file !== undefined) {
        out.push({ path: [...fbase, 'token_file'], message: 'use either token_env or token_file, not both' });
      }
      if (fip.provider === 'digitalocean' && ipFamily(fip.ip) !== 4) {
        out.push({ path: [...fbase, 'ip'], message: `DigitalOcean reserved IPs are IPv4, got ${fip.ip}` });
      }
      if (!inst.unicast) {
        out.push({ path: fbase, message: 'floating_ip needs unicast (cloud networks do not carry VRRP multicast)' });
      }
    }
  }
  return out;
}

function fmt(hp: HostPort): string {
  return ipFamily(hp.host) === 6 ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`;
}

function bindsOverlap(a: HostPort, b: HostPort): boolean {
  if (a.port !== b.port) return false;
  if (a.host === b.host) return true;
  // "::" is dual-stack on Linux by default, so it overlaps IPv4 too.
  if (a.host === '::' || b.host === '::') return true;
  if (isWildcardHost(a.host) && ipFamily(b.host) !== 6) return true;
  if (isWildcardHost(b.host) && ipFamily(a.host) !== 6) return true;
  return false;
}

/** ["backends","web","servers",1,"weight"] -> "backends.web.servers[1].weight" */
export function pathText(path: readonly PropertyKey[]): string {
  let s = '';
  for (const p of path) {
    if (typeof p === 'number') s += `[${p}]`;
    else {
      const key = String(p);
      s += /^[A-Za-z0-9_-]+$/.test(key) ? (s === '' ? key : `.${key}`) : `[${JSON.stringify(key)}]`;
    }
  }
  return s;
}

type AdminInput = NonNullable<NonNullable<ParsedInput['global']>['admin']>;

/**
 * The admin API can drain servers, reload and hand the VIP over. The unix socket is guarded by
 * its file permissions; a TCP listener must say who may use it (token or client certificate), and
 * one other hosts can reach must have one of them even for read-only views.
 */
function adminProblems(a: AdminInput): Problem[] {
  const out: Problem[] = [];
  const at = (key: string): PathItem[] => ['global', 'admin', key];
  if (a.socket === undefined && a.listen === undefined) {
    out.push({ path: ['global', 'admin'], message: 'admin needs socket (e.g. /run/halb/admin.sock, the local channel `halb status` uses) and/or listen (TCP, with token_file, token_env or tls.ca_file)' });
  }
  if (a.socket !== undefined && !a.socket.startsWith('/')) {
    out.push({ path: at('socket'), message: `socket must be an absolute path, got ${JSON.stringify(a.socket)}` });
  }
  if (a.socket === undefined) {
    for (const key of ['mode', 'user', 'group'] as const) {
      if (a[key] !== undefined) out.push({ path: at(key), message: `${key} is a property of the unix socket: set socket too` });
    }
  }
  if (a.token_file !== undefined && a.token_env !== undefined) {
    out.push({ path: at('token_env'), message: 'give token_file or token_env, not both' });
  }
  if (a.tls?.verify !== undefined && a.tls.ca_file === undefined) {
    out.push({ path: ['global', 'admin', 'tls', 'verify'], message: 'verify checks client certificates against tls.ca_file: set ca_file' });
  }
  if (a.listen === undefined) {
    for (const key of ['token_file', 'token_env', 'tls', 'read_only_open'] as const) {
      if (a[key] !== undefined) out.push({ path: at(key), message: `${key} is a property of the TCP listener: set listen too (the unix socket is guarded by its file mode)` });
    }
    return out;
  }
  const auth = a.token_file !== undefined || a.token_env !== undefined || a.tls?.ca_file !== undefined;
  if (!auth && !isLoopbackHost(a.listen.host)) {
    out.push({
      path: at('listen'),
      message: `admin listener ${fmt(a.listen)} is reachable from other hosts without authentication (anyone could read the status, drain servers, reload, force a handover): add token_file, token_env or tls.ca_file (mTLS), or listen on 127.0.0.1 or [::1]`,
    });
  } else if (!auth && a.read_only_open !== true) {
    out.push({
      path: at('listen'),
      message: `admin listener ${fmt(a.listen)} has no token_file, token_env or tls.ca_file, so it would answer nothing: add one, or read_only_open: true for status, metrics and the dashboard only (state changes then go through socket)`,
    });
  }
  return out;
}

/** 127.0.0.0/8, ::1, localhost: addresses only this host can connect to. */
function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === '::ffff:127.0.0.1';
}

/** http-01 is answered by a plain http frontend on the port the CA connects to (80 unless
 *  acme.http_port says otherwise); without one the CA's request would meet nothing. */
function acmeProblems(input: ParsedInput, defaultMode: string): Problem[] {
  const out: Problem[] = [];
  const frontends = input.frontends ?? {};
  const unicastPeers = Object.values(input.vrrp?.instances ?? {}).some((i) => (i.unicast?.peers?.length ?? 0) > 0);
  for (const [fname, fe] of Object.entries(frontends)) {
    const acme = fe.tls?.acme;
    if (acme === undefined) continue;
    const path: PathItem[] = ['frontends', fname, 'tls', 'acme'];
    if (acme.peer_key_file !== undefined && acme.peers === undefined && !unicastPeers) {
      out.push({ path: [...path, 'peer_key_file'], message: 'the certificate hand-over needs peers: set acme.peers, or use VRRP unicast (its peers are the default)' });
    }
    if ((acme.challenge ?? 'http-01') !== 'http-01') continue;
    const port = acme.http_port ?? 80;
    const answering = Object.values(frontends).some(
      (other) =>
        (other.mode ?? defaultMode) === 'http' &&
        other.tls === undefined &&
        (Array.isArray(other.bind) ? other.bind : [other.bind]).some((b) => ('address' in b ? b.address.port : b.port) === port),
    );
    if (!answering) {
      out.push({
        path: acme.http_port !== undefined ? [...path, 'http_port'] : acme.challenge !== undefined ? [...path, 'challenge'] : path,
        message: `challenge http-01 needs a plain (no tls) http frontend bound to port ${port}, where the CA asks for /.well-known/acme-challenge/: add one, set acme.http_port to the port of one, or use challenge: tls-alpn-01`,
      });
    }
  }
  return out;
}
