// keepalived's track_interface: an interface without carrier (or administratively down) fails.
// Polls sysfs: cheap, and it sees changes made in any way (ip link, cable, veth peer gone).
import { readFile } from 'node:fs/promises';
import { EventEmitter } from 'node:events';

export async function interfaceIsUp(name: string): Promise<boolean> {
  try {
    const [oper, carrier] = await Promise.all([
      readFile(`/sys/class/net/${name}/operstate`, 'utf8'),
      readFile(`/sys/class/net/${name}/carrier`, 'utf8').catch(() => '0'),
    ]);
    // veth and some virtual links report "unknown" operstate while working; carrier decides then.
    const state = oper.trim();
    return (state === 'up' || state === 'unknown') && carrier.trim() === '1';
  } catch {
    return false;
  }
}

export class InterfaceTracker extends EventEmitter {
  readonly name: string;
  private state: boolean | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly pollMs: number;

  constructor(name: string, pollMs = 250) {
    super();
    this.name = name;
    this.pollMs = pollMs;
  }

  get ok(): boolean | undefined {
    return this.state;
  }

  async start(): Promise<void> {
    this.stopped = false;
    this.state = await interfaceIsUp(this.name);
    // stopped while reading (SIGTERM during startup): no polling may start after that
    if (this.stopped) return;
    this.timer = setInterval(() => {
      void interfaceIsUp(this.name).then((up) => {
        if (up !== this.state) {
          this.state = up;
          this.emit('change', up);
        }
      });
    }, this.pollMs);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
  }
}
