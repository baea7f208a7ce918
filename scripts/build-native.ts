// Builds halb's two C addons (native/rawsock, native/netio).
//   node scripts/build-native.ts             node-gyp rebuild into native/*/build/ (a checkout:
//                                            scripts/provision.sh and `npm test` run it with
//                                            --if-stale, which skips an addon already built
//                                            from its current sources)
//   node scripts/build-native.ts --prebuild  prebuildify into native/*/prebuilds/linux-x64/ (on
//                                            `prepack`: the npm package ships these, so
//                                            installing it runs no install script at all)
// No npm lifecycle script (install, prepare) runs this: npm 11 warns about, and blocks, install
// scripts of packages that allowScripts does not name, and the package needs none.
// Both are Node-API addons, so one prebuild serves every Node version with that API level.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, realpathSync, rmSync, statSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const ADDONS = ['rawsock', 'netio'] as const;
const prebuild = process.argv.includes('--prebuild');
const ifStale = process.argv.includes('--if-stale');

/** True when build/Release/<addon>.node is newer than binding.gyp and every file under src/. */
function upToDate(dir: string, addon: string): boolean {
  const out = join(dir, 'build', 'Release', `${addon}.node`);
  if (!existsSync(out)) return false;
  const built = statSync(out).mtimeMs;
  const inputs = [join(dir, 'binding.gyp'), ...readdirSync(join(dir, 'src')).map((f) => join(dir, 'src', f))];
  return inputs.every((f) => statSync(f).mtimeMs < built);
}
const require = createRequire(import.meta.url);

/**
 * node-gyp: npm's own copy. npm names it in npm_config_node_gyp while it runs a script; run
 * directly (provision.sh), it is found next to the npm on PATH.
 */
function nodeGypCommand(): string[] {
  const fromNpm = process.env.npm_config_node_gyp;
  if (fromNpm && existsSync(fromNpm)) return [process.execPath, fromNpm];
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const npm = join(dir, 'npm');
    if (!existsSync(npm)) continue;
    const gyp = join(dirname(dirname(realpathSync(npm))), 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
    if (existsSync(gyp)) return [process.execPath, gyp];
  }
  return ['node-gyp'];
}

function run(cmd: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): void {
  const r = spawnSync(cmd[0]!, cmd.slice(1), { cwd, stdio: 'inherit', env });
  if (r.status !== 0) {
    process.stderr.write(`build-native: "${cmd.join(' ')}" in ${cwd} failed (${r.error?.message ?? `exit ${r.status}`})\n`);
    process.exit(1);
  }
}

for (const addon of ADDONS) {
  const dir = fileURLToPath(new URL(`../native/${addon}/`, import.meta.url));
  if (!prebuild) {
    if (ifStale && upToDate(dir, addon)) continue;
    run([...nodeGypCommand(), 'rebuild', '--release'], dir);
    continue;
  }
  rmSync(new URL('prebuilds/', `file://${dir}`), { recursive: true, force: true });
  const prebuildify = require.resolve('prebuildify/bin.js');
  // prebuildify spawns node-gyp as one executable: npm's node-gyp.js runs by its shebang (the
  // node on PATH). The target is this node, whose headers npm_config_nodedir points at offline.
  const env = { ...process.env, PREBUILD_NODE_GYP: nodeGypCommand().at(-1)! };
  run([process.execPath, prebuildify, '--napi', '--strip', '--target', `node@${process.versions.node}`], dir, env);
}
