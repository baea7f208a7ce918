// A server answered an upgrade request with something other than 101: the connection stays
// HTTP. This sink writes that answer to the client in HTTP/1.1 framing (a body of unknown length
// re-chunked, so the connection can carry the next request) and says when it is complete, so the
// tunnel can hand the client back to the HTTP parser instead of relaying its bytes unparsed.
import type { Socket } from 'node:net';
import { applyHeaderOps, type CompiledHeaderOp } from './header-ops.ts';
import type { ResponseSink } from './response-parser.ts';

export class RefusedUpgradeRelay implements ResponseSink {
  status = 0;
  bytesOut = 0;
  private readonly client: Socket;
  private readonly ops: readonly CompiledHeaderOp[];
  private readonly noBody: boolean;
  private readonly done: () => void;
  private chunked = false;

  constructor(client: Socket, ops: readonly CompiledHeaderOp[], noBody: boolean, done: () => void) {
    this.client = client;
    this.ops = ops;
    this.noBody = noBody;
    this.done = done;
  }

  onResponseHead(status: number, reason: string, headers: string[], contentLength: number): void {
    this.status = status;
    const hs = this.ops.length > 0 ? applyHeaderOps(this.ops, headers) : headers;
    const bodiless = this.noBody || status === 204 || status === 304;
    this.chunked = !bodiless && contentLength < 0;
    let head = `HTTP/1.1 ${status} ${reason}\r\n`;
    for (let i = 0; i < hs.length; i += 2) head += `${hs[i]!}: ${hs[i + 1]!}\r\n`;
    if (this.chunked) head += 'Transfer-Encoding: chunked\r\n';
    this.client.write(`${head}\r\n`, 'latin1');
  }

  onResponseData(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.bytesOut += chunk.length;
    if (!this.chunked) {
      this.client.write(chunk);
      return;
    }
    this.client.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
    this.client.write(chunk);
    this.client.write('\r\n', 'latin1');
  }

  onResponseEnd(): void {
    if (this.chunked) this.client.write('0\r\n\r\n', 'latin1');
    this.done();
  }
}
