// Server response building (RFC 3501 §4 data formats, §7 responses, §9 grammar).
//
// Response text is built as JS strings and sent as UTF-8; a string literal's count is its UTF-8
// octet length, so `{n}` and the octets that follow agree. Raw message octets (BODY[...], which
// need not be valid UTF-8) go through ResponseBuilder.literal() as Buffers, never as strings.
import type { Address, Envelope, MimePart } from '../../mime';
import { formatDateTime } from './dates';
import { isAstringAtomText } from './tokens';

/** Past this many characters a string is sent as a literal even if it could be quoted. */
export const MAX_QUOTED_LENGTH = 1024;

/** Text is encoded to UTF-8 in pieces of about this many characters. */
const FLUSH_AT = 16384;

/** A response under construction: text (sent as UTF-8) and raw octets, in order. */
export class ResponseBuilder {
  private readonly parts: Buffer[] = [];
  private pending = '';

  /** Appends response text (use the functions below for strings in it). */
  text(text: string): this {
    this.pending += text;
    if (this.pending.length >= FLUSH_AT) this.flush(); // one huge concatenated string is slow to encode
    return this;
  }

  /** Appends `{n}` CRLF and the octets as they are (RFC 3501 §4.3 literal). */
  literal(data: Buffer): this {
    this.pending += `{${data.length}}\r\n`;
    this.flush();
    if (data.length > 0) this.parts.push(data);
    return this;
  }

  /** Everything appended so far, as chunks to write in order. */
  chunks(): Buffer[] {
    this.flush();
    return this.parts;
  }

  /** Everything appended so far, as one Buffer. */
  toBuffer(): Buffer {
    const chunks = this.chunks();
    return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
  }

  private flush(): void {
    if (this.pending !== '') this.parts.push(Buffer.from(this.pending, 'utf8'));
    this.pending = '';
  }
}

/** A quoted string can hold TEXT-CHAR except quoted-specials unescaped: 7-bit, no NUL/CR/LF. */
const PLAIN = 0;
/** Quotable, but holds `"` or `\` to escape. */
const SPECIALS = 1;
/** Needs a literal: 8-bit, NUL, CR or LF. */
const UNQUOTABLE = 2;

/**
 * What sending `text` as a quoted string takes (RFC 3501 §4.3, §9 quoted): one pass over the
 * characters, no regular expression (FETCH of ENVELOPE and BODYSTRUCTURE quotes many short strings).
 */
function quoting(text: string): number {
  let kind = PLAIN;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0x20 && code < 0x7f) {
      if (code === 0x22 || code === 0x5c) kind = SPECIALS;
    } else if (code === 0 || code === 0x0a || code === 0x0d || code > 0x7f) {
      return UNQUOTABLE;
    }
  }
  return kind;
}

/** `"` and `\` escaped with a backslash. */
function escapeSpecials(text: string): string {
  let out = '';
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x22 || code === 0x5c) {
      out += `${text.slice(from, i)}\\`;
      from = i;
    }
  }
  return out + text.slice(from);
}

/** Whether `text` may be sent as a quoted string (RFC 3501 §4.3). */
export function isQuotable(text: string): boolean {
  return quoting(text) !== UNQUOTABLE;
}

/** A quoted string with `"` and `\` escaped; `text` must be quotable. */
export function quoted(text: string): string {
  const kind = quoting(text);
  if (kind === UNQUOTABLE) throw new Error('quoted(): text needs a literal');
  return kind === PLAIN ? `"${text}"` : `"${escapeSpecials(text)}"`;
}

/** A literal holding `text` as UTF-8 (NULs, which no IMAP4rev1 literal may carry, are dropped). */
export function stringLiteral(text: string): string {
  const clean = text.includes('\u0000') ? text.replace(/\u0000/g, '') : text;
  return `{${Buffer.byteLength(clean, 'utf8')}}\r\n${clean}`;
}

/** A string (RFC 3501 §4.3): quoted when possible, a literal for 8-bit, CR, LF, NUL or length. */
export function string(text: string): string {
  if (text.length > MAX_QUOTED_LENGTH) return stringLiteral(text);
  const kind = quoting(text);
  if (kind === PLAIN) return `"${text}"`;
  return kind === SPECIALS ? `"${escapeSpecials(text)}"` : stringLiteral(text);
}

/** An nstring (RFC 3501 §4.5): NIL for null, otherwise a string. */
export function nstring(text: string | null | undefined): string {
  return text === null || text === undefined ? 'NIL' : string(text);
}

/** An astring (RFC 3501 §9): a bare atom when it is one (and is not "NIL"), otherwise a string. */
export function astring(text: string): string {
  if (text.length <= MAX_QUOTED_LENGTH && isAstringAtomText(text) && text.toUpperCase() !== 'NIL') return text;
  return string(text);
}

/** A parenthesised list of already-encoded items (RFC 3501 §4.4). */
export function list(items: readonly string[]): string {
  return `(${items.join(' ')})`;
}

/** A flag list such as `(\Seen $Forwarded)`: flags are atoms and go as they are (§7.2.6). */
export function flagList(flags: Iterable<string>): string {
  let text = '(';
  let first = true;
  for (const flag of flags) {
    text += first ? flag : ` ${flag}`;
    first = false;
  }
  return `${text})`;
}

/** INTERNALDATE: `"22-Nov-2026 22:02:28 +0000"` (RFC 3501 §9 date-time, quoted). */
export function internalDate(time: Date | number, offsetMinutes = 0): string {
  return `"${formatDateTime(time, offsetMinutes)}"`;
}

/** A status response line: `A1 OK [CODE] text` CRLF (RFC 3501 §7.1); tag null for untagged. */
export function statusLine(tag: string | null, status: 'OK' | 'NO' | 'BAD' | 'BYE' | 'PREAUTH', text: string, code?: string): string {
  return `${tag ?? '*'} ${status} ${code ? `[${code}] ` : ''}${text.replace(/[\r\n]+/g, ' ')}\r\n`;
}

function address(entry: Address): string {
  return `(${nstring(entry.name)} ${nstring(entry.adl)} ${nstring(entry.mailbox)} ${nstring(entry.host)})`;
}

/** An address list: NIL, or addresses side by side with no space between them (§9 env-from). */
function addressList(entries: readonly Address[] | null): string {
  if (!entries || entries.length === 0) return 'NIL';
  let text = '(';
  for (const entry of entries) text += address(entry);
  return `${text})`;
}

/** ENVELOPE (RFC 3501 §7.4.2): date, subject, from, sender, reply-to, to, cc, bcc, in-reply-to, message-id. */
export function envelope(env: Envelope): string {
  return (
    `(${nstring(env.date)} ${nstring(env.subject)} ${addressList(env.from)} ${addressList(env.sender)} ` +
    `${addressList(env.replyTo)} ${addressList(env.to)} ${addressList(env.cc)} ${addressList(env.bcc)} ` +
    `${nstring(env.inReplyTo)} ${nstring(env.messageId)})`
  );
}

/** Whether every character of `text` is printable US-ASCII (0x20-0x7e). */
function isPrintableAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code > 0x7e) return false;
  }
  return true;
}

/**
 * body-fld-param: `("CHARSET" "UTF-8" ...)` or NIL. Names are upper-cased as in the RFC's
 * examples. The MIME parser decoded RFC 2231 values; a value that is not 7-bit goes back to the
 * RFC 2231 form (`"NAME*" "utf-8''r%C3%A9sultat.pdf"`), which clients read as Dovecot sends it
 * (README "Client quirks").
 */
function parameters(params: Record<string, string> | undefined): string {
  if (!params) return 'NIL';
  const items: string[] = [];
  for (const name of Object.keys(params)) {
    const value = params[name];
    if (isPrintableAscii(value)) {
      items.push(`${string(name.toUpperCase())} ${string(value)}`);
    } else {
      const encoded = encodeURIComponent(value).replace(/['()*!]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);
      items.push(`${string(`${name.toUpperCase()}*`)} ${string(`utf-8''${encoded}`)}`);
    }
  }
  return items.length === 0 ? 'NIL' : `(${items.join(' ')})`;
}

/** body-fld-dsp: `("ATTACHMENT" ("FILENAME" "x.pdf"))` or NIL (RFC 2183). */
function disposition(part: MimePart): string {
  const value = part.disposition;
  return value ? `(${string(value.type.toUpperCase())} ${parameters(value.params)})` : 'NIL';
}

/** body-fld-lang: a list of language tags or NIL (RFC 3066). */
function language(part: MimePart): string {
  return part.language && part.language.length > 0 ? list(part.language.map(string)) : 'NIL';
}

/** The text of one body (RFC 3501 §9 body), recursively. */
function body(part: MimePart, extensible: boolean): string {
  if (part.parts && part.parts.length > 0) {
    // body-type-mpart: the bodies side by side, then the subtype, then body-ext-mpart
    let text = '(';
    for (const child of part.parts) text += body(child, extensible);
    text += ` ${string(part.subtype.toUpperCase())}`;
    if (extensible) {
      text += ` ${parameters(part.params)} ${disposition(part)} ${language(part)} ${nstring(part.location ?? null)}`;
    }
    return `${text})`;
  }
  // body-fields: type, subtype, params, id, description, encoding, octets
  let text =
    `(${string(part.type.toUpperCase())} ${string(part.subtype.toUpperCase())} ${parameters(part.params)} ` +
    `${nstring(part.id ?? null)} ${nstring(part.description ?? null)} ${string(part.encoding.toUpperCase())} ${part.size}`;
  if (part.type === 'message' && part.subtype === 'rfc822' && part.message && part.envelope) {
    // body-type-msg; message/global stays basic: IMAP4rev1 clients parse only RFC822 this way
    // (README "Client quirks")
    text += ` ${envelope(part.envelope)} ${body(part.message, extensible)} ${part.lines ?? 0}`;
  } else if (part.type === 'text') {
    text += ` ${part.lines ?? 0}`; // body-type-text
  }
  if (extensible) {
    // body-ext-1part: md5, disposition, language, location
    text += ` ${nstring(part.md5 ?? null)} ${disposition(part)} ${language(part)} ${nstring(part.location ?? null)}`;
  }
  return `${text})`;
}

/**
 * BODY (`extensible` false) or BODYSTRUCTURE (`extensible` true) of a message or part
 * (RFC 3501 §7.4.2), from the structure cached at ingest.
 */
export function bodyStructure(part: MimePart, extensible: boolean): string {
  return body(part, extensible);
}

// Modified UTF-7 mailbox names (RFC 3501 §5.1.3): printable US-ASCII stands for itself, "&" is
// "&-", anything else is UTF-16 in modified BASE64 (RFC 2045 alphabet with "," for "/", no
// padding) between "&" and "-".

function shiftOut(units: number[]): string {
  const bytes = Buffer.alloc(units.length * 2);
  for (let i = 0; i < units.length; i++) bytes.writeUInt16BE(units[i], i * 2);
  return `&${bytes.toString('base64').replace(/=+$/, '').replace(/\//g, ',')}-`;
}

/** A mailbox name (Unicode) in modified UTF-7, as LIST shows it and clients send it. */
export function encodeMailboxName(name: string): string {
  let text = '';
  let units: number[] = [];
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i);
    if (code >= 0x20 && code <= 0x7e) {
      if (units.length > 0) {
        text += shiftOut(units);
        units = [];
      }
      text += code === 0x26 ? '&-' : name[i];
    } else {
      units.push(code);
    }
  }
  if (units.length > 0) text += shiftOut(units);
  return text;
}

/**
 * The Unicode name a modified UTF-7 mailbox name stands for, or null when it is not valid
 * modified UTF-7: raw 8-bit or control characters, an unterminated or empty shift, characters
 * outside the alphabet, leftover bits, an odd octet count, unpaired surrogates, printable
 * ASCII encoded, or two shifts back to back. Exactly the names encodeMailboxName() produces
 * are accepted, so a name has one spelling.
 */
export function decodeMailboxName(text: string): string | null {
  let name = '';
  let pos = 0;
  while (pos < text.length) {
    const code = text.charCodeAt(pos);
    if (code < 0x20 || code > 0x7e) return null;
    if (code !== 0x26) {
      name += text[pos++];
      continue;
    }
    const end = text.indexOf('-', pos + 1);
    if (end < 0) return null;
    if (end === pos + 1) {
      name += '&';
      pos = end + 1;
      continue;
    }
    const encoded = text.slice(pos + 1, end);
    if (!/^[A-Za-z0-9+,]+$/.test(encoded) || encoded.length % 4 === 1) return null;
    const bytes = Buffer.from(encoded.replace(/,/g, '/'), 'base64');
    if (bytes.length % 2 !== 0 || bytes.length === 0) return null;
    for (let i = 0; i < bytes.length; i += 2) name += String.fromCharCode(bytes.readUInt16BE(i));
    pos = end + 1;
  }
  if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(name)) return null; // unpaired surrogates
  return encodeMailboxName(name) === text ? name : null; // leftover bits, encoded ASCII, "-&" null shifts
}
