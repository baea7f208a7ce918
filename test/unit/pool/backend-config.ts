// Test fixture: a complete BackendConfig with small defaults, overridable per test.
import type { BackendConfig, ServerConfig } from '../../../src/config/types.ts';

export function serverConfig(name: string, over: Partial<ServerConfig> = {}): ServerConfig {
  return { name, host: '127.0.0.1', port: 1, weight: 1, backup: false, disabled: false, drain: false, check: true, ...over };
}

export function backendConfig(servers: ServerConfig[], over: Partial<BackendConfig> = {}): BackendConfig {
  return {
    name: 'web',
    mode: 'http',
    balance: { algorithm: 'roundrobin' },
    passive: { errorLimit: 0 },
    servers,
    retries: 3,
    redispatch: true,
    timeouts: { connect: 1000, client: 1000, server: 1000, httpRequest: 1000, httpKeepAlive: 1000, queue: 1000, tunnel: 1000 },
    stickSource: false,
    pipeline: 1,
    peerFallback: false,
    ...over,
  };
}
