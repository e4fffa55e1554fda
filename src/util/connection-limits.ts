// Per-address connection counting, so that one peer cannot take every connection slot.
export class ConnectionLimiter {
  private readonly perAddress = new Map<string, number>();

  constructor(private readonly maxPerAddress: number) {}

  /** Counts a new connection; false when the address already has its maximum. */
  tryAcquire(address: string): boolean {
    const current = this.perAddress.get(address) ?? 0;
    if (current >= this.maxPerAddress) return false;
    this.perAddress.set(address, current + 1);
    return true;
  }

  release(address: string): void {
    const current = this.perAddress.get(address) ?? 0;
    if (current <= 1) this.perAddress.delete(address);
    else this.perAddress.set(address, current - 1);
  }
}
