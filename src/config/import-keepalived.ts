// keepalived.conf -> the halb `vrrp` section (input side). keepalived's grammar: words, quoted
// strings, `{ ... }` blocks, comments from # or !. Unknown keywords become warnings with their line.

import type { ConfigInput } from './schema.ts';
import type { ImportWarning } from './import-haproxy.ts';

type Obj = Record<string, unknown>;

interface Stmt {
  words: string[];
  line: number;
  block?: Stmt[];
}

interface Token {
  text: string;
  line: number;
  quoted: boolean;
}

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    let j = 0;
    while (j < raw.length) {
      const ch = raw[j] as string;
      if (ch === ' ' || ch === '\t') j++;
      else if (ch === '#' || ch === '!') break;
      else if (ch === '{' || ch === '}') {
        out.push({ text: ch, line, quoted: false });
        j++;
      } else if (ch === '"') {
        const end = raw.indexOf('"', j + 1);
        const stop = end < 0 ? raw.length : end;
        out.push({ text: raw.slice(j + 1, stop), line, quoted: true });
        j = stop + 1;
      } else {
        let k = j;
        while (k < raw.length && !' \t{}#!"'.includes(raw[k] as string)) k++;
        out.push({ text: raw.slice(j, k), line, quoted: false });
        j = k;
      }
    }
    out.push({ text: '\n', line, quoted: false });
  });
  return out;
}

/** Statements are lines; a `{` opens the block of the statement on its line (or the line before). */
function parse(tokens: Token[], pos = { i: 0 }): Stmt[] {
  const out: Stmt[] = [];
  let cur: Stmt | undefined;
  while (pos.i < tokens.length) {
    const t = tokens[pos.i++] as Token;
    if (!t.quoted && t.text === '\n') {
      if (cur) out.push(cur);
      cur = undefined;
    } else if (!t.quoted && t.text === '{') {
      const owner = cur ?? out.pop() ?? { words: [], line: t.line };
      owner.block = parse(tokens, pos);
      out.push(owner);
      cur = undefined;
    } else if (!t.quoted && t.text === '}') {
      if (cur) out.push(cur);
      return out;
    } else {
      (cur ??= { words: [], line: t.line }).words.push(t.text);
    }
  }
  if (cur) out.push(cur);
  return out;
}

/** Words of a block's lines, flattened: `unicast_peer { a \n b }` -> [a, b]. */
function blockWords(s: Stmt): string[][] {
  return (s.block ?? []).map((b) => b.words).filter((w) => w.length > 0);
}

/** keepalived times are seconds, fractions allowed; halb writes a unit. */
function seconds(word: string | undefined): string | undefined {
  if (word === undefined || !/^\d+(\.\d+)?$/.test(word)) return undefined;
  const ms = Math.round(Number(word) * 1000);
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

const HAPROXY_CHECK = /\b(killall\s+-0|pidof|pgrep)\b.*\bhaproxy\b|\bsystemctl\s+is-active\b.*\bhaproxy\b/;

export interface KeepalivedImport {
  vrrp: NonNullable<ConfigInput['vrrp']>;
  warnings: ImportWarning[];
}

/** frontendNames: what `track.frontends` points at when a script only checked that haproxy runs. */
export function importKeepalived(text: string, file: string, frontendNames: string[] = []): KeepalivedImport {
  const warnings: ImportWarning[] = [];
  const warn = (line: number, message: string) => warnings.push({ file, line, message });
  const stmts = parse(tokenize(text));
  const scripts: Record<string, Obj> = {};
  const haproxyScripts = new Map<string, number>();
  const instances: Record<string, Obj> = {};
  let globalVersion: number | undefined;

  for (const s of stmts) {
    const [kw, name] = s.words;
    if (kw === 'global_defs') {
      for (const g of s.block ?? []) {
        if (g.words[0] === 'vrrp_version' && (g.words[1] === '2' || g.words[1] === '3')) globalVersion = Number(g.words[1]);
        else if (g.words.length > 0) warn(g.line, `global_defs "${g.words.join(' ')}" has no halb equivalent; dropped`);
      }
    } else if (kw === 'vrrp_script' && name) {
      const sc: Obj = {};
      for (const l of s.block ?? []) {
        const [k, v, ...more] = l.words;
        if (k === 'script' && v) sc.script = [v, ...more].join(' ');
        else if ((k === 'interval' || k === 'timeout') && seconds(v)) sc[k] = seconds(v);
        else if ((k === 'rise' || k === 'fall') && v && /^\d+$/.test(v)) sc[k] = Number(v);
        else if (k === 'weight' && v && /^-?\d+$/.test(v)) sc.weight = Number(v);
        else if (k) warn(l.line, `vrrp_script ${name}: "${l.words.join(' ')}" is not supported; dropped`);
      }
      if (typeof sc.script === 'string' && HAPROXY_CHECK.test(sc.script)) {
        haproxyScripts.set(name, typeof sc.weight === 'number' ? sc.weight : 0);
        warn(
          s.line,
          `vrrp_script ${name} checks that haproxy runs; halb is the proxy, so instances track halb's own frontends instead`,
        );
      } else scripts[name] = sc;
    } else if (kw === 'vrrp_instance' && name) {
      instances[name] = instance(s, name, globalVersion, haproxyScripts, frontendNames, warn);
    } else if (kw === 'vrrp_sync_group') {
      warn(s.line, `vrrp_sync_group ${name ?? ''}: sync groups are not supported; instances imported on their own`);
    } else if (kw === 'virtual_server' || kw === 'virtual_server_group') {
      warn(s.line, `${kw} (LVS) is not supported: halb balances as a proxy (frontends/backends)`);
    } else if (kw) {
      warn(s.line, `"${s.words.join(' ')}" is not supported; dropped`);
    }
  }
  // The version may be set in global_defs after an instance was read: apply it where none was given.
  for (const [iname, inst] of Object.entries(instances)) {
    // keepalived defaults to VRRPv2 and halb to v3: write the version so the pair keeps talking.
    inst.version ??= globalVersion ?? 2;
    instances[iname] = reorder(inst, ['interface', 'state', 'priority', 'virtual_router_id', 'version', 'advert_int']);
    if (inst.version === 3 && inst.authentication) {
      warn(0, `authentication dropped: VRRPv3 has none (keepalived ignores it too)`);
      delete inst.authentication;
    }
  }
  const vrrp: Obj = {};
  if (Object.keys(scripts).length > 0) vrrp.scripts = scripts;
  vrrp.instances = instances;
  return { vrrp: vrrp as KeepalivedImport['vrrp'], warnings };
}

function instance(
  s: Stmt,
  name: string,
  globalVersion: number | undefined,
  haproxyScripts: Map<string, number>,
  frontendNames: string[],
  warn: (line: number, message: string) => void,
): Obj {
  const inst: Obj = {};
  const track: Obj = {};
  const where = `vrrp_instance ${name}`;
  for (const l of s.block ?? []) {
    const [k, v] = l.words;
    const rest = l.words.slice(1);
    switch (k) {
      case 'interface':
        inst.interface = v;
        break;
      case 'state':
        if (v === 'MASTER' || v === 'BACKUP') inst.state = v;
        else warn(l.line, `${where}: state "${v ?? ''}" is not MASTER or BACKUP; dropped`);
        break;
      case 'priority':
      case 'virtual_router_id':
      case 'garp_master_repeat':
        if (v && /^\d+$/.test(v)) inst[k] = Number(v);
        break;
      case 'version':
        if (v === '2' || v === '3') inst.version = Number(v);
        break;
      case 'advert_int':
      case 'preempt_delay':
      case 'garp_master_delay':
      case 'garp_master_refresh':
      case 'garp_interval':
        if (seconds(v)) inst[k] = seconds(v);
        else warn(l.line, `${where}: ${k} "${v ?? ''}" is not a number of seconds; dropped`);
        break;
      case 'nopreempt':
        inst.nopreempt = true;
        break;
      case 'preempt':
        inst.preempt = true;
        break;
      case 'unicast_src_ip':
        ((inst.unicast as Obj | undefined) ?? (inst.unicast = {}) as Obj).source = v;
        break;
      case 'unicast_peer':
        ((inst.unicast as Obj | undefined) ?? (inst.unicast = {}) as Obj).peers = blockWords(l).map((w) => w[0]);
        for (const w of blockWords(l)) if (w.length > 1) warn(l.line, `${where}: unicast_peer options "${w.slice(1).join(' ')}" dropped`);
        break;
      case 'virtual_ipaddress':
        inst.virtual_ipaddress = blockWords(l).map((w) => vipLine(w, l.line, where, warn));
        break;
      case 'virtual_ipaddress_excluded':
        inst.virtual_ipaddress = [...((inst.virtual_ipaddress as string[] | undefined) ?? []), ...blockWords(l).map((w) => vipLine(w, l.line, where, warn))];
        warn(l.line, `${where}: virtual_ipaddress_excluded merged into virtual_ipaddress (halb has no excluded list)`);
        break;
      case 'virtual_routes':
        inst.virtual_routes = blockWords(l).map((w) => w.join(' '));
        break;
      case 'authentication': {
        const auth: Obj = {};
        for (const w of blockWords(l)) {
          if (w[0] === 'auth_type') auth.auth_type = w[1];
          if (w[0] === 'auth_pass') auth.auth_pass = w.slice(1).join(' ');
        }
        if (auth.auth_type === 'AH') {
          warn(l.line, `${where}: auth_type AH is obsolete (RFC 3768 removed it) and unsupported; authentication dropped`);
        } else if (auth.auth_type === 'PASS' && typeof auth.auth_pass === 'string') {
          if (auth.auth_pass.length > 8) {
            warn(l.line, `${where}: auth_pass longer than 8 characters; truncated as keepalived does`);
            auth.auth_pass = auth.auth_pass.slice(0, 8);
          }
          inst.authentication = auth;
        } else warn(l.line, `${where}: authentication block not understood; dropped`);
        break;
      }
      case 'track_script':
        for (const w of blockWords(l)) {
          const sname = w[0] as string;
          const weight = w[1] === 'weight' && w[2] && /^-?\d+$/.test(w[2]) ? Number(w[2]) : undefined;
          if (haproxyScripts.has(sname)) {
            trackFrontends(track, weight ?? (haproxyScripts.get(sname) as number), frontendNames, l.line, where, warn);
          } else {
            ((track.scripts as unknown[] | undefined) ?? (track.scripts = []) as unknown[]).push(
              weight === undefined ? sname : { name: sname, weight },
            );
          }
        }
        break;
      case 'track_interface':
        track.interfaces = blockWords(l).map((w) =>
          w[1] === 'weight' && w[2] ? { name: w[0], weight: Number(w[2]) } : (w[0] as string),
        );
        break;
      case 'track_file':
        track.files = blockWords(l).map((w) => (w[1] === 'weight' && w[2] ? { path: w[0], weight: Number(w[2]) } : (w[0] as string)));
        break;
      case 'notify_master':
      case 'notify_backup':
      case 'notify_fault':
      case 'notify_stop':
      case 'notify':
        inst[k] = rest.join(' ');
        break;
      default:
        if (k) warn(l.line, `${where}: "${l.words.join(' ')}" is not supported; dropped`);
    }
  }
  if (inst.version === undefined && globalVersion !== undefined) inst.version = globalVersion;
  if (Object.keys(track).length > 0) inst.track = track;
  return inst;
}

function reorder(o: Obj, first: string[]): Obj {
  const out: Obj = {};
  for (const k of first) if (k in o) out[k] = o[k];
  for (const [k, v] of Object.entries(o)) if (!(k in out)) out[k] = v;
  return out;
}

function vipLine(words: string[], line: number, where: string, warn: (line: number, message: string) => void): string {
  const out: string[] = [words[0] as string];
  for (let i = 1; i < words.length; i += 2) {
    if (words[i] === 'dev' && words[i + 1]) out.push('dev', words[i + 1] as string);
    else warn(line, `${where}: virtual_ipaddress option "${words[i]} ${words[i + 1] ?? ''}" dropped`);
  }
  return out.join(' ');
}

/**
 * keepalived's positive script weight adds priority while the check passes; halb applies a track
 * weight while the tracked thing fails. Adding w while up equals subtracting w while down
 * (priorities shift equally on every node), so +w becomes -w. A weight of 0 means FAULT in both.
 */
function trackFrontends(
  track: Obj,
  weight: number,
  frontendNames: string[],
  line: number,
  where: string,
  warn: (line: number, message: string) => void,
): void {
  if (frontendNames.length === 0) {
    warn(line, `${where}: haproxy check dropped; import haproxy.cfg in the same run to track its frontends`);
    return;
  }
  const w = weight > 0 ? -weight : weight;
  const fe = ((track.frontends as Obj | undefined) ?? (track.frontends = {}) as Obj);
  for (const n of frontendNames) fe[n] = { weight: w };
}
