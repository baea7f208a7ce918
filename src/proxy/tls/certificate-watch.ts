// A TLS frontend's crt_dir, watched: files added, replaced or removed there are picked up without
// a reload. Changes are debounced (a copy, or an editor's write-and-rename, is several events) and
// then reported once; the owner reads the whole directory again and serves the new set only when
// every file in it can serve (certificate-store.ts), so a broken file leaves the old set serving.
import { readFile } from 'node:fs/promises';
import { watch, type FSWatcher } from 'node:fs';
import type { CertificateProblem } from './certificate-store.ts';

/** Long enough to let a write of a few files settle, short enough to feel immediate. */
export const CERT_DIR_DEBOUNCE_MS = 250;

export class CertificateDirWatch {
  private readonly watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;

  /** `failed`: the directory cannot be watched (gone, no permission); the current set stays. */
  constructor(dir: string, changed: () => void, failed: (err: Error) => void, debounceMs = CERT_DIR_DEBOUNCE_MS) {
    try {
      this.watcher = watch(dir, { persistent: false }, () => {
        if (this.timer !== undefined) clearTimeout(this.timer);
        this.timer = setTimeout(() => {
          this.timer = undefined;
          changed();
        }, debounceMs);
        this.timer.unref();
      });
      this.watcher.on('error', failed);
    } catch (err) {
      failed(err as Error);
    }
  }

  close(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.watcher?.close();
  }
}

/** Problems as validate says them, file:line:column path: message, located in the config file as
 *  it is now (the path alone when it cannot be read). The YAML locator is loaded only when there
 *  is something to locate: a worker never parses config otherwise. */
export async function placeProblems(configSource: string | undefined, frontend: string, problems: readonly CertificateProblem[]): Promise<string[]> {
  const text = configSource === undefined ? undefined : await readFile(configSource, 'utf8').catch(() => undefined);
  const [{ errorAt }, { formatConfigError }] = await Promise.all([import('../../config/load.ts'), import('../../config/errors.ts')]);
  return problems.map((p) => {
    const path = ['frontends', frontend, 'tls', ...p.where];
    return configSource === undefined || text === undefined ? `${path.join('.')}: ${p.message}` : formatConfigError(errorAt(text, configSource, path, p.message));
  });
}
