// The npm package as a user gets it: `npm pack` (prepack compiles dist/ and prebuilds both
// addons), `npm install -g` of the tarball into a temporary prefix, then the installed `halb`
// validates an example and serves a request through `halb run --demo`. Installing must need no
// install script (npm 11 would warn and block it), and the tarball must carry no tests, CI or
// bench files and no TypeScript sources (Node does not strip types under node_modules).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const root = fileURLToPath(new URL('../../', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'halb-pack-'));
after(() => rmSync(work, { recursive: true, force: true }));

function sh(cmd: string, args: string[], cwd: string): string {
  // bounded: a stuck npm (registry unreachable) fails the test instead of hanging CI
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20, timeout: 240_000, killSignal: 'SIGKILL' });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed (${r.signal ?? r.status}):\n${r.stdout}\n${r.stderr}`);
  return `${r.stdout}\n${r.stderr}`;
}

let installed = '';
let prefix = '';

test('npm pack: compiled JavaScript and prebuilt addons, no sources, tests, CI or bench', () => {
  sh('npm', ['pack', '--pack-destination', work, '--loglevel=error'], root);
  const tgz = readdirSync(work).find((f) => f.endsWith('.tgz'));
  assert.ok(tgz, 'a tarball');
  const list = sh('tar', ['tzf', join(work, tgz)], work).split('\n').filter((l) => l.startsWith('package/'));
  const has = (re: RegExp): boolean => list.some((f) => re.test(f));
  assert.ok(has(/^package\/dist\/cli\/main\.js$/), 'dist/cli/main.js');
  assert.ok(has(/^package\/native\/rawsock\/prebuilds\/linux-x64\/.+\.node$/), 'rawsock prebuild');
  assert.ok(has(/^package\/native\/netio\/prebuilds\/linux-x64\/.+\.node$/), 'netio prebuild');
  for (const bad of [/^package\/test\//, /^package\/\.ci\//, /^package\/bench\//, /^package\/src\//, /(?<!\.d)\.ts$/, /^package\/halb$/, /\/build\//]) {
    assert.ok(!has(bad), `${bad} must not be packed: ${list.filter((f) => bad.test(f)).join(', ')}`);
  }
  prefix = join(work, 'prefix');
  const out = sh('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', join(work, tgz)], work);
  assert.doesNotMatch(out, /install-scripts|allowScripts|allow-scripts/, 'installing runs (and asks for) no install script');
  installed = join(prefix, 'lib', 'node_modules', 'halb');
  assert.ok(existsSync(join(prefix, 'bin', 'halb')), 'bin/halb linked');
  assert.ok(!existsSync(join(installed, 'native', 'rawsock', 'build')), 'no addon was built at install: the prebuild is used');
});

test('the installed halb: --help and validate of a shipped example', () => {
  const halb = join(prefix, 'bin', 'halb');
  assert.match(sh(halb, ['--help'], work), /Usage: halb/);
  assert.match(sh(halb, ['validate', '-c', join(installed, 'examples', 'halb.yaml')], work), /^ok: /m);
});

test('the installed halb: run --demo serves a request, stops on SIGTERM', async () => {
  const child = spawn(join(prefix, 'bin', 'halb'), ['run', '--demo', '--log-format', 'json'], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "demo ready" within 60 s; stderr:\n${stderr}`)), 60_000);
      createInterface({ input: child.stdout }).on('line', (l) => {
        if (l.includes('demo ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.on('exit', (code) => reject(new Error(`halb exited (${code}) before serving; stderr:\n${stderr}`)));
    });
    const res = await fetch('http://127.0.0.1:8080/');
    assert.equal(res.status, 200);
    assert.match(await res.text(), /^hello from web[123] /);
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(killer);
    }
  }
});
