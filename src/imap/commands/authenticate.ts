// AUTHENTICATE (RFC 3501 section 6.2.2) with the PLAIN (RFC 4616) and LOGIN mechanisms, the
// bearer-token mechanisms OAUTHBEARER (RFC 7628) and XOAUTH2 when auth.oauth.issuer is set (R16),
// and the initial response of SASL-IR (RFC 4959). "*" from the client cancels the exchange.
import { oauthErrorJson } from '../../auth/login-texts';
import { parseOAuthBearer, parseXOAuth2 } from '../../auth/sasl-messages';
import { expectAstring, expectAtom, expectEnd } from '../protocol/tokens';
import type { ImapSession } from '../session';
import { completeLogin, logIn } from './login-common';
import { bad, no, type CommandHandler } from './registry';

class Cancelled extends Error {}

function decode(text: string): string {
  if (text === '=') return ''; // RFC 4959: an empty initial response
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) throw new Error('not base64');
  return Buffer.from(text, 'base64').toString('utf8');
}

/** Sends a challenge and reads the client's base64 answer. */
async function challenge(session: ImapSession, prompt: string): Promise<string> {
  session.io.write(`+ ${Buffer.from(prompt).toString('base64')}\r\n`);
  const line = await session.io.readLine();
  if (!line || line.type === 'error') throw new Cancelled();
  if (line.text.trim() === '*') throw new Cancelled();
  return decode(line.text.trim());
}

export const authenticate: CommandHandler = {
  name: 'AUTHENTICATE',
  states: ['not-authenticated'],
  async run(session, command) {
    const mechanism = expectAtom(command.args[0], 'SASL mechanism').toUpperCase();
    // RFC 4959: the initial response is an atom of base64 (or "="), as every client sends it.
    const initial = command.args.length > 1 ? expectAstring(command.args[1], 'SASL initial response') : null;
    expectEnd(command.args, initial === null ? 1 : 2);
    if (!session.io.secure) return no('Log in only over TLS: use STARTTLS first', 'PRIVACYREQUIRED');
    try {
      if (mechanism === 'PLAIN') {
        const message = initial !== null ? decode(initial) : await challenge(session, '');
        const [authzid, authcid, password] = message.split('\0');
        if (password === undefined) return bad('Malformed PLAIN credentials');
        if (authzid && authzid.toLowerCase() !== authcid.toLowerCase()) {
          return no('Logging in as somebody else is not allowed', 'AUTHORIZATIONFAILED');
        }
        return await logIn(session, authcid, password);
      }
      if (mechanism === 'LOGIN') {
        const user = initial !== null ? decode(initial) : await challenge(session, 'Username:');
        const password = await challenge(session, 'Password:');
        return await logIn(session, user, password);
      }
      if ((mechanism === 'OAUTHBEARER' || mechanism === 'XOAUTH2') && session.services.authenticator.acceptsTokens) {
        return await bearer(session, mechanism, initial !== null ? decode(initial) : await challenge(session, ''));
      }
      return no(`Unsupported authentication mechanism ${mechanism}; use PLAIN or LOGIN`);
    } catch (err) {
      if (err instanceof Cancelled) return bad('Authentication cancelled');
      return bad('Malformed base64 in the authentication exchange');
    }
  },
};

/**
 * OAUTHBEARER / XOAUTH2. A refused token gets the RFC 7628 section 3.2.2 exchange: a challenge
 * holding the error JSON, which the client answers (with ^A, or an empty line for XOAUTH2), then NO.
 */
async function bearer(session: ImapSession, mechanism: 'OAUTHBEARER' | 'XOAUTH2', message: string) {
  let login: string | null;
  let token: string;
  if (mechanism === 'OAUTHBEARER') {
    const parsed = parseOAuthBearer(message);
    if (!parsed) return bad('Malformed OAUTHBEARER client response (RFC 7628 section 3.1)');
    ({ authzid: login, token } = parsed);
  } else {
    const parsed = parseXOAuth2(message);
    if (!parsed) return bad('Malformed XOAUTH2 client response');
    ({ user: login, token } = parsed);
  }
  const authenticator = session.services.authenticator;
  const result = await authenticator.authenticateToken(login, token, session.peer, 'imap');
  if (!result.ok && result.reason === 'token-invalid') {
    session.io.write(`+ ${Buffer.from(JSON.stringify(oauthErrorJson(authenticator.tokenIssuer))).toString('base64')}\r\n`);
    const answer = await session.io.readLine();
    if (!answer) return bad('Authentication cancelled');
  }
  return completeLogin(session, result);
}
