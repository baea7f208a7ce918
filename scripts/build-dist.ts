// Compiles src/ to dist/ for the npm package (`prepack`). Node strips TypeScript types only
// outside node_modules, so an installed halb must run JavaScript; a checkout keeps running the
// .ts files directly and never needs this. tsc rewrites the relative `.ts` import specifiers to
// `.js` (rewriteRelativeImportExtensions); our syntax is erasable, so the output is the input
// with its types removed.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
rmSync(new URL('../dist/', import.meta.url), { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
