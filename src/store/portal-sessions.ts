// Server-side sessions of the self-service portal (migration 006). The cookie holds a random
// token; rows are keyed by its SHA-256. Expiry (idle and absolute) is decided by the caller's
// clock and limits, passed in, so this module stays plain SQL.
import { createHash } from 'node:crypto';
import { cachedStatement, type Db } from './database';

export type SessionStage = 'password' | 'full';

export interface PortalSession {
  tokenHash: string;
  accountId: number;
  stage: SessionStage;
  method: string | null;
  csrfToken: string;
  peer: string | null;
  createdAt: number;
  lastSeenAt: number;
  emailCodeHash: string | null;
  emailCodeUntil: number | null;
  emailCodeSentAt: number | null;
  emailCodeTries: number;
  pendingTotpSecret: string | null;
  /** The account's login and status, read with the session: a suspension ends it at once. */
  login: string;
  accountStatus: string;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

const COLUMNS = `s.token_hash AS tokenHash, s.account_id AS accountId, s.stage, s.method, s.csrf_token AS csrfToken,
  s.peer, s.created_at AS createdAt, s.last_seen_at AS lastSeenAt, s.email_code_hash AS emailCodeHash,
  s.email_code_until AS emailCodeUntil, s.email_code_sent_at AS emailCodeSentAt, s.email_code_tries AS emailCodeTries,
  s.pending_totp_secret AS pendingTotpSecret, a.login, a.status AS accountStatus`;

export function createPortalSession(
  db: Db,
  input: { token: string; accountId: number; stage: SessionStage; method: string | null; csrfToken: string; peer: string; now: number },
): void {
  cachedStatement(
    db,
    `INSERT INTO portal_sessions (token_hash, account_id, stage, method, csrf_token, peer, created_at, last_seen_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(hashToken(input.token), input.accountId, input.stage, input.method, input.csrfToken, input.peer, input.now, input.now);
}

export function findPortalSession(db: Db, token: string): PortalSession | undefined {
  return cachedStatement(db, `SELECT ${COLUMNS} FROM portal_sessions s JOIN accounts a ON a.id = s.account_id WHERE s.token_hash = ?`).get(hashToken(token)) as
    | PortalSession
    | undefined;
}

export function touchPortalSession(db: Db, tokenHash: string, now: number): void {
  cachedStatement(db, 'UPDATE portal_sessions SET last_seen_at = ? WHERE token_hash = ?').run(now, tokenHash);
}

export function deletePortalSession(db: Db, tokenHash: string): void {
  cachedStatement(db, 'DELETE FROM portal_sessions WHERE token_hash = ?').run(tokenHash);
}

/** Ends every portal session of an account (password changed, second factor reset). */
export function deleteAccountPortalSessions(db: Db, accountId: number, exceptTokenHash: string | null = null): number {
  return cachedStatement(db, 'DELETE FROM portal_sessions WHERE account_id = ? AND token_hash IS NOT ?').run(
    accountId,
    exceptTokenHash,
  ).changes;
}

/** Drops sessions idle since `idleBefore` or created before `createdBefore`. */
export function deleteExpiredPortalSessions(db: Db, idleBefore: number, createdBefore: number): number {
  return cachedStatement(db, 'DELETE FROM portal_sessions WHERE last_seen_at < ? OR created_at < ?').run(
    idleBefore,
    createdBefore,
  ).changes;
}

export function setEmailCode(db: Db, tokenHash: string, codeHash: string, until: number, now: number): void {
  cachedStatement(
    db,
    `UPDATE portal_sessions SET email_code_hash = ?, email_code_until = ?, email_code_sent_at = ?, email_code_tries = 0
     WHERE token_hash = ?`,
  ).run(codeHash, until, now, tokenHash);
}

/** Counts one wrong mailed code; returns the count. */
export function countEmailCodeTry(db: Db, tokenHash: string): number {
  cachedStatement(db, 'UPDATE portal_sessions SET email_code_tries = email_code_tries + 1 WHERE token_hash = ?').run(tokenHash);
  return (
    cachedStatement(db, 'SELECT email_code_tries FROM portal_sessions WHERE token_hash = ?').pluck().get(tokenHash) as
      | number
      | undefined
  ) ?? 0;
}

export function setPendingTotpSecret(db: Db, tokenHash: string, secret: string | null): void {
  cachedStatement(db, 'UPDATE portal_sessions SET pending_totp_secret = ? WHERE token_hash = ?').run(secret, tokenHash);
}
