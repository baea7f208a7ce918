// JSON Schema of the YAML (input side) for editors: yaml-language-server reads it via
// `# yaml-language-server: $schema=./halb.schema.json`. `halb schema` prints it; the repo keeps
// a copy at halb.schema.json (regenerate with `npm run schema`).

import { z } from 'zod';
import { inputSchema } from './schema.ts';

export function generateJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(inputSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return {
    $schema: schema.$schema,
    title: 'halb configuration',
    description: 'halb.yaml: HAProxy-style frontends/backends plus keepalived-style vrrp, in one file.',
    ...schema,
  };
}

/** Stable text, ending in a newline, as committed at the repo root. */
export function jsonSchemaText(): string {
  return `${JSON.stringify(generateJsonSchema(), null, 2)}\n`;
}

/** Name the CLI (src/cli/main.ts) calls. */
export const configJsonSchema = generateJsonSchema;
