// The hand-over channel between the nodes of a pair: a TCP listener that takes sealed
// certificates (handover-message.ts) from peers, and a sender that offers this node's
// certificates to every peer until each has acknowledged them. One message per connection,
// answered with one line: "ok" or "refused <reason>". A refused message is logged and counted by
// reason; nothing of it is used.
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import type { Logger } from '../log/logger.ts';
import { frameLength, MAX_FRAME, openHandover, ReplayGuard, sealHandover, type HandoverKey, type OpenResult } from './handover-message.ts';

export interface HandoverChannelOptions {
  listen: { host: string; port: number };
  peers: { host: string; port: number }[];
  key: HandoverKey;
  node: string;
  log: Logger;
  /** Install a received certificate; throws when it cannot serve (then it is refused). */
  receive(frontend: string, pem: string): Promise<void>;
  /** A peer that started without certificates asks for this node's (offer them). */
  requested(): void;
  /** Until acknowledged, offers are sent again this often (a peer that is down, or restarting). */
  retryMs?: number;
  now?: () => number;
}

type Refusal = Extract<OpenResult, { ok: false }>['reason'] | 'unusable' | 'too-large' | 'timeout';

export interface HandoverCounters {
  sent: number;
  acknowledged: number;
  sendFailed: number;
  received: number;
  refused: Partial<Record<Refusal, number>>;
}

const IO_TIMEOUT_MS = 10_000;
/** The frontend name of a request for certificates (no frontend is named ''). */
const REQUEST = '';

export class HandoverChannel {
  private readonly o: HandoverChannelOptions;
  private readonly server: net.Server;
  private readonly guard = new ReplayGuard();
  private readonly boot = randomBytes(8).toString('hex');
  private seq = 0;
  /** Per peer and frontend: the PEM not yet acknowledged. */
  private readonly pending = new Map<string, Map<string, string>>();
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<string>();
  readonly counters: HandoverCounters = { sent: 0, acknowledged: 0, sendFailed: 0, received: 0, refused: {} };

  constructor(o: HandoverChannelOptions) {
    this.o = o;
    // half-open: the sender's FIN ends its message; the answer is written after the install
    this.server = net.createServer({ allowHalfOpen: true }, (s) => this.accept(s));
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', (err) => reject(new Error(`acme hand-over: cannot listen on ${this.o.listen.host}:${this.o.listen.port}: ${err.message}`, { cause: err })));
      this.server.listen({ host: this.o.listen.host, port: this.o.listen.port, exclusive: true }, resolve);
    });
    this.server.on('error', (err) => this.o.log.error({ err: err.message }, 'acme hand-over listener error'));
    this.o.log.info({ listen: `${this.o.listen.host}:${this.o.listen.port}`, peers: this.o.peers.map((p) => `${p.host}:${p.port}`) }, 'acme hand-over listening');
    this.timer = setInterval(() => this.flush(), this.o.retryMs ?? 5000);
    this.timer.unref();
  }

  /** Offer `frontend`'s certificate to every peer (replacing an older offer not yet taken). */
  offer(frontend: string, pem: string): void {
    for (const p of this.o.peers) {
      const id = `${p.host}:${p.port}`;
      let m = this.pending.get(id);
      if (m === undefined) this.pending.set(id, (m = new Map()));
      m.set(frontend, pem);
    }
    this.flush();
  }

  /**
   * Ask every peer for its certificates (this node starts holding none): a sealed message with
   * no frontend and no certificate, retried like an offer until each peer answers.
   */
  request(): void {
    this.offer(REQUEST, '');
  }

  private flush(): void {
    for (const p of this.o.peers) {
      const id = `${p.host}:${p.port}`;
      for (const [frontend, pem] of this.pending.get(id) ?? []) {
        const k = `${id} ${frontend}`;
        if (this.inFlight.has(k)) continue;
        this.inFlight.add(k);
        void this.send(p, frontend, pem)
          .then((answer) => {
            if (answer === 'ok') {
              this.counters.acknowledged++;
              // taken, unless a newer offer replaced it meanwhile
              if (this.pending.get(id)?.get(frontend) === pem) this.pending.get(id)?.delete(frontend);
              this.o.log.info({ peer: id, frontend }, 'acme hand-over: certificate taken by the peer');
            } else {
              this.counters.sendFailed++;
              this.o.log.warn({ peer: id, frontend, answer }, 'acme hand-over: the peer refused the certificate');
            }
          })
          .catch((err: unknown) => {
            this.counters.sendFailed++;
            this.o.log.debug({ peer: id, frontend, err: (err as Error).message }, 'acme hand-over: peer not reachable; offering again later');
          })
          .finally(() => this.inFlight.delete(k));
      }
    }
  }

  private send(peer: { host: string; port: number }, frontend: string, pem: string): Promise<string> {
    const frame = sealHandover(this.o.key, { node: this.o.node, boot: this.boot, seq: ++this.seq, ts: this.now(), frontend }, pem);
    this.counters.sent++;
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: peer.host, port: peer.port });
      let answer = '';
      s.setTimeout(IO_TIMEOUT_MS, () => s.destroy(new Error('timed out')));
      s.on('connect', () => s.end(frame));
      s.on('data', (d: Buffer) => (answer += d.toString('utf8')));
      s.on('error', reject);
      s.on('close', () => (answer === '' ? reject(new Error('closed without an answer')) : resolve(answer.trim())));
    });
  }

  private accept(s: net.Socket): void {
    const peer = `${s.remoteAddress ?? '?'}:${s.remotePort ?? 0}`;
    let buf = Buffer.alloc(0);
    let done = false;
    /** A whole frame arrived: the sender's FIN that follows it is no short message. */
    let whole = false;
    s.setTimeout(IO_TIMEOUT_MS, () => finish('timeout', 'no whole message in time'));
    const finish = (refusal: Refusal | undefined, detail?: string): void => {
      if (done) return;
      done = true;
      if (refusal !== undefined) {
        this.counters.refused[refusal] = (this.counters.refused[refusal] ?? 0) + 1;
        this.o.log.warn({ peer, reason: refusal, detail }, 'acme hand-over message refused');
      }
      s.end(refusal === undefined ? 'ok\n' : `refused ${refusal}\n`);
    };
    s.on('error', () => undefined);
    s.on('data', (d: Buffer) => {
      if (done) return;
      buf = Buffer.concat([buf, d]);
      const need = frameLength(buf);
      if ((need ?? buf.length) > MAX_FRAME) return finish('too-large', `frame of ${need ?? buf.length} bytes, at most ${MAX_FRAME}`);
      if (need === undefined || buf.length < need) return;
      whole = true;
      s.pause();
      const r = openHandover(this.o.key, buf.subarray(0, need), this.guard, this.now());
      if (buf.length > need) return finish('malformed', 'bytes after the message');
      if (!r.ok) return finish(r.reason, r.detail);
      if (r.header.frontend === REQUEST && r.pem === '') {
        this.o.log.info({ peer, node: r.header.node }, 'acme hand-over: the peer asks for the certificates held here');
        this.o.requested();
        return finish(undefined);
      }
      this.o
        .receive(r.header.frontend, r.pem)
        .then(() => {
          this.counters.received++;
          finish(undefined);
        })
        .catch((err: unknown) => finish('unusable', (err as Error).message));
    });
    s.on('end', () => {
      if (!done && !whole) finish('malformed', `connection ended after ${buf.length} bytes, before a whole message`);
    });
  }

  private now(): number {
    return this.o.now?.() ?? Date.now();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
