// IMAP ENVELOPE (RFC 3501 §7.4.2) and RFC 5322 §3.4 address lists. Values stay raw: encoded
// words are not decoded (IMAP clients do that), and nothing here throws on malformed input.
import { getHeader, type HeaderField } from './headers';

export interface Address {
  /** Display name (quotes and escapes removed), or null. */
  name: string | null;
  /** Obsolete source route (`@a,@b`), or null. */
  adl: string | null;
  /** Local part; for a group start marker the group name; null for a group end marker. */
  mailbox: string | null;
  /** Domain; null only in group markers. "" when the address had no domain. */
  host: string | null;
}

export interface Envelope {
  date: string | null;
  subject: string | null;
  from: Address[] | null;
  sender: Address[] | null;
  replyTo: Address[] | null;
  to: Address[] | null;
  cc: Address[] | null;
  bcc: Address[] | null;
  inReplyTo: string | null;
  messageId: string | null;
}

type Token =
  | { kind: 'word'; text: string; quoted: boolean; spaceBefore: boolean }
  | { kind: 'special'; text: string; spaceBefore: boolean }
  | { kind: 'comment'; text: string; spaceBefore: boolean };

const SPECIALS = '<>@,;:.';
const ATOM_STOP = '()<>[]:;@\\,."';

function isSpace(ch: string): boolean {
  return ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n';
}

/** Splits a header value into RFC 5322 §3.2 lexical tokens. */
function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  let spaceBefore = false;
  while (pos < text.length) {
    const ch = text[pos];
    if (isSpace(ch)) {
      spaceBefore = true;
      pos++;
      continue;
    }
    if (ch === '(') {
      // §3.2.2 comment, nested, with quoted-pairs
      let depth = 0;
      let comment = '';
      while (pos < text.length) {
        const c = text[pos++];
        if (c === '\\' && pos < text.length) {
          comment += text[pos++];
        } else if (c === '(') {
          if (depth++ > 0) comment += c;
        } else if (c === ')') {
          if (--depth === 0) break;
          comment += c;
        } else {
          comment += c;
        }
      }
      tokens.push({ kind: 'comment', text: comment.trim(), spaceBefore });
    } else if (ch === '"') {
      // §3.2.4 quoted-string
      let value = '';
      pos++;
      while (pos < text.length && text[pos] !== '"') {
        if (text[pos] === '\\' && pos + 1 < text.length) pos++;
        value += text[pos++];
      }
      pos++;
      tokens.push({ kind: 'word', text: value, quoted: true, spaceBefore });
    } else if (ch === '[') {
      // §3.4.1 domain-literal, kept with its brackets
      const close = text.indexOf(']', pos);
      const stop = close < 0 ? text.length : close + 1;
      tokens.push({ kind: 'word', text: text.slice(pos, stop), quoted: false, spaceBefore });
      pos = stop;
    } else if (SPECIALS.includes(ch)) {
      tokens.push({ kind: 'special', text: ch, spaceBefore });
      pos++;
    } else {
      const start = pos;
      while (pos < text.length && !isSpace(text[pos]) && !ATOM_STOP.includes(text[pos])) pos++;
      if (pos === start) pos++; // a stray "\" or "]"
      tokens.push({ kind: 'word', text: text.slice(start, pos), quoted: false, spaceBefore });
    }
    spaceBefore = false;
  }
  return tokens;
}

const DOT_ATOM = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+(\.[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+)*$/;

/** A display name: words and dots joined as they were spaced in the header. */
function phraseOf(tokens: Token[]): string | null {
  let name = '';
  for (const token of tokens) {
    if (token.kind === 'comment') continue;
    name += (name !== '' && token.spaceBefore ? ' ' : '') + token.text;
  }
  return name === '' ? null : name;
}

/** A local part or domain: words and dots joined without the (obsolete) whitespace. A quoted
 * local part keeps its quotes unless it is a plain dot-atom, so mailbox@host stays an address. */
function dottedOf(tokens: Token[]): string {
  let text = '';
  let quoted = false;
  for (const token of tokens) {
    if (token.kind === 'comment') continue;
    if (token.kind === 'word' && token.quoted) quoted = true;
    text += token.text;
  }
  if (quoted && !DOT_ATOM.test(text)) return `"${text.replace(/(["\\])/g, '\\$1')}"`;
  return text;
}

function lastComment(tokens: Token[]): string | null {
  for (let i = tokens.length - 1; i >= 0; i--) {
    const token = tokens[i];
    if (token.kind === 'comment' && token.text !== '') return token.text;
  }
  return null;
}

function isSpecial(token: Token | undefined, chars: string): boolean {
  return token !== undefined && token.kind === 'special' && chars.includes(token.text);
}

/**
 * Parses an address list (RFC 5322 §3.4: mailbox-list / address-list with groups) into IMAP
 * address structures. Groups become a start marker {mailbox: name, host: null} and an end marker
 * {mailbox: null, host: null} (RFC 3501 §7.4.2). A comment after a bare addr-spec
 * (`jean@x.fr (Jean)`) serves as its display name.
 */
export function parseAddressList(value: string): Address[] {
  const tokens = tokenize(value);
  const addresses: Address[] = [];
  let inGroup = false;
  let i = 0;
  const closeGroup = (): void => {
    if (inGroup) addresses.push({ name: null, adl: null, mailbox: null, host: null });
    inGroup = false;
  };
  const push = (name: string | null, adl: string | null, mailbox: string, host: string): void => {
    if (name === null && mailbox === '' && host === '') return; // "<>" and other empty shells
    addresses.push({ name, adl, mailbox, host });
  };
  /** Tokens up to (not including) one of `stops`. */
  const takeUntil = (stops: string): Token[] => {
    const start = i;
    while (i < tokens.length && !isSpecial(tokens[i], stops)) i++;
    return tokens.slice(start, i);
  };

  while (i < tokens.length) {
    const token = tokens[i];
    if (isSpecial(token, ',>')) {
      i++;
      continue;
    }
    if (isSpecial(token, ';')) {
      closeGroup();
      i++;
      continue;
    }
    const phrase = takeUntil('<:,;@>');
    const stop = tokens[i];
    if (isSpecial(stop, ':')) {
      // §3.4 group: display-name ":" [group-list] ";"
      closeGroup();
      addresses.push({ name: null, adl: null, mailbox: phraseOf(phrase) ?? '', host: null });
      inGroup = true;
      i++;
    } else if (isSpecial(stop, '<')) {
      // §3.4 name-addr: [display-name] "<" [obs-route] addr-spec ">"
      i++;
      const route: string[] = [];
      while (isSpecial(tokens[i], '@')) {
        i++;
        route.push('@' + dottedOf(takeUntil(',:>')));
        if (isSpecial(tokens[i], ',')) i++;
        else break;
      }
      if (route.length > 0 && isSpecial(tokens[i], ':')) i++;
      const local = takeUntil('@>,;');
      let domain: Token[] = [];
      if (isSpecial(tokens[i], '@')) {
        i++;
        domain = takeUntil('>,;');
      }
      if (isSpecial(tokens[i], '>')) i++;
      const trailing = takeUntil(',;');
      const name = phraseOf(phrase) ?? lastComment(trailing);
      push(name, route.length > 0 ? route.join(',') : null, dottedOf(local), dottedOf(domain));
    } else if (isSpecial(stop, '@')) {
      // §3.4.1 bare addr-spec
      i++;
      const domain = takeUntil(',;<>');
      const trailing = takeUntil(',;');
      push(lastComment(domain) ?? lastComment(phrase) ?? lastComment(trailing), null, dottedOf(phrase), dottedOf(domain));
    } else if (phrase.length > 0) {
      // no "@": a local part alone (e.g. "undisclosed-recipients"), kept with an empty domain
      push(null, null, dottedOf(phrase), '');
    }
  }
  closeGroup();
  return addresses;
}

/**
 * The ENVELOPE is a display cache: past this many characters an address field is cut at the last
 * comma (≈ 1 500 addresses), so a hostile multi-megabyte To: cannot stall ingest.
 */
export const MAX_ENVELOPE_LIST_CHARS = 65536;

function addressesOf(fields: readonly HeaderField[], key: string): Address[] | null {
  let value = getHeader(fields, key);
  if (value === null) return null;
  if (value.length > MAX_ENVELOPE_LIST_CHARS) {
    const comma = value.lastIndexOf(',', MAX_ENVELOPE_LIST_CHARS);
    value = value.slice(0, comma > 0 ? comma : MAX_ENVELOPE_LIST_CHARS);
  }
  const list = parseAddressList(value);
  return list.length > 0 ? list : null;
}

/** The ENVELOPE of a message from its header fields (RFC 3501 §7.4.2). */
export function buildEnvelope(fields: readonly HeaderField[]): Envelope {
  const from = addressesOf(fields, 'from');
  return {
    date: getHeader(fields, 'date'),
    subject: getHeader(fields, 'subject'),
    from,
    // "If the Sender or Reply-To lines are absent ... or are present but empty, the server sets
    // the corresponding member of the envelope to be the same value as the from member."
    sender: addressesOf(fields, 'sender') ?? from,
    replyTo: addressesOf(fields, 'reply-to') ?? from,
    to: addressesOf(fields, 'to'),
    cc: addressesOf(fields, 'cc'),
    bcc: addressesOf(fields, 'bcc'),
    inReplyTo: getHeader(fields, 'in-reply-to'),
    messageId: getHeader(fields, 'message-id'),
  };
}

/** The Message-ID without its angle brackets (RFC 5322 §3.6.4 msg-id), or null. */
export function messageIdOf(fields: readonly HeaderField[]): string | null {
  const value = getHeader(fields, 'message-id');
  if (value === null) return null;
  const open = value.indexOf('<');
  const close = open >= 0 ? value.indexOf('>', open + 1) : -1;
  const id = open >= 0 ? value.slice(open + 1, close < 0 ? value.length : close) : value.split(/\s/)[0];
  const trimmed = id.trim();
  return trimmed === '' ? null : trimmed;
}
