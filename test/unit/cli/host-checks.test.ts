// halb validate against the host: a VIP the host already holds and an unreadable key file are
// errors with file:line:column and the key path; halb's own labelled copy is not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfigFile } from '../../../src/config/load.ts';
import { formatConfigError } from '../../../src/config/errors.ts';
import { hostProblems } from '../../../src/cli/host-checks.ts';
import { LinuxAddresses } from '../../../src/vip/linux-address.ts';
import type { InterfaceAddress } from '../../../src/vip/linux-address.ts';

class HostTable extends LinuxAddresses {
  readonly #addrs: InterfaceAddress[];
  constructor(addrs: InterfaceAddress[]) {
    super();
    this.#addrs = addrs;
  }
  override list(): Promise<InterfaceAddress[]> {
    return Promise.resolve(this.#addrs);
  }
}

test('validate refuses a VIP the host holds and a key file that cannot be read; accepts halb copies', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'halb-host-checks-'));
  try {
    const file = join(dir, 'halb.yaml');
    writeFileSync(
      file,
      [
        'vrrp:',
        '  instances:',
        '    VI:',
        '      interface: eth0',
        '      virtual_router_id: 9',
        '      virtual_ipaddress: ["127.0.0.1/32 dev lo", "10.0.0.100/24", "10.0.0.101/32"]',
        `      authentication: { type: hmac-sha256, key_file: ${join(dir, 'missing.key')} }`,
        '',
      ].join('\n'),
    );
    const r = await loadConfigFile(file);
    assert.ok(r.ok);
    const table = new HostTable([
      { device: 'lo', address: '127.0.0.1', prefix: 8, family: 4, flags: [], label: 'lo' },
      { device: 'eth0', address: '10.0.0.100', prefix: 24, family: 4, flags: [], label: 'eth0:halb' },
      { device: 'eth0', address: '10.0.0.101', prefix: 24, family: 4, flags: [], label: 'eth0' },
    ]);
    const errors = (await hostProblems(r.config, file, table)).map(formatConfigError);
    assert.deepEqual(errors, [
      `${file}:7:54 vrrp.instances.VI.authentication.key_file: authentication.key_file ${join(dir, 'missing.key')}: cannot read: ENOENT`,
      `${file}:6:27 vrrp.instances.VI.virtual_ipaddress[0]: 127.0.0.1 is already an address of this host: 127.0.0.1/8 on lo (label lo); halb would take it over and remove it on release: use an address the host does not have`,
      `${file}:6:67 vrrp.instances.VI.virtual_ipaddress[2]: 10.0.0.101 is already an address of this host: 10.0.0.101/24 on eth0 (label eth0); halb would take it over and remove it on release: use an address the host does not have`,
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
