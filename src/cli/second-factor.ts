// `mssd account second-factor reset LOGIN`: a professional lost the phone holding their TOTP app.
// The enrolment is forgotten and their portal sessions end; the next portal login asks for a code
// mailed to the login address, then enrols a new app (R16).
import os from 'node:os';
import type { Command } from 'commander';
import { getAccount } from '../store/accounts';
import { insertAudit } from '../store/audit';
import { deleteAccountPortalSessions } from '../store/portal-sessions';
import { deleteTotpEnrolment } from '../store/second-factors';
import { type WithContext } from './with-context';

export function registerSecondFactorCommands(account: Command, withContext: WithContext): void {
  const secondFactor = account.command('second-factor').description('the portal second factor of a box (R16)');

  secondFactor
    .command('reset <login>')
    .description('forget the TOTP app of a box (a lost phone): the next portal login enrols again')
    .action(
      withContext((ctx, _opts, [login]) => {
        const box = getAccount(ctx.db, login);
        const { removed, sessions } = ctx.db
          .transaction(() => {
            const removed = deleteTotpEnrolment(ctx.db, box.id);
            const sessions = deleteAccountPortalSessions(ctx.db, box.id);
            insertAudit(ctx.db, {
              event: 'settings',
              source: 'cli',
              authLogin: os.userInfo().username,
              outcome: 'ok',
              detail: JSON.stringify({ box: box.login, changed: ['second-factor'], secondFactor: 'reset', enrolled: removed }),
            });
            return { removed, sessions };
          })
          .immediate();
        ctx.print(
          { login: box.login, reset: removed, sessionsEnded: sessions },
          removed
            ? `${box.login}: second factor reset (${sessions} portal session(s) ended); the next portal login enrols again`
            : `${box.login} had no second factor enrolled (${sessions} portal session(s) ended)`,
        );
      }),
    );
}
