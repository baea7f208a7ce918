// Raw sockets for halb. Linux only; needs CAP_NET_RAW. Every call that fails throws an
// Error with .code ("EPERM", "ENODEV", ...), .errno and .syscall, like node's own errors.

/** Opaque socket handle. Closed by close() or when garbage-collected. */
export interface RawHandle {
  readonly __rawsockHandle: never;
}

/**
 * One received datagram.
 * IPv4: `payload` starts with the IP header (raw IPv4 sockets deliver it); `ttl` is the IP TTL.
 * IPv6: `payload` is the upper-layer data only; `ttl` is the hop limit.
 * `dst` and `ifindex` come from PKTINFO; `ttl` is -1 if the kernel did not report it.
 */
export type PacketCallback = (payload: Buffer, src: string, dst: string, ttl: number, ifindex: number) => void;

/** socket(AF_INET|AF_INET6, SOCK_RAW, protocol), non-blocking, close-on-exec. */
export function openInet(family: 4 | 6, protocol: number): RawHandle;
/** socket(AF_PACKET, SOCK_RAW, 0): send-only, receives nothing. */
export function openPacket(): RawHandle;
/** Idempotent. Stops receiving and releases the callbacks. */
export function close(handle: RawHandle): void;
/** SO_BINDTODEVICE; "" unbinds. */
export function bindToDevice(handle: RawHandle, ifname: string): void;
/** bind(2). A raw socket bound to an address receives only packets addressed to it. */
export function bindAddress(handle: RawHandle, address: string): void;
/** IP_TTL + IP_MULTICAST_TTL, or IPV6_UNICAST_HOPS + IPV6_MULTICAST_HOPS. */
export function setHopLimit(handle: RawHandle, hops: number): void;
/** IP_TOS or IPV6_TCLASS. */
export function setTrafficClass(handle: RawHandle, tos: number): void;
/** IPv4 only: the DF bit (IP_MTU_DISCOVER DO/DONT). */
export function setDontFragment(handle: RawHandle, on: boolean): void;
/** IP_MULTICAST_IF (by ifindex) or IPV6_MULTICAST_IF. */
export function setMulticastInterface(handle: RawHandle, ifindex: number): void;
export function setMulticastLoop(handle: RawHandle, on: boolean): void;
/** IP_ADD_MEMBERSHIP / IPV6_JOIN_GROUP on the interface. */
export function joinGroup(handle: RawHandle, group: string, ifindex: number): void;
export function leaveGroup(handle: RawHandle, group: string, ifindex: number): void;
/** ICMPv6 sockets: block every type except `passTypes` ([] for a send-only socket). */
export function setIcmp6Filter(handle: RawHandle, passTypes: number[]): void;
/**
 * Enable PKTINFO and TTL/hop-limit reporting and start a uv_poll on the socket.
 * onError gets recvmsg/poll failures (the socket stays open). The receiver keeps the
 * event loop alive until close() or setRef(handle, false).
 */
export function startReceiving(handle: RawHandle, onPacket: PacketCallback, onError: (err: Error) => void): void;
export function setRef(handle: RawHandle, ref: boolean): void;
/**
 * sendmsg to `dst`. `source` and `ifindex` travel in an IP(V6)_PKTINFO control message
 * (source address of the packet, outgoing interface); for IPv6 `ifindex` is also the scope
 * of link-local destinations. Returns bytes sent. The kernel fills ICMPv6 checksums.
 */
export function send(handle: RawHandle, payload: Buffer, dst: string, source?: string | null, ifindex?: number | null): number;
/** Send a whole Ethernet frame (header included) out of `ifindex`. Returns bytes sent. */
export function sendFrame(handle: RawHandle, ifindex: number, frame: Buffer): number;

export interface InterfaceInfo {
  name: string;
  index: number;
  /** "aa:bb:cc:dd:ee:ff", or "" when the link has no Ethernet address. */
  mac: string;
  up: boolean;
  running: boolean;
  /** Kernel order: the primary address first. */
  ipv4: string[];
  /** Kernel order; link-local addresses included (fe80::...). */
  ipv6: string[];
}
/** Looks the interface up in the calling thread's network namespace. Throws ENODEV if absent. */
export function interfaceInfo(ifname: string): InterfaceInfo;
/**
 * RTM_NEWADDR on `ifname` in the calling thread's network namespace (what `ip addr add` does,
 * without a process). Returns true if added, false if the address was already there (EEXIST).
 */
export function addAddress(ifname: string, family: 4 | 6, address: string, prefix: number, nodad: boolean, label?: string): boolean;

/**
 * Read what is queued on a receiving socket now, synchronously, through its onPacket callback.
 * Returns how many packets were delivered.
 */
export function drain(handle: RawHandle): number;

/** A thread sending queued packets at fixed intervals (pacer.c), on its own dup of `handle`. */
export interface PacerHandle {
  readonly __pacer: unique symbol;
}
export function pacerOpen(handle: RawHandle, source?: string | null, ifindex?: number | null): PacerHandle;
/** Replace the queue: rounds[0] due firstDueMs from now (< 0: keep the phase), then one per intervalMs. */
export function pacerSchedule(p: PacerHandle, rounds: readonly (readonly (readonly [Buffer, string])[])[], intervalMs: number, firstDueMs: number): void;
export function pacerStop(p: PacerHandle): void;
export function pacerStats(p: PacerHandle): { sent: number; errors: number; lastErrno: number; maxLateMs: number; queued: number; realtime: boolean };
export function pacerClose(p: PacerHandle): void;
