// TOTP enrolments (RFC 6238) of the portal's second factor (migration 006). No row: the account
// has no authenticator app yet, and its next portal login enrols one.
import { cachedStatement, type Db } from './database';

export interface TotpEnrolment {
  secret: string;
  enrolledAt: number;
  /** Time step of the last code accepted: a code is accepted once (RFC 6238 section 5.2). */
  lastStep: number;
}

export function findTotpEnrolment(db: Db, accountId: number): TotpEnrolment | undefined {
  return cachedStatement(
    db,
    'SELECT totp_secret AS secret, enrolled_at AS enrolledAt, last_step AS lastStep FROM second_factors WHERE account_id = ?',
  ).get(accountId) as TotpEnrolment | undefined;
}

export function saveTotpEnrolment(db: Db, accountId: number, secret: string, step: number, now: number): void {
  cachedStatement(
    db,
    `INSERT INTO second_factors (account_id, totp_secret, enrolled_at, last_step) VALUES (?, ?, ?, ?)
     ON CONFLICT(account_id) DO UPDATE SET totp_secret = excluded.totp_secret, enrolled_at = excluded.enrolled_at,
       last_step = excluded.last_step`,
  ).run(accountId, secret, now, step);
}

/** Records the step of an accepted code; false when that step (or a later one) was already used. */
export function useTotpStep(db: Db, accountId: number, step: number): boolean {
  return (
    cachedStatement(db, 'UPDATE second_factors SET last_step = ? WHERE account_id = ? AND last_step < ?').run(
      step,
      accountId,
      step,
    ).changes === 1
  );
}

/** `mssd account second-factor reset`: forgets the enrolment. Returns whether there was one. */
export function deleteTotpEnrolment(db: Db, accountId: number): boolean {
  return cachedStatement(db, 'DELETE FROM second_factors WHERE account_id = ?').run(accountId).changes === 1;
}
