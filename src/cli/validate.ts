// `halb validate FILE [--explain]`: every problem with its place, or a summary (exit 0).

import { loadConfigFile } from '../config/load.ts';
import { formatConfigError } from '../config/errors.ts';
import { explain, summary } from '../config/explain.ts';
import { DEMO_SOURCE, demoConfig } from '../config/demo.ts';
import { hostProblems } from './host-checks.ts';

export interface ValidateOptions {
  explain?: boolean;
  /** Output sinks (tests); default stdout / stderr. */
  out?: (line: string) => void;
  err?: (line: string) => void;
}

/** file may be DEMO_SOURCE ("<demo>") for the embedded demo. Returns the exit code. */
export async function validateCommand(file: string, opts: ValidateOptions = {}): Promise<number> {
  const out = opts.out ?? ((l: string) => process.stdout.write(`${l}\n`));
  const err = opts.err ?? ((l: string) => process.stderr.write(`${l}\n`));
  const r = file === DEMO_SOURCE ? { ok: true as const, config: demoConfig(), warnings: [] } : await loadConfigFile(file);
  if (!r.ok) {
    for (const e of r.errors) err(formatConfigError(e));
    err(`${r.errors.length} error${r.errors.length === 1 ? '' : 's'} in ${file}`);
    return 1;
  }
  const host = file === DEMO_SOURCE ? [] : await hostProblems(r.config, file);
  if (host.length > 0) {
    for (const e of host) err(formatConfigError(e));
    err(`${host.length} error${host.length === 1 ? '' : 's'} in ${file} (checked against this host)`);
    return 1;
  }
  for (const w of r.warnings) err(`warning: ${formatConfigError(w)}`);
  out(`ok: ${summary(r.config)}`);
  if (opts.explain) for (const line of explain(r.config)) out(line);
  return 0;
}
