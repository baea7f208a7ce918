// Runs a halb HTTP frontend in its own process so a test can watch that process's memory.
// argv[2]: JSON { frontend, backends }. IPC: sends { port } once listening; answers 'rss' with { rss }.
import type { BackendConfig, FrontendConfig } from '../../../src/config/types.ts';
import { startProxy } from './proxy-harness.ts';

const { frontend, backends } = JSON.parse(process.argv[2]!) as { frontend: FrontendConfig; backends: BackendConfig[] };
const p = await startProxy(frontend, backends);
process.on('message', (m) => {
  if (m === 'rss') process.send!({ rss: process.memoryUsage().rss });
  if (m === 'exit') void p.close().then(() => process.exit(0));
});
process.send!({ port: p.port });
