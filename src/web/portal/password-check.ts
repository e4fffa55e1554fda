// The one place the portal checks a box password: the daemon's shared Authenticator, so password
// throttling counts portal, IMAP and SMTP attempts together (R16). Login and password change both
// come here; when the authenticator's entry point changes, only this file follows.
import type { AuthResult } from '../../auth/authenticator';
import type { PortalContext } from './context';

export function checkPortalPassword(ctx: PortalContext, login: string, password: string, peer: string): Promise<AuthResult> {
  return ctx.authenticator.authenticate(login, password, peer, 'portal');
}
