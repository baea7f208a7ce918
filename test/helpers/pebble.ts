// Debian's pebble (Let's Encrypt's test ACME CA) and pebble-challtestsrv, started by a test.
// challtestsrv serves only DNS here (every A query -> defaultIPv4, so the names pebble validates
// lead to halb); its own challenge servers are off, so every answer the CA gets is halb's.
// pebble's HTTPS listener gets a certificate made at test time (test-certificates.ts), trusted by
// halb through acme.ca_file; the issuing root pebble makes at start is read from its management API.
import { spawn, type ChildProcess } from 'node:child_process';
import https from 'node:https';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './halb-process.ts';
import { makeLeaf, type TestCa } from './test-certificates.ts';

export interface PebbleOptions {
  /** Where pebble's CA reaches the http-01 and tls-alpn-01 answers. */
  httpPort: number;
  tlsPort: number;
  /** Lifetime of issued certificates, seconds (pebble's certificateValidityPeriod). */
  validitySeconds?: number;
  /** Address every name resolves to (default 127.0.0.1). */
  resolveTo?: string;
  /** Addresses to listen on (default 127.0.0.1). */
  listenHost?: string;
  /** Fixed ports (a restarted CA keeps its directory URL). */
  ports?: { acme: number; management: number; dns: number };
  /** Run inside a network namespace. */
  netns?: string;
}

export interface Pebble {
  directory: string;
  /** The TLS CA of pebble's own listener (for acme.ca_file). */
  listenerCaFile: string;
  ports: { acme: number; management: number; dns: number };
  /** The root that signs issued certificates (changes at every pebble start). */
  root(): Promise<string>;
  stop(): Promise<void>;
  /** Everything pebble logged. */
  output(): string;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, netns: string | undefined, sink: string[]): ChildProcess {
  const argv = netns === undefined ? [cmd, ...args] : ['ip', 'netns', 'exec', netns, cmd, ...args];
  const child = spawn(argv[0] as string, argv.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d: Buffer) => sink.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => sink.push(d.toString()));
  return child;
}

function stopChild(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    c.once('exit', () => resolve());
    c.kill('SIGKILL');
  });
}

function get(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca, servername: 'localhost' }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

/** pebble's listener certificate: for localhost (the directory URL's host) and 127.0.0.1. */
export function pebbleListenerCertificate(ca: TestCa, ips: string[] = [], name = `pebble-listener-${ips.join('-')}`): { cert: string; key: string } {
  makeLeaf(ca, name, { names: ['localhost'], ips });
  return { cert: join(ca.dir, `${name}.crt`), key: join(ca.dir, `${name}.key`) };
}

export async function startPebble(ca: TestCa, dir: string, o: PebbleOptions): Promise<Pebble> {
  const host = o.listenHost ?? '127.0.0.1';
  const ports = o.ports ?? { acme: await freePort(), management: await freePort(), dns: await freePort() };
  const listener = pebbleListenerCertificate(ca, host === '127.0.0.1' ? [] : [host]);
  const cfgFile = join(dir, `pebble-${ports.acme}.json`);
  writeFileSync(
    cfgFile,
    JSON.stringify({
      pebble: {
        listenAddress: `${host}:${ports.acme}`,
        managementListenAddress: `${host}:${ports.management}`,
        certificate: listener.cert,
        privateKey: listener.key,
        httpPort: o.httpPort,
        tlsPort: o.tlsPort,
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
        ...(o.validitySeconds !== undefined ? { certificateValidityPeriod: o.validitySeconds } : {}),
      },
    }),
  );
  const log: string[] = [];
  const dns = run(
    'pebble-challtestsrv',
    ['-dns01', `${host}:${ports.dns}`, '-http01', '', '-https01', '', '-tlsalpn01', '', '-management', `${host}:${await freePort()}`, '-defaultIPv4', o.resolveTo ?? '127.0.0.1', '-defaultIPv6', ''],
    {},
    o.netns,
    log,
  );
  // NOSLEEP: no random validation delay; NONCEREJECT 0: no deliberately refused nonces. Never
  // PEBBLE_VA_ALWAYS_VALID: the validation halb answers is what the tests prove.
  const pebble = run('pebble', ['-config', cfgFile, '-dnsserver', `${host}:${ports.dns}`], { PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0' }, o.netns, log);
  const directory = host === '127.0.0.1' ? `https://localhost:${ports.acme}/dir` : `https://${host}:${ports.acme}/dir`;
  const listenerCa = ca.ca;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (pebble.exitCode !== null) {
      await stopChild(dns);
      throw new Error(`pebble exited: ${log.join('')}`);
    }
    if (o.netns !== undefined || (await get(directory, listenerCa).then((r) => r.status === 200, () => false))) break;
    if (Date.now() > deadline) {
      await Promise.all([stopChild(pebble), stopChild(dns)]);
      throw new Error(`pebble did not serve ${directory}: ${log.join('')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    directory,
    listenerCaFile: ca.caFile,
    ports,
    root: async () => {
      if (o.netns !== undefined) throw new Error('pebble in a namespace: read roots/0 from inside it');
      const r = await get(`https://localhost:${ports.management}/roots/0`, listenerCa);
      if (r.status !== 200) throw new Error(`pebble roots/0: ${r.status}`);
      return r.body;
    },
    stop: () => Promise.all([stopChild(pebble), stopChild(dns)]).then(() => undefined),
    output: () => log.join(''),
  };
}
