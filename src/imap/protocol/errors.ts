// The error every argument parser of the protocol layer throws (RFC 3501 §7.1 status responses).
// Command handlers catch it and answer `tag BAD|NO [CODE] text`; anything else thrown is a bug.

/**
 * A response code without its brackets (RFC 3501 §7.1, RFC 5530): the protocol layer uses
 * TOOBIG, LIMIT and "BADCHARSET (UTF-8 US-ASCII)"; commands add their own (TRYCREATE, NONEXISTENT...).
 */
export type ResponseCode = string;

export class ImapError extends Error {
  /** BAD: the command is malformed; NO: well-formed but refused. */
  readonly kind: 'BAD' | 'NO';
  /** Response code without its brackets, e.g. "BADCHARSET (UTF-8 US-ASCII)". */
  readonly code: ResponseCode | undefined;

  constructor(kind: 'BAD' | 'NO', text: string, code?: ResponseCode) {
    super(text);
    this.name = 'ImapError';
    this.kind = kind;
    this.code = code;
  }
}

/** Shorthand for the common case: a syntax error (tagged BAD). */
export function badSyntax(text: string): ImapError {
  return new ImapError('BAD', text);
}
