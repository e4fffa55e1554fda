// The one place the portal checks a box password: the daemon's shared Authenticator, so password
// throttling counts portal, IMAP and SMTP attempts together (R16). Login and password change both
// come here; when the authenticator's entry point changes, only this file follows.
// `allow: 'account'`: the box password only — a device password never opens the portal. The
// Authenticator writes the audit row of this password step itself (event 'login', source
// 'portal', method 'account'); the portal adds the row of the second factor (password+totp or
// password+email), which is the one that opens a session.
import type { AuthResult } from '../../auth/authenticator';
import type { PortalContext } from './context';

export function checkPortalPassword(ctx: PortalContext, login: string, password: string, peer: string): Promise<AuthResult> {
  return ctx.authenticator.authenticate(login, password, peer, 'portal', { allow: 'account' });
}
