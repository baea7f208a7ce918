// Runtime state of one backend server: what is true now, as opposed to ServerConfig (what was asked).
// Moved across reloads by backend/server name so health never resets to "all up".

export type AdminState = 'ready' | 'drain' | 'maint';

export interface ServerState {
  readonly backend: string;
  readonly name: string;
  host: string;
  port: number;
  /** Effective weight 0-256 (config weight, or a runtime override). Weight 0 takes no new traffic. */
  weight: number;
  backup: boolean;
  /** Health: true while up (checks pass, or no checks configured). */
  up: boolean;
  admin: AdminState;
  /** Requests/connections in flight to this server now. */
  active: number;
  /** Requests/connections finished (by this process), and how many of them failed. For stats. */
  requests: number;
  failures: number;
  /** Health transitions UP->DOWN and DOWN->UP (checks, passive health), as HAProxy's chkdown. */
  wentDown: number;
  wentUp: number;
  maxconn?: number;
  /** Index in the backend's server list; "first" policy and stable tie-breaks use it. */
  readonly index: number;
}

/** A server can take new traffic: healthy, admin-ready, weight above zero. */
export function isUsable(s: ServerState): boolean {
  return s.up && s.admin === 'ready' && s.weight > 0;
}
