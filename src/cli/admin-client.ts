// `halb reload | handover | status`: talk to a running node's admin API.

const routes = {
  reload: { method: 'POST', path: '/reload' },
  handover: { method: 'POST', path: '/handover' },
  status: { method: 'GET', path: '/status' },
} as const;

export async function adminClientCommand(command: keyof typeof routes, adminUrl: string): Promise<number> {
  const route = routes[command];
  let res: Response;
  try {
    res = await fetch(new URL(route.path, adminUrl), { method: route.method, signal: AbortSignal.timeout(30_000) });
  } catch (err) {
    process.stderr.write(`halb ${command}: cannot reach the admin API at ${adminUrl}: ${(err as Error).message}\n`);
    return 2;
  }
  const text = await res.text();
  (res.ok ? process.stdout : process.stderr).write(text.endsWith('\n') ? text : text + '\n');
  return res.ok ? 0 : 1;
}
