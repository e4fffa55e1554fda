// The inactivity timers of RFC 3501 section 5.4 (an authenticated client may stay idle at least
// 30 minutes; RFC 2177 asks IDLE clients to re-issue the command at least every 29 minutes), for
// every connection of a listener from one shared sweep instead of a timer per socket: with 10 000
// connections in IDLE, a Node socket timeout costs each one a Timeout object and a re-arm at
// every read and write. Each connection records when it last read or wrote; once a second (the
// resolution, against limits of a minute and more) the sweep asks the late ones to close.

export interface Inactive {
  /** Date.now() of the last octet read or written. */
  readonly lastActivity: number;
  /** How long this connection may stay inactive now (it depends on its login state). */
  inactivityLimitMs(): number;
  /** Says why (BYE) and closes. */
  closeInactive(): void;
}

export class InactivitySweep {
  private readonly watched = new Set<Inactive>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly periodMs = 1000) {}

  add(connection: Inactive): void {
    this.watched.add(connection);
    // Runs only while a connection is open, and never keeps the process alive by itself.
    this.timer ??= setInterval(() => this.sweep(), this.periodMs).unref();
  }

  delete(connection: Inactive): void {
    this.watched.delete(connection);
    if (this.watched.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  /** Connections watched now (for tests). */
  get size(): number {
    return this.watched.size;
  }

  /** Closes the connections inactive for longer than their limit (public for tests). */
  sweep(now = Date.now()): void {
    const late: Inactive[] = [];
    for (const connection of this.watched) if (now - connection.lastActivity >= connection.inactivityLimitMs()) late.push(connection);
    for (const connection of late) {
      this.delete(connection);
      connection.closeInactive();
    }
  }
}
