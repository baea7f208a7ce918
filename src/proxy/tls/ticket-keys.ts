// Session ticket keys of a process's TLS frontends. The primary makes them and rotates them
// (node/ticket-key-rotation.ts) and every worker holds the same ones, so a client resumes its
// session on whichever worker the kernel hands its next connection to. After a rotation the
// previous key still opens tickets it sealed (a context per key: tls-contexts.ts picks the one the
// ticket names), so no client falls back to a full handshake because of a rotation.
import { TICKET_KEY_NAME_BYTES } from './client-hello.ts';

/** node's ticket key: 16 bytes name, 16 HMAC secret, 16 AES key. */
export const TICKET_KEY_BYTES = 48;

export interface TicketKeys {
  current: Buffer;
  previous: Buffer | undefined;
}

/** The name a ticket sealed with `key` starts with, as client-hello.ts reports it. */
export function ticketKeyName(key: Buffer): string {
  return key.toString('hex', 0, TICKET_KEY_NAME_BYTES);
}

/** One rotation: `fresh` becomes current and the current one is kept to open older tickets. */
export function rotateKeys(keys: TicketKeys | undefined, fresh: Buffer): TicketKeys {
  if (fresh.length !== TICKET_KEY_BYTES) throw new Error(`a ticket key is ${TICKET_KEY_BYTES} bytes, got ${fresh.length}`);
  return { current: fresh, previous: keys?.current };
}

/** What crosses the IPC channel (JSON): base64. */
export interface TicketKeysMessage {
  current: string;
  previous?: string;
}

export function encodeKeys(k: TicketKeys): TicketKeysMessage {
  const m: TicketKeysMessage = { current: k.current.toString('base64') };
  if (k.previous !== undefined) m.previous = k.previous.toString('base64');
  return m;
}

export function decodeKeys(m: TicketKeysMessage): TicketKeys {
  return { current: Buffer.from(m.current, 'base64'), previous: m.previous === undefined ? undefined : Buffer.from(m.previous, 'base64') };
}

/** The process's keys; the frontends' contexts read them at each handshake. Until the first set
 *  (a frontend built alone, as tests do) each context keeps node's own random key. */
export class TicketKeyStore {
  private keys: TicketKeys | undefined;

  get(): TicketKeys | undefined {
    return this.keys;
  }

  set(keys: TicketKeys): void {
    this.keys = keys;
  }
}
