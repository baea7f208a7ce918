// halb command line: one program for the proxy and failover halves. Started through
// bin/halb.js, which turns the compile cache on first; on its own it works too.
import { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import module from 'node:module';
import { helpAfter } from './help-text.ts';

// A no-op when bin/halb.js already did it; when this file is run directly, later imports still
// skip type stripping. Everything below is imported lazily, after this.
module.enableCompileCache?.();

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

// `halb validate ... | head` closes our stdout early: that is the reader's choice, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

interface TargetFlags {
  socket?: string;
  admin?: string;
  tokenFile?: string;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

/** The running node's admin API: its unix socket unless --admin names a TCP listener. */
function adminTargetOptions(cmd: Command): Command {
  return cmd
    .option('-s, --socket <path>', 'admin unix socket of the running halb (default: $HALB_ADMIN_SOCKET or /run/halb/admin.sock)')
    .option('-a, --admin <url>', 'talk to a TCP admin listener instead, e.g. http://127.0.0.1:9100 or https://lb1:9100')
    .option('--token-file <file>', 'with --admin: file holding the bearer token')
    .option('--ca-file <file>', 'with an https --admin: CA of the listener\'s certificate')
    .option('--cert-file <file>', 'with an https --admin: client certificate (mTLS)')
    .option('--key-file <file>', 'with an https --admin: key of the client certificate');
}

async function resolveTarget(who: string, flags: TargetFlags) {
  const { targetFromFlags } = await import('./admin-client.ts');
  const t = targetFromFlags(flags);
  if (typeof t === 'string') {
    process.stderr.write(`${who}: ${t}\n`);
    return undefined;
  }
  return t;
}

const program = new Command();
program
  .name('halb')
  .description('High-availability load balancer: HTTP/TCP proxy with health checks and VRRP failover')
  .version(pkg.version, '-v, --version')
  .showHelpAfterError();

program
  .command('run')
  .description('run a node: proxy frontends, health checks, VRRP instances, admin API')
  .option('-c, --config <file>', 'halb.yaml to run')
  .option('--demo', 'run the built-in demo: three web servers on loopback, halb on 127.0.0.1:8080')
  .option('--node <name>', 'which entry of the config\'s nodes: map this is (default: the one named like this host)')
  .option('--pid-file <file>', 'write the process id here (for `halb reload`)')
  .addOption(new Option('--log-format <format>', 'log format').choices(['auto', 'json', 'pretty']))
  .action(async (opts: { config?: string; demo?: boolean; node?: string; pidFile?: string; logFormat?: 'auto' | 'json' | 'pretty' }) => {
    const { runCommand } = await import('./run.ts');
    process.exitCode = await runCommand(opts);
  });

program
  .command('validate')
  .description('check a config file; list every error with file, line, column and key')
  .requiredOption('-c, --config <file>', 'halb.yaml to check')
  .option('--explain', 'print each frontend\'s routing rules in evaluation order')
  .option('--node <name>', 'check only this entry of nodes: (default: every node, and the pair as a whole)')
  .action(async (opts: { config: string; explain?: boolean; node?: string }) => {
    const { validateCommand } = await import('./validate.ts');
    process.exitCode = await validateCommand(opts.config, { explain: opts.explain === true, ...(opts.node !== undefined ? { node: opts.node } : {}) });
  });

program
  .command('import')
  .description('convert haproxy.cfg and/or keepalived.conf files into one halb.yaml')
  .argument('<files...>', 'haproxy.cfg and keepalived.conf files')
  .option('-o, --output <file>', 'write here instead of stdout')
  .action(async (files: string[], opts: { output?: string }) => {
    const { importCommand } = await import('./import.ts');
    process.exitCode = await importCommand(files, opts.output);
  });

program
  .command('schema')
  .description('print the JSON Schema of halb.yaml (for editors)')
  .action(async () => {
    const { configJsonSchema } = await import('../config/json-schema.ts');
    process.stdout.write(JSON.stringify(configJsonSchema(), null, 2) + '\n');
  });

for (const [name, description] of [
  ['reload', 're-read the config of a running halb (like SIGHUP); a bad config is refused and reported'],
  ['handover', 'hand the VIPs of this master to a backup without failing requests, then stay backup'],
  ['status', 'print the running node\'s frontends, backends, servers and VRRP instances'],
] as const) {
  const cmd = adminTargetOptions(program.command(name).description(description));
  if (name === 'status') cmd.option('--json', 'print the raw status JSON instead of tables');
  cmd.action(async (opts: TargetFlags & { json?: boolean }) => {
    const { adminClientCommand } = await import('./admin-client.ts');
    const target = await resolveTarget(`halb ${name}`, opts);
    process.exitCode = target === undefined ? 2 : await adminClientCommand(name, target, { json: opts.json === true });
  });
}

adminTargetOptions(
  program
    .command('server')
    .description('change a server of the running halb: drain, ready, maint and/or weight (kept across reloads that leave that setting alone, not across restarts)')
    .argument('<backend>', 'backend name')
    .argument('<server>', 'server name')
    .option('--drain', 'no new traffic (except persistence); requests in flight finish')
    .option('--ready', 'take traffic again')
    .option('--maint', 'maintenance: out of service')
    .option('--weight <n>', 'set the weight, 0-256 (0 takes no new traffic)'),
).action(async (backend: string, server: string, opts: TargetFlags & { drain?: boolean; ready?: boolean; maint?: boolean; weight?: string }) => {
  const { serverCommand } = await import('./admin-client.ts');
  const target = await resolveTarget('halb server', opts);
  process.exitCode = target === undefined ? 2 : await serverCommand(backend, server, opts, target);
});

const lab = program
  .command('lab')
  .description('(root) the two-node failover lab on this machine: halb lb1/lb2 sharing a VIP, three web servers and a client, in network namespaces it creates and removes');
lab
  .command('start', { isDefault: true })
  .description('build the lab and run it in the foreground; Ctrl-C removes it and prints the timeline')
  .option('--name <name>', 'prefix of the lab\'s namespaces (a crashed lab of this name is cleaned up first)', 'halblab')
  .option('--control <path>', 'control socket for the other lab commands', '/run/halb-lab.sock')
  .option('--ports <a,b>', 'loopback ports for the admin API and dashboard of lb1 and lb2', '9201,9202')
  .option('--max-seconds <n>', 'the lab ends by itself after this long', '3600')
  .action(async (opts: { name: string; control: string; ports: string; maxSeconds: string }) => {
    const { labStartCommand } = await import('./lab.ts');
    process.exitCode = await labStartCommand(opts);
  });
const labControl = (cmd: Command): Command => cmd.option('--control <path>', 'control socket of the running lab', '/run/halb-lab.sock');
labControl(lab.command('fail').description('break the current master: kill -9 its halb (master), cut its web servers (proxy), or take its link down (link)').argument('<what>', 'master | proxy | link'))
  .action(async (what: string, opts: { control: string }) => {
    const { labCommand, failPath } = await import('./lab.ts');
    const path = failPath(what);
    if (!path) {
      process.stderr.write(`halb lab fail: "${what}" is not one of master, proxy, link\n`);
      process.exitCode = 2;
      return;
    }
    process.exitCode = await labCommand(opts.control, 'POST', path);
  });
for (const [name, method, path, description] of [
  ['handover', 'POST', '/handover', 'planned move: the master hands the VIP to the other node'],
  ['heal', 'POST', '/heal', 'restart killed nodes, give back web servers and links'],
  ['timeline', 'GET', '/timeline', 'print the timeline so far'],
  ['stop', 'POST', '/stop', 'end the lab (as Ctrl-C does): timeline, then every namespace removed'],
] as const) {
  labControl(lab.command(name).description(description)).action(async (opts: { control: string }) => {
    const { labCommand } = await import('./lab.ts');
    process.exitCode = await labCommand(opts.control, method, path);
  });
}

// Examples, signals and exit codes after each command's own option list.
for (const cmd of [program, ...program.commands]) {
  const text = helpAfter[cmd === program ? '' : cmd.name()];
  if (text !== undefined) cmd.addHelpText('after', text);
}

await program.parseAsync(process.argv);
