// Where a cloud API token comes from: an environment variable or a file (a mounted secret).
// Read at each use rather than once, so a rotated secret file is picked up without a restart.
// Errors name the variable or file, never the value.

import { readFile } from 'node:fs/promises';
import { ProviderError } from './provider.ts';

export interface TokenSource {
  tokenEnv?: string;
  tokenFile?: string;
}

export type TokenLoader = () => Promise<string>;

export function tokenLoader(provider: string, src: TokenSource, env: NodeJS.ProcessEnv = process.env): TokenLoader {
  if (src.tokenEnv === undefined && src.tokenFile === undefined) {
    throw new ProviderError(provider, 'no API token source: set token_env or token_file', { fatal: true });
  }
  return async () => {
    if (src.tokenEnv !== undefined) {
      const v = env[src.tokenEnv]?.trim();
      if (v) return v;
      if (src.tokenFile === undefined) {
        throw new ProviderError(provider, `environment variable ${src.tokenEnv} (token_env) is empty or unset`, { fatal: true });
      }
    }
    const file = src.tokenFile as string;
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'read error';
      throw new ProviderError(provider, `cannot read token_file ${file}: ${code}`, { fatal: true });
    }
    const v = text.trim();
    if (!v) throw new ProviderError(provider, `token_file ${file} is empty`, { fatal: true });
    return v;
  };
}
