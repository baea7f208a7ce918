// User header rewrites (set/add/del) on a flat [name, value, name, value, ...] list, the shape
// node gives in rawHeaders and accepts in writeHead. Names compare case-insensitively.
import type { HeaderOp } from '../../config/types.ts';

export interface CompiledHeaderOp {
  action: 'set' | 'add' | 'del';
  /** Name as the user wrote it: sent in this case. */
  name: string;
  lower: string;
  value: string;
}

export function compileHeaderOps(ops: readonly HeaderOp[]): CompiledHeaderOp[] {
  return ops.map((op) => ({
    action: op.action,
    name: op.name,
    lower: op.name.toLowerCase(),
    value: op.action === 'del' ? '' : op.value,
  }));
}

/** Applies the ops in order, mutating and returning `headers`. */
export function applyHeaderOps(ops: readonly CompiledHeaderOp[], headers: string[]): string[] {
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    if (op.action !== 'add') removeHeader(headers, op.lower);
    if (op.action !== 'del') headers.push(op.name, op.value);
  }
  return headers;
}

/** Removes every occurrence of a header (lower-case name) from a flat list, in place. */
export function removeHeader(headers: string[], lower: string): void {
  let w = 0;
  for (let r = 0; r < headers.length; r += 2) {
    const name = headers[r]!;
    if (name.length === lower.length && name.toLowerCase() === lower) continue;
    headers[w++] = name;
    headers[w++] = headers[r + 1]!;
  }
  headers.length = w;
}

/** First value of a header (lower-case name) in a flat list. */
export function findHeader(headers: readonly string[], lower: string): string | undefined {
  for (let r = 0; r < headers.length; r += 2) {
    const name = headers[r]!;
    if (name.length === lower.length && name.toLowerCase() === lower) return headers[r + 1];
  }
  return undefined;
}
