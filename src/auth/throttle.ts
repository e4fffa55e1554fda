// Login throttling (issue 15, findings 1 and 2), after Dovecot's auth penalty: the cost of guessing
// falls on the address that guesses, never on the account's owner elsewhere.
//
// - A slot is reserved when an attempt STARTS, before any password check, and counts as a failure
//   until it is known to have succeeded. Parallel attempts therefore cannot exceed the limits:
//   when the limit is reached by attempts still in flight, a newcomer waits for them to finish and
//   is then admitted (they succeeded) or refused without a check (they failed).
// - Per client address: at most `maxFailuresPerAddress` failures in the window, whatever the
//   accounts tried (a hospital behind one NAT address has many users, hence a generous figure).
// - Per (account, address) pair: a progressive delay before each password check after a failure
//   (base × 2^(failures-1), capped), attempts of a pair with failures run one at a time, and at
//   most `maxFailuresPerPair` failures in the window. Nothing is counted per account alone, so 5
//   wrong passwords from a stranger never lock the owner out (finding 2).
// - An account under attack (at least `accountAlarm` failures from any addresses in the window)
//   gets the longest delay for addresses it was never seen logging in from; its owner's known-good
//   addresses (a success in the last 30 days, remembered in memory) keep the ordinary treatment,
//   and device passwords are checked before any delay (a 120-bit secret is not guessable).
// Counters live in memory (one daemon); a restart clears them.
import { durationMs, type Config } from '../config/schema';

/** The configurable part (auth.throttle.*); the rest keeps its defaults. */
export function throttleOptions(config: Config): Partial<ThrottleOptions> {
  return {
    windowMs: durationMs(config.auth.throttle.window),
    maxFailuresPerAddress: config.auth.throttle.maxFailuresPerAddress,
    maxFailuresPerPair: config.auth.throttle.maxFailuresPerPair,
  };
}

export interface ThrottleOptions {
  windowMs: number;
  maxFailuresPerAddress: number;
  maxFailuresPerPair: number;
  /** Delay before the check after the first failure of a pair; doubles with each failure. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Failures of one account (all addresses) in the window from which it counts as under attack. */
  accountAlarm: number;
  /** Keys kept at most per table; the oldest are dropped beyond (memory bound under attack). */
  maxKeys: number;
}

export const DEFAULT_THROTTLE: ThrottleOptions = {
  windowMs: 15 * 60_000,
  maxFailuresPerAddress: 30,
  maxFailuresPerPair: 10,
  baseDelayMs: 500,
  maxDelayMs: 15_000,
  accountAlarm: 20,
  maxKeys: 100_000,
};

const KNOWN_GOOD_MS = 30 * 86_400_000;
const KNOWN_GOOD_PER_ACCOUNT = 20;

/** Failure times per key in a sliding window, bounded in keys and in times per key. */
class FailureWindow {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly windowMs: number,
    private readonly keep: number,
    private readonly maxKeys: number,
  ) {}

  count(key: string, now: number): number {
    return this.recent(key, now).length;
  }

  /** When the oldest counted failure leaves the window. */
  freeAt(key: string, now: number): number {
    const times = this.recent(key, now);
    return times.length === 0 ? now : times[0] + this.windowMs;
  }

  record(key: string, now: number): void {
    const times = this.recent(key, now);
    if (times.length === 0) {
      if (this.failures.size >= this.maxKeys) {
        const oldest = this.failures.keys().next().value;
        if (oldest !== undefined) this.failures.delete(oldest);
      }
      this.failures.set(key, [now]);
      return;
    }
    times.push(now);
    if (times.length > this.keep) times.splice(0, times.length - this.keep);
  }

  clear(key: string): void {
    this.failures.delete(key);
  }

  private recent(key: string, now: number): number[] {
    const times = this.failures.get(key);
    if (!times) return [];
    const from = now - this.windowMs;
    let drop = 0;
    while (drop < times.length && times[drop] <= from) drop++;
    if (drop > 0) times.splice(0, drop);
    if (times.length === 0) this.failures.delete(key);
    return times;
  }
}

/** A reserved attempt. Exactly one of succeeded/failed must be called. */
export interface LoginSlot {
  /** How long to wait before checking a password (0 for a device password). */
  readonly delayMs: number;
  succeeded(): void;
  failed(): void;
  /** Neither: the check could not be made (our side failed); frees the slot, counts nothing. */
  released(): void;
}

export type Admission = { ok: true; slot: LoginSlot } | { ok: false; retryAfterMs: number };

export class LoginThrottle {
  private readonly options: ThrottleOptions;
  private readonly byAddress: FailureWindow;
  private readonly byPair: FailureWindow;
  private readonly byAccount: FailureWindow;
  private readonly inFlight = new Map<string, number>();
  private readonly waiters = new Map<string, Array<() => void>>();
  /** accountKey → address → last success. */
  private readonly knownGood = new Map<string, Map<string, number>>();

  constructor(
    options: Partial<ThrottleOptions> = {},
    private readonly now: () => number = Date.now,
  ) {
    this.options = { ...DEFAULT_THROTTLE, ...options };
    const { windowMs, maxKeys } = this.options;
    this.byAddress = new FailureWindow(windowMs, this.options.maxFailuresPerAddress, maxKeys);
    this.byPair = new FailureWindow(windowMs, Math.max(this.options.maxFailuresPerPair, 32), maxKeys);
    this.byAccount = new FailureWindow(windowMs, this.options.accountAlarm, maxKeys);
  }

  /**
   * Reserves a slot for one attempt on `accountKey` (an account id, or the login tried when it
   * names no account) from `address`, waiting for attempts in flight when they decide the outcome.
   */
  async admit(accountKey: string, address: string): Promise<Admission> {
    const pair = `${accountKey}\u0000${address}`;
    const addressKey = `@${address}`;
    for (;;) {
      const now = this.now();
      const pairFailures = this.byPair.count(pair, now);
      const addressFailures = this.byAddress.count(address, now);
      const pairBusy = this.busy(pair);
      const addressBusy = this.busy(addressKey);
      const addressFull = addressFailures + addressBusy >= this.options.maxFailuresPerAddress;
      const pairFull = pairFailures + pairBusy >= this.options.maxFailuresPerPair;
      // After a failure, one attempt at a time per pair, so the delay cannot be run in parallel.
      const pairSerial = pairFailures > 0 && pairBusy > 0;
      if (addressFull && addressBusy === 0) {
        return { ok: false, retryAfterMs: Math.max(1, this.byAddress.freeAt(address, now) - now) };
      }
      if (pairFull && pairBusy === 0) {
        return { ok: false, retryAfterMs: Math.max(1, this.byPair.freeAt(pair, now) - now) };
      }
      if (addressFull || pairFull || pairSerial) {
        await this.waitFor(addressFull ? addressKey : pair);
        continue;
      }
      this.take(pair);
      this.take(addressKey);
      let delayMs = pairFailures === 0 ? 0 : Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** (pairFailures - 1));
      if (this.byAccount.count(accountKey, now) >= this.options.accountAlarm && !this.isKnownGood(accountKey, address, now)) {
        delayMs = this.options.maxDelayMs;
      }
      let settled = false;
      const settle = (ok: boolean | null) => {
        if (settled) return;
        settled = true;
        const at = this.now();
        if (ok === null) {
          // nothing learnt about the credentials
        } else if (ok) {
          this.byPair.clear(pair);
          this.rememberGood(accountKey, address, at);
        } else {
          this.byPair.record(pair, at);
          this.byAddress.record(address, at);
          this.byAccount.record(accountKey, at);
        }
        this.give(pair);
        this.give(addressKey);
      };
      return { ok: true, slot: { delayMs, succeeded: () => settle(true), failed: () => settle(false), released: () => settle(null) } };
    }
  }

  /** Whether the account had a success from this address recently (its owner's place). */
  isKnownGood(accountKey: string, address: string, now = this.now()): boolean {
    const at = this.knownGood.get(accountKey)?.get(address);
    return at !== undefined && now - at < KNOWN_GOOD_MS;
  }

  private rememberGood(accountKey: string, address: string, at: number): void {
    let addresses = this.knownGood.get(accountKey);
    if (!addresses) {
      if (this.knownGood.size >= this.options.maxKeys) {
        const oldest = this.knownGood.keys().next().value;
        if (oldest !== undefined) this.knownGood.delete(oldest);
      }
      addresses = new Map();
      this.knownGood.set(accountKey, addresses);
    }
    addresses.delete(address);
    addresses.set(address, at);
    if (addresses.size > KNOWN_GOOD_PER_ACCOUNT) addresses.delete(addresses.keys().next().value!);
  }

  private busy(key: string): number {
    return this.inFlight.get(key) ?? 0;
  }

  private take(key: string): void {
    this.inFlight.set(key, this.busy(key) + 1);
  }

  private give(key: string): void {
    const left = this.busy(key) - 1;
    if (left <= 0) this.inFlight.delete(key);
    else this.inFlight.set(key, left);
    const waiting = this.waiters.get(key);
    if (waiting) {
      this.waiters.delete(key);
      for (const wake of waiting) wake();
    }
  }

  private waitFor(key: string): Promise<void> {
    return new Promise((resolve) => {
      const list = this.waiters.get(key);
      if (list) list.push(resolve);
      else this.waiters.set(key, [resolve]);
    });
  }
}
