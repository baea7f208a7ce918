// Runtime server state by backend and server name: what survives a reload and what a new worker
// starts from, so no "all servers up" window ever opens.
export interface ServerSnapshot {
  up: boolean;
  admin: 'ready' | 'drain' | 'maint';
  /** Present only when changed at runtime (admin API); otherwise the config's weight applies. */
  weight?: number;
}

export type PoolSnapshot = Record<string, Record<string, ServerSnapshot>>;
