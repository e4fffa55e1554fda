// Client responses of the two bearer-token SASL mechanisms, shared by IMAP and submission.

/**
 * Parses an OAUTHBEARER client response (RFC 7628 section 3.1): a GS2 header
 * "n,a=<authzid>," then ^A-separated key=value pairs, one of them "auth=Bearer <token>".
 */
export function parseOAuthBearer(message: string): { authzid: string | null; token: string } | null {
  const first = message.indexOf('\x01');
  if (first < 0) return null;
  const gs2 = message.slice(0, first).split(',');
  if (gs2.length < 2 || !['n', 'y'].includes(gs2[0])) return null;
  let authzid: string | null = null;
  if (gs2[1].startsWith('a=')) authzid = gs2[1].slice(2).replace(/=2C/g, ',').replace(/=3D/g, '=');
  let token: string | null = null;
  for (const pair of message.slice(first + 1).split('\x01')) {
    const match = /^auth=Bearer\s+(\S+)\s*$/i.exec(pair);
    if (match) token = match[1];
  }
  return token ? { authzid, token } : null;
}

/** Parses an XOAUTH2 client response: "user=<login>^Aauth=Bearer <token>^A^A". */
export function parseXOAuth2(message: string): { user: string; token: string } | null {
  let user: string | null = null;
  let token: string | null = null;
  for (const pair of message.split('\x01')) {
    if (pair.startsWith('user=')) user = pair.slice(5);
    const match = /^auth=Bearer\s+(\S+)\s*$/i.exec(pair);
    if (match) token = match[1];
  }
  return user !== null && token ? { user, token } : null;
}
