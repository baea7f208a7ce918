// The keys a (possibly nested) zod object schema accepts at a given input path, for
// "did you mean" on unknown keys. Walks zod v4's public `_zod.def` descriptions.

import type { z } from 'zod';

type Def = {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  element?: z.ZodType;
  valueType?: z.ZodType;
  options?: z.ZodType[];
  in?: z.ZodType;
  values?: unknown[];
};

function def(s: z.ZodType): Def {
  return (s as unknown as { _zod: { def: Def } })._zod.def;
}

/** All schemas reachable at `path` (unions fan out). */
function at(schema: z.ZodType, path: readonly PropertyKey[]): z.ZodType[] {
  const d = def(schema);
  switch (d.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'readonly':
    case 'nonoptional':
      return at(d.innerType as z.ZodType, path);
    case 'pipe':
      return at(d.in as z.ZodType, path);
    case 'union':
      return (d.options ?? []).flatMap((o) => at(o, path));
  }
  if (path.length === 0) return [schema];
  const [head, ...rest] = path;
  if (d.type === 'object' && typeof head === 'string' && d.shape && head in d.shape) {
    return at(d.shape[head] as z.ZodType, rest);
  }
  if (d.type === 'record' && typeof head === 'string') return at(d.valueType as z.ZodType, rest);
  if (d.type === 'array' && typeof head === 'number') return at(d.element as z.ZodType, rest);
  return [];
}

/** value: the input object at path; picks the matching branch of a discriminated union. */
export function keysAt(schema: z.ZodType, path: readonly PropertyKey[], value?: unknown): string[] {
  const objects = at(schema, path).filter((s) => def(s).type === 'object');
  const fits = objects.filter((s) => literalsMatch(s, value));
  const keys = new Set<string>();
  for (const s of fits.length > 0 ? fits : objects) for (const k of Object.keys(def(s).shape ?? {})) keys.add(k);
  return [...keys];
}

function literalsMatch(s: z.ZodType, value: unknown): boolean {
  if (value === null || typeof value !== 'object') return true;
  for (const [k, field] of Object.entries(def(s).shape ?? {})) {
    const fd = def(field);
    if (fd.type === 'literal' && !(fd.values ?? []).includes((value as Record<string, unknown>)[k])) return false;
  }
  return true;
}
