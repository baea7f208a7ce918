// `halb validate FILE [--explain]`: every problem with its place, or a summary (exit 0).

import { loadConfigFile, loadPairFile, type PairLoadResult } from '../config/load.ts';
import { formatConfigError } from '../config/errors.ts';
import { explain, summary } from '../config/explain.ts';
import { DEMO_SOURCE, demoConfig } from '../config/demo.ts';
import { hostProblems } from './host-checks.ts';

export interface ValidateOptions {
  explain?: boolean;
  /** Validate only this node's view of a file with nodes:; default: every node and the pair. */
  node?: string;
  /** Output sinks (tests); default stdout / stderr. */
  out?: (line: string) => void;
  err?: (line: string) => void;
}

/** file may be DEMO_SOURCE ("<demo>") for the embedded demo. Returns the exit code. */
export async function validateCommand(file: string, opts: ValidateOptions = {}): Promise<number> {
  const out = opts.out ?? ((l: string) => process.stdout.write(`${l}\n`));
  const err = opts.err ?? ((l: string) => process.stderr.write(`${l}\n`));
  const r: PairLoadResult =
    file === DEMO_SOURCE
      ? { ok: true, configs: [demoConfig()], warnings: [] }
      : opts.node !== undefined
        ? await loadConfigFile(file, { node: opts.node }).then((x) => (x.ok ? { ok: true, configs: [x.config], warnings: x.warnings } : x))
        : await loadPairFile(file);
  if (!r.ok) {
    for (const e of r.errors) err(formatConfigError(e));
    err(`${r.errors.length} error${r.errors.length === 1 ? '' : 's'} in ${file}`);
    return 1;
  }
  // Every node's view names the same VIPs and key files: report each host problem once.
  const seen = new Set<string>();
  const host = [];
  if (file !== DEMO_SOURCE) {
    for (const config of r.configs) {
      for (const e of await hostProblems(config, file)) {
        const text = formatConfigError(e);
        if (!seen.has(text)) {
          seen.add(text);
          host.push(e);
        }
      }
    }
  }
  if (host.length > 0) {
    for (const e of host) err(formatConfigError(e));
    err(`${host.length} error${host.length === 1 ? '' : 's'} in ${file} (checked against this host)`);
    return 1;
  }
  for (const w of r.warnings) err(`warning: ${formatConfigError(w)}`);
  for (const config of r.configs) {
    out(`ok: ${config.node !== undefined ? `node ${config.node}: ` : ''}${summary(config)}`);
    if (opts.explain) for (const line of explain(config)) out(line);
  }
  return 0;
}
