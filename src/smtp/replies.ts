// SMTP replies with their RFC 3463 enhanced status code and a sentence a human understands.
import type { Refusal } from '../policy/refusal';

/** An error that smtp-server sends as `<code> <enhanced> <message>`. */
export class SmtpReply extends Error {
  readonly responseCode: number;

  constructor(code: number, enhanced: string, message: string) {
    super(`${enhanced} ${message}`);
    this.responseCode = code;
  }
}

export function reply(refusal: Refusal): SmtpReply {
  return new SmtpReply(refusal.code, refusal.enhanced, refusal.message);
}

const ENHANCED_PREFIX = /^[245]\.\d{1,3}\.\d{1,3} /;
let installed = false;

/**
 * smtp-server prefixes every reply with an enhanced code chosen from the reply code alone (550 is
 * always 5.1.1), which would mislabel policy refusals (5.7.1). Replies whose text already starts
 * with an enhanced code keep theirs; every other reply keeps the library's choice.
 */
export function keepOwnEnhancedCodes(): void {
  if (installed) return;
  installed = true;
  const { SMTPConnection } = require('smtp-server/lib/smtp-connection') as {
    SMTPConnection: { prototype: { send(code: number, data: unknown, context?: unknown): void } };
  };
  const send = SMTPConnection.prototype.send;
  SMTPConnection.prototype.send = function sendKeepingEnhancedCode(code, data, context) {
    return send.call(this, code, data, typeof data === 'string' && ENHANCED_PREFIX.test(data) ? false : context);
  };
}
