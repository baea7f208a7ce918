// `halb import FILES... [-o out.yaml]`: haproxy.cfg and keepalived.conf -> halb.yaml.
// One keepalived file per node: with several, -o out.yaml writes out-<node>.yaml for each.

import { readFile, writeFile } from 'node:fs/promises';
import { importConfigs } from '../config/import.ts';
import type { ImportInput } from '../config/import.ts';

export interface ImportOptions {
  out?: (text: string) => void;
  err?: (line: string) => void;
}

/** Returns the exit code: 0 written (warnings allowed), 1 unreadable input or a result halb rejects. */
export async function importCommand(files: string[], output?: string, opts: ImportOptions = {}): Promise<number> {
  const out = opts.out ?? ((t: string) => process.stdout.write(t));
  const err = opts.err ?? ((l: string) => process.stderr.write(`${l}\n`));
  const inputs: ImportInput[] = [];
  for (const name of files) {
    try {
      inputs.push({ name, text: await readFile(name, 'utf8') });
    } catch (e) {
      err(`${name}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      return 1;
    }
  }
  const r = importConfigs(inputs);
  for (const w of r.warnings) err(`warning: ${w.line > 0 ? `${w.file}:${w.line}` : w.file}: ${w.message}`);
  let code = 0;
  for (const n of r.nodes) {
    for (const e of n.errors) err(`error in imported ${n.node}: ${e}`);
    if (n.errors.length > 0) code = 1;
  }
  const many = r.nodes.length > 1;
  for (const n of r.nodes) {
    if (output !== undefined) {
      const target = many ? output.replace(/(\.ya?ml)?$/, (ext) => `-${n.node}${ext || '.yaml'}`) : output;
      await writeFile(target, n.yaml);
      err(`wrote ${target}`);
    } else {
      out(many ? `# ---- node ${n.node} ----\n${n.yaml}${n === r.nodes.at(-1) ? '' : '---\n'}` : n.yaml);
    }
  }
  return code;
}
