// AUTH only under TLS on the submission port (RFC 6409 section 4.3, RFC 3207 section 4, RFC 4954
// section 4): before STARTTLS the EHLO reply does not even list AUTH, so no client is tempted to
// send a password in clear, and an AUTH sent anyway gets RFC 4954's "538 5.7.11 Encryption
// required for requested authentication mechanism".
//
// smtp-server lists AUTH in EHLO whatever the state of TLS and answers a premature AUTH with a
// non-standard "538 5.7.0 Error: Must issue a STARTTLS command first". A server created with the
// option `authAfterTls: true` gets both replies corrected here, by the same kind of narrow wrapper
// around the connection's reply method as keepOwnEnhancedCodes (src/smtp/replies.ts), installed
// outside it so that our own enhanced code is kept.
import { keepOwnEnhancedCodes } from './replies';

interface ConnectionLike {
  secure: boolean;
  _server: { options: { authAfterTls?: boolean } };
}

let installed = false;

export const ENCRYPTION_REQUIRED = '5.7.11 Encryption required for requested authentication mechanism: issue STARTTLS first';

export function installAuthAfterTls(): void {
  keepOwnEnhancedCodes();
  if (installed) return;
  installed = true;
  const { SMTPConnection } = require('smtp-server/lib/smtp-connection') as {
    SMTPConnection: { prototype: { send(code: number, data: unknown, context?: unknown): void } };
  };
  const send = SMTPConnection.prototype.send;
  SMTPConnection.prototype.send = function sendWithAuthAfterTls(this: ConnectionLike, code, data, context) {
    if (this._server?.options?.authAfterTls && !this.secure) {
      if (code === 250 && Array.isArray(data)) {
        // The EHLO reply: keyword lines only, the greeting first.
        data = data.filter((line, index) => index === 0 || !/^AUTH\b/i.test(String(line)));
      } else if (code === 538) {
        data = ENCRYPTION_REQUIRED;
      }
    }
    return send.call(this, code, data, context);
  };
}
