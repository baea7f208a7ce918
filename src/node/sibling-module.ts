// The path of a module next to the caller, with the caller's own extension: `.ts` in a checkout
// (Node runs the sources), `.js` in the npm package (dist/, compiled). Used for files started
// as processes (workers, the lab's helpers), which tsc cannot rewrite the way it rewrites imports.
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';

export function siblingModule(callerUrl: string, baseName: string): string {
  const ext = extname(fileURLToPath(callerUrl));
  return fileURLToPath(new URL(`./${baseName}${ext}`, callerUrl));
}
