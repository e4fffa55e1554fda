// SASL OAUTHBEARER (RFC 7628) for smtp-server, which implements XOAUTH2 itself but not its
// standard successor. Both share the RFC 7628 section 3.2.2 failure exchange: the server sends a
// 334 challenge carrying a JSON error, the client answers with a lone ^A (or anything), then the
// server ends with 535. smtp-server's own XOAUTH2 ending says "Username and Password not
// accepted"; here both end with the sentence our onAuth chose (stored on the session), so the
// person learns why (token expired, another professional...).
//
// Installed by a narrow addition to smtp-server's SASL table, the same way as auth-after-tls.ts.
import type { SMTPServerSession } from 'smtp-server';
import { parseOAuthBearer } from '../auth/sasl-messages';

/** What the submission server's onAuth sees for OAUTHBEARER (XOAUTH2 has the same two fields). */
export interface OAuthBearerAuth {
  method: 'OAUTHBEARER';
  username: string;
  accessToken: string;
}

/** Session field holding the 535 text for the end of a failed exchange. */
export const OAUTH_FAILURE_TEXT = Symbol('oauthFailureText');
export type SessionWithOAuthFailure = SMTPServerSession & { [OAUTH_FAILURE_TEXT]?: string };

type Callback = () => void;
interface ConnectionThis {
  session: SessionWithOAuthFailure;
  _nextHandler: ((data: unknown, callback: Callback) => void) | null;
  _server: { onAuth(auth: unknown, session: unknown, callback: (err: (Error & { responseCode?: number }) | null, response?: { user?: unknown; data?: unknown }) => void): void };
  send(code: number, data?: unknown): void;
  _transmissionType(): string;
}

// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\x00-\x1F\x7F-\x9F]/;

let installed = false;

export function installOAuthBearer(): void {
  if (installed) return;
  installed = true;
  const SASL = require('smtp-server/lib/sasl') as Record<string, unknown>;

  const endFailure = function (this: ConnectionThis, _data: unknown, callback: Callback) {
    const text = this.session[OAUTH_FAILURE_TEXT] ?? '5.7.8 Authentication credentials invalid';
    delete this.session[OAUTH_FAILURE_TEXT];
    this.send(535, text);
    callback();
  };
  SASL.XOAUTH2_error = endFailure;
  SASL.OAUTHBEARER_error = endFailure;

  SASL.OAUTHBEARER_token = function (this: ConnectionThis, canAbort: boolean, rawToken: unknown, callback: Callback) {
    const text = String(rawToken ?? '').trim();
    if (canAbort && text === '*') {
      this.send(501, 'Authentication aborted');
      return callback();
    }
    const parsed = parseOAuthBearer(Buffer.from(text, 'base64').toString('utf8'));
    if (!parsed || (parsed.authzid !== null && CONTROL_CHARS.test(parsed.authzid))) {
      this.send(501, '5.5.2 Malformed OAUTHBEARER client response (RFC 7628 section 3.1)');
      return callback();
    }
    this._server.onAuth({ method: 'OAUTHBEARER', username: parsed.authzid ?? '', accessToken: parsed.token }, this.session, (err, response) => {
      if (err) {
        this.send(err.responseCode ?? 535, err.message);
        return callback();
      }
      if (!response?.user) {
        // RFC 7628 section 3.2.2: the error JSON in a challenge; the client's answer ends it.
        this._nextHandler = (SASL.OAUTHBEARER_error as typeof endFailure).bind(this);
        this.send(334, Buffer.from(JSON.stringify(response?.data ?? { status: 'invalid_token' })).toString('base64'));
        return callback();
      }
      this.session.user = response.user as SMTPServerSession['user'];
      (this.session as { transmissionType?: string }).transmissionType = this._transmissionType();
      this.send(235, '2.7.0 Authentication successful');
      callback();
    });
  };

  SASL.SASL_OAUTHBEARER = function (this: ConnectionThis, args: string[], callback: Callback) {
    if (args.length > 1) {
      this.send(501, '5.5.4 Syntax: AUTH OAUTHBEARER [initial-response]');
      return callback();
    }
    if (args.length === 0) {
      this._nextHandler = (SASL.OAUTHBEARER_token as (...a: unknown[]) => void).bind(this, true) as ConnectionThis['_nextHandler'];
      this.send(334);
      return callback();
    }
    (SASL.OAUTHBEARER_token as (...a: unknown[]) => void).call(this, false, args[0], callback);
  };
}
