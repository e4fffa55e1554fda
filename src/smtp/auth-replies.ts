// The submission server's answers to a refused AUTH (RFC 4954 section 6 codes, RFC 3463 enhanced
// codes), each with a sentence that tells the person what to do.
import type { AuthResult } from '../auth/authenticator';
import { printable } from '../policy/submission-rules';
import { DEVICE_PASSWORD_HINT, tokenText } from '../auth/login-texts';
import { SmtpReply } from './replies';

function minutes(ms: number): string {
  const value = Math.max(1, Math.ceil(ms / 60_000));
  return `${value} minute${value === 1 ? '' : 's'}`;
}

export function submissionAuthRefusal(result: Extract<AuthResult, { ok: false }>, login: string, passwordLogins: 'account' | 'devices'): SmtpReply {
  switch (result.reason) {
    case 'throttled':
      return new SmtpReply(454, '4.7.0', `Too many failed logins from your address: try again in ${minutes(result.retryAfterMs ?? 60_000)}`);
    case 'org-box':
      return new SmtpReply(535, '5.7.8', `${printable(login)} is an organisational box (BAL ORG), which nobody signs in to with a password: sign in with your personal account, then send as the ORG address`);
    case 'account-pending':
      return new SmtpReply(525, '5.7.13', 'Your account is not validated yet by the operator: you cannot send mail yet');
    case 'account-suspended':
      return new SmtpReply(525, '5.7.13', 'Your account is suspended: contact your administrator');
    case 'device-password-required':
      return new SmtpReply(535, '5.7.8', DEVICE_PASSWORD_HINT);
    case 'token-unverifiable':
      return new SmtpReply(454, '4.7.0', 'Temporary authentication failure: the token issuer cannot be reached, try again later');
    case 'token-invalid':
      return new SmtpReply(535, '5.7.8', tokenText(result.tokenRefusal));
    default:
      return new SmtpReply(
        535,
        '5.7.8',
        passwordLogins === 'devices'
          ? 'Authentication credentials invalid: sign in with your login address and a device password created in the portal'
          : 'Authentication credentials invalid: check your login address and password',
      );
  }
}
