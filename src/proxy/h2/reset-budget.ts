// The rapid-reset guard (CVE-2023-44487) of one HTTP/2 client connection: how many streams the
// client may reset within a window before halb closes the connection. Pure, with the time passed
// in: a fixed window that restarts at the first reset after it ran out, which is all a flood
// detector needs (a flood sends thousands per second; a browser cancelling navigations, a few).

export class ResetBudget {
  private readonly max: number;
  private readonly windowMs: number;
  private windowStart = -Infinity;
  private count = 0;

  constructor(max: number, windowMs: number) {
    this.max = max;
    this.windowMs = windowMs;
  }

  /** One client reset at `now` (ms); true once the window holds more than `max`. */
  spend(now: number): boolean {
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now;
      this.count = 0;
    }
    this.count++;
    return this.count > this.max;
  }
}

/** The window of every connection's budget. */
export const RESET_WINDOW_MS = 10_000;
