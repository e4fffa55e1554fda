// A background worker's next wake-up: asking again for a sooner time moves it earlier, asking for
// a later one while a sooner one is set changes nothing. Used by the relay worker and the notice
// sender, which are woken both by their own schedule and by new work.
export class WakeTimer {
  private timer: NodeJS.Timeout | null = null;
  private at = Infinity;

  constructor(private readonly onWake: () => void) {}

  /** Wakes in `ms` milliseconds, unless a sooner wake-up is already set. */
  wakeIn(ms: number): void {
    const delay = Math.max(0, ms);
    const at = Date.now() + delay;
    if (this.timer && this.at <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.at = at;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.at = Infinity;
      this.onWake();
    }, delay);
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.at = Infinity;
  }
}
