#!/usr/bin/env node
// halb's entry point. Plain JavaScript on purpose: Node strips TypeScript types in a WebAssembly
// compiler that, once loaded, keeps ~17 MiB of RSS for the life of the process. Turning the
// compile cache on before the first .ts file is loaded means that from the second start on no
// file, not even the CLI's own, is stripped again, so that compiler never loads.
import module from 'node:module';

module.enableCompileCache?.();
await import('../src/cli/main.ts');
