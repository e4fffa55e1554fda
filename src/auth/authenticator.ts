// Who may log in, for every protocol (IMAP, submission, and the portal's password step): box
// passwords, device passwords and OAuth bearer tokens (R16, issue 11), with login throttling
// (src/auth/throttle.ts, issue 15), the audit row and log line of every attempt, and the open
// sessions that must be cut when a device is revoked or an account suspended. Protocol-neutral:
// the caller turns a result into its own reply (RFC 4954 codes for SMTP, NO [AUTHENTICATIONFAILED]
// for IMAP, RFC 7628 error JSON for tokens).
//
// Decisions:
// - A person logs in with their login address or any of their MSSanté addresses.
// - An ORG box has no password and never logs in with one (R2); a PSC token of a person linked to
//   the ORG box may open it (issue 11: health software reading an ORG box with its user's token).
// - A pending or suspended account is refused, but only once the credentials were right, so that a
//   stranger cannot learn the state of an account by trying logins.
// - An unknown login costs the same scrypt work as a known one (a dummy hash), so response time
//   does not tell which logins exist.
// - Device passwords are tried first (one SHA-256 and an indexed lookup) and only on IMAP/SMTP:
//   they never open the portal. In `auth.passwordLogins: "devices"` mode the box password is
//   refused on IMAP/SMTP with a reason of its own, so the client can tell the person what to do.
// - `finish()` is the one place where a login outcome is decided and recorded (log, audit row,
//   device last use): metrics belong there.
import type { BoxType } from '../policy/box-types';
import type { Db } from '../store/database';
import { findAccount } from '../store/accounts';
import { insertAudit, type AuditRecord } from '../store/audit';
import type { CommitBatcher } from '../store/commit-batcher';
import { accountById, accountIdsByRpps, findDeviceBySecret, linkedMemberByRpps, loginInvalidity, markDeviceUsed, type LoginInvalidity } from '../store/devices';
import { hashPassword, verifyPassword } from '../policy/password';
import type { Logger } from '../util/log';
import { deviceSecretHash, revokeDevice, type SettingsActor } from './devices';
import type { TokenRefusal, TokenVerifier } from './oauth';
import { LoginThrottle, type ThrottleOptions } from './throttle';

export { DEFAULT_THROTTLE, type ThrottleOptions } from './throttle';
export type { LoginInvalidity } from '../store/devices';

export type LoginMethod = 'account' | 'device' | 'token';
/** Audit `source` of a login (COMMON.md "Agreed formats"). */
export type LoginProtocol = 'imap' | 'submission' | 'portal';

export interface AuthenticatedAccount {
  accountId: number;
  login: string;
  type: BoxType;
  method: LoginMethod;
  deviceId?: number;
  deviceName?: string;
  /** Token login into an ORG box: the linked person whose token it was. */
  personId?: number;
}

export type AuthFailureReason =
  /** Unknown login or wrong password (never told apart). */
  | 'invalid-credentials'
  /** The login names an ORG box, which nobody logs into with a password (R2). */
  | 'org-box'
  | 'account-pending'
  | 'account-suspended'
  /** Too many recent failures from this address, or for this account from this address. */
  | 'throttled'
  /** The box password was right, but `auth.passwordLogins` is "devices" on this protocol. */
  | 'device-password-required'
  /** A bearer token that does not hold (see tokenRefusal), or names another professional. */
  | 'token-invalid'
  /** The issuer's keys could not be fetched: a temporary failure on our side. */
  | 'token-unverifiable';

export type AuthResult =
  | { ok: true; account: AuthenticatedAccount }
  | { ok: false; reason: AuthFailureReason; retryAfterMs?: number; tokenRefusal?: TokenRefusal | 'other-professional' | 'no-box' };

export interface AuthenticatorOptions {
  throttle?: Partial<ThrottleOptions>;
  now?: () => number;
  /** DESIGN.md auth.passwordLogins; default "account". */
  passwordLogins?: 'account' | 'devices';
  /** Bearer-token checks (auth.oauth.*); null = OAUTHBEARER/XOAUTH2 off. */
  tokens?: TokenVerifier | null;
  /** Audit rows and device last use go through the group commit; without it, written at once. */
  batcher?: CommitBatcher;
  sleep?: (ms: number) => Promise<void>;
}

export interface PasswordLoginOptions {
  /** 'client' (IMAP/SMTP: devices, and the box password per auth.passwordLogins) or 'account' (portal: box password only). */
  allow?: 'client' | 'account';
}

/** An open session that must end when its credentials stop holding. */
interface LiveSession {
  account: AuthenticatedAccount;
  cut(reason: LoginInvalidity): void;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class Authenticator {
  /** Told of every login outcome ('ok' or the failure reason): the daemon's metrics. */
  onOutcome?: (protocol: string, outcome: string) => void;
  readonly throttle: LoginThrottle;
  readonly passwordLogins: 'account' | 'devices';
  private readonly tokens: TokenVerifier | null;
  private readonly batcher: CommitBatcher | undefined;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly live = new Set<LiveSession>();
  /** A real scrypt hash of a random password, checked against when the login is unknown. */
  private dummyHash: Promise<string> | undefined;

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    options: AuthenticatorOptions = {},
  ) {
    this.throttle = new LoginThrottle(options.throttle, options.now ?? Date.now);
    this.passwordLogins = options.passwordLogins ?? 'account';
    this.tokens = options.tokens ?? null;
    this.batcher = options.batcher;
    this.sleep = options.sleep ?? realSleep;
  }

  /** Whether bearer tokens are accepted (auth.oauth.issuer set): IMAP/SMTP advertise the mechanisms then. */
  get acceptsTokens(): boolean {
    return this.tokens !== null;
  }

  /** The configured token issuer (auth.oauth.issuer), for RFC 7628 error replies; null when off. */
  get tokenIssuer(): string | null {
    return this.tokens?.issuer ?? null;
  }

  /**
   * Checks a login (login address or MSSanté address, any case) and its password from a client at
   * `peerAddress`: a device password, or the box password where allowed.
   */
  async authenticate(
    login: string,
    password: string,
    peerAddress: string,
    protocol: LoginProtocol = 'imap',
    options: PasswordLoginOptions = {},
  ): Promise<AuthResult> {
    const allow = options.allow ?? (protocol === 'portal' ? 'account' : 'client');
    const given = login.trim();
    const account = given === '' ? undefined : findAccount(this.db, given);
    const attempt = { protocol, login, peer: peerAddress, method: 'account' as LoginMethod };
    // One count per account whichever of its addresses is tried; unknown logins by name.
    const admission = await this.throttle.admit(account ? `#${account.id}` : given.toLowerCase(), peerAddress);
    if (!admission.ok) return this.finish(attempt, { ok: false, reason: 'throttled', retryAfterMs: admission.retryAfterMs });
    const slot = admission.slot;
    try {
      // A device password: no delay, no scrypt (a 120-bit random secret cannot be guessed).
      if (allow === 'client' && account && account.type !== 'ORG') {
        const secretHash = deviceSecretHash(password);
        const device = secretHash ? findDeviceBySecret(this.db, account.id, secretHash) : undefined;
        if (device) {
          slot.succeeded();
          const withDevice = { ...attempt, method: 'device' as LoginMethod, deviceId: device.id, deviceName: device.name };
          const refusal = statusRefusal(account.status);
          if (refusal) return this.finish(withDevice, { ok: false, reason: refusal });
          return this.finish(withDevice, {
            ok: true,
            account: { accountId: account.id, login: account.login, type: account.type, method: 'device', deviceId: device.id, deviceName: device.name },
          });
        }
      }
      if (slot.delayMs > 0) await this.sleep(slot.delayMs);
      const matches = await verifyPassword(password, account?.password_hash ?? (await this.dummy()));
      if (account?.type === 'ORG') {
        slot.failed();
        return this.finish(attempt, { ok: false, reason: 'org-box' });
      }
      if (!account || !account.password_hash || !matches) {
        slot.failed();
        return this.finish(attempt, { ok: false, reason: 'invalid-credentials' });
      }
      // The password is right: the person may learn why they cannot log in.
      slot.succeeded();
      if (allow === 'client' && this.passwordLogins === 'devices') return this.finish(attempt, { ok: false, reason: 'device-password-required' });
      const refusal = statusRefusal(account.status);
      if (refusal) return this.finish(attempt, { ok: false, reason: refusal });
      return this.finish(attempt, { ok: true, account: { accountId: account.id, login: account.login, type: account.type, method: 'account' } });
    } catch (err) {
      slot.released(); // a fault on our side, not a guess
      throw err;
    }
  }

  /**
   * Checks an OAuth bearer token (SASL OAUTHBEARER, RFC 7628, or XOAUTH2). `login` is the box the
   * client names (OAUTHBEARER's authzid "a=", XOAUTH2's "user="); when absent, the token's
   * professional must hold exactly one personal box. The token's RPPS must be that box's, or that
   * of a person linked to that ORG box.
   */
  async authenticateToken(login: string | null, token: string, peerAddress: string, protocol: LoginProtocol): Promise<AuthResult> {
    const given = (login ?? '').trim();
    const attempt = { protocol, login: given, peer: peerAddress, method: 'token' as LoginMethod };
    if (!this.tokens) return this.finish(attempt, { ok: false, reason: 'invalid-credentials' });
    let account = given === '' ? undefined : findAccount(this.db, given);
    const admission = await this.throttle.admit(account ? `#${account.id}` : given.toLowerCase(), peerAddress);
    if (!admission.ok) return this.finish(attempt, { ok: false, reason: 'throttled', retryAfterMs: admission.retryAfterMs });
    const slot = admission.slot;
    try {
      if (slot.delayMs > 0) await this.sleep(slot.delayMs);
      const check = await this.tokens.verify(token);
      if (!check.ok) {
        if (check.reason === 'jwks-unavailable') {
          // Our side cannot check: not the client's failure, and worth an operator's look.
          slot.released();
          this.log.error({ auth: protocol, peer: peerAddress, err: check.detail }, 'token keys unavailable');
          return this.finish(attempt, { ok: false, reason: 'token-unverifiable', tokenRefusal: check.reason });
        }
        slot.failed();
        return this.finish(attempt, { ok: false, reason: 'token-invalid', tokenRefusal: check.reason });
      }
      if (!account && given === '') {
        const candidates = accountIdsByRpps(this.db, check.rpps);
        if (candidates.length !== 1) {
          // No box, or several: the client must name the one to open.
          slot.failed();
          return this.finish(attempt, { ok: false, reason: 'token-invalid', tokenRefusal: 'no-box' });
        }
        account = accountById(this.db, candidates[0]);
      }
      let personId: number | undefined;
      if (account?.type === 'ORG') personId = linkedMemberByRpps(this.db, account.id, check.rpps);
      const same = account !== undefined && (account.type === 'ORG' ? personId !== undefined : account.rpps === check.rpps);
      if (!account || !same) {
        slot.failed();
        return this.finish({ ...attempt, login: given || account?.login || '' }, { ok: false, reason: 'token-invalid', tokenRefusal: 'other-professional' });
      }
      slot.succeeded();
      const named = { ...attempt, login: given || account.login };
      const refusal = statusRefusal(account.status);
      if (refusal) return this.finish(named, { ok: false, reason: refusal });
      return this.finish(named, {
        ok: true,
        account: { accountId: account.id, login: account.login, type: account.type, method: 'token', ...(personId !== undefined ? { personId } : {}) },
      });
    } catch (err) {
      slot.released();
      throw err;
    }
  }

  /** Why an open session's credentials no longer hold, or null while they do (re-read each time). */
  stillValid(account: AuthenticatedAccount): LoginInvalidity | null {
    return loginInvalidity(this.db, account.accountId, account.deviceId ?? null, account.personId ?? null);
  }

  /** The box behind an authenticated session is still active and its credentials hold. */
  stillActive(account: AuthenticatedAccount): boolean {
    return this.stillValid(account) === null;
  }

  /**
   * Registers an open session so that revoking its device or suspending its account cuts it at
   * once; returns the function that unregisters it (call it when the session ends).
   */
  registerSession(account: AuthenticatedAccount, cut: (reason: LoginInvalidity) => void): () => void {
    const entry: LiveSession = { account, cut };
    this.live.add(entry);
    return () => this.live.delete(entry);
  }

  /**
   * Re-checks open sessions (all, or those of one account — as the box or as the person behind
   * an ORG token) and cuts those whose credentials no longer hold. The daemon calls it when
   * another process committed (src/store/external-changes.ts); the portal after its own changes.
   */
  recheckSessions(accountId?: number): number {
    const verdicts = new Map<string, LoginInvalidity | null>();
    let cut = 0;
    for (const entry of [...this.live]) {
      const { account } = entry;
      if (accountId !== undefined && account.accountId !== accountId && account.personId !== accountId) continue;
      const key = `${account.accountId}/${account.deviceId ?? ''}/${account.personId ?? ''}`;
      if (!verdicts.has(key)) verdicts.set(key, this.stillValid(account));
      const reason = verdicts.get(key)!;
      if (reason === null) continue;
      this.live.delete(entry);
      cut++;
      this.log.info({ auth: 'session', login: account.login, method: account.method, deviceId: account.deviceId, reason }, 'open session cut');
      entry.cut(reason);
    }
    return cut;
  }

  /** An account's status, devices or links changed inside this process: cut what no longer holds. */
  accountChanged(accountId: number): void {
    this.recheckSessions(accountId);
  }

  /** Revokes a device (src/auth/devices.ts) and cuts its open sessions at once. */
  revokeDevice(accountId: number, deviceId: number, actor?: SettingsActor): boolean {
    const revoked = revokeDevice(this.db, accountId, deviceId, actor);
    if (revoked) this.recheckSessions(accountId);
    return revoked;
  }

  private dummy(): Promise<string> {
    this.dummyHash ??= hashPassword(`unknown-${Math.random()}-${process.pid}`);
    return this.dummyHash;
  }

  /**
   * The one place where a login outcome is recorded: a log line, an audit row (COMMON.md "Agreed
   * formats"), and the device's last use. Never the password or token.
   */
  private finish(
    attempt: { protocol: LoginProtocol; login: string; peer: string; method: LoginMethod; deviceId?: number; deviceName?: string },
    result: AuthResult,
  ): AuthResult {
    const outcome = result.ok ? 'ok' : result.reason;
    this.onOutcome?.(attempt.protocol, outcome);
    const login = attempt.login.slice(0, 254);
    const line = {
      auth: attempt.protocol,
      login,
      peer: attempt.peer,
      method: attempt.method,
      outcome: result.ok ? 'ok' : 'refused',
      ...(attempt.deviceId !== undefined ? { deviceId: attempt.deviceId, deviceName: attempt.deviceName } : {}),
      ...(result.ok ? { accountId: result.account.accountId } : { reason: result.reason }),
      ...(!result.ok && result.tokenRefusal ? { tokenRefusal: result.tokenRefusal } : {}),
      ...(!result.ok && result.retryAfterMs ? { retryAfterMs: result.retryAfterMs } : {}),
    };
    if (result.ok) this.log.info(line, 'login accepted');
    else this.log.warn(line, 'login refused');
    const record: AuditRecord = {
      event: 'login',
      source: attempt.protocol,
      authLogin: login,
      peer: attempt.peer,
      outcome,
      detail: JSON.stringify({
        method: attempt.method,
        ...(attempt.deviceId !== undefined ? { deviceId: attempt.deviceId, deviceName: attempt.deviceName } : {}),
        ...(!result.ok && result.tokenRefusal ? { refusal: result.tokenRefusal } : {}),
      }),
    };
    const deviceUse = result.ok && attempt.deviceId !== undefined ? attempt.deviceId : null;
    const at = Date.now();
    const write = (db: Db) => {
      insertAudit(db, record, at);
      if (deviceUse !== null) markDeviceUsed(db, deviceUse, at, attempt.protocol, attempt.peer);
    };
    if (this.batcher) {
      this.batcher.run(write).catch((err: unknown) => this.log.error({ err }, 'audit write failed'));
    } else {
      write(this.db);
    }
    return result;
  }
}

function statusRefusal(status: string): 'account-pending' | 'account-suspended' | null {
  if (status === 'pending') return 'account-pending';
  if (status === 'suspended') return 'account-suspended';
  return null;
}
