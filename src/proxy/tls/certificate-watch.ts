// A TLS frontend's crt_dir, watched: files added, replaced or removed there are picked up without
// a reload. Changes are debounced (a copy, or an editor's write-and-rename, is several events) and
// then reported once; the owner reads the whole directory again and serves the new set only when
// every file in it can serve (certificate-store.ts), so a broken file leaves the old set serving.
import { readFile } from 'node:fs/promises';
import { watch, type FSWatcher } from 'node:fs';
import type { FrontendTlsConfig } from '../../config/types.ts';
import type { Logger } from '../../log/logger.ts';
import { loadCertificates, type CertificateProblem, type CertificateSet } from './certificate-store.ts';

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

/** A frontend's side of the watch: what it serves now, and how it takes a new set. */
export interface WatchedFrontend {
  readonly name: string;
  readonly tls: FrontendTlsConfig | undefined;
  readonly configSource: string | undefined;
  readonly log: Logger;
  /** Build and serve contexts from `set`; throws when they cannot be built (the old ones stay). */
  install(set: CertificateSet): void;
}

/** crt_dir changed: the whole set is read again and installed only if every file can serve. */
export function reloadCertificateDir(fe: WatchedFrontend): void {
  const tls = fe.tls;
  if (tls === undefined) return;
  const set = loadCertificates(tls);
  if (set.problems.length > 0) {
    void placeProblems(fe.configSource, fe.name, set.problems).then((errors) =>
      fe.log.error({ errors }, 'crt_dir changed but a certificate cannot serve: refused, the current certificates keep serving'),
    );
    return;
  }
  try {
    fe.install(set);
  } catch (err) {
    fe.log.error({ err: (err as Error).message }, 'crt_dir changed but the certificates cannot serve: the current ones keep serving');
    return;
  }
  fe.log.info({ dir: tls.crtDir, certificates: set.certificates.map((c) => c.file) }, 'crt_dir changed: new handshakes get the new certificates');
}

/** Keeps one watch on a frontend's crt_dir across reloads: `update` with each config. */
export class CertificateDirFollower {
  private current: { dir: string; watch: CertificateDirWatch } | undefined;
  private readonly fe: WatchedFrontend;

  constructor(fe: WatchedFrontend) {
    this.fe = fe;
  }

  /** (Re)starts watching when crt_dir is set and differs from the one watched; undefined stops. */
  update(dir: string | undefined): void {
    if (dir === this.current?.dir) return;
    this.current?.watch.close();
    this.current = undefined;
    if (dir === undefined) return;
    const watch = new CertificateDirWatch(
      dir,
      () => reloadCertificateDir(this.fe),
      (err) => this.fe.log.error({ dir, err: err.message }, 'crt_dir cannot be watched: new files there need a reload'),
    );
    this.current = { dir, watch };
  }

  close(): void {
    this.update(undefined);
  }
}
