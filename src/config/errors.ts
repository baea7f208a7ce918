// One configuration problem, located in the file the user edits.

export interface ConfigError {
  file: string;
  /** 1-based; 0 when the problem has no place in the text (e.g. unreadable file). */
  line: number;
  column: number;
  /** Key path as written, e.g. "backends.web.servers[1].weight"; "" for the whole file. */
  path: string;
  message: string;
}

/** "halb.yaml:14:7 backends.web.servers[1].weight: must be 0..256, got 300" */
export function formatConfigError(e: ConfigError): string {
  const place = e.line > 0 ? `${e.file}:${e.line}:${e.column}` : e.file;
  return e.path === '' ? `${place} ${e.message}` : `${place} ${e.path}: ${e.message}`;
}
