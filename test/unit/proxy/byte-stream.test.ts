// ByteStream is satisfied by node's sockets as they are (no wrapper): these hold the two things
// that rests on. Every method it names exists on net.Socket and tls.TLSSocket (the list below is
// checked against the interface by the type checker, so it cannot fall behind), and node's
// sockets have no `native`, which would otherwise send them down the C layer's fast paths.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import type { ByteStream } from '../../../src/proxy/byte-stream.ts';

type Methods<T> = { [K in keyof T]-?: T[K] extends (...args: never[]) => unknown ? K : never }[keyof T];

// satisfies: a method added to ByteStream and missing here, or one named here and not in it, fails typecheck
const METHODS = {
  write: true,
  end: true,
  destroy: true,
  destroySoon: true,
  pause: true,
  resume: true,
  isPaused: true,
  cork: true,
  uncork: true,
  setTimeout: true,
  on: true,
  off: true,
} as const satisfies Record<Methods<ByteStream>, true>;

// node's sockets are ByteStreams as they are
const plain: ByteStream = new net.Socket();
const secure: ByteStream = new tls.TLSSocket(new net.Socket());

for (const [name, s] of [
  ['net.Socket', plain],
  ['tls.TLSSocket', secure],
] as const) {
  test(`${name} has every ByteStream method, the fields it reads, and no native handle`, () => {
    const o = s as unknown as Record<string, unknown>;
    for (const m of Object.keys(METHODS)) assert.equal(typeof o[m], 'function', `${name}.${m}`);
    assert.equal(typeof s.destroyed, 'boolean');
    assert.equal(typeof s.writableLength, 'number');
    assert.equal('native' in s, false);
    assert.equal(s.native, undefined);
    s.destroy();
  });
}
