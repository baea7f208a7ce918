// Real gRPC servers and clients for tests: @grpc/grpc-js with the services of test/fixtures/grpc
// loaded by @grpc/proto-loader. A server serves grpc.health.v1.Health (grpc-js has none of its
// own: Check answers from a map the test sets, NOT_FOUND for a service not in it, as the
// reference implementations do) and halb.test.Echo (a unary Say and a bidirectional Chat, both
// naming the server that answered).
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';

const FIXTURES = fileURLToPath(new URL('../fixtures/grpc/', import.meta.url));

function load(file: string): grpc.GrpcObject {
  const def = protoLoader.loadSync(FIXTURES + file, { keepCase: true, enums: String, defaults: true });
  return grpc.loadPackageDefinition(def);
}

const healthPkg = load('health.proto') as unknown as { grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } } };
const echoPkg = load('echo.proto') as unknown as { halb: { test: { Echo: grpc.ServiceClientConstructor } } };
export const HealthService = healthPkg.grpc.health.v1.Health;
export const EchoService = echoPkg.halb.test.Echo;

export type ServingStatus = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

export interface TestGrpcServer {
  name: string;
  port: number;
  server: grpc.Server;
  /** Health/Check answers per service name ("" is the whole server). */
  health: Map<string, ServingStatus>;
  /** Echo calls served, by method, and Chat calls the client cancelled. */
  calls: { say: number; chat: number; cancelled: number };
  stop(): Promise<void>;
}

export interface GrpcServerOptions {
  /** PEM of the certificate chain and key (HAProxy crt format: one file): serve over TLS. */
  tlsPem?: string;
  /** Leave the Health service out (a server that does not implement it). */
  noHealth?: boolean;
  port?: number;
}

export async function startGrpcServer(name: string, opts: GrpcServerOptions = {}): Promise<TestGrpcServer> {
  const server = new grpc.Server();
  const health = new Map<string, ServingStatus>([['', 'SERVING']]);
  const calls = { say: 0, chat: 0, cancelled: 0 };
  if (opts.noHealth !== true) {
    server.addService(HealthService.service, {
      Check(call: grpc.ServerUnaryCall<{ service: string }, unknown>, cb: grpc.sendUnaryData<unknown>) {
        const s = health.get(call.request.service);
        if (s === undefined) cb({ code: grpc.status.NOT_FOUND, details: `unknown service ${call.request.service}` });
        else cb(null, { status: s });
      },
    });
  }
  server.addService(EchoService.service, {
    Say(call: grpc.ServerUnaryCall<{ text: string }, unknown>, cb: grpc.sendUnaryData<unknown>) {
      calls.say++;
      if (call.request.text === 'fail') {
        cb({ code: grpc.status.FAILED_PRECONDITION, details: 'asked to fail', metadata: trailer(name) });
        return;
      }
      cb(null, { text: call.request.text, server: name }, trailer(name));
    },
    Chat(call: grpc.ServerDuplexStream<{ text: string }, unknown>) {
      calls.chat++;
      call.on('cancelled', () => calls.cancelled++);
      call.on('error', () => {});
      call.on('data', (m: { text: string }) => call.write({ text: m.text.toUpperCase(), server: name }));
      call.on('end', () => call.end(trailer(name)));
    },
  });
  const creds = opts.tlsPem === undefined
    ? grpc.ServerCredentials.createInsecure()
    : grpc.ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(opts.tlsPem), private_key: Buffer.from(opts.tlsPem) }], false);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${opts.port ?? 0}`, creds, (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    name,
    port,
    server,
    health,
    calls,
    stop: () => new Promise<void>((resolve) => {
      server.forceShutdown();
      resolve();
    }),
  };
}

/** Trailing metadata naming the server, so a test sees trailers cross the proxy. */
function trailer(name: string): grpc.Metadata {
  const m = new grpc.Metadata();
  m.set('x-served-by', name);
  return m;
}
