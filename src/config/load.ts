// YAML text -> validated Config, or every problem found, each with file:line:column and key path.
// Nothing is applied unless the whole file is valid.

import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { LineCounter, parseDocument, isMap, isSeq, isScalar, isPair } from 'yaml';
import type { Document, Node as YamlNode, Pair } from 'yaml';
import type { z } from 'zod';
import { configSchema, inputSchema } from './schema.ts';
import { pathText, type PathItem } from './checks.ts';
import { peerFallbackProblems } from './peer-address.ts';
import { nodeNames, nodeView, selectNode, sourcePath, type NodeSelect, type NodeView } from './node-views.ts';
import { pairProblems } from './pair-checks.ts';
import { nearest } from './suggest.ts';
import { keysAt } from './zod-keys.ts';
import type { ConfigError } from './errors.ts';
import type { Config } from './types.ts';

export type LoadResult =
  | { ok: true; config: Config; warnings: ConfigError[] }
  | { ok: false; errors: ConfigError[] };

/** Without select.node, a file with nodes: is run as the entry this host's name picks. */
export async function loadConfigFile(path: string, select: NodeSelect = {}): Promise<LoadResult> {
  const text = await readConfigText(path);
  if (typeof text !== 'string') return text;
  const r = parseConfigText(text, path, { hostname: hostname(), ...select });
  if (r.ok) r.config.source = path;
  return r;
}

/** Every node's view, for `halb validate` without --node. */
export async function loadPairFile(path: string): Promise<PairLoadResult> {
  const text = await readConfigText(path);
  if (typeof text !== 'string') return text;
  return parsePairText(text, path);
}

async function readConfigText(path: string): Promise<string | { ok: false; errors: ConfigError[] }> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { ok: false, errors: [{ file: path, line: 0, column: 0, path: '', message: `cannot read: ${e.code ?? e.message}` }] };
  }
}

/** sourceName is used in messages and as Config.source. select picks the `nodes:` entry, if any. */
export function parseConfigText(text: string, sourceName: string, select: NodeSelect = {}): LoadResult {
  const parsed = parseYaml(text, sourceName);
  if (!parsed.ok) return parsed;
  const names = nodeNames(parsed.data);
  if (names === undefined) {
    if (select.node !== undefined) {
      return { ok: false, errors: [{ file: sourceName, line: 1, column: 1, path: '', message: `--node ${select.node}: the file has no nodes: section` }] };
    }
    return validateView(parsed, undefined);
  }
  const chosen = selectNode(parsed.data, select);
  if (!chosen.ok) {
    return { ok: false, errors: [{ file: sourceName, ...parsed.place(locate(parsed.doc, ['nodes'], true)), path: 'nodes', message: chosen.message }] };
  }
  return validateView(parsed, nodeView(parsed.data as Record<string, unknown>, chosen.node));
}

export type PairLoadResult =
  | { ok: true; configs: Config[]; warnings: ConfigError[] }
  | { ok: false; errors: ConfigError[] };

/**
 * Every node's view of the file, each validated, then the pair checked as a whole (same VRID and
 * VIPs, peers that match, the intended master elected). A file without nodes: is one view.
 */
export function parsePairText(text: string, sourceName: string): PairLoadResult {
  const parsed = parseYaml(text, sourceName);
  if (!parsed.ok) return parsed;
  const names = nodeNames(parsed.data);
  if (names === undefined) {
    const r = validateView(parsed, undefined);
    return r.ok ? { ok: true, configs: [r.config], warnings: r.warnings } : r;
  }
  if (names.length === 0) {
    return { ok: false, errors: [{ file: sourceName, ...parsed.place(locate(parsed.doc, ['nodes'], true)), path: 'nodes', message: 'nodes: is empty; list each node of the pair, or drop it' }] };
  }
  const views = names.map((n) => nodeView(parsed.data as Record<string, unknown>, n));
  const results = views.map((v) => validateView(parsed, v));
  const errorsOf = results.map((r) => (r.ok ? [] : r.errors));
  if (errorsOf.some((e) => e.length > 0)) {
    // A problem every view has is the file's; one only some views have is named with its nodes.
    const key = (e: ConfigError) => `${e.line}:${e.column}:${e.path}:${e.message}`;
    const byKey = new Map<string, { e: ConfigError; nodes: string[] }>();
    errorsOf.forEach((errs, i) => {
      for (const e of errs) {
        const k = key(e);
        const entry = byKey.get(k) ?? { e, nodes: [] };
        if (!entry.nodes.includes(names[i] as string)) entry.nodes.push(names[i] as string);
        byKey.set(k, entry);
      }
    });
    const errors = [...byKey.values()].map(({ e, nodes }) =>
      nodes.length === names.length ? e : { ...e, message: `(node ${nodes.join(', ')}) ${e.message}` },
    );
    return { ok: false, errors: sortErrors(errors) };
  }
  const configs = results.map((r) => (r as { ok: true; config: Config }).config);
  const warnings = dedupe(results.flatMap((r) => (r.ok ? r.warnings : [])));
  const pair = pairProblems(views.map((v, i) => ({ node: v.node, config: configs[i] as Config, origins: v.origins })));
  const located = (p: { path: PathItem[]; message: string }): ConfigError => ({
    file: sourceName,
    ...parsed.place(locate(parsed.doc, p.path, false)),
    path: pathText(p.path),
    message: p.message,
  });
  warnings.push(...pair.warnings.map(located));
  if (pair.errors.length > 0) return { ok: false, errors: sortErrors(dedupe(pair.errors.map(located))) };
  return { ok: true, configs, warnings: sortErrors(warnings) };
}

interface ParsedYaml {
  ok: true;
  doc: Document;
  data: unknown;
  source: string;
  place: (offset: number) => { line: number; column: number };
  warnings: ConfigError[];
}

function parseYaml(text: string, sourceName: string): ParsedYaml | { ok: false; errors: ConfigError[] } {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true, merge: true });
  const place = (offset: number) => {
    const p = lc.linePos(offset);
    return { line: p.line, column: p.col };
  };
  const warnings: ConfigError[] = doc.warnings.map((w) => ({
    file: sourceName,
    ...place(w.pos[0]),
    path: pathText(pathAtOffset(doc, w.pos[0])),
    message: w.message,
  }));
  if (doc.errors.length > 0) {
    const errors = doc.errors.map((e) => {
      const path = pathAtOffset(doc, e.pos[0]);
      return {
        file: sourceName,
        ...place(e.pos[0]),
        path: pathText(path),
        message: e.code === 'DUPLICATE_KEY' ? duplicateMessage(path, keyAt(text, e.pos[0])) : firstLine(e.message),
      };
    });
    return { ok: false, errors: sortErrors(errors) };
  }

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 1000 });
  } catch (err) {
    return { ok: false, errors: [{ file: sourceName, line: 1, column: 1, path: '', message: (err as Error).message }] };
  }
  if (data === null || data === undefined) {
    return {
      ok: false,
      errors: [{ file: sourceName, line: 1, column: 1, path: '', message: 'config is empty: expected frontends, backends and/or vrrp' }],
    };
  }
  return { ok: true, doc, data, source: sourceName, place, warnings };
}

/** Schema, checks and normalise on one view; errors located at the place each value came from. */
function validateView(parsed: ParsedYaml, view: NodeView | undefined): LoadResult {
  const { doc, source: sourceName, place, warnings } = parsed;
  const result = configSchema.safeParse(view ? view.data : parsed.data, { reportInput: true, error: messageFor });
  const extra = view ? overrideProblems(parsed.data, view.node) : [];
  const at = (path: readonly PropertyKey[], atKey: boolean, message: string): ConfigError => {
    const src = sourcePath(view?.origins, path);
    return { file: sourceName, ...place(locate(doc, src, atKey)), path: pathText(src), message };
  };
  // Rules that need the normalised config (which frontend uses which backend, the VRRP peer).
  if (result.success) extra.push(...peerFallbackProblems(result.data));
  if (result.success && extra.length === 0) {
    result.data.source = sourceName;
    if (view) result.data.node = view.node;
    return { ok: true, config: result.data, warnings };
  }
  const errors: ConfigError[] = extra.map((p) => at(p.path, true, p.message));
  for (const issue of result.success ? [] : result.error.issues) {
    for (const f of flatten(issue, [])) errors.push(at(f.path, f.atKey, f.message));
  }
  return { ok: false, errors: sortErrors(dedupe(errors)) };
}

/** Overrides of instances the file does not define would otherwise be dropped without a word. */
function overrideProblems(data: unknown, node: string): { path: PathItem[]; message: string }[] {
  const d = data as { vrrp?: { instances?: unknown }; nodes?: Record<string, unknown> };
  const entry = d.nodes?.[node] as { vrrp?: unknown } | undefined;
  const over = entry?.vrrp;
  if (typeof over !== 'object' || over === null || Array.isArray(over)) return [];
  const inst = d.vrrp?.instances;
  const known = typeof inst === 'object' && inst !== null && !Array.isArray(inst) ? Object.keys(inst) : [];
  return Object.keys(over)
    .filter((k) => !known.includes(k))
    .map((k) => {
      const guess = nearest(k, known);
      return {
        path: ['nodes', node, 'vrrp', k],
        message: guess
          ? `unknown vrrp instance "${k}", did you mean "${guess}"?`
          : `unknown vrrp instance "${k}" (vrrp.instances defines: ${known.join(', ') || 'none'})`,
      };
    });
}

// ---- issues -> flat, located messages ----

type Issue = z.core.$ZodIssue;
interface Flat {
  path: PropertyKey[];
  message: string;
  /** Point at the key rather than its value (unknown keys). */
  atKey: boolean;
}

function flatten(issue: Issue, prefix: PropertyKey[]): Flat[] {
  const path = [...prefix, ...issue.path];
  if (issue.code === 'unrecognized_keys') {
    const valid = keysAt(inputSchema, path, issue.input);
    return issue.keys.map((k) => {
      const guess = nearest(k, valid);
      return {
        path: [...path, k],
        atKey: true,
        message: guess
          ? `unknown key "${k}", did you mean "${guess}"?`
          : `unknown key "${k}"${valid.length > 0 ? ` (allowed: ${valid.join(', ')})` : ''}`,
      };
    });
  }
  if (issue.code === 'invalid_union') {
    const branches = issue.errors;
    const deeper = branches.filter((b) => !rootFatal(b));
    // The input had the right shape for some branch: report that branch's own problems.
    if (deeper.length > 0) {
      const best = deeper.reduce((a, b) => (b.length < a.length ? b : a));
      return best.flatMap((i) => flatten(i, path));
    }
    if (branches.length === 0) return [{ path, atKey: false, message: issue.message }];
    const expected = expectations(issue);
    const input = 'input' in issue ? issue.input : undefined;
    const values = branches.flatMap((b) => (b[0]?.code === 'invalid_value' ? b[0].values : []));
    let message = `expected ${[...new Set(expected)].join(' or ')}, got ${describe(input)}`;
    if (values.length === branches.length && typeof input === 'string') {
      const guess = nearest(input, values.map(String));
      message = `must be one of ${values.map((v) => JSON.stringify(v)).join(', ')}, got ${describe(input)}`;
      if (guess) message += `; did you mean ${JSON.stringify(values.find((v) => String(v) === guess))}?`;
    }
    return [{ path, atKey: false, message }];
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) {
    return [{ path, atKey: true, message: `missing required key "${String(path[path.length - 1])}"` }];
  }
  return [{ path, atKey: false, message: issue.message }];
}

const TYPE_WORDS: Record<string, string> = { int: 'integer', array: 'list', object: 'mapping', record: 'mapping' };

/** The input failed this branch at its root (wrong type/value), so the branch says nothing about its inside. */
function rootFatal(b: Issue[]): boolean {
  const i = b[0];
  if (b.length !== 1 || !i || i.path.length !== 0) return false;
  if (i.code === 'invalid_type' || i.code === 'invalid_value') return true;
  return i.code === 'invalid_union' && i.errors.length > 0 && i.errors.every(rootFatal);
}

function expectations(i: Issue): string[] {
  if (i.code === 'invalid_type') return [TYPE_WORDS[i.expected] ?? i.expected];
  if (i.code === 'invalid_value') return i.values.map((v) => JSON.stringify(v));
  if (i.code === 'invalid_union') return i.errors.flatMap((b) => (b[0] ? expectations(b[0]) : []));
  return ['something else'];
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `string ${JSON.stringify(v)}`;
  return `${typeof v} ${String(v)}`;
}

/** Per-parse messages for zod's built-in checks; schema-level custom messages take precedence. */
function messageFor(iss: z.core.$ZodRawIssue): string | undefined {
  const input = iss.input;
  switch (iss.code) {
    case 'invalid_type':
      if (input === undefined) return 'missing';
      return `expected ${expectations({ ...iss, path: [], message: '' } as Issue).join(' or ')}, got ${describe(input)}`;
    case 'invalid_value': {
      const values = iss.values.map((v) => JSON.stringify(v));
      const guess = typeof input === 'string' ? nearest(input, iss.values.map(String)) : undefined;
      return (
        `must be ${values.length === 1 ? values[0] : `one of ${values.join(', ')}`}, got ${describe(input)}` +
        (guess ? `; did you mean "${guess}"?` : '')
      );
    }
    case 'too_small':
      if (iss.origin === 'array') return `needs at least ${String(iss.minimum)} entr${iss.minimum === 1 ? 'y' : 'ies'}`;
      if (iss.origin === 'string') return iss.minimum === 1 ? 'must not be empty' : `must be at least ${String(iss.minimum)} characters`;
      return `must be at least ${String(iss.minimum)}, got ${String(input)}`;
    case 'too_big':
      if (iss.origin === 'array') return `has more than ${String(iss.maximum)} entries`;
      if (iss.origin === 'string') return `must be at most ${String(iss.maximum)} characters`;
      return `must be at most ${String(iss.maximum)}, got ${String(input)}`;
    case 'invalid_format':
      return `not a valid ${iss.format}: ${describe(input)}`;
    case 'invalid_key':
      return `invalid name ${describe(input)}: names may use letters, digits, "_", "-" and "."`;
    default:
      return undefined;
  }
}

// ---- finding places in the YAML document ----

/** A ConfigError at `path` of a file that already parsed (checks made after loading, e.g. against the host). */
export function errorAt(text: string, sourceName: string, path: readonly PropertyKey[], message: string): ConfigError {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, merge: true });
  const p = lc.linePos(locate(doc, path, false));
  return { file: sourceName, line: p.line, column: p.col, path: pathText(path), message };
}

/** Offset of the node at path; at a missing key, the mapping that lacks it. */
function locate(doc: Document, path: readonly PropertyKey[], atKey: boolean): number {
  let node: unknown = doc.contents;
  let pair: Pair | undefined;
  let best = rangeStart(node) ?? 0;
  for (const seg of path) {
    pair = undefined;
    if (isMap(node)) {
      const p = node.items.find((it) => isPair(it) && keyText(it.key) === String(seg));
      if (!p) return best;
      pair = p;
      best = rangeStart(p.key) ?? best;
      node = p.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      node = node.items[seg];
    } else {
      return best;
    }
    const start = rangeStart(node);
    if (start !== undefined) best = start;
  }
  // Unknown keys, and problems with a whole section, read best at the key that names them.
  if (pair && (atKey || isMap(node) || isSeq(node))) return rangeStart(pair.key) ?? best;
  return best;
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return undefined;
}

function rangeStart(node: unknown): number | undefined {
  const r = (node as YamlNode | null | undefined)?.range;
  return r ? r[0] : undefined;
}

/** Path of the deepest node whose range holds offset (for YAML syntax errors). */
function pathAtOffset(doc: Document, offset: number): PropertyKey[] {
  const path: PropertyKey[] = [];
  let node: unknown = doc.contents;
  for (;;) {
    let next: unknown;
    if (isMap(node)) {
      for (const p of node.items) {
        const k = p.key as YamlNode | null;
        const v = p.value as YamlNode | null;
        const start = k?.range?.[0] ?? v?.range?.[0];
        const end = v?.range?.[2] ?? k?.range?.[2];
        if (start !== undefined && end !== undefined && offset >= start && offset <= end) {
          path.push(keyText(p.key) ?? '?');
          next = p.value;
          break;
        }
      }
    } else if (isSeq(node)) {
      node.items.forEach((it, i) => {
        const r = (it as YamlNode | null)?.range;
        if (next === undefined && r && offset >= r[0] && offset <= r[2]) {
          path.push(i);
          next = it;
        }
      });
    }
    if (next === undefined || next === null) return path;
    node = next;
  }
}

function keyAt(text: string, offset: number): string {
  const m = /^["']?([^"':\n]+)/.exec(text.slice(offset));
  return m ? `"${(m[1] as string).trim()}"` : 'a key';
}

const SECTION_KIND: Record<string, string> = { frontends: 'frontend', backends: 'backend', instances: 'vrrp instance', scripts: 'script' };

function duplicateMessage(path: PropertyKey[], key: string): string {
  const section = path.length >= 2 ? SECTION_KIND[String(path[path.length - 2])] : undefined;
  return section ? `duplicate ${section} name ${key}` : `duplicate key ${key}`;
}

function firstLine(s: string): string {
  return s.split('\n')[0] as string;
}

function sortErrors(errors: ConfigError[]): ConfigError[] {
  return errors.sort((a, b) => a.line - b.line || a.column - b.column);
}

function dedupe(errors: ConfigError[]): ConfigError[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const k = `${e.line}:${e.column}:${e.path}:${e.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

