// What the failover half needs to know about a network interface: its index (for sockets),
// its MAC (for GARP/NA) and its addresses (the VRRP source address). Read through the kernel
// of the current network namespace, so it is right inside `ip netns exec` too. It sits in
// host/, below vrrp/ (the transport's source address) and vip/ (GARP/NA's MAC), because both
// read it and neither should import the other.

import { interfaceInfo as nativeInterfaceInfo } from '#rawsock';
import type { InterfaceInfo } from '#rawsock';

// The addon's own shape (native/rawsock/index.d.ts), not a copy of it.
export type { InterfaceInfo };

/** Throws `interface "X" not found` (code ENODEV) when the interface does not exist. */
export function interfaceInfo(name: string): InterfaceInfo {
  try {
    return nativeInterfaceInfo(name);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENODEV' || code === 'ENXIO') {
      const e = new Error(`interface "${name}" not found`) as NodeJS.ErrnoException;
      e.code = 'ENODEV';
      throw e;
    }
    throw err;
  }
}

export function isLinkLocal6(address: string): boolean {
  return /^fe[89ab][0-9a-f]:/i.test(address);
}

/**
 * The address VRRP sends from when none is configured: the interface's primary IPv4
 * address, or its IPv6 link-local address (RFC 5798 5.1.2.1 requires link-local).
 */
export function defaultSourceAddress(info: InterfaceInfo, family: 4 | 6): string | undefined {
  if (family === 4) return info.ipv4[0];
  return info.ipv6.find(isLinkLocal6);
}

/** "aa:bb:cc:dd:ee:ff" -> 6 bytes. Throws on anything else. */
export function macBytes(mac: string): Buffer {
  const parts = mac.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-f]{2}$/i.test(p))) {
    throw new TypeError(`"${mac}" is not a MAC address (aa:bb:cc:dd:ee:ff)`);
  }
  return Buffer.from(parts.map((p) => parseInt(p, 16)));
}
