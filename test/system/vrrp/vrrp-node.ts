// A VRRP-only halb node for system tests: loads a halb YAML config, runs one VrrpClaimLink
// (election + address claim) per vrrp instance, and prints JSON lines on stdout
// ({"ev":"ready"}, {"ev":"state",...}). Logs go to stderr. stdin commands: "status", "handover". SIGTERM = handover then stop (what `halb run`
// does); SIGINT = stop. Tests talk to it only through vrrp-node-client.ts, so it can later be
// swapped for `node src/cli/main.ts run -c file` plus the admin API.
//
//   ip netns exec NS node test/system/vrrp/vrrp-node.ts CONFIG.yaml

import { createInterface } from 'node:readline';
import { loadConfigFile } from '../../../src/config/load.ts';
import { formatConfigError } from '../../../src/config/errors.ts';
import { createLogger } from '../../../src/log/logger.ts';
import { VrrpClaimLink } from '../../../src/node/vrrp-claim-link.ts';

function out(obj: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ ...obj, t: Date.now() })}\n`);
}

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: vrrp-node.ts CONFIG.yaml\n');
  process.exit(2);
}
const loaded = await loadConfigFile(file);
if (!loaded.ok) {
  for (const e of loaded.errors) process.stderr.write(`${formatConfigError(e)}\n`);
  process.exit(2);
}
const log = createLogger({ destination: process.stderr, format: 'json' });
const instances = (loaded.config.vrrp?.instances ?? []).map(
  (config) => new VrrpClaimLink({ config, scripts: loaded.config.vrrp?.scripts ?? {}, log }),
);
for (const inst of instances) {
  inst.on('state', (c) => out({ ev: 'state', instance: inst.config.name, ...c }));
}

let stopping = false;
async function stop(handover: boolean, code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  if (handover) await Promise.all(instances.map((i) => i.handover()));
  await Promise.all(instances.map((i) => i.stop()));
  out({ ev: 'stopped' });
  process.exit(code);
}
process.on('SIGTERM', () => void stop(true, 0));
process.on('SIGINT', () => void stop(false, 0));

try {
  for (const inst of instances) await inst.start();
} catch (err) {
  process.stderr.write(`cannot start: ${(err as Error).message}\n`);
  process.exit(1);
}
out({ ev: 'ready', instances: instances.map((i) => i.config.name) });

createInterface({ input: process.stdin }).on('line', (line) => {
  const cmd = line.trim();
  if (cmd === 'status') out({ ev: 'status', instances: instances.map((i) => i.status()) });
  else if (cmd === 'handover') void Promise.all(instances.map((i) => i.handover())).then(() => out({ ev: 'handover-done' }));
  else if (cmd !== '') out({ ev: 'error', message: `unknown command ${JSON.stringify(cmd)}` });
});
