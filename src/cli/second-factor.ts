// `mssd account second-factor reset LOGIN`: a professional lost the phone holding their TOTP app.
// The enrolment is forgotten and their portal sessions end; the next portal login asks for a code
// mailed to the login address, then enrols a new app (R16).
// `mssd account second-factor enrol LOGIN`: the operator enrols a TOTP app for a box, at the desk
// or where no mail reaches the login address yet (a new install without notifications.smtp): it
// prints the otpauth:// URI once, for the person to scan or type into their app.
import os from 'node:os';
import type { Command } from 'commander';
import { getAccount } from '../store/accounts';
import type { Db } from '../store/database';
import { insertAudit } from '../store/audit';
import { deleteAccountPortalSessions } from '../store/portal-sessions';
import { deleteTotpEnrolment, saveTotpEnrolment } from '../store/second-factors';
import { newTotpSecret, totpUri } from '../web/portal/second-factor';
import { type WithContext } from './with-context';

export function registerSecondFactorCommands(account: Command, withContext: WithContext): void {
  const secondFactor = account.command('second-factor').description('the portal second factor of a box (R16)');

  secondFactor
    .command('reset <login>')
    .description('forget the TOTP app of a box (a lost phone): the next portal login enrols again')
    .action(
      withContext((ctx, _opts, [login]) => {
        const box = getAccount(ctx.db, login);
        const { removed, sessions } = changeSecondFactor(ctx.db, box, (db) => {
          const removed = deleteTotpEnrolment(db, box.id);
          return { result: removed, audit: { secondFactor: 'reset', enrolled: removed } };
        });
        ctx.print(
          { login: box.login, reset: removed, sessionsEnded: sessions },
          removed
            ? `${box.login}: second factor reset (${sessions} portal session(s) ended); the next portal login enrols again`
            : `${box.login} had no second factor enrolled (${sessions} portal session(s) ended)`,
        );
      }),
    );

  secondFactor
    .command('enrol <login>')
    .description('enrol a TOTP app for a box now: prints its otpauth:// URI once (replaces any enrolment)')
    .action(
      withContext((ctx, _opts, [login]) => {
        const box = getAccount(ctx.db, login);
        const secret = newTotpSecret();
        const { sessions } = changeSecondFactor(ctx.db, box, (db) => {
          saveTotpEnrolment(db, box.id, secret, 0, Date.now());
          return { result: true, audit: { secondFactor: 'enrolled by the operator' } };
        });
        const uri = totpUri(box.login, secret);
        ctx.print(
          { login: box.login, secret, uri, sessionsEnded: sessions },
          `${box.login}: TOTP app enrolled (${sessions} portal session(s) ended). Scan or type into the app, shown once:\n${uri}\nsecret: ${secret}`,
        );
      }),
    );
}

/**
 * Changes a box's second factor, ends its portal sessions and audits who did it, in one
 * transaction; returns what `change` returned and how many sessions ended.
 */
function changeSecondFactor<T>(
  db: Db,
  box: { id: number; login: string },
  change: (db: Db) => { result: T; audit: Record<string, unknown> },
): { removed: T; sessions: number } {
  return db
    .transaction(() => {
      const { result, audit } = change(db);
      const sessions = deleteAccountPortalSessions(db, box.id);
      insertAudit(db, {
        event: 'settings',
        source: 'cli',
        authLogin: os.userInfo().username,
        outcome: 'ok',
        detail: JSON.stringify({ box: box.login, changed: ['second-factor'], ...audit }),
      });
      return { removed: result, sessions };
    })
    .immediate();
}
