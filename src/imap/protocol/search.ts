// SEARCH (RFC 3501 §6.4.4, §9 search-key; RFC 7162 §3.1.5 MODSEQ): arguments into a tree of
// keys, then a predicate compiled once per command and run on each message. Message data is
// asked for lazily, cheapest keys first, so a SEARCH UNSEEN never decodes a header or a body.
import { decodeHeaderValue, foldText, type HeaderField } from '../../mime';
import { addressText } from '../../mime/address-text';
import { dayOf, parseSearchDate, sentDay } from './dates';
import { ImapError, badSyntax } from './errors';
import { isSequenceSet, parseSequenceSet, rangesInclude, resolveRanges, type SequenceSet } from './sequence';
import { MAX_MODSEQ, describeToken, expectAstring, expectNumber, isAtomText, isWord, stringValue, type Token } from './tokens';

export type DateComparison = 'before' | 'on' | 'since';

export type SearchKey =
  | { type: 'all' }
  /** A system flag or keyword set (ANSWERED, KEYWORD x...) or not set (UNANSWERED, UNKEYWORD x...). */
  | { type: 'flag'; flag: string; set: boolean }
  /** RECENT (true) or OLD (false). NEW is RECENT and UNSEEN. */
  | { type: 'recent'; recent: boolean }
  /** FROM, TO, CC, BCC, SUBJECT, HEADER: a substring of a field's decoded value; field in lower case. */
  | { type: 'header'; field: string; value: string }
  /** BODY: a substring of the decoded text parts. */
  | { type: 'body'; value: string }
  /** TEXT: a substring of the header or the body. */
  | { type: 'text'; value: string }
  /** BEFORE/ON/SINCE (internal date), SENTBEFORE/SENTON/SENTSINCE (Date: field); day numbers. */
  | { type: 'date'; of: 'internal' | 'sent'; comparison: DateComparison; day: number }
  /**
   * WITHIN (RFC 5032): YOUNGER n (internal date within the last n seconds, younger: true) or
   * OLDER n (at least n seconds ago); `cutoff` is now − n in milliseconds, fixed at parse time.
   */
  | { type: 'age'; younger: boolean; cutoff: number }
  /** LARGER (size > octets) and SMALLER (size < octets). */
  | { type: 'size'; comparison: 'larger' | 'smaller'; octets: number }
  /** A sequence set of message sequence numbers. */
  | { type: 'sequence'; set: SequenceSet }
  /** "$" (RFC 5182): the messages of the last SEARCH RETURN (SAVE), as a key or after UID. */
  | { type: 'saved' }
  | { type: 'uid'; set: SequenceSet }
  /** MODSEQ n: mod-sequence at least n (RFC 7162 §3.1.5; the metadata entry is accepted, unused). */
  | { type: 'modseq'; modseq: number }
  | { type: 'not'; key: SearchKey }
  | { type: 'or'; left: SearchKey; right: SearchKey }
  | { type: 'and'; keys: SearchKey[] };

export interface SearchRequest {
  /** The CHARSET given, upper case; strings are UTF-8 either way (US-ASCII is a subset). */
  charset: 'UTF-8' | 'US-ASCII';
  key: SearchKey;
}

/** What SEARCH reads of a message. Methods are called only when a key needs them. */
export interface SearchMessage {
  seq: number;
  uid: number;
  /** System flags in canonical case (\Seen), keywords as stored. */
  flags: ReadonlySet<string>;
  internalDate: Date | number;
  /** RFC822.SIZE. */
  size: number;
  modseq: number;
  recent: boolean;
  /** Top-level header fields (src/mime parseHeaderBlock); the Date: field serves SENT* keys too. */
  headers(): readonly HeaderField[];
  /** Decoded text of the body (src/mime searchableText). */
  bodyText(): string;
  /**
   * The same text already folded, as the full-text index keeps it (src/store/search-index.ts
   * IndexedText), or null when the message is not indexed: then headers() and bodyText() are used.
   */
  folded?(): FoldedText | null;
}

/** Folded subjects, header lines (`name: value`, name in lower case) and body of a message. */
export interface FoldedText {
  subject: string;
  headers: string;
  body: string;
}

/** Whether `needle` is a substring of the value of a `field: value` line of folded header lines. */
function inHeaderLines(lines: string, field: string, needle: string): boolean {
  const prefix = `${field}: `;
  let at = lines.startsWith(prefix) ? 0 : lines.indexOf(`\n${prefix}`);
  while (at >= 0) {
    const start = at === 0 && lines.startsWith(prefix) ? prefix.length : at + 1 + prefix.length;
    let end = lines.indexOf('\n', start);
    if (end < 0) end = lines.length;
    if (needle === '' || lines.slice(start, end).includes(needle)) return true;
    at = lines.indexOf(`\n${prefix}`, end);
  }
  return false;
}

/** What "*" means in the sets of a SEARCH, and which day an internal date falls on. */
export interface SearchMailbox {
  messageCount: number;
  largestUid: number;
  /** Internal dates are compared in this zone (minutes east of UTC); 0 by default. */
  timeZoneOffset?: number;
  /** The UIDs "$" holds (RFC 5182); none by default. */
  savedUids?: ReadonlySet<number>;
}

/** NOT, OR and parentheses nest at most this deep. */
export const MAX_SEARCH_DEPTH = 100;

const FLAG_KEYS: Record<string, [string, boolean]> = {
  ANSWERED: ['\\Answered', true],
  DELETED: ['\\Deleted', true],
  DRAFT: ['\\Draft', true],
  FLAGGED: ['\\Flagged', true],
  SEEN: ['\\Seen', true],
  UNANSWERED: ['\\Answered', false],
  UNDELETED: ['\\Deleted', false],
  UNDRAFT: ['\\Draft', false],
  UNFLAGGED: ['\\Flagged', false],
  UNSEEN: ['\\Seen', false],
};
const HEADER_KEYS: Record<string, string> = { BCC: 'bcc', CC: 'cc', FROM: 'from', SUBJECT: 'subject', TO: 'to' };
const DATE_KEYS: Record<string, ['internal' | 'sent', DateComparison]> = {
  BEFORE: ['internal', 'before'],
  ON: ['internal', 'on'],
  SINCE: ['internal', 'since'],
  SENTBEFORE: ['sent', 'before'],
  SENTON: ['sent', 'on'],
  SENTSINCE: ['sent', 'since'],
};

class KeyParser {
  private position = 0;

  constructor(private readonly tokens: readonly Token[]) {}

  get done(): boolean {
    return this.position >= this.tokens.length;
  }

  private take(what: string): Token {
    const token = this.tokens[this.position++];
    if (!token) throw badSyntax(`Missing ${what}`);
    return token;
  }

  /** One search-key (RFC 3501 §9), recursively. */
  key(depth: number): SearchKey {
    if (depth > MAX_SEARCH_DEPTH) throw new ImapError('BAD', 'Search too complex', 'LIMIT');
    const token = this.take('search key');
    if (token.type === 'list') {
      const inner = new KeyParser(token.items);
      const keys: SearchKey[] = [];
      while (!inner.done) keys.push(inner.key(depth + 1));
      if (keys.length === 0) throw badSyntax('Empty search key list');
      return keys.length === 1 ? keys[0] : { type: 'and', keys };
    }
    if (token.type === 'atom' && token.value === '$') return { type: 'saved' };
    if (token.type === 'number' || (token.type === 'atom' && isSequenceSet(token.value))) {
      return { type: 'sequence', set: parseSequenceSet(token.value) };
    }
    if (token.type !== 'atom') throw badSyntax(`Expected a search key, got ${describeToken(token)}`);
    const name = token.value.toUpperCase();
    const flag = FLAG_KEYS[name];
    if (flag) return { type: 'flag', flag: flag[0], set: flag[1] };
    const field = HEADER_KEYS[name];
    if (field) return { type: 'header', field, value: expectAstring(this.take(`${name} string`), `${name} string`) };
    const date = DATE_KEYS[name];
    if (date) return { type: 'date', of: date[0], comparison: date[1], day: this.date(name) };
    switch (name) {
      case 'ALL':
        return { type: 'all' };
      case 'NEW':
        return { type: 'and', keys: [{ type: 'recent', recent: true }, { type: 'flag', flag: '\\Seen', set: false }] };
      case 'OLD':
        return { type: 'recent', recent: false };
      case 'RECENT':
        return { type: 'recent', recent: true };
      case 'KEYWORD':
      case 'UNKEYWORD': {
        const keyword = this.take('keyword');
        if ((keyword.type !== 'atom' && keyword.type !== 'nil') || !isAtomText(keyword.value)) {
          throw badSyntax(`Invalid keyword: ${describeToken(keyword)}`); // flag-keyword = atom
        }
        return { type: 'flag', flag: keyword.value, set: name === 'KEYWORD' };
      }
      case 'HEADER': {
        const fieldName = expectAstring(this.take('header field name'), 'a header field name');
        const value = expectAstring(this.take('header string'), 'a header string');
        return { type: 'header', field: fieldName.toLowerCase(), value };
      }
      case 'BODY':
      case 'TEXT':
        return { type: name === 'BODY' ? 'body' : 'text', value: expectAstring(this.take(`${name} string`), `${name} string`) };
      case 'LARGER':
      case 'SMALLER':
        return { type: 'size', comparison: name === 'LARGER' ? 'larger' : 'smaller', octets: expectNumber(this.take('size'), 'a size', 0, Number.MAX_SAFE_INTEGER) };
      case 'NOT':
        return { type: 'not', key: this.key(depth + 1) };
      case 'OR': {
        const left = this.key(depth + 1);
        return { type: 'or', left, right: this.key(depth + 1) };
      }
      case 'UID': {
        const set = this.take('UID set');
        if (set.type !== 'atom' && set.type !== 'number') throw badSyntax(`Expected a UID set, got ${describeToken(set)}`);
        if (set.value === '$') return { type: 'saved' }; // RFC 5182: "$" is a set of UIDs either way
        return { type: 'uid', set: parseSequenceSet(set.value) };
      }
      case 'YOUNGER':
      case 'OLDER': {
        // RFC 5032 §3: interval = nz-number of seconds, counted from when the command runs
        const seconds = expectNumber(this.take(`${name} interval`), 'an interval in seconds', 1);
        return { type: 'age', younger: name === 'YOUNGER', cutoff: Date.now() - seconds * 1000 };
      }
      case 'MODSEQ': {
        // RFC 7162 §3.1.5: "MODSEQ" [SP entry-name SP entry-type-req] SP mod-sequence-valzer
        let next = this.take('mod-sequence');
        if (next.type === 'string') {
          if (!/^\/flags\/\\?[^\s"\\]+$/i.test(next.value)) throw badSyntax('Invalid MODSEQ entry name');
          const entryType = this.take('entry type');
          if (!isWord(entryType, 'PRIV') && !isWord(entryType, 'SHARED') && !isWord(entryType, 'ALL')) throw badSyntax('Invalid MODSEQ entry type');
          next = this.take('mod-sequence');
        }
        return { type: 'modseq', modseq: expectNumber(next, 'a mod-sequence', 0, MAX_MODSEQ) };
      }
      default:
        throw badSyntax(`Unknown search key: ${describeToken(token)}`);
    }
  }

  /** date = date-text / DQUOTE date-text DQUOTE (RFC 3501 §9). */
  private date(name: string): number {
    const token = this.take(`${name} date`);
    const text = token.type === 'atom' ? token.value : stringValue(token);
    const day = text === null ? null : parseSearchDate(text);
    if (day === null) throw badSyntax(`Invalid date for ${name}: ${describeToken(token)}`);
    return day;
  }
}

/**
 * Parses the arguments of SEARCH / UID SEARCH: `[CHARSET astring] 1*search-key`, the keys
 * ANDed. A charset other than UTF-8 or US-ASCII is a NO [BADCHARSET (UTF-8 US-ASCII)]
 * (RFC 3501 §6.4.4); syntax errors are a BAD.
 */
export function parseSearch(args: readonly Token[]): SearchRequest {
  let tokens = args;
  let charset: SearchRequest['charset'] = 'US-ASCII';
  if (isWord(tokens[0], 'CHARSET')) {
    const name = expectAstring(tokens[1], 'a charset').toUpperCase();
    if (name === 'UTF-8' || name === 'US-ASCII') charset = name;
    else throw new ImapError('NO', `Unsupported charset ${name.slice(0, 40)}`, 'BADCHARSET (UTF-8 US-ASCII)');
    tokens = tokens.slice(2);
  }
  const parser = new KeyParser(tokens);
  const keys: SearchKey[] = [];
  while (!parser.done) keys.push(parser.key(0));
  if (keys.length === 0) throw badSyntax('SEARCH needs a search key');
  return { charset, key: keys.length === 1 ? keys[0] : { type: 'and', keys } };
}

/** What a search reads of each message, so the session loads no more. */
export interface SearchNeeds {
  flags: boolean;
  internalDate: boolean;
  size: boolean;
  modseq: boolean;
  headers: boolean;
  body: boolean;
}

/** The message data a search key uses. */
export function searchNeeds(key: SearchKey): SearchNeeds {
  const needs: SearchNeeds = { flags: false, internalDate: false, size: false, modseq: false, headers: false, body: false };
  const visit = (node: SearchKey): void => {
    switch (node.type) {
      case 'flag':
        needs.flags = true;
        break;
      case 'age':
        needs.internalDate = true;
        break;
      case 'date':
        if (node.of === 'internal') needs.internalDate = true;
        else needs.headers = needs.internalDate = true; // no usable Date: falls back to the internal date
        break;
      case 'size':
        needs.size = true;
        break;
      case 'modseq':
        needs.modseq = true;
        break;
      case 'header':
        needs.headers = true;
        break;
      case 'body':
        needs.body = true;
        break;
      case 'text':
        needs.headers = needs.body = true;
        break;
      case 'not':
        visit(node.key);
        break;
      case 'or':
        visit(node.left);
        visit(node.right);
        break;
      case 'and':
        node.keys.forEach(visit);
        break;
      default:
        break;
    }
  };
  visit(key);
  return needs;
}

/**
 * Whether every text needle of the key can be checked on the folded text the index keeps
 * (FoldedText): one without a line break, which never spans two header lines.
 */
export function foldedTextSuffices(key: SearchKey): boolean {
  switch (key.type) {
    case 'header':
    case 'body':
    case 'text':
      return !key.value.includes('\n');
    case 'not':
      return foldedTextSuffices(key.key);
    case 'or':
      return foldedTextSuffices(key.left) && foldedTextSuffices(key.right);
    case 'and':
      return key.keys.every(foldedTextSuffices);
    default:
      return true;
  }
}

/** Whether the key uses MODSEQ: the SEARCH response then ends with (MODSEQ n) (RFC 7162 §3.1.5). */
export function usesModseq(key: SearchKey): boolean {
  switch (key.type) {
    case 'modseq':
      return true;
    case 'not':
      return usesModseq(key.key);
    case 'or':
      return usesModseq(key.left) || usesModseq(key.right);
    case 'and':
      return key.keys.some(usesModseq);
    default:
      return false;
  }
}

type Predicate = (message: SearchMessage) => boolean;

/** Rough cost of evaluating a key: message data first, then header decoding, then bodies. */
function cost(key: SearchKey): number {
  switch (key.type) {
    case 'header':
      return 10;
    case 'date':
      return key.of === 'sent' ? 10 : 1;
    case 'body':
    case 'text':
      return 100;
    case 'not':
      return cost(key.key);
    case 'or':
      return cost(key.left) + cost(key.right);
    case 'and':
      return key.keys.reduce((total, child) => total + cost(child), 0);
    default:
      return 1;
  }
}

/** Header fields that hold addresses: SEARCH also matches them in their parsed form. */
const ADDRESS_FIELDS = new Set(['from', 'to', 'cc', 'bcc', 'sender', 'reply-to']);

export { foldText };

function hasFlag(flags: ReadonlySet<string>, flag: string, lower: string): boolean {
  if (flags.has(flag)) return true;
  for (const candidate of flags) if (candidate.length === flag.length && candidate.toLowerCase() === lower) return true;
  return false;
}

function compare(day: number, comparison: DateComparison, target: number): boolean {
  return comparison === 'before' ? day < target : comparison === 'on' ? day === target : day >= target;
}

function compile(key: SearchKey, mailbox: SearchMailbox): Predicate {
  const offset = mailbox.timeZoneOffset ?? 0;
  switch (key.type) {
    case 'all':
      return () => true;
    case 'flag': {
      const { flag, set } = key;
      const lower = flag.toLowerCase();
      return (message) => hasFlag(message.flags, flag, lower) === set;
    }
    case 'recent': {
      const recent = key.recent;
      return (message) => message.recent === recent;
    }
    case 'header': {
      const { field } = key;
      const needle = foldText(key.value);
      const addresses = ADDRESS_FIELDS.has(field);
      const lineSafe = !needle.includes('\n');
      return (message) => {
        const folded = lineSafe ? message.folded?.() : null;
        if (folded) return inHeaderLines(folded.headers, field, needle);
        for (const header of message.headers()) {
          if (header.key !== field) continue;
          if (needle === '' || foldText(decodeHeaderValue(header.value)).includes(needle)) return true;
          if (addresses && foldText(addressText(header.value)).includes(needle)) return true;
        }
        return false;
      };
    }
    case 'body': {
      const needle = foldText(key.value);
      return (message) => {
        const folded = message.folded?.();
        return (folded ? folded.body : foldText(message.bodyText())).includes(needle);
      };
    }
    case 'text': {
      const needle = foldText(key.value);
      const lineSafe = !needle.includes('\n');
      return (message) => {
        const folded = lineSafe ? message.folded?.() : null;
        if (folded) return folded.headers.includes(needle) || folded.body.includes(needle);
        for (const header of message.headers()) {
          if (foldText(`${header.name}: ${decodeHeaderValue(header.value)}`).includes(needle)) return true;
          if (ADDRESS_FIELDS.has(header.key) && foldText(addressText(header.value)).includes(needle)) return true;
        }
        return foldText(message.bodyText()).includes(needle);
      };
    }
    case 'date': {
      const { comparison, day } = key;
      if (key.of === 'internal') return (message) => compare(dayOf(message.internalDate, offset), comparison, day);
      return (message) => {
        // RFC 3501 §6.4.4: the Date: field "disregarding time and timezone"; without a
        // readable one, the internal date stands in for it.
        let sent: number | null = null;
        for (const header of message.headers()) {
          if (header.key === 'date') {
            sent = sentDay(header.value);
            break;
          }
        }
        return compare(sent ?? dayOf(message.internalDate, offset), comparison, day);
      };
    }
    case 'age': {
      const { cutoff } = key;
      const time = (message: SearchMessage) => (typeof message.internalDate === 'number' ? message.internalDate : message.internalDate.getTime());
      return key.younger ? (message) => time(message) > cutoff : (message) => time(message) <= cutoff;
    }
    case 'size': {
      const { octets } = key;
      return key.comparison === 'larger' ? (message) => message.size > octets : (message) => message.size < octets;
    }
    case 'saved': {
      const uids = mailbox.savedUids ?? new Set<number>();
      return (message) => uids.has(message.uid);
    }
    case 'sequence': {
      const ranges = resolveRanges(key.set, mailbox.messageCount);
      return (message) => rangesInclude(ranges, message.seq);
    }
    case 'uid': {
      const ranges = resolveRanges(key.set, mailbox.largestUid);
      return (message) => rangesInclude(ranges, message.uid);
    }
    case 'modseq': {
      const { modseq } = key;
      return (message) => message.modseq >= modseq;
    }
    case 'not': {
      const inner = compile(key.key, mailbox);
      return (message) => !inner(message);
    }
    case 'or': {
      const [first, second] = [key.left, key.right].sort((a, b) => cost(a) - cost(b)).map((child) => compile(child, mailbox));
      return (message) => first(message) || second(message);
    }
    case 'and': {
      const parts = [...key.keys].sort((a, b) => cost(a) - cost(b)).map((child) => compile(child, mailbox));
      if (parts.length === 1) return parts[0];
      return (message) => {
        for (const part of parts) if (!part(message)) return false;
        return true;
      };
    }
  }
}

/**
 * The predicate of a search key for one mailbox state: sets resolved ("*" is the message count
 * for sequence numbers, the largest UID for UIDs), needles lower-cased, cheaper keys first.
 * Matching is a case-insensitive substring search on decoded values (RFC 3501 §6.4.4).
 */
export function compileSearch(key: SearchKey, mailbox: SearchMailbox): Predicate {
  return compile(key, mailbox);
}

/** Whether one message matches (compileSearch once instead when searching many). */
export function evaluate(key: SearchKey, message: SearchMessage, mailbox: SearchMailbox): boolean {
  return compile(key, mailbox)(message);
}

/** Shortest needle the trigram index can look up (three characters). */
const MIN_INDEXED_NEEDLE = 3;

function ftsPhrase(column: string | null, needle: string): string | null {
  if ([...needle].length < MIN_INDEXED_NEEDLE) return null;
  const phrase = `"${needle.replace(/"/g, '""')}"`;
  return column ? `${column} : ${phrase}` : phrase;
}

/**
 * An FTS5 query (migration 017's body_search_fts: columns subject, headers, body) that every
 * message matching `key` also matches, or null when the key cannot be narrowed that way (no
 * text key, a needle under three characters, NOT, an OR with a side that is not text). SEARCH
 * evaluates the key exactly on the candidates the query returns, so the query only has to be
 * necessary, never sufficient.
 */
export function fullTextQuery(key: SearchKey): string | null {
  switch (key.type) {
    case 'body':
      return ftsPhrase('body', key.value);
    case 'text':
      return ftsPhrase(null, key.value);
    case 'header':
      if (key.value === '') return null;
      return ftsPhrase(key.field === 'subject' ? 'subject' : 'headers', key.value);
    case 'and': {
      const parts = key.keys.map(fullTextQuery).filter((part): part is string => part !== null);
      return parts.length === 0 ? null : parts.map((part) => `(${part})`).join(' AND ');
    }
    case 'or': {
      const left = fullTextQuery(key.left);
      const right = fullTextQuery(key.right);
      return left === null || right === null ? null : `(${left}) OR (${right})`;
    }
    default:
      return null;
  }
}
