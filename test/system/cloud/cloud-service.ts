// The lab's "cloud": runs inside the cloud namespace, which is also the router between the
// client and the droplets. It serves the fake DigitalOcean API and the metadata service on the
// cloud's own address (metadata answers each droplet with ITS id, by source address, as the
// real link-local service does), and when an assign action completes it points the cloud's
// route for the reserved IP at that droplet's address: the address really moves.
//
//   node cloud-service.ts --listen 10.77.0.2:8080 --control 127.0.0.1:9999 --token T \
//     --ip 10.77.200.10 --droplet 1001=10.77.0.11 --droplet 1002=10.77.0.12 [--action-polls 1]
//
// stdout: JSON lines {ev:"listening"} then {ev:"assigned", t, ip, droplet, via} per completed
// assign (t: after the route was replaced). GET http://CONTROL/requests answers every API and
// metadata request seen so far, with its Authorization header and source address.

import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { promisify } from 'node:util';
import { startFakeDigitalOcean } from '../../helpers/fake-digitalocean.ts';

const run = promisify(execFile);

function hostPort(spec: string, what: string): [string, number] {
  const i = spec.lastIndexOf(':');
  const port = Number(spec.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port)) throw new Error(`--${what} wants HOST:PORT, got ${JSON.stringify(spec)}`);
  return [spec.slice(0, i), port];
}

function emit(o: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(o) + '\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      listen: { type: 'string' },
      control: { type: 'string', default: '127.0.0.1:9999' },
      token: { type: 'string' },
      ip: { type: 'string' },
      droplet: { type: 'string', multiple: true, default: [] },
      'action-polls': { type: 'string', default: '0' },
    },
  });
  if (!values.listen || !values.token || !values.ip) throw new Error('--listen, --token and --ip are required');
  const addrOf = new Map<number, string>();
  const idOf = new Map<string, number>();
  for (const spec of values.droplet) {
    const [id, addr] = spec.split('=');
    if (!id || !addr) throw new Error(`--droplet wants ID=ADDRESS, got ${JSON.stringify(spec)}`);
    addrOf.set(Number(id), addr);
    idOf.set(addr, Number(id));
  }
  const [host, port] = hostPort(values.listen, 'listen');
  const fake = await startFakeDigitalOcean(
    {
      token: values.token,
      ips: { [values.ip]: null },
      metadataDropletId: (remote) => idOf.get((remote ?? '').replace(/^::ffff:/, '')),
      actionPolls: Number(values['action-polls']),
      // The provider's network now delivers the reserved IP to the droplet: a host route on the
      // router. A failure here makes the action "errored", as a provider-side failure would.
      onAssign: async (ip, droplet) => {
        const via = addrOf.get(droplet);
        if (!via) throw new Error(`no such droplet ${droplet}`);
        await run('ip', ['route', 'replace', `${ip}/32`, 'via', via]);
        emit({ ev: 'assigned', t: Date.now(), ip, droplet, via });
      },
    },
    port,
    host,
  );
  const [chost, cport] = hostPort(values.control, 'control');
  const control = createServer((req, res) => {
    if (req.url === '/requests') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ requests: fake.requests, holders: Object.fromEntries(fake.holders) }));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => control.listen(cport, chost, resolve));
  emit({ ev: 'listening', url: fake.url });
  const stop = (): void => {
    control.close();
    void fake.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`cloud-service: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
