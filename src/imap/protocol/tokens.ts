// The arguments of a client command as the reader hands them over (RFC 3501 §4 data formats,
// §9 grammar), and typed accessors that turn them into values or throw a tagged BAD.
import { badSyntax } from './errors';

/**
 * An atom as sent, case preserved. The reader is deliberately broad: an atom token may hold the
 * list wildcards "%" and "*" (LIST patterns, sequence sets), "]" (astring), "[" and a leading
 * "\" (flags such as \Seen). The accessors below check what each grammar position allows.
 */
export interface AtomToken {
  type: 'atom';
  value: string;
}

/** An atom made only of digits (RFC 3501 number, nz-number, RFC 7162 mod-sequence-value). */
export interface NumberToken {
  type: 'number';
  /** The digits as sent. */
  value: string;
  /** Number(value); imprecise beyond 2^53, so use {@link expectNumber}, which checks the range. */
  number: number;
}

/** The atom NIL, in any case (RFC 3501 §4.5). It is also a valid astring ("NIL" as a name). */
export interface NilToken {
  type: 'nil';
  value: string;
}

/** A quoted string, escapes removed (RFC 3501 §4.3). */
export interface StringToken {
  type: 'string';
  value: string;
}

/** A literal (RFC 3501 §4.3, RFC 7888 {N+}): raw octets, e.g. the message of an APPEND. */
export interface LiteralToken {
  type: 'literal';
  value: Buffer;
  /** Sent as literal8 "~{N}" (RFC 3516 §4.3): may hold NUL; only APPEND takes one. */
  binary?: boolean;
}

/** A parenthesised list (RFC 3501 §4.4). */
export interface ListToken {
  type: 'list';
  items: Token[];
}

/**
 * A FETCH attribute with a bracketed section, e.g. `BODY.PEEK[HEADER.FIELDS (DATE FROM)]<0.2048>`
 * (RFC 3501 §6.4.5): the name before "[" in upper case, the tokens between the brackets (here the
 * atom HEADER.FIELDS and a list), and the text between "<" and ">" when present ("0.2048").
 * Only BODY, BODY.PEEK, BINARY, BINARY.PEEK and BINARY.SIZE open a section; in any other atom
 * "[" and "]" are ordinary characters.
 */
export interface SectionToken {
  type: 'section';
  name: string;
  items: Token[];
  partial: string | null;
}

export type Token = AtomToken | NumberToken | NilToken | StringToken | LiteralToken | ListToken | SectionToken;

/** RFC 7162 mod-sequence values are 63-bit; this server keeps them below 2^53 (JS numbers). */
export const MAX_MODSEQ = Number.MAX_SAFE_INTEGER;

/** A short description of a token for error messages (never its full content). */
export function describeToken(token: Token | undefined): string {
  if (!token) return 'nothing';
  switch (token.type) {
    case 'atom':
    case 'number':
    case 'nil':
      return token.value.length > 40 ? `${token.value.slice(0, 40)}...` : token.value;
    case 'string':
      return 'a quoted string';
    case 'literal':
      return 'a literal';
    case 'list':
      return 'a list';
    case 'section':
      return `${token.name}[...]`;
  }
}

// RFC 3501 §9: ATOM-CHAR is any CHAR except atom-specials: "(" ")" "{" SP CTL "%" "*" DQUOTE "\" "]".
const ATOM_SPECIALS = '(){%*"\\]';

/** Whether `text` is a non-empty atom (RFC 3501 §9 atom). */
export function isAtomText(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code <= 0x20 || code >= 0x7f || ATOM_SPECIALS.includes(text[i])) return false;
  }
  return true;
}

/** Whether `text` is a non-empty astring written as an atom: ATOM-CHAR or "]" (RFC 3501 §9). */
export function isAstringAtomText(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code <= 0x20 || code >= 0x7f || (text[i] !== ']' && ATOM_SPECIALS.includes(text[i]))) return false;
  }
  return true;
}

/** Whether the token is the atom `word` (case-insensitive), e.g. isWord(t, 'RETURN'). */
export function isWord(token: Token | undefined, word: string): boolean {
  return token !== undefined && (token.type === 'atom' || token.type === 'nil') && token.value.toUpperCase() === word;
}

/** The upper-case text of an atom (a keyword such as FLAGS or CHARSET), or a BAD naming `what`. */
export function expectAtom(token: Token | undefined, what: string): string {
  if (token && (token.type === 'atom' || token.type === 'nil' || token.type === 'number') && isAtomText(token.value)) {
    return token.value.toUpperCase();
  }
  throw badSyntax(`Expected ${what}, got ${describeToken(token)}`);
}

/** The text of a string token: quoted, literal (read as UTF-8), or null for other tokens. */
export function stringValue(token: Token | undefined): string | null {
  if (token?.type === 'string') return token.value;
  if (token?.type === 'literal') {
    // RFC 3516 §4.3: literal8 is for message data only, never for a string argument
    if (token.binary) throw badSyntax('A binary literal (~{n}) is only accepted for message data');
    return token.value.toString('utf8');
  }
  return null;
}

/** An astring (RFC 3501 §9: atom with "]" allowed, quoted string or literal) as text. */
export function expectAstring(token: Token | undefined, what: string): string {
  const text = stringValue(token);
  if (text !== null) return text;
  if (token && (token.type === 'atom' || token.type === 'nil' || token.type === 'number') && isAstringAtomText(token.value)) {
    return token.value;
  }
  throw badSyntax(`Expected ${what}, got ${describeToken(token)}`);
}

/** An nstring (RFC 3501 §4.5): a string, or null for NIL. */
export function expectNstring(token: Token | undefined, what: string): string | null {
  if (token?.type === 'nil') return null;
  const text = stringValue(token);
  if (text !== null) return text;
  throw badSyntax(`Expected ${what}, got ${describeToken(token)}`);
}

/**
 * A LIST/LSUB pattern (RFC 3501 §9 list-mailbox): like an astring, but an atom may also hold the
 * wildcards "%" and "*".
 */
export function expectListMailbox(token: Token | undefined, what: string): string {
  if (token && (token.type === 'atom' || token.type === 'nil' || token.type === 'number')) {
    const text = token.value.replace(/[%*]/g, 'x');
    if (isAstringAtomText(text)) return token.value;
  }
  return expectAstring(token, what);
}

/**
 * A number in [min, max] (RFC 3501 number is 32-bit; pass max = Number.MAX_SAFE_INTEGER for the
 * 63-bit RFC 7162 mod-sequence values, which this server keeps below 2^53).
 */
export function expectNumber(token: Token | undefined, what: string, min = 0, max = 0xffffffff): number {
  if (token?.type === 'number' && token.value.length <= 16 && token.number >= min && token.number <= max) {
    return token.number;
  }
  throw badSyntax(`Expected ${what}, got ${describeToken(token)}`);
}

/** The items of a parenthesised list. */
export function expectList(token: Token | undefined, what: string): Token[] {
  if (token?.type === 'list') return token.items;
  throw badSyntax(`Expected ${what}, got ${describeToken(token)}`);
}

/** Throws a BAD when arguments remain after position `used`. */
export function expectEnd(args: readonly Token[], used: number): void {
  if (args.length > used) throw badSyntax(`Unexpected argument: ${describeToken(args[used])}`);
}
