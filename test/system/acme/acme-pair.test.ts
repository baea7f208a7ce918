// ACME on a VRRP pair, in namespaces: lb1 (master) and lb2 (backup) share the VIP 10.77.0.100;
// pebble and its DNS (every name -> the VIP) run on the client side. Only the master talks to
// the CA; the certificate it obtains is handed to lb2 over the sealed channel; after kill -9 of
// lb1 the client gets a valid HTTPS answer from lb2 with the same certificate within the bound
// (measured by tls-probe.ts: a fresh TLS connection every 20 ms); a tampered hand-over message is
// refused, logged and shown by `halb status`. Namespaces are named ac-*, removed also on failure.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab } from '../../helpers/netns.ts';
import { createInterface } from 'node:readline';
import { VrrpNode, eventually } from '../vrrp/vrrp-node-client.ts';
import { masterDownInterval } from '../../../src/vrrp/state-machine.ts';
import { makeCa, makeLeaf, type TestCa } from '../../helpers/test-certificates.ts';
import { startPebble, type Pebble } from '../../helpers/pebble.ts';

const VIP = '10.77.0.100';
const LB: Record<string, string> = { lb1: '10.77.0.11', lb2: '10.77.0.12' };
const WEB = '10.77.0.21';
const CLIENT = '10.77.0.50';
const DOMAIN = 'www.acme.test';
const PEER_PORT = 7946;
const WEB_SCRIPT = new URL('../node/web-server.ts', import.meta.url).pathname;
const SEAL = new URL('../../../src/acme/handover-message.ts', import.meta.url).pathname;
const HALB_MAIN = new URL('../../../bin/halb.js', import.meta.url).pathname;
const PROBE_SCRIPT = new URL('./tls-probe.ts', import.meta.url).pathname;
const ADVERT_MS = 100;
// lb2 (priority 100) takes over Master_Down_Interval after lb1's last advert; the bound is the one
// test/system/node/kill-advert-100ms.test.ts holds full halb nodes to at this advert (0.5 s:
// Master_Down_Interval + one advert of phase + GARP and the first handshake).
const MDI = masterDownInterval(3, 100, ADVERT_MS);
const BOUND_MS = 500;
const SECRET = 'aa11bb22cc33dd44ee55ff6600112233aa11bb22cc33dd44ee55ff6600112233';

const dir = mkdtempSync(join(tmpdir(), 'halb-acme-pair-'));
let lab: Lab | undefined;
let ca: TestCa;
let pebble: Pebble | undefined;
const nodes: VrrpNode[] = [];

function lbYaml(host: 'lb1' | 'lb2', fallback: string): string {
  const other = host === 'lb1' ? 'lb2' : 'lb1';
  return `global:
  workers: 2
  admin: { listen: "127.0.0.1:9100", read_only_open: true, token_env: HALB_TEST_ADMIN_TOKEN }
  log: { level: info, access: false }
frontends:
  plain:
    bind: ["${VIP}:80"]
    default_backend: web
  site:
    bind: ["${VIP}:443"]
    default_backend: web
    http-response:
      - { set-header: X-Served-By, value: ${host} }
    tls:
      acme:
        email: ops@example.com
        directory: "https://${CLIENT}:14000/dir"
        domains: [${DOMAIN}]
        ca_file: ${ca.caFile}
        storage: ${join(dir, `store-${host}`)}
        fallback_crt: ${fallback}
        retry_min: 1s
        retry_max: 4s
        peer_key_file: ${join(dir, 'peer.key')}
        peers: [${LB[other]}]
        peer_listen: ${LB[host]}
        peer_port: ${PEER_PORT}
backends:
  web: { servers: [ { name: web1, address: "${WEB}:80" } ] }
vrrp:
  instances:
    VI_1:
      interface: eth0
      state: ${host === 'lb1' ? 'MASTER' : 'BACKUP'}
      priority: ${host === 'lb1' ? 101 : 100}
      virtual_router_id: 51
      version: 3
      advert_int: 100ms
      virtual_ipaddress: ["${VIP}/24"]
`;
}

before(async () => {
  ca = makeCa(dir);
  writeFileSync(join(dir, 'peer.key'), `${SECRET}\n`);
  chmodSync(join(dir, 'peer.key'), 0o600);
  lab = await Lab.create({ prefix: 'ac' });
  for (const lb of ['lb1', 'lb2']) await lab.host(lb, { addresses: [`${LB[lb]}/24`] });
  await lab.host('client', { addresses: [`${CLIENT}/24`] });
  await lab.host('web1', { addresses: [`${WEB}/24`] });
  const web = lab.spawn('web1', process.execPath, [WEB_SCRIPT, 'web1', WEB, '80']);
  await new Promise<void>((resolve, reject) => {
    web.stdout!.once('data', () => resolve());
    web.once('exit', (code) => reject(new Error(`web1 exited ${code}`)));
  });
  pebble = await startPebble(ca, dir, { httpPort: 80, tlsPort: 443, listenHost: CLIENT, resolveTo: VIP, netns: lab.netns('client'), ports: { acme: 14000, management: 15000, dns: 8053 } });
  await eventually(async () => (await lab!.exec('client', 'curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', ca.caFile, `https://${CLIENT}:14000/dir`], { check: false })).stdout === '200', 20_000, 'pebble serving');
});

after(async () => {
  for (const n of nodes) n.signal('SIGKILL');
  await Promise.all(nodes.map((n) => n.exited));
  await pebble?.stop();
  await lab?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

interface AcmeState {
  state: string;
  serving: string;
  fingerprint256?: string;
  obtained: number;
  received: number;
}

async function acmeOf(n: VrrpNode): Promise<{ acme: AcmeState; refused: Record<string, number> }> {
  const r = await lab!.exec(n.host, 'curl', ['-sS', '--max-time', '5', 'http://127.0.0.1:9100/status']);
  const s = JSON.parse(r.stdout) as { acme: AcmeState[]; acmeHandover?: { refused: Record<string, number> } };
  return { acme: s.acme[0] as AcmeState, refused: s.acmeHandover?.refused ?? {} };
}

/** What an HTTPS client on the client side gets through the VIP: status, served-by, certificate. */
async function clientGet(root: string): Promise<{ code: string; by: string; fingerprint: string }> {
  const r = await lab!.exec('client', 'curl', ['-sS', '--max-time', '3', '--resolve', `${DOMAIN}:443:${VIP}`, '--cacert', root, '-D', '-', '-o', '/dev/null', `https://${DOMAIN}/`], { check: false });
  const code = /^HTTP\/1\.1 (\d{3})/m.exec(r.stdout)?.[1] ?? `curl ${r.code}: ${r.stderr.trim()}`;
  const by = /^x-served-by: (\S+)/im.exec(r.stdout)?.[1] ?? '';
  const fp = await lab!.exec('client', 'bash', ['-c', `openssl s_client -connect ${VIP}:443 -servername ${DOMAIN} </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256`], { check: false });
  return { code, by, fingerprint: fp.stdout.trim().replace(/^sha256 Fingerprint=/i, '') };
}

interface ProbeAnswer {
  t: number;
  start: number;
  status: number;
  by: string;
  fingerprint256: string;
  failedBefore: number;
}

/** tls-probe.ts in the client namespace: fresh TLS connections to the VIP every 20 ms. */
function startProbe(root: string): { answer: (pred: (a: ProbeAnswer) => boolean, timeoutMs: number, what: string) => Promise<ProbeAnswer>; stop: () => void } {
  const child = lab!.spawn('client', process.execPath, [PROBE_SCRIPT, VIP, '443', DOMAIN, root, '20', '100', '30000']);
  const answers: ProbeAnswer[] = [];
  const waiters = new Set<() => void>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const a = JSON.parse(line) as ProbeAnswer & { ready?: boolean };
    if (a.ready) return;
    answers.push(a);
    for (const w of waiters) w();
  });
  return {
    answer: (pred, timeoutMs, what) => new Promise((resolve, reject) => {
      const check = (): void => {
        const hit = answers.find(pred);
        if (!hit) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve(hit);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`not within ${timeoutMs} ms: ${what} (probe saw ${JSON.stringify(answers)})`));
      }, timeoutMs);
      waiters.add(check);
      check();
    }),
    stop: () => child.stdin!.end(),
  };
}

test('the master obtains, the backup receives; after kill -9 of the master the backup serves the same certificate; tampering is refused', async () => {
  const fallback = makeLeaf(ca, 'fallback', { names: ['fallback.test'] });
  const lb1 = await VrrpNode.start(lab!, 'lb1', lbYaml('lb1', fallback), { mode: 'halb', timeoutMs: 30_000 });
  nodes.push(lb1);
  await lb1.waitState('master', 10_000, 0);
  const lb2 = await VrrpNode.start(lab!, 'lb2', lbYaml('lb2', fallback), { mode: 'halb', timeoutMs: 30_000 });
  nodes.push(lb2);
  await lb2.waitState('backup', 10_000, 0);

  const got = await lb1.waitFor((e) => e.msg === 'acme: certificate obtained', 60_000, 'certificate obtained');
  await lb2.waitFor((e) => e.msg === 'certificates refreshed' && e.acme === 'acme', 30_000, 'certificate received');
  const [s1, s2] = [await acmeOf(lb1), await acmeOf(lb2)];
  assert.equal(s1.acme.fingerprint256, got.fingerprint256);
  assert.equal(s2.acme.fingerprint256, got.fingerprint256, 'the backup holds the master\'s certificate');
  assert.equal(s2.acme.received, 1);
  assert.equal(s2.acme.obtained, 0);
  assert.equal(s2.acme.state, 'standby');
  assert.ok(!lb2.events.some((e) => e.msg === 'acme: ordering a certificate'), 'the backup never talks to the CA');

  const rootFile = join(dir, 'pebble-root.pem');
  const root = await lab!.exec('client', 'curl', ['-sS', '--cacert', ca.caFile, `https://${CLIENT}:15000/roots/0`]);
  writeFileSync(rootFile, root.stdout);
  const before = await clientGet(rootFile);
  assert.deepEqual(before, { code: '200', by: 'lb1', fingerprint: String(got.fingerprint256) });

  // kill -9 of the master: lb2 takes the VIP and serves, with the certificate it was handed. The
  // probe opens a fresh TLS connection every 20 ms (100 ms connect timeout), so the figure is
  // halb's failover, not a client's SYN retransmit.
  const probe = startProbe(rootFile);
  const fromLb1 = await probe.answer((a) => a.by === 'lb1', 5000, 'probe answered by lb1');
  assert.equal(fromLb1.fingerprint256, got.fingerprint256);
  await new Promise((r) => setTimeout(r, ADVERT_MS + Math.random() * ADVERT_MS));
  const since = lb2.events.length;
  const killedAt = Date.now();
  await lb1.kill9();
  const first = await probe.answer((a) => a.by === 'lb2', 10_000, 'HTTPS answer through lb2');
  probe.stop();
  const becameMaster = await lb2.waitState('master', 10_000, since);
  const vipAdded = lb2.events.slice(since).find((e) => typeof e.msg === 'string' && e.msg.startsWith('added ') && e.changed === true);
  const servedAfterMs = first.t - killedAt;
  // lb1's last-word keeper (a process beside the primary) sends priority 0 when the primary dies
  const lastWord = lb1.events.find((e) => e.component === 'last-word');
  const failover = `first valid answer ${servedAfterMs} ms after the kill (its attempt started at +${first.start - killedAt} ms and took ${first.t - first.start} ms, lb1's first answer to the probe took ${fromLb1.t - fromLb1.start} ms; ${first.failedBefore} attempts failed before it); ${lastWord ? `lb1's last word (priority 0) at +${lastWord.t - killedAt} ms, ` : ''}lb2 MASTER at +${becameMaster.t - killedAt} ms${vipAdded ? `, VIP added at +${vipAdded.t - killedAt} ms` : ''}; bound ${BOUND_MS} ms (Master_Down_Interval ${MDI.toFixed(0)} ms at advert_int ${ADVERT_MS}ms)`;
  console.log(`# acme kill -9 failover: ${failover}`);
  // HALB_KILL_DEBUG=1: lb2's log lines around the takeover, in ms after the kill.
  if (process.env.HALB_KILL_DEBUG) {
    for (const line of lb2.stderr.split('\n')) {
      const m = /"time":"?([^",]+)"?.*"msg":"([^"]*)"/.exec(line);
      const at = m ? (/^\d+$/.test(m[1]!) ? Number(m[1]) : Date.parse(m[1]!)) : NaN;
      if (at >= killedAt - 300 && at <= first.t + 50) console.log(`#   lb2 +${at - killedAt} ms ${m![2]} ${line.slice(0, 300)}`);
    }
  }
  assert.ok(servedAfterMs <= BOUND_MS, `kill -> lb2 serves HTTPS ${servedAfterMs} ms <= ${BOUND_MS} ms`);
  assert.equal(first.fingerprint256, got.fingerprint256, 'the backup serves the master\'s certificate');
  const after = await clientGet(rootFile);
  assert.deepEqual(after, { code: '200', by: 'lb2', fingerprint: String(got.fingerprint256) }, 'a valid answer from the backup, same certificate');
  assert.ok(!lb2.events.slice(since).some((e) => e.msg === 'acme: ordering a certificate'), 'the new master holds a valid certificate: nothing to order');

  // a hand-over message sealed under the right key, one byte changed on the way: refused
  const script = `import { handoverKey, sealHandover } from ${JSON.stringify(SEAL)};
import net from 'node:net';
const f = sealHandover(handoverKey(Buffer.from(${JSON.stringify(SECRET)})), { node: 'mallory', boot: 'x', seq: 1, ts: Date.now(), frontend: 'site' }, 'not a certificate');
f[f.length - 20] ^= 0xff;
const s = net.connect(${PEER_PORT}, ${JSON.stringify(LB.lb2)}, () => s.end(f));
let a = ''; s.on('data', (d) => (a += d)); s.on('close', () => console.log(a.trim()));`;
  const sent = await lab!.exec('client', process.execPath, ['--input-type=module', '-e', script]);
  assert.equal(sent.stdout.trim(), 'refused bad-tag');
  await lb2.waitFor((e) => e.msg === 'acme hand-over message refused' && e.reason === 'bad-tag', 5000, 'refusal logged');
  assert.equal((await acmeOf(lb2)).refused['bad-tag'], 1);
  // `halb status` on the new master: its ACME row and the refusal
  const table = (await lab!.exec('lb2', process.execPath, [HALB_MAIN, 'status', '-a', 'http://127.0.0.1:9100'])).stdout;
  const head = table.split('\n').findIndex((l) => l.startsWith('ACME  '));
  assert.ok(head >= 0, table);
  const row = table.split('\n')[head + 1]!.split(/ {2,}/);
  assert.deepEqual([row[0], row[2], row[3], row[4], row[7]], ['site', 'acme', `${String(got.fingerprint256).slice(0, 23)}..`, DOMAIN, '0/1'], table);
  assert.match(table, /^ACME HAND-OVER .* refused bad-tag:1$/m);
  assert.equal((await clientGet(rootFile)).fingerprint, got.fingerprint256, 'still the same certificate');
  console.log(`# lb1 obtained ${String(got.fingerprint256).slice(0, 23)}..., lb2 received it; after kill -9 of lb1, lb2 answered 200 with it (${failover}); tampered message refused (bad-tag)`);
});
