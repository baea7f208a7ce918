// keepalived's track_file: the file holds an integer that, times the weight, changes priority
// (weight 0: a non-zero value means FAULT). A missing or unreadable file reads as 0, as keepalived does.
import { readFile } from 'node:fs/promises';
import { EventEmitter } from 'node:events';

export async function readTrackFile(path: string): Promise<number> {
  try {
    const n = Number.parseInt((await readFile(path, 'utf8')).trim(), 10);
    return Number.isFinite(n) ? n : 0;
  } catch {
    return 0;
  }
}

export class FileTracker extends EventEmitter {
  readonly path: string;
  private current: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly pollMs: number;

  constructor(path: string, pollMs = 500) {
    super();
    this.path = path;
    this.pollMs = pollMs;
  }

  get value(): number | undefined {
    return this.current;
  }

  async start(): Promise<void> {
    this.stopped = false;
    this.current = await readTrackFile(this.path);
    // stopped while reading (SIGTERM during startup): no polling may start after that
    if (this.stopped) return;
    this.timer = setInterval(() => {
      void readTrackFile(this.path).then((v) => {
        if (v !== this.current) {
          this.current = v;
          this.emit('change', v);
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
