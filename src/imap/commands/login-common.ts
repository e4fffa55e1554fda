// What LOGIN and AUTHENTICATE share: TLS first (no cleartext password, RFC 3501 section 6.2.3),
// the credential check with throttling (src/auth), the per-account connection limit, the RFC 5530
// response codes a client can act on, and the registration that lets a device revocation or an
// account suspension cut the session at once (R16).
import type { AuthResult } from '../../auth/authenticator';
import { DEVICE_PASSWORD_HINT, tokenText } from '../../auth/login-texts';
import type { ImapSession } from '../session';
import { no, ok, type Completion } from './registry';

export async function logIn(session: ImapSession, login: string, password: string): Promise<Completion> {
  if (!session.io.secure) return no('Log in only over TLS: use STARTTLS first', 'PRIVACYREQUIRED');
  const result = await session.services.authenticator.authenticate(login, password, session.peer, 'imap');
  return completeLogin(session, result);
}

/** The refusal of a failed login (RFC 5530 codes), or the session entering the authenticated state. */
export function completeLogin(session: ImapSession, result: AuthResult): Completion {
  if (!result.ok) {
    switch (result.reason) {
      case 'throttled':
        return no('Too many failed logins from your address; wait a few minutes before trying again', 'UNAVAILABLE');
      case 'org-box':
        return no('An organisational box (BAL ORG) cannot log in with a password: log in with your personal account, its folders are shared there', 'AUTHENTICATIONFAILED');
      case 'account-pending':
        return no('This account is waiting for validation by the operator', 'CONTACTADMIN');
      case 'account-suspended':
        return no('This account is suspended; contact the operator', 'CONTACTADMIN');
      case 'device-password-required':
        return no(DEVICE_PASSWORD_HINT, 'AUTHENTICATIONFAILED');
      case 'token-unverifiable':
        return no('The token issuer cannot be reached; try again later', 'UNAVAILABLE');
      case 'token-invalid':
        return no(tokenText(result.tokenRefusal), 'AUTHENTICATIONFAILED');
      default:
        return no(
          session.services.authenticator.passwordLogins === 'devices'
            ? 'Wrong login or password; mail programs sign in with a device password created in the portal'
            : 'Wrong login or password',
          'AUTHENTICATIONFAILED',
        );
    }
  }
  if (!session.services.accountSessions.tryAcquire(String(result.account.accountId))) {
    session.log.warn({ imap: session.id, login: result.account.login, peer: session.peer, outcome: 'refused' }, 'too many imap sessions for account');
    return no(`Too many simultaneous connections for this account (at most ${session.config.limits.maxConnectionsPerAccount})`, 'LIMIT');
  }
  session.user = result.account;
  session.state = 'authenticated';
  session.unregister = session.services.authenticator.registerSession(result.account, (reason) => session.cut(reason));
  session.log.info({ imap: session.id, login: result.account.login, peer: session.peer, method: result.account.method, outcome: 'ok' }, 'imap login');
  return ok(`Logged in as ${result.account.login}`, `CAPABILITY ${session.capabilities().join(' ')}`);
}
