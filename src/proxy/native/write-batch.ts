// Defers socket writes to the end of the current event-loop turn. Every write on loopback wakes the
// peer at once, and on a box with fewer cores than busy processes the woken peer preempts us; with
// writes held until every ready socket has been read, peers get several messages per wake-up and
// each socket one writev per turn. HAProxy gets the same effect from sending after its poll loop.
import type { ByteStream } from '../byte-stream.ts';

const kHeld = Symbol('halb.held');
type Held = ByteStream & { [kHeld]?: boolean };

let pending: Held[] = [];
let spare: Held[] = [];
let scheduled = false;

/** Holds writes on `socket` (cork) until this loop turn's I/O callbacks are done. The C layer
 *  does that by itself (it flushes after the poll phase). */
export function holdWrites(socket: ByteStream): void {
  if (socket.native !== undefined) return;
  const s = socket as Held;
  if (s[kHeld] === true) return;
  s[kHeld] = true;
  s.cork();
  pending.push(s);
  if (!scheduled) {
    scheduled = true;
    setImmediate(flush);
  }
}

/** Sends what `socket` holds now instead of at the end of the turn (big chunks gain nothing from
 *  waiting, and once written their memory can be reused). */
export function releaseWrites(socket: ByteStream): void {
  if (socket.native !== undefined) return;
  const s = socket as Held;
  if (s[kHeld] !== true) return;
  // flush() uncorks it again: a no-op unless it was held anew meanwhile, which is then right
  s[kHeld] = false;
  s.uncork();
}

function flush(): void {
  scheduled = false;
  const list = pending;
  pending = spare;
  for (let i = 0; i < list.length; i++) {
    const s = list[i]!;
    s[kHeld] = false;
    s.uncork();
  }
  list.length = 0;
  spare = list;
}
