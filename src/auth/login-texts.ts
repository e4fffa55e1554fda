// Sentences shared by IMAP and submission when a login is refused (R15: a human text with every
// protocol error), and the RFC 7628 error JSON.

/** The text that tells a person their mail program needs a device password (issue 11). */
export const DEVICE_PASSWORD_HINT =
  'Your account password is for the web portal only: create a device password for this mail program in the portal (Appareils), then sign in with it';

/** Why a bearer token was refused, in a sentence (shared by IMAP and submission). */
export function tokenText(refusal: string | undefined): string {
  switch (refusal) {
    case 'expired':
      return 'The access token has expired: sign in again with Pro Sante Connect';
    case 'other-professional':
      return 'The access token belongs to a professional who may not open this box';
    case 'no-box':
      return 'Name the box to open (user name): the access token alone does not designate a single box';
    case 'wrong-audience':
      return 'The access token was not issued for this mail service';
    case 'wrong-issuer':
      return 'The access token comes from an issuer this server does not trust';
    default:
      return 'The access token is not valid for this server';
  }
}

/** RFC 7628 section 3.2.2 error JSON (status, scope, openid-configuration). */
export function oauthErrorJson(issuer: string | null): Record<string, string> {
  return {
    status: 'invalid_token',
    scope: 'openid',
    ...(issuer ? { 'openid-configuration': `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration` } : {}),
  };
}
