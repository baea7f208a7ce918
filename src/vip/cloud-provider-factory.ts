// From a validated FloatingIpConfig to the provider that implements it.

import type { FloatingIpConfig } from '../config/types.ts';
import type { Logger } from '../log/logger.ts';
import { DigitalOceanReservedIp } from './digitalocean.ts';
import { HetznerFloatingIp } from './hetzner.ts';
import type { AddressProvider } from './provider.ts';

export function createFloatingIpProvider(cfg: FloatingIpConfig, log: Logger, env: NodeJS.ProcessEnv = process.env): AddressProvider {
  const common = {
    ip: cfg.ip,
    ...(cfg.tokenEnv !== undefined ? { tokenEnv: cfg.tokenEnv } : {}),
    ...(cfg.tokenFile !== undefined ? { tokenFile: cfg.tokenFile } : {}),
    apiBase: cfg.apiBase,
    metadataBase: cfg.metadataBase,
    log,
    env,
  };
  switch (cfg.provider) {
    case 'digitalocean':
      return new DigitalOceanReservedIp({ ...common, ...(cfg.dropletId !== undefined ? { dropletId: cfg.dropletId } : {}) });
    case 'hetzner':
      return new HetznerFloatingIp({
        ...common,
        ...(cfg.floatingIpId !== undefined ? { floatingIpId: cfg.floatingIpId } : {}),
        ...(cfg.serverId !== undefined ? { serverId: cfg.serverId } : {}),
      });
  }
}
