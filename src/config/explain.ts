// Human-readable account of what a Config does: routing in evaluation order, checks, VRRP.
// Used by `halb validate --explain`; pure (Config in, lines out).

import { formatHostPort } from './address.ts';
import { formatDuration } from './duration.ts';
import type { BackendConfig, Config, FrontendConfig, RouteRule, StringMatch } from './types.ts';

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function summary(config: Config): string {
  const servers = config.backends.reduce((n, b) => n + b.servers.length, 0);
  const parts = [
    plural(config.frontends.length, 'frontend'),
    `${plural(config.backends.length, 'backend')} (${plural(servers, 'server')})`,
  ];
  if (config.vrrp) parts.push(plural(config.vrrp.instances.length, 'vrrp instance'));
  if (config.bgp) parts.push(`bgp AS${config.bgp.asn} (${plural(config.bgp.neighbors.length, 'neighbor')}, ${config.bgp.announce.length} prefix${config.bgp.announce.length === 1 ? '' : 'es'} to announce)`);
  return parts.join(', ');
}

function match(m: StringMatch): string {
  switch (m.kind) {
    case 'exact':
      return m.value;
    case 'prefix':
      return `${m.value}*`;
    case 'suffix':
      return `*${m.value}`;
    case 'wildcard':
      return m.value;
    case 'regex':
      return `~/${m.value}/`;
  }
}

export function describeRule(r: RouteRule): string {
  const conds: string[] = [];
  if (r.host) conds.push(`host ${match(r.host)}`);
  if (r.path) conds.push(`path ${match(r.path)}`);
  if (r.methods) conds.push(`method ${r.methods.join('|')}`);
  for (const h of r.headers ?? []) {
    conds.push(h.match.kind === 'prefix' && h.match.value === '' ? `header ${h.name} present` : `header ${h.name} ${match(h.match)}`);
  }
  return conds.join(' and ');
}

function frontendLines(fe: FrontendConfig): string[] {
  const t = fe.tls;
  const tls =
    t === undefined
      ? ''
      : ` tls (min ${t.minVersion}, ${t.crt.length} crt${t.crtDir !== undefined ? ` + ${t.crtDir}` : ''}${t.verify !== 'none' ? `, client certificates ${t.verify}` : ''})`;
  const h2 = fe.h2 !== undefined && (fe.h2c === true || (t?.alpn.includes('h2') ?? false)) ? fe.h2 : undefined;
  const http2 = h2 === undefined ? '' : ` ${fe.h2c === true ? 'h2c' : 'h2'} (${h2.maxConcurrentStreams} streams, ${h2.maxHeaderListSize} B headers, window ${h2.initialWindowSize}, ${h2.maxResets} resets/10s)`;
  const extra = `${http2}${fe.hsts !== undefined ? ` hsts (${fe.hsts})` : ''}${fe.redirect !== undefined ? ` redirect to https (${fe.redirect.code})` : ''}`;
  const lines = [`frontend ${fe.name} (${fe.mode}) on ${fe.bind.map((b) => formatHostPort(b) + (b.acceptProxy ? ' accept-proxy' : '')).join(', ')}${tls}${extra}`];
  if (fe.redirect !== undefined) return lines;
  const rows = fe.rules.map((r, i) => ({ n: `${i + 1}.`, cond: describeRule(r), backend: r.backend, where: r.where }));
  const width = Math.max(10, ...rows.map((r) => r.n.length + 1 + r.cond.length));
  for (const r of rows) lines.push(`  ${`${r.n} ${r.cond}`.padEnd(width)}  -> ${r.backend}   (${r.where})`);
  lines.push(`  ${'default'.padEnd(width)}  -> ${fe.defaultBackend ?? '(none: 503)'}`);
  return lines;
}

function backendLines(be: BackendConfig): string[] {
  const bal = be.balance.algorithm === 'hdr' ? `hdr(${be.balance.header})` : be.balance.algorithm;
  const h = be.health;
  const check = !h
    ? 'no active check'
    : `${h.type === 'http' && h.http ? `http ${h.http.method} ${h.http.path}` : h.type === 'grpc' ? `grpc health${h.grpc?.service ? ` of ${h.grpc.service}` : ''}` : 'tcp'} check every ${formatDuration(h.interval)} (rise ${h.rise}, fall ${h.fall})`;
  const servers = be.servers.map((s) => {
    const flags = [s.weight !== 1 ? `weight ${s.weight}` : '', s.backup ? 'backup' : '', s.disabled ? 'disabled' : '', s.drain ? 'drain' : '']
      .filter(Boolean)
      .join(', ');
    return `    ${s.name} ${formatHostPort(s)}${flags ? ` (${flags})` : ''}`;
  });
  return [`backend ${be.name} (${be.mode}): ${bal}, ${check}, retries ${be.retries}${be.redispatch ? ' with redispatch' : ''}`, ...servers];
}

export function explain(config: Config): string[] {
  const lines: string[] = [];
  for (const fe of config.frontends) lines.push(...frontendLines(fe));
  for (const be of config.backends) lines.push(...backendLines(be));
  for (const i of config.vrrp?.instances ?? []) {
    const where = i.unicast ? `unicast to ${i.unicast.peers.join(', ')}` : 'multicast';
    const vips = i.virtualIpAddresses.map((v) => `${v.address}/${v.prefix}`).join(', ');
    lines.push(
      `vrrp ${i.name}: VRID ${i.virtualRouterId} on ${i.interface}, v${i.version}, ${i.state} priority ${i.priority}, ` +
        `advert ${formatDuration(i.advertInt)}, ${where}${vips ? `, VIP ${vips}` : ''}` +
        (i.floatingIp ? `, ${i.floatingIp.provider} floating IP ${i.floatingIp.ip}` : ''),
    );
  }
  return lines;
}
