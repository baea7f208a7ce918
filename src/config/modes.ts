// A backend's mode: explicit, else the mode of the frontends that use it, else defaults.mode.
// HAProxy takes it from `defaults`; inferring it from the users avoids a needless "mode tcp"
// on every TCP backend while still refusing a backend shared by http and tcp frontends.

import type { ParsedInput } from './schema.ts';

export interface ResolvedMode {
  mode: 'http' | 'tcp';
  /** Frontends of both modes use it and it sets no mode: names of those frontends. */
  conflict?: string[];
}

export function resolveBackendModes(input: ParsedInput): Map<string, ResolvedMode> {
  const defaultMode = input.defaults?.mode ?? 'http';
  const users = new Map<string, Map<string, 'http' | 'tcp'>>();
  for (const [fname, fe] of Object.entries(input.frontends ?? {})) {
    const mode = fe.mode ?? defaultMode;
    const targets = [fe.default_backend, ...(fe.rules ?? []).map((r) => r.backend)];
    for (const t of targets) {
      if (t === undefined) continue;
      let m = users.get(t);
      if (!m) users.set(t, (m = new Map()));
      m.set(fname, mode);
    }
  }
  const out = new Map<string, ResolvedMode>();
  for (const [bname, be] of Object.entries(input.backends ?? {})) {
    if (be.mode) {
      out.set(bname, { mode: be.mode });
      continue;
    }
    const used = users.get(bname);
    const seen = new Set(used?.values() ?? []);
    if (seen.size === 1) out.set(bname, { mode: [...seen][0] as 'http' | 'tcp' });
    else if (seen.size === 0) out.set(bname, { mode: defaultMode });
    else out.set(bname, { mode: defaultMode, conflict: [...(used as Map<string, string>).keys()] });
  }
  return out;
}
