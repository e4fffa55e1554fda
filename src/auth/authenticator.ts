// Password authentication shared by every protocol (SMTP submission, IMAP): who may log in, and
// login throttling per account and per client address. Protocol-neutral: the caller turns the
// result into its own reply (RFC 4954 codes for SMTP, NO/[AUTHENTICATIONFAILED] for IMAP).
//
// Decisions:
// - A person logs in with their login address or any of their MSSanté addresses.
// - An ORG box has no password and never logs in (R2): its members log in as themselves and send
//   as the ORG (R6). Saying so is no leak: ORG addresses are published in the directory.
// - A pending or suspended account is refused, but only once the password was right, so that a
//   stranger cannot learn the state of an account by trying logins.
// - An unknown login costs the same scrypt work as a known one (a dummy hash), so response time
//   does not tell which logins exist.
// - Throttling counts failures in a sliding window (15 minutes): 5 for one account (whichever of
//   its addresses is tried), 50 for one client address (a hospital behind one NAT address has
//   many users). Beyond that, attempts are refused without checking the password until the
//   oldest failure leaves the window. A success clears the account's failures, not the
//   address's. Counters live in memory: a restart clears them, which only gives an attacker
//   another handful of tries.
import type { BoxType } from '../policy/box-types';
import { findBox } from '../store/boxes';
import type { Db } from '../store/database';
import { findAccount } from '../store/accounts';
import { hashPassword, verifyPassword } from '../policy/password';
import type { Logger } from '../util/log';

export interface AuthenticatedAccount {
  accountId: number;
  login: string;
  type: BoxType;
}

export type AuthFailureReason =
  /** Unknown login or wrong password (never told apart). */
  | 'invalid-credentials'
  /** The login names an ORG box, which nobody logs into (R2). */
  | 'org-box'
  | 'account-pending'
  | 'account-suspended'
  /** Too many recent failures for this account or from this address. */
  | 'throttled';

export type AuthResult =
  | { ok: true; account: AuthenticatedAccount }
  | { ok: false; reason: AuthFailureReason; retryAfterMs?: number };

export interface ThrottleOptions {
  windowMs: number;
  maxFailuresPerAccount: number;
  maxFailuresPerAddress: number;
  /** Keys kept at most per table; the oldest are dropped beyond (memory bound under attack). */
  maxKeys: number;
}

export const DEFAULT_THROTTLE: ThrottleOptions = {
  windowMs: 15 * 60_000,
  maxFailuresPerAccount: 5,
  maxFailuresPerAddress: 50,
  maxKeys: 100_000,
};

/** Failure times per key in a sliding window. */
class FailureWindow {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly windowMs: number,
    private readonly max: number,
    private readonly maxKeys: number,
  ) {}

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

  /** Milliseconds until the key may try again, or 0 when it may now. */
  blockedFor(key: string, now: number): number {
    const times = this.recent(key, now);
    if (times.length < this.max) return 0;
    return Math.max(1, times[times.length - this.max] + this.windowMs - now);
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
    // Only the last `max` failures decide anything.
    if (times.length > this.max) times.splice(0, times.length - this.max);
  }

  clear(key: string): void {
    this.failures.delete(key);
  }
}

export interface AuthenticatorOptions {
  throttle?: Partial<ThrottleOptions>;
  now?: () => number;
}

export class Authenticator {
  /** Told of every login outcome ('ok' or the failure reason): the daemon's metrics. */
  onOutcome?: (protocol: string, outcome: string) => void;
  private readonly byAccount: FailureWindow;
  private readonly byAddress: FailureWindow;
  private readonly now: () => number;
  /** A real scrypt hash of a random password, checked against when the login is unknown. */
  private dummyHash: Promise<string> | undefined;

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    options: AuthenticatorOptions = {},
  ) {
    const throttle = { ...DEFAULT_THROTTLE, ...options.throttle };
    this.byAccount = new FailureWindow(throttle.windowMs, throttle.maxFailuresPerAccount, throttle.maxKeys);
    this.byAddress = new FailureWindow(throttle.windowMs, throttle.maxFailuresPerAddress, throttle.maxKeys);
    this.now = options.now ?? Date.now;
  }

  /**
   * Checks a login (login address or MSSanté address, any case) and its password from a client at
   * `peerAddress`. `protocol` only labels the log line ('smtp', 'imap').
   */
  async authenticate(login: string, password: string, peerAddress: string, protocol = 'auth'): Promise<AuthResult> {
    const given = login.trim();
    const account = given === '' ? undefined : findAccount(this.db, given);
    // One count per account whichever of its addresses is tried; unknown logins by name.
    const accountKey = account ? `#${account.id}` : given.toLowerCase();
    const started = this.now();
    const blocked = Math.max(this.byAccount.blockedFor(accountKey, started), this.byAddress.blockedFor(peerAddress, started));
    if (blocked > 0) return this.done(protocol, login, peerAddress, { ok: false, reason: 'throttled', retryAfterMs: blocked });

    const hash = account?.password_hash ?? (await this.dummy());
    const matches = await verifyPassword(password, hash);
    const now = this.now();

    if (account?.type === 'ORG') {
      this.fail(accountKey, peerAddress, now);
      return this.done(protocol, login, peerAddress, { ok: false, reason: 'org-box' });
    }
    if (!account || !account.password_hash || !matches) {
      this.fail(accountKey, peerAddress, now);
      return this.done(protocol, login, peerAddress, { ok: false, reason: 'invalid-credentials' });
    }
    // The password is right: the person may learn why they cannot log in.
    if (account.status === 'pending') return this.done(protocol, login, peerAddress, { ok: false, reason: 'account-pending' });
    if (account.status === 'suspended') return this.done(protocol, login, peerAddress, { ok: false, reason: 'account-suspended' });
    this.byAccount.clear(accountKey);
    return this.done(protocol, login, peerAddress, {
      ok: true,
      account: { accountId: account.id, login: account.login, type: account.type },
    });
  }

  /** The box behind an authenticated account, re-read: a suspension applies to open sessions. */
  stillActive(account: AuthenticatedAccount): boolean {
    return findBox(this.db, account.login)?.status === 'active';
  }

  private fail(accountKey: string, peerAddress: string, now: number): void {
    if (accountKey !== '') this.byAccount.record(accountKey, now);
    this.byAddress.record(peerAddress, now);
  }

  private dummy(): Promise<string> {
    this.dummyHash ??= hashPassword(`unknown-${Math.random()}-${process.pid}`);
    return this.dummyHash;
  }

  private done(protocol: string, login: string, peer: string, result: AuthResult): AuthResult {
    const line = {
      auth: protocol,
      login: login.slice(0, 254),
      peer,
      outcome: result.ok ? 'ok' : 'refused',
      ...(result.ok ? { accountId: result.account.accountId } : { reason: result.reason }),
      ...(!result.ok && result.retryAfterMs ? { retryAfterMs: result.retryAfterMs } : {}),
    };
    this.onOutcome?.(protocol, result.ok ? 'ok' : result.reason);
    if (result.ok) this.log.info(line, 'login accepted');
    else this.log.warn(line, 'login refused');
    return result;
  }
}
