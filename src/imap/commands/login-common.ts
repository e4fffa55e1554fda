// What LOGIN and AUTHENTICATE share: TLS first (no cleartext password, RFC 3501 section 6.2.3),
// the password check with throttling (src/auth), the per-account connection limit, and the
// RFC 5530 response codes a client can act on.
import type { ImapSession } from '../session';
import { no, ok, type Completion } from './registry';

export async function logIn(session: ImapSession, login: string, password: string): Promise<Completion> {
  if (!session.io.secure) return no('Log in only over TLS: use STARTTLS first', 'PRIVACYREQUIRED');
  const result = await session.services.authenticator.authenticate(login, password, session.peer, 'imap');
  if (!result.ok) {
    switch (result.reason) {
      case 'throttled':
        return no('Too many failed logins; wait a few minutes before trying again', 'UNAVAILABLE');
      case 'org-box':
        return no('An organisational box (BAL ORG) cannot log in: log in with your personal account, its folders are shared there', 'AUTHENTICATIONFAILED');
      case 'account-pending':
        return no('This account is waiting for validation by the operator', 'CONTACTADMIN');
      case 'account-suspended':
        return no('This account is suspended; contact the operator', 'CONTACTADMIN');
      default:
        return no('Wrong login or password', 'AUTHENTICATIONFAILED');
    }
  }
  if (!session.services.accountSessions.tryAcquire(String(result.account.accountId))) {
    session.log.warn({ imap: session.id, login: result.account.login, peer: session.peer, outcome: 'refused' }, 'too many imap sessions for account');
    return no(`Too many simultaneous connections for this account (at most ${session.config.limits.maxConnectionsPerAccount})`, 'LIMIT');
  }
  session.user = result.account;
  session.state = 'authenticated';
  session.log.info({ imap: session.id, login: result.account.login, peer: session.peer, outcome: 'ok' }, 'imap login');
  return ok(`Logged in as ${result.account.login}`, `CAPABILITY ${session.capabilities().join(' ')}`);
}
