// Runs inside a lab namespace (`ip netns exec NS node agent.ts`) and drives the wire I/O
// on behalf of a system test: JSON-line requests on stdin, JSON-line replies and events
// on stdout. Sockets must be opened in the namespace, so this process lives there.

import { createInterface } from 'node:readline';
import { openInet, setHopLimit, setMulticastInterface, setMulticastLoop, send, close } from '#rawsock';
import { VrrpTransport } from '../../../src/vrrp/transport.ts';
import type { VrrpTransportOptions } from '../../../src/vrrp/transport.ts';
import { announce } from '../../../src/vip/announce.ts';
import { interfaceInfo } from '../../../src/host/interface-info.ts';

type Request =
  | { seq: number; op: 'open'; id: string; opts: VrrpTransportOptions }
  | { seq: number; op: 'send'; id: string; hex: string }
  | { seq: number; op: 'stats'; id: string }
  | { seq: number; op: 'close'; id: string }
  | { seq: number; op: 'info'; iface: string }
  | { seq: number; op: 'announce'; address: string; iface: string; repeat: number; intervalMs: number }
  | { seq: number; op: 'rawsend'; family: 4 | 6; iface: string; dst: string; hex: string; hops: number };

const transports = new Map<string, VrrpTransport>();
const out = (obj: object): void => void process.stdout.write(JSON.stringify(obj) + '\n');

async function handle(req: Request): Promise<object> {
  switch (req.op) {
    case 'open': {
      const t = VrrpTransport.open(req.opts);
      transports.set(req.id, t);
      t.on('packet', (p) => out({ ev: 'packet', id: req.id, payload: p.payload.toString('hex'), src: p.src, dst: p.dst, ttl: p.ttl, ifindex: p.ifindex }));
      t.on('socket-error', (err) => out({ ev: 'socket-error', id: req.id, message: err.message }));
      return { localAddress: t.localAddress, ifindex: t.ifindex, destinations: t.destinations };
    }
    case 'send':
      return { sent: transports.get(req.id)!.send(Buffer.from(req.hex, 'hex')) };
    case 'stats': {
      const t = transports.get(req.id)!;
      return { drops: t.drops, counters: t.counters };
    }
    case 'close':
      transports.get(req.id)!.close();
      transports.delete(req.id);
      return {};
    case 'info':
      return interfaceInfo(req.iface);
    case 'announce':
      return { sent: await announce(req.address, req.iface, { repeat: req.repeat, intervalMs: req.intervalMs }) };
    case 'rawsend': {
      // A VRRP packet with a chosen TTL, for the transport's TTL check.
      const h = openInet(req.family, 112);
      try {
        const ifindex = interfaceInfo(req.iface).index;
        setHopLimit(h, req.hops);
        setMulticastInterface(h, ifindex);
        setMulticastLoop(h, false);
        return { sent: send(h, Buffer.from(req.hex, 'hex'), req.dst, null, ifindex) };
      } finally {
        close(h);
      }
    }
  }
}

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const req = JSON.parse(line) as Request;
  handle(req).then(
    (result) => out({ re: req.seq, ok: true, result }),
    (err: NodeJS.ErrnoException) => out({ re: req.seq, ok: false, message: err.message, code: err.code }),
  );
});
rl.on('close', () => {
  for (const t of transports.values()) t.close();
});
out({ ev: 'ready' });
