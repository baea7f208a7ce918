#!/usr/bin/env -S node --max-semi-space-size=8
// halb's entry point. Plain JavaScript on purpose: Node strips TypeScript types in a WebAssembly
// compiler that, once loaded, keeps ~17 MiB of RSS for the life of the process. Turning the
// compile cache on before the first .ts file is loaded means that from the second start on no
// file, not even the CLI's own, is stripped again, so that compiler never loads.
// A checkout runs src/ as is; the npm package has no src/, only dist/ (compiled by `prepack`),
// because Node does not strip types under node_modules.
// The shebang's V8 flags are src/node/v8-flags.ts's (why there).
import { existsSync } from 'node:fs';
import module from 'node:module';
import process from 'node:process';
import { URL } from 'node:url';

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(`halb needs Node 22.18 or newer (24 LTS recommended); this is ${process.version}. ./halb provisions Node 24 by itself.\n`);
  process.exit(1);
}
module.enableCompileCache?.();
const source = new URL('../src/cli/main.ts', import.meta.url);
await import(existsSync(source) ? source.href : new URL('../dist/cli/main.js', import.meta.url).href);
