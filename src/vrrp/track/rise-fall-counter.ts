// keepalived's rise/fall for vrrp_script: a result must repeat `rise` times to turn ok and
// `fall` times to turn failed. Pure. The first result decides at once, so startup is not delayed.

export class RiseFallCounter {
  private readonly rise: number;
  private readonly fall: number;
  private streak = 0;
  private state: boolean | undefined;

  constructor(rise: number, fall: number) {
    this.rise = Math.max(1, rise);
    this.fall = Math.max(1, fall);
  }

  get ok(): boolean | undefined {
    return this.state;
  }

  /** Feed one result; returns true when the state changed. */
  record(success: boolean): boolean {
    if (this.state === undefined) {
      this.state = success;
      this.streak = 0;
      return true;
    }
    if (success === this.state) {
      this.streak = 0;
      return false;
    }
    this.streak++;
    if (this.streak >= (success ? this.rise : this.fall)) {
      this.state = success;
      this.streak = 0;
      return true;
    }
    return false;
  }
}
