// `halb lab` and its commands. The lab itself runs in the foreground (Ctrl-C ends it and prints
// the timeline); `halb lab fail|handover|heal|stop|timeline` talk to it over its control socket.
import http from 'node:http';
import type { FailKind, HalbLab as Lab } from '../lab/lab-runner.ts';

export const LAB_CONTROL = '/run/halb-lab.sock';

export interface LabStartOptions {
  name: string;
  control: string;
  ports: string;
  maxSeconds: string;
}

export async function labStartCommand(o: LabStartOptions): Promise<number> {
  if (process.getuid?.() !== 0) {
    process.stderr.write('halb lab needs root: it creates network namespaces, a bridge and addresses inside them\n');
    return 1;
  }
  const ports = o.ports.split(',').map(Number);
  if (ports.length !== 2 || ports.some((p) => !(p > 0 && p < 65536))) {
    process.stderr.write(`halb lab: --ports wants two ports, e.g. 9201,9202 (got "${o.ports}")\n`);
    return 2;
  }
  const { HalbLab, serveControl } = await import('../lab/lab-runner.ts');
  const say = (line: string): void => void process.stdout.write(`${line}\n`);
  say('building the lab: namespaces for lb1, lb2, web1-3 and a client on one bridge...');
  let lab: Lab;
  try {
    lab = await HalbLab.start({ name: o.name, ports: [ports[0]!, ports[1]!], maxSeconds: Number(o.maxSeconds) || 3600, say });
  } catch (err) {
    process.stderr.write(`halb lab: ${(err as Error).message}\n`);
    return 1;
  }
  let stopping: Promise<number> | undefined;
  const stop = (): Promise<number> =>
    (stopping ??= (async () => {
      const timeline = await lab.stop();
      control.close();
      say('\ntimeline:\n' + timeline);
      say('lab removed: no namespace left');
      return 0;
    })());
  const control = await serveControl(lab, o.control, () => void stop().then((c) => process.exit(c)));
  const d = lab.dashboards();
  say(`lab ready. VIP 10.79.0.100 on lb1; dashboards: lb1 ${d.lb1}  lb2 ${d.lb2}`);
  say('break it from another shell: halb lab fail master|proxy|link, halb lab handover, halb lab heal, halb lab stop (or Ctrl-C here)');
  const timer = setTimeout(() => void stop().then((c) => process.exit(c)), (Number(o.maxSeconds) || 3600) * 1000);
  timer.unref();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => void stop().then((c) => process.exit(c)));
  return new Promise<number>(() => undefined);
}

/** One command to a running lab; prints its answer. */
export function labCommand(control: string, method: 'GET' | 'POST', path: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request({ socketPath: control, method, path }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        const r = JSON.parse(body) as { ok: boolean; message?: string; error?: string };
        if (r.ok) process.stdout.write(`${r.message}\n`);
        else process.stderr.write(`halb lab: ${r.error}\n`);
        resolve(r.ok ? 0 : 1);
      });
    });
    req.on('error', (err) => {
      process.stderr.write(`halb lab: no lab answers on ${control} (${err.message}); start one with \`halb lab\`\n`);
      resolve(1);
    });
    req.end();
  });
}

export function failPath(what: string): string | undefined {
  const kinds: readonly FailKind[] = ['master', 'proxy', 'link'];
  return (kinds as readonly string[]).includes(what) ? `/fail/${what}` : undefined;
}
