// haproxy.cfg -> the halb YAML shape (as a plain object, input side). Covers the common directives;
// anything else becomes a warning naming its line, never a silent drop.

import type { ConfigInput } from './schema.ts';
import { formatDuration, parseDuration } from './duration.ts';

export interface ImportWarning {
  file: string;
  line: number;
  message: string;
}

type Obj = Record<string, unknown>;

interface Section {
  kind: 'global' | 'defaults' | 'frontend' | 'backend' | 'listen';
  name: string;
  line: number;
  lines: { words: string[]; line: number }[];
}

/** HAProxy's own word splitting: whitespace separates, quotes group, backslash escapes, # starts a comment. */
export function splitHaproxyLine(text: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quote) {
      if (ch === quote) quote = undefined;
      else if (ch === '\\' && quote === '"' && i + 1 < text.length) cur += text[++i];
      else cur += ch;
      continue;
    }
    if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (ch === '\\' && i + 1 < text.length) {
      cur += text[++i];
      inWord = true;
    } else if (ch === '#') {
      break;
    } else if (ch === ' ' || ch === '\t') {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(cur);
  return words;
}

function sections(text: string): Section[] {
  const out: Section[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const words = splitHaproxyLine(raw);
    if (words.length === 0) return;
    const head = words[0] as string;
    if (['global', 'defaults', 'frontend', 'backend', 'listen'].includes(head)) {
      out.push({ kind: head as Section['kind'], name: words[1] ?? '', line: i + 1, lines: [] });
    } else {
      out.at(-1)?.lines.push({ words, line: i + 1 });
    }
  });
  return out;
}

/** HAProxy times are milliseconds when bare; halb writes them with a unit. */
function hTime(word: string | undefined): string | undefined {
  if (word === undefined) return undefined;
  try {
    return formatDuration(parseDuration(word, { bareUnit: 'ms' }));
  } catch {
    return undefined;
  }
}

const TIMEOUT_KEYS: Record<string, string> = {
  connect: 'connect',
  client: 'client',
  server: 'server',
  'http-request': 'http-request',
  'http-keep-alive': 'http-keep-alive',
  queue: 'queue',
  tunnel: 'tunnel',
};

interface Acl {
  rule: Obj;
}

/** A single-fetch HAProxy ACL as a halb rule condition; undefined when it has no equivalent. */
function aclCondition(words: string[]): Obj | undefined {
  const [fetch, ...rest] = words;
  const flags = rest.filter((w) => w.startsWith('-'));
  const values = rest.filter((w) => !w.startsWith('-'));
  if (values.length !== 1 || flags.some((f) => f !== '-i')) return undefined;
  const v = values[0] as string;
  switch (fetch) {
    case 'path':
      return { path: v };
    case 'path_beg':
      return { path_prefix: v };
    case 'path_end':
      return { path_suffix: v };
    case 'path_reg':
      return { path_regex: v };
    case 'method':
      return { method: v.toUpperCase() };
    case 'hdr(host)':
    case 'req.hdr(host)':
      return { host: v };
    case 'hdr_end(host)':
    case 'hdr_dom(host)':
      return { host: v.startsWith('.') ? `*${v}` : `*.${v}` };
    case 'hdr_reg(host)':
      return { host_regex: v };
  }
  const hdr = /^(?:req\.)?hdr(_beg|_reg)?\(([^)]+)\)$/.exec(fetch ?? '');
  if (hdr && hdr[2]?.toLowerCase() !== 'host') {
    const name = hdr[2] as string;
    if (hdr[1] === '_beg') return { header: { name, prefix: v } };
    if (hdr[1] === '_reg') return { header: { name, regex: v } };
    return { header: { name, value: v } };
  }
  return undefined;
}

function headerOp(words: string[]): Obj | undefined {
  const [action, name, ...value] = words;
  if (action === 'set-header' && name && value.length > 0) return { 'set-header': name, value: value.join(' ') };
  if (action === 'add-header' && name && value.length > 0) return { 'add-header': name, value: value.join(' ') };
  if (action === 'del-header' && name && value.length === 0) return { 'del-header': name };
  return undefined;
}

export function importHaproxy(text: string, file: string): { config: ConfigInput; warnings: ImportWarning[] } {
  const warnings: ImportWarning[] = [];
  const warn = (line: number, message: string) => warnings.push({ file, line, message });
  const out: { defaults?: Obj; frontends?: Record<string, Obj>; backends?: Record<string, Obj> } = {};

  for (const sec of sections(text)) {
    if (sec.kind === 'global') {
      for (const l of sec.lines) warn(l.line, `global "${l.words.join(' ')}" has no halb equivalent; dropped`);
      continue;
    }
    const fe: Obj = {};
    const be: Obj = {};
    const timeouts: Obj = {};
    const acls = new Map<string, Acl>();
    const rules: Obj[] = [];
    const binds: unknown[] = [];
    // `bind ... ssl`: halb's tls is per frontend, so TLS binds become a frontend of their own
    // when the section mixes them with plain ones (`<name>_tls`).
    const tlsBinds: unknown[] = [];
    const tls: ImportedTls = {};
    const servers: Obj[] = [];
    const health: Obj = {};
    const httpCheck: Obj = {};
    let serverDefaults: string[] = [];
    const isFront = sec.kind === 'frontend' || sec.kind === 'listen';
    const isBack = sec.kind === 'backend' || sec.kind === 'listen';
    const isDefaults = sec.kind === 'defaults';
    const sectionName = `${sec.kind} ${sec.name}`.trim();

    for (const { words, line } of sec.lines) {
      const [d, a1, a2] = words;
      const unsupported = () => warn(line, `${sectionName}: "${words.join(' ')}" is not supported by the importer; dropped`);
      if (d === 'mode' && (a1 === 'http' || a1 === 'tcp')) {
        if (isFront || isDefaults) fe.mode = a1;
        if (isBack) be.mode = a1;
      } else if (d === 'timeout' && a1 && a1 in TIMEOUT_KEYS) {
        const t = hTime(a2);
        if (t) timeouts[TIMEOUT_KEYS[a1] as string] = t;
        else warn(line, `${sectionName}: bad time "${a2 ?? ''}"`);
      } else if (d === 'timeout' && a1 === 'check') {
        const t = hTime(a2);
        if (t) health.timeout = t;
      } else if (d === 'option' && a1 === 'forwardfor') {
        fe.forwardfor = true;
      } else if (d === 'option' && a1 === 'redispatch') {
        be.redispatch = true;
      } else if (d === 'option' && (a1 === 'http-server-close' || a1 === 'httplog' || a1 === 'tcplog' || a1 === 'dontlognull' || a1 === 'http-keep-alive')) {
        // Logging and connection-mode options: halb's behaviour is fixed (keep-alive, its own access log).
      } else if (d === 'retries' && a1 && /^\d+$/.test(a1)) {
        be.retries = Number(a1);
      } else if (d === 'maxconn' && a1 && /^\d+$/.test(a1) && (isFront || isDefaults)) {
        fe.maxconn = Number(a1);
      } else if (d === 'log') {
        // halb logs to stdout as JSON or pretty text; syslog targets do not carry over.
      } else if (d === 'bind' && isFront && a1) {
        const addr = a1.startsWith(':') ? `*${a1}` : a1;
        const entry = words.includes('accept-proxy') ? { address: addr, accept_proxy: true } : addr;
        if (words.includes('ssl')) {
          tlsBinds.push(entry);
          bindTls(words.slice(2), tls, (m) => warn(line, `${sectionName}: ${m}`));
        } else binds.push(entry);
      } else if (d === 'default_backend' && isFront && a1) {
        fe.default_backend = a1;
      } else if (d === 'acl' && isFront && a1) {
        const cond = aclCondition(words.slice(2));
        if (cond) acls.set(a1, { rule: cond });
        else warn(line, `${sectionName}: acl ${a1} "${words.slice(2).join(' ')}" has no halb rule equivalent; rules using it are dropped`);
      } else if (d === 'use_backend' && isFront && a1) {
        // Only "if A [B ...]" with plain ACL names (AND); "||", "!" and unless need a human.
        const cond = words.slice(3);
        if (a2 !== 'if' || cond.length === 0 || cond.some((w) => w === '||' || w === 'or' || w.startsWith('!') || w.startsWith('{'))) {
          unsupported();
          continue;
        }
        const rule: Obj = {};
        let ok = true;
        for (const name of cond) {
          const acl = acls.get(name);
          if (!acl) {
            ok = false;
            break;
          }
          for (const [k, v] of Object.entries(acl.rule)) {
            if (k in rule) ok = false;
            rule[k] = v;
          }
        }
        if (!ok) {
          warn(line, `${sectionName}: "${words.join(' ')}" combines conditions halb cannot express; dropped`);
          continue;
        }
        rule.backend = a1;
        rules.push(rule);
      } else if ((d === 'http-request' || d === 'http-response') && isFront) {
        const op = headerOp(words.slice(1));
        if (!op) {
          unsupported();
          continue;
        }
        ((fe[d] as Obj[] | undefined) ?? (fe[d] = [] as Obj[]) as Obj[]).push(op);
      } else if (d === 'balance' && (isBack || isDefaults) && a1) {
        be.balance = a1 === 'static-rr' ? 'roundrobin' : a1;
        if (a1 === 'url_param' || a1 === 'rdp-cookie') {
          warn(line, `${sectionName}: balance ${a1} is not supported; using roundrobin`);
          be.balance = 'roundrobin';
        }
      } else if (d === 'option' && a1 === 'httpchk') {
        // "option httpchk [<method> <uri>]" or the 1.x "option httpchk <uri>".
        if (words.length === 3) httpCheck.path = a2;
        else if (words.length >= 4) {
          httpCheck.method = a2;
          httpCheck.path = words[3];
        }
        health.http = httpCheck;
      } else if (d === 'http-check' && a1 === 'send') {
        for (let i = 2; i + 1 < words.length; i += 2) {
          if (words[i] === 'meth') httpCheck.method = words[i + 1];
          if (words[i] === 'uri') httpCheck.path = words[i + 1];
          if (words[i] === 'hdr' && words[i + 1]?.toLowerCase() === 'host') httpCheck.host = words[i + 2];
        }
        health.http = httpCheck;
      } else if (d === 'http-check' && a1 === 'expect' && (a2 === 'status' || a2 === 'rstatus' || a2 === 'string')) {
        const expect: Obj = (httpCheck.expect as Obj | undefined) ?? {};
        if (a2 === 'status' && words[3]) expect.status = words[3];
        else if (a2 === 'string' && words[3]) expect.body = words[3];
        else {
          unsupported();
          continue;
        }
        httpCheck.expect = expect;
        health.http = httpCheck;
      } else if (d === 'option' && a1 === 'tcp-check') {
        health.tcp = true;
      } else if (d === 'default-server') {
        serverDefaults = words.slice(1);
      } else if (d === 'cookie' && a1 && isBack) {
        if (!words.includes('insert')) warn(line, `${sectionName}: only "cookie NAME insert" persistence is supported; importing as insert`);
        be.cookie = words.includes('secure') || words.includes('httponly')
          ? { name: a1, httponly: words.includes('httponly'), secure: words.includes('secure') }
          : a1;
      } else if (d === 'stick' && a1 === 'on' && a2 === 'src') {
        be.stick = 'source';
      } else if (d === 'stick-table') {
        // Sized by halb itself.
      } else if (d === 'server' && isBack && a1 && a2) {
        servers.push(server(a1, a2, [...serverDefaults, ...words.slice(3)], health, line, sectionName, warn));
      } else {
        unsupported();
      }
    }

    if (Object.keys(timeouts).length > 0) (isDefaults ? fe : isFront ? fe : be).timeouts = timeouts;
    if (isDefaults) {
      const d: Obj = {};
      if (fe.mode) d.mode = fe.mode;
      if (fe.timeouts) d.timeouts = fe.timeouts;
      if (be.retries !== undefined) d.retries = be.retries;
      if (be.redispatch) d.redispatch = true;
      if (fe.forwardfor) d.forwardfor = true;
      if (fe.maxconn !== undefined) d.maxconn = fe.maxconn;
      if (be.balance || Object.keys(health).length > 0) {
        warn(sec.line, 'defaults: balance and health checks in defaults are not inherited by halb backends; set them per backend');
      }
      out.defaults = { ...out.defaults, ...d };
      continue;
    }
    if (isFront) {
      const frontend = (list: unknown[]): Obj => {
        const f: Obj = { bind: list.length === 1 ? list[0] : list };
        for (const k of ['mode', 'default_backend', 'forwardfor', 'maxconn']) if (fe[k] !== undefined) f[k] = fe[k];
        if (rules.length > 0) f.rules = rules;
        for (const k of ['http-request', 'http-response']) if (fe[k] !== undefined) f[k] = fe[k];
        if (fe.timeouts) f.timeouts = fe.timeouts;
        if (sec.kind === 'listen') f.default_backend = sec.name;
        return f;
      };
      if (binds.length === 0 && tlsBinds.length === 0) warn(sec.line, `${sectionName}: no bind line`);
      if (binds.length > 0 || tlsBinds.length === 0) (out.frontends ??= {})[sec.name] = frontend(binds);
      if (tlsBinds.length > 0) {
        const f = frontend(tlsBinds);
        f.tls = tlsConfig(tls);
        const name = binds.length > 0 ? `${sec.name}_tls` : sec.name;
        if (binds.length > 0) warn(sec.line, `${sectionName}: its ssl binds became frontend ${name} (halb's tls is per frontend), with the same rules and backend`);
        (out.frontends ??= {})[name] = f;
      }
    }
    if (isBack) {
      const b: Obj = {};
      for (const k of ['mode', 'balance']) if (be[k] !== undefined) b[k] = be[k];
      const anyCheck = servers.some((s) => s.check === true);
      if (anyCheck || health.http) {
        const h: Obj = {};
        if (health.http) h.http = health.http;
        else h.tcp = true;
        for (const k of ['interval', 'fastinter', 'downinter', 'timeout', 'rise', 'fall']) if (health[k] !== undefined) h[k] = health[k];
        b.health = h;
        // halb checks every server of a backend with health unless told not to: make HAProxy's opt-in explicit.
        for (const s of servers) {
          if (s.check === true) delete s.check;
          else s.check = false;
        }
      } else {
        for (const s of servers) delete s.check;
      }
      // HAProxy counts traffic errors only with `observe`; error-limit alone does nothing there.
      if (health.observe !== undefined) {
        const p: Obj = { observe: health.observe };
        if (health.onError !== undefined) p.on_error = health.onError;
        if (health.errorLimit !== undefined) p.error_limit = health.errorLimit;
        b.passive = p;
      } else if (health.errorLimit !== undefined || health.onError !== undefined) {
        warn(sec.line, `${sectionName}: error-limit/on-error without observe do nothing in HAProxy; dropped`);
      }
      for (const k of ['retries', 'redispatch', 'cookie', 'stick']) if (be[k] !== undefined) b[k] = be[k];
      if (be.timeouts) b.timeouts = be.timeouts;
      backendTlsFromServers(servers, b, sec.line, sectionName, warn);
      b.servers = servers;
      (out.backends ??= {})[sec.name] = b;
    }
  }
  return { config: out as ConfigInput, warnings };
}

// What a server line says about TLS and protocol, held on the server until its backend takes it
// (halb's tls and proto are per backend, HAProxy's per server).
const SERVER_TLS = '__tls';
const SERVER_PROTO = '__proto';

function tlsOf(s: Obj): Obj {
  return ((s[SERVER_TLS] as Obj | undefined) ??= {});
}

/** The backend's tls and proto from its servers' ssl options; a mix is warned (halb has one per backend). */
function backendTlsFromServers(servers: Obj[], b: Obj, line: number, section: string, warn: (line: number, message: string) => void): void {
  const tlsKeys = servers.map((s) => {
    const t = s[SERVER_TLS] as Obj | undefined;
    delete s[SERVER_TLS];
    if (t === undefined || t.on !== true) return undefined;
    delete t.on;
    return t;
  });
  const protos = servers.map((s) => {
    const p = s[SERVER_PROTO];
    delete s[SERVER_PROTO];
    return p;
  });
  const first = tlsKeys.find((t) => t !== undefined);
  if (first !== undefined) {
    b.tls = first;
    if (tlsKeys.some((t) => JSON.stringify(t) !== JSON.stringify(first))) {
      warn(line, `${section}: servers differ in ssl options; halb's tls is per backend, so every server uses those of the first ssl server`);
    }
  }
  if (protos.includes('h2')) {
    b.proto = 'h2';
    if (protos.some((p) => p !== 'h2')) warn(line, `${section}: only some servers have proto h2; halb's proto is per backend, so all speak h2`);
  }
}

// Server keywords that take one argument, so an unsupported one drops its value with it.
const SERVER_KEYWORDS_WITH_ARG = new Set([
  'slowstart', 'id', 'port', 'addr', 'verify', 'ca-file', 'crt', 'sni', 'resolvers', 'init-addr', 'on-marked-down',
  'on-marked-up', 'agent-port', 'agent-inter', 'agent-send', 'proto', 'alpn', 'pool-max-conn', 'check-sni', 'source',
  'track', 'resolve-prefer', 'ws', 'minconn', 'max-reuse', 'pool-purge-delay', 'tfo', 'namespace',
]);

function server(
  name: string,
  address: string,
  opts: string[],
  health: Obj,
  line: number,
  section: string,
  warn: (line: number, message: string) => void,
): Obj {
  const s: Obj = { name, address };
  for (let i = 0; i < opts.length; i++) {
    const o = opts[i] as string;
    const arg = opts[i + 1];
    const num = arg !== undefined && /^\d+$/.test(arg) ? Number(arg) : undefined;
    if (o === 'check') s.check = true;
    else if (o === 'no-check') s.check = false;
    else if (o === 'ssl') tlsOf(s).on = true;
    else if (o === 'no-ssl') delete s[SERVER_TLS];
    else if (o === 'check-ssl') {
      // halb checks a TLS backend over TLS anyway
    } else if (o === 'verify' && (arg === 'none' || arg === 'required')) {
      tlsOf(s).verify = arg;
      i++;
    } else if (o === 'ca-file' && arg !== undefined) {
      tlsOf(s).ca_file = arg;
      i++;
    } else if (o === 'sni' && arg !== undefined) {
      const str = /^str\((.+)\)$/.exec(arg);
      if (str) tlsOf(s).sni = str[1];
      else warn(line, `${section}: server ${name} sni ${arg}: halb sends a fixed name (sni str(NAME)) or the server's host name; dropped`);
      i++;
    } else if (o === 'alpn' && arg !== undefined) {
      tlsOf(s).alpn = arg.split(',');
      i++;
    } else if (o === 'proto' && arg === 'h2') {
      s[SERVER_PROTO] = 'h2';
      i++;
    }
    else if (o === 'backup') s.backup = true;
    else if (o === 'disabled') s.disabled = true;
    else if (o === 'send-proxy') s.send_proxy = 'v1';
    else if (o === 'send-proxy-v2') s.send_proxy = 'v2';
    else if (o === 'weight' && num !== undefined) {
      s.weight = num;
      i++;
    } else if (o === 'maxconn' && num !== undefined) {
      s.maxconn = num;
      i++;
    } else if (o === 'maxqueue' && num !== undefined) {
      s.maxqueue = num;
      i++;
    } else if (o === 'rise' && num !== undefined) {
      health.rise = num;
      i++;
    } else if (o === 'fall' && num !== undefined) {
      health.fall = num;
      i++;
    } else if ((o === 'inter' || o === 'fastinter' || o === 'downinter') && hTime(arg)) {
      health[o === 'inter' ? 'interval' : o] = hTime(arg);
      i++;
    } else if (o === 'cookie' && arg !== undefined) {
      // halb's inserted cookie value is the server name.
      if (arg !== name) warn(line, `${section}: server ${name} cookie "${arg}": halb uses the server name as the cookie value`);
      i++;
    } else if (o === 'error-limit' && num !== undefined) {
      health.errorLimit = num;
      i++;
    } else if (o === 'observe' && (arg === 'layer4' || arg === 'layer7')) {
      health.observe = arg;
      i++;
    } else if (o === 'on-error' && (arg === 'fastinter' || arg === 'fail-check' || arg === 'sudden-death' || arg === 'mark-down')) {
      health.onError = arg;
      i++;
    } else if (SERVER_KEYWORDS_WITH_ARG.has(o) && arg !== undefined) {
      warn(line, `${section}: server ${name} option "${o} ${arg}" is not supported; dropped`);
      i++;
    } else warn(line, `${section}: server ${name} option "${o}" is not supported; dropped`);
  }
  if (!/:\d+$/.test(address)) warn(line, `${section}: server ${name} "${address}" has no port; halb needs one`);
  return s;
}

interface ImportedTls {
  crt?: string[];
  crtDir?: string;
  minVersion?: '1.2' | '1.3';
  alpn?: string[];
  ciphers?: string;
  verify?: 'none' | 'optional' | 'required';
  caFile?: string;
  noTickets?: true;
}

/** The ssl options of one `bind` line (words after the address) into `tls`; what has no halb equivalent is warned. */
function bindTls(words: string[], tls: ImportedTls, warn: (message: string) => void): void {
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const next = words[i + 1];
    if (w === 'crt' && next !== undefined) {
      i++;
      // HAProxy's crt is a file or a directory of them; a trailing slash or no extension reads as a directory.
      const base = next.replace(/\/+$/, '').split('/').pop() ?? '';
      if (next.endsWith('/') || !base.includes('.')) {
        if (tls.crtDir !== undefined && tls.crtDir !== next) warn(`crt ${next}: halb takes one crt_dir (kept ${tls.crtDir}); list its files under crt`);
        else tls.crtDir = next;
      } else if (!(tls.crt ??= []).includes(next)) tls.crt.push(next);
    } else if (w === 'alpn' && next !== undefined) {
      i++;
      const protocols = next.split(',');
      const kept: string[] = protocols.filter((p) => p === 'h2' || p === 'http/1.1');
      const dropped = protocols.filter((p) => !kept.includes(p));
      if (dropped.length > 0) warn(`alpn ${dropped.join(',')}: halb's http frontends speak h2 and http/1.1 only; dropped`);
      if (kept.length > 0) tls.alpn = kept;
    } else if (w === 'ssl-min-ver' && next !== undefined) {
      i++;
      if (next === 'TLSv1.3') tls.minVersion = '1.3';
      else if (next === 'TLSv1.2') tls.minVersion = '1.2';
      else warn(`ssl-min-ver ${next}: halb accepts TLS 1.2 and 1.3 only; min_version 1.2`);
    } else if (w === 'ciphers' && next !== undefined) {
      i++;
      tls.ciphers = next;
    } else if (w === 'verify' && next !== undefined) {
      i++;
      if (next === 'none' || next === 'optional' || next === 'required') tls.verify = next;
      else warn(`verify ${next}: one of none, optional, required; dropped`);
    } else if (w === 'ca-file' && next !== undefined) {
      i++;
      tls.caFile = next;
    } else if (w === 'no-tls-tickets') {
      tls.noTickets = true;
    } else if (['crt-list', 'crl-file', 'ciphersuites', 'curves', 'ecdhe', 'ssl-max-ver'].includes(w)) {
      if (next !== undefined) i++;
      warn(`${w}${next !== undefined ? ` ${next}` : ''}: not supported by halb's tls yet (crt-list, CRLs, TLS 1.3 suites, curves); dropped`);
    }
  }
}

function tlsConfig(t: ImportedTls): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (t.crt !== undefined) out['crt'] = t.crt;
  if (t.crtDir !== undefined) out['crt_dir'] = t.crtDir;
  if (t.minVersion !== undefined) out['min_version'] = t.minVersion;
  // [http/1.1] is halb's default: written only when it says more
  if (t.alpn !== undefined && t.alpn.join(',') !== 'http/1.1') out['alpn'] = t.alpn;
  if (t.ciphers !== undefined) out['ciphers'] = t.ciphers;
  if (t.noTickets === true) out['tickets'] = false;
  // HAProxy's verify defaults to none, and requests no certificate without it (ca-file alone too)
  if (t.verify !== undefined && t.verify !== 'none') {
    out['verify'] = t.verify;
    if (t.caFile !== undefined) out['ca_file'] = t.caFile;
  }
  return out;
}
