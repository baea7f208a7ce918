// The body of POST /servers/<backend>/<server>, checked whole before anything is applied, so a
// request with a good admin state and a bad weight changes nothing.

export type ServerAdmin = 'ready' | 'drain' | 'maint';

export interface ServerChange {
  admin?: ServerAdmin;
  weight?: number;
}

const ADMIN: readonly string[] = ['ready', 'drain', 'maint'];
export const MAX_WEIGHT = 256;

/** The change, or an error text naming the bad field. */
export function parseServerChange(body: unknown): ServerChange | string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return 'body must be a JSON object like {"admin":"drain"} or {"weight":10}';
  }
  const change: ServerChange = {};
  for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
    if (key === 'admin') {
      if (typeof value !== 'string' || !ADMIN.includes(value)) return `admin must be "ready", "drain" or "maint", got ${JSON.stringify(value)}`;
      change.admin = value as ServerAdmin;
    } else if (key === 'weight') {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_WEIGHT) {
        return `weight must be an integer 0-${MAX_WEIGHT}, got ${JSON.stringify(value)}`;
      }
      change.weight = value;
    } else {
      return `unknown field ${JSON.stringify(key)}: only "admin" and "weight" can be changed`;
    }
  }
  if (change.admin === undefined && change.weight === undefined) return 'nothing to change: give "admin" ("ready", "drain" or "maint") and/or "weight" (0-256)';
  return change;
}
