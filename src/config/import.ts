// haproxy.cfg + keepalived.conf files -> halb YAML, one document per node. A keepalived file
// describes one node (its state, priority, unicast source), so each keepalived file gives one
// halb.yaml sharing the imported proxy half. The result is checked with halb's own loader.

import { basename } from 'node:path';
import { Document, isMap, isSeq, visit } from 'yaml';
import { importHaproxy } from './import-haproxy.ts';
import type { ImportWarning } from './import-haproxy.ts';
import { importKeepalived } from './import-keepalived.ts';
import { parseConfigText } from './load.ts';
import { formatConfigError } from './errors.ts';
import type { ConfigInput } from './schema.ts';

export interface ImportInput {
  name: string;
  text: string;
}

export interface ImportedNode {
  /** "master" for keepalived-master.conf; "halb" when there is no keepalived file. */
  node: string;
  yaml: string;
  /** Problems halb's loader finds in the result (empty when it loads as is). */
  errors: string[];
}

export interface ImportResult {
  nodes: ImportedNode[];
  warnings: ImportWarning[];
}

export function detectKind(file: ImportInput): 'haproxy' | 'keepalived' {
  const base = basename(file.name).toLowerCase();
  if (base.includes('keepalived')) return 'keepalived';
  if (base.includes('haproxy')) return 'haproxy';
  return /^\s*(vrrp_instance|vrrp_script|global_defs|virtual_server)\b/m.test(file.text) ? 'keepalived' : 'haproxy';
}

function nodeName(file: string): string {
  const stem = basename(file).replace(/\.[^.]*$/, '');
  return stem.replace(/^keepalived[-_.]?/, '') || stem;
}

export function importConfigs(files: ImportInput[]): ImportResult {
  const warnings: ImportWarning[] = [];
  let proxy: ConfigInput = {};
  const haproxyFiles = files.filter((f) => detectKind(f) === 'haproxy');
  for (const f of haproxyFiles) {
    const r = importHaproxy(f.text, f.name);
    warnings.push(...r.warnings);
    proxy = {
      ...proxy,
      ...r.config,
      frontends: { ...proxy.frontends, ...r.config.frontends },
      backends: { ...proxy.backends, ...r.config.backends },
    };
  }
  const frontendNames = Object.keys(proxy.frontends ?? {});
  const keepalived = files.filter((f) => detectKind(f) === 'keepalived');
  const configs: { node: string; input: ConfigInput; header: string }[] = [];
  const sources = (extra: string[]) => [...haproxyFiles.map((f) => f.name), ...extra].map((n) => basename(n)).join(', ');
  if (keepalived.length === 0) {
    configs.push({ node: 'halb', input: proxy, header: `# Imported by halb import from ${sources([])}` });
  }
  for (const f of keepalived) {
    const r = importKeepalived(f.text, f.name, frontendNames);
    warnings.push(...r.warnings);
    configs.push({ node: nodeName(f.name), input: { ...proxy, vrrp: r.vrrp }, header: `# Imported by halb import from ${sources([f.name])}` });
  }
  const nodes = configs.map(({ node, input, header }) => {
    const yaml = `${header}\n${toYaml(input)}`;
    const check = parseConfigText(yaml, `${node}.yaml`);
    return { node, yaml, errors: check.ok ? [] : check.errors.map(formatConfigError) };
  });
  return { nodes, warnings };
}

/** Block style for sections, flow style for the short records (servers, rules, header ops). */
export function toYaml(input: ConfigInput): string {
  const doc = new Document(input);
  visit(doc, {
    Map(_, node, path) {
      const parent = path.at(-1);
      if (isSeq(parent) && node.items.length <= 6) node.flow = true;
      if (node.items.every((p) => !isMap(p.value) && !isSeq(p.value)) && node.items.length <= 3 && path.length > 6) node.flow = true;
    },
    Seq(_, node) {
      if (node.items.every((i) => !isMap(i) && !isSeq(i))) node.flow = true;
    },
  });
  return doc.toString({ lineWidth: 0, flowCollectionPadding: true });
}
