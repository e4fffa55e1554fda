// FETCH arguments (RFC 3501 §6.4.5, §9 fetch-att; RFC 7162 §3.1.4 CHANGEDSINCE and MODSEQ).
import { astring } from './encode';
import { badSyntax } from './errors';
import { MAX_MODSEQ, describeToken, expectAstring, expectNumber, isWord, type SectionToken, type Token } from './tokens';

/** What of a part a section names (RFC 3501 §6.4.5 section-msgtext / section-text). */
export type SectionText = 'HEADER' | 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT' | 'TEXT' | 'MIME';

/** A section-spec such as `1.2.HEADER.FIELDS (DATE FROM)`. */
export interface Section {
  /** Part numbers; [] for the message itself. */
  part: number[];
  /** null: the part's content itself (BODY[] or BODY[1.2]). */
  text: SectionText | null;
  /** Field names of HEADER.FIELDS(.NOT), as sent; compare them case-insensitively. */
  fields: string[];
}

/** `<origin.count>` (RFC 3501 §6.4.5): `count` octets from `origin`, counted from 0. */
export interface Partial {
  origin: number;
  count: number;
}

/** A BODY[...] or BODY.PEEK[...] item, and RFC822, RFC822.HEADER, RFC822.TEXT which stand for one. */
export interface BodySectionItem {
  type: 'section';
  section: Section;
  partial: Partial | null;
  /** Fetching it leaves \Seen alone (BODY.PEEK[...], RFC822.HEADER). */
  peek: boolean;
  /** The item's name in the response: `BODY[HEADER.FIELDS (DATE FROM)]<0>`, `RFC822`, ... (§7.4.2). */
  responseName: string;
}

export type SimpleItemName = 'FLAGS' | 'INTERNALDATE' | 'RFC822.SIZE' | 'ENVELOPE' | 'BODY' | 'BODYSTRUCTURE' | 'UID' | 'MODSEQ' | 'PREVIEW';

/** An item answered from cached data; BODY is the non-extensible BODYSTRUCTURE. */
export interface SimpleItem {
  type: SimpleItemName;
}

/**
 * BINARY[part]<partial>, BINARY.PEEK[part]<partial> and BINARY.SIZE[part] (RFC 3516 §4.2): a part's
 * content with its Content-Transfer-Encoding undone, or the size of that decoded content.
 */
export interface BinaryItem {
  type: 'binary';
  /** Part numbers; [] for the whole message. */
  part: number[];
  partial: Partial | null;
  /** BINARY.PEEK leaves \Seen alone; BINARY.SIZE never sets it. */
  peek: boolean;
  /** BINARY.SIZE: only the decoded size. */
  sizeOnly: boolean;
  /** `BINARY[1.2]<0>` or `BINARY.SIZE[1.2]` (RFC 3516 §4.2 response names). */
  responseName: string;
}

export type FetchItem = SimpleItem | BodySectionItem | BinaryItem;

/** What the session has to load for each message to answer a FETCH. */
export interface FetchNeeds {
  flags: boolean;
  internalDate: boolean;
  size: boolean;
  envelope: boolean;
  /** The cached MIME structure: BODY, BODYSTRUCTURE, or a section past the top-level header. */
  structure: boolean;
  /** The raw message octets. */
  content: boolean;
  /** Only the top-level header octets are read (every section is HEADER or HEADER.FIELDS[.NOT]). */
  headerOnly: boolean;
  modseq: boolean;
}

export interface FetchRequest {
  /** Items in the order asked, duplicates removed; UID first for UID FETCH, MODSEQ with CHANGEDSINCE. */
  items: FetchItem[];
  /** RFC 7162 §3.1.4.1: only messages whose mod-sequence is greater. */
  changedSince: number | null;
  /** RFC 7162 §3.2.6: the VANISHED modifier (UID FETCH with CHANGEDSINCE, QRESYNC enabled). */
  vanished: boolean;
  /**
   * Some item sets \Seen (RFC 3501 §6.4.5: BODY[...] without PEEK, RFC822, RFC822.TEXT); when
   * that changes the flags, the response should carry FLAGS too.
   */
  setsSeen: boolean;
  needs: FetchNeeds;
}

const SIMPLE_ITEMS = new Set<string>(['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY', 'BODYSTRUCTURE', 'UID', 'MODSEQ', 'PREVIEW']);

/** RFC 8970 section 3: PREVIEW [SP "(" "LAZY" ")"]; the preview is always computed, so LAZY changes nothing. */
function isPreviewModifiers(token: Token | undefined): boolean {
  return token?.type === 'list' && token.items.length > 0 && token.items.every((item) => isWord(item, 'LAZY'));
}

/** RFC 3501 §6.4.5 macros, valid only alone. */
const MACROS: Record<string, SimpleItemName[]> = {
  ALL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE'],
  FAST: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE'],
  FULL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY'],
};

const WHOLE: Section = { part: [], text: null, fields: [] };

/** RFC822, RFC822.HEADER and RFC822.TEXT: the same data as BODY[], BODY.PEEK[HEADER], BODY[TEXT]. */
const RFC822_ITEMS: Record<string, BodySectionItem> = {
  RFC822: { type: 'section', section: WHOLE, partial: null, peek: false, responseName: 'RFC822' },
  'RFC822.HEADER': { type: 'section', section: { part: [], text: 'HEADER', fields: [] }, partial: null, peek: true, responseName: 'RFC822.HEADER' },
  'RFC822.TEXT': { type: 'section', section: { part: [], text: 'TEXT', fields: [] }, partial: null, peek: false, responseName: 'RFC822.TEXT' },
};

/** The section-spec text, as it appears between the brackets of the response. */
export function formatSection(section: Section): string {
  let text = section.part.join('.');
  if (section.text) text += (text === '' ? '' : '.') + section.text;
  if (section.fields.length > 0) text += ` (${section.fields.map(astring).join(' ')})`;
  return text;
}

/** Parses `1.2.HEADER.FIELDS` and its field list (RFC 3501 §9 section-spec). */
function parseSection(token: SectionToken): Section {
  const [first, second, ...rest] = token.items;
  if (!first) return WHOLE;
  if (first.type !== 'atom' && first.type !== 'number') throw badSyntax(`Invalid section: ${describeToken(first)}`);
  const words = first.value.split('.');
  const part: number[] = [];
  while (words.length > 0 && /^[0-9]+$/.test(words[0])) {
    const word = words.shift() as string;
    if (word[0] === '0' || word.length > 9) throw badSyntax(`Invalid part number: ${word}`); // nz-number
    part.push(Number(word));
  }
  const name = words.join('.').toUpperCase();
  let text: SectionText | null;
  if (name === '') {
    if (part.length === 0) throw badSyntax('Invalid section');
    text = null;
  } else if (name === 'HEADER' || name === 'HEADER.FIELDS' || name === 'HEADER.FIELDS.NOT' || name === 'TEXT') {
    text = name;
  } else if (name === 'MIME' && part.length > 0) {
    text = name; // section-part "." "MIME": a part's own MIME header, never the message's
  } else {
    throw badSyntax(`Invalid section: ${first.value}`);
  }

  const fields: string[] = [];
  if (text === 'HEADER.FIELDS' || text === 'HEADER.FIELDS.NOT') {
    // header-list = "(" header-fld-name *(SP header-fld-name) ")"
    if (second?.type !== 'list' || second.items.length === 0) throw badSyntax(`${text} needs a list of field names`);
    for (const item of second.items) {
      const field = expectAstring(item, 'a header field name');
      if (!/^[\x21-\x39\x3b-\x7e]+$/.test(field)) throw badSyntax(`Invalid header field name: ${field.slice(0, 40)}`); // RFC 5322 ftext
      fields.push(field);
    }
    if (rest.length > 0) throw badSyntax('Unexpected data in section');
  } else if (second) {
    throw badSyntax('Unexpected data in section');
  }
  return { part, text, fields };
}

/**
 * A section-spec written as text, as in an IMAP URL's ";SECTION=" (RFC 5092 isection):
 * `1.2.TEXT`, `HEADER`, `HEADER.FIELDS (DATE FROM)`. Same rules as FETCH's BODY[...].
 */
export function parseSectionText(text: string): Section {
  const match = /^([^ ()]+)(?: ?\(([^()]*)\))?$/.exec(text.trim());
  if (!match) throw badSyntax(`Invalid section: ${text.slice(0, 40)}`);
  const items: Token[] = [{ type: 'atom', value: match[1] }];
  if (match[2] !== undefined) items.push({ type: 'list', items: match[2].split(' ').filter(Boolean).map((value) => ({ type: 'atom', value })) });
  return parseSection({ type: 'section', name: 'BODY', items, partial: null });
}

/** `0.100` → origin 0, count 100 (RFC 3501 §9 partial = "<" number "." nz-number ">"). */
function parsePartial(text: string): Partial {
  const match = /^([0-9]{1,10})\.([0-9]{1,10})$/.exec(text);
  const origin = match ? Number(match[1]) : NaN;
  const count = match ? Number(match[2]) : NaN;
  if (!match || match[2][0] === '0' || origin > 0xffffffff || count > 0xffffffff) throw badSyntax(`Invalid partial: <${text}>`);
  return { origin, count };
}

/** RFC 3516 §6 section-binary = "[" [section-part] "]": part numbers only. */
function parseBinaryItem(token: SectionToken): BinaryItem {
  const [first, extra] = token.items;
  if (extra) throw badSyntax('Unexpected data in a binary section');
  const part: number[] = [];
  if (first) {
    if (first.type !== 'atom' && first.type !== 'number') throw badSyntax(`Invalid binary section: ${describeToken(first)}`);
    for (const word of first.value.split('.')) {
      if (!/^[1-9][0-9]{0,8}$/.test(word)) throw badSyntax(`Invalid binary section: ${first.value.slice(0, 40)}`);
      part.push(Number(word));
    }
  }
  const sizeOnly = token.name === 'BINARY.SIZE';
  if (sizeOnly && token.partial !== null) throw badSyntax('BINARY.SIZE takes no partial range');
  const partial = token.partial === null ? null : parsePartial(token.partial);
  const name = sizeOnly ? 'BINARY.SIZE' : 'BINARY';
  const responseName = `${name}[${part.join('.')}]${partial ? `<${partial.origin}>` : ''}`;
  return { type: 'binary', part, partial, peek: token.name !== 'BINARY', sizeOnly, responseName };
}

function parseItem(token: Token): FetchItem {
  if (token.type === 'section') {
    if (token.name === 'BINARY' || token.name === 'BINARY.PEEK' || token.name === 'BINARY.SIZE') return parseBinaryItem(token);
    if (token.name !== 'BODY' && token.name !== 'BODY.PEEK') throw badSyntax(`Unsupported fetch attribute: ${token.name}[...]`);
    const section = parseSection(token);
    const partial = token.partial === null ? null : parsePartial(token.partial);
    const responseName = `BODY[${formatSection(section)}]${partial ? `<${partial.origin}>` : ''}`;
    return { type: 'section', section, partial, peek: token.name === 'BODY.PEEK', responseName };
  }
  if (token.type === 'atom') {
    const name = token.value.toUpperCase();
    if (SIMPLE_ITEMS.has(name)) return { type: name as SimpleItemName };
    const rfc822 = RFC822_ITEMS[name];
    if (rfc822) return rfc822;
    if (name in MACROS) throw badSyntax(`${name} cannot be combined with other fetch attributes`);
  }
  throw badSyntax(`Unknown fetch attribute: ${describeToken(token)}`);
}

/**
 * `(CHANGEDSINCE 42)` (RFC 7162 §3.1.4.1) and `(CHANGEDSINCE 42 VANISHED)` (§3.2.6: VANISHED
 * only with CHANGEDSINCE); any other modifier is refused.
 */
function parseModifiers(token: Token | undefined): { changedSince: number | null; vanished: boolean } {
  if (!token) return { changedSince: null, vanished: false };
  if (token.type !== 'list' || token.items.length === 0) throw badSyntax(`Expected fetch modifiers, got ${describeToken(token)}`);
  let changedSince: number | null = null;
  let vanished = false;
  const items = token.items;
  for (let i = 0; i < items.length; i++) {
    if (isWord(items[i], 'VANISHED')) {
      if (vanished) throw badSyntax('VANISHED given twice');
      vanished = true;
      continue;
    }
    if (!isWord(items[i], 'CHANGEDSINCE')) throw badSyntax(`Unknown fetch modifier: ${describeToken(items[i])}`);
    if (changedSince !== null) throw badSyntax('CHANGEDSINCE given twice');
    changedSince = expectNumber(items[++i], 'a mod-sequence', 0, MAX_MODSEQ); // mod-sequence-valzer
  }
  if (vanished && changedSince === null) throw badSyntax('VANISHED needs CHANGEDSINCE (RFC 7162 section 3.2.6)');
  return { changedSince, vanished };
}

/**
 * Parses what follows the sequence set of FETCH / UID FETCH: a macro, one attribute or a list of
 * them, then optional modifiers. `uid` adds the UID item (RFC 3501 §6.4.8: UID FETCH always
 * returns it). Throws an ImapError BAD.
 */
export function parseFetchArguments(args: readonly Token[], options: { uid: boolean }): FetchRequest {
  const [what, modifiers, extra] = args;
  if (!what) throw badSyntax('FETCH needs attributes');
  if (extra && !(isWord(what, 'PREVIEW') && isPreviewModifiers(modifiers))) throw badSyntax(`Unexpected argument: ${describeToken(extra)}`);
  if (args.length > 3) throw badSyntax(`Unexpected argument: ${describeToken(args[3])}`);

  const requested: FetchItem[] = [];
  const macro = what.type === 'atom' ? MACROS[what.value.toUpperCase()] : undefined;
  let fetchModifiers = modifiers;
  if (macro) for (const name of macro) requested.push({ type: name });
  else if (what.type === 'list') {
    for (let i = 0; i < what.items.length; i++) {
      const item = parseItem(what.items[i]);
      requested.push(item);
      if (item.type === 'PREVIEW' && isPreviewModifiers(what.items[i + 1])) i++;
    }
  } else {
    requested.push(parseItem(what));
    if (isWord(what, 'PREVIEW') && isPreviewModifiers(modifiers)) {
      if (extra && extra.type !== 'list') throw badSyntax(`Unexpected argument: ${describeToken(extra)}`);
      fetchModifiers = extra;
    }
  }

  const { changedSince, vanished } = parseModifiers(fetchModifiers);
  if (options.uid) requested.unshift({ type: 'UID' });
  if (changedSince !== null) requested.push({ type: 'MODSEQ' }); // RFC 7162 §3.1.4.1

  const items: FetchItem[] = [];
  const seen = new Set<string>();
  for (const item of requested) {
    const key = item.type === 'section' || item.type === 'binary' ? item.responseName : item.type;
    if (seen.has(key)) continue;
    seen.add(key);
    items.push(item);
  }

  const has = (name: SimpleItemName): boolean => seen.has(name);
  const sections = items.filter((item): item is BodySectionItem => item.type === 'section');
  const binaries = items.filter((item): item is BinaryItem => item.type === 'binary');
  const setsSeen = sections.some((item) => !item.peek) || binaries.some((item) => !item.peek);
  const topHeaderOnly = (item: BodySectionItem): boolean => item.section.part.length === 0 && item.section.text !== null && item.section.text.startsWith('HEADER');
  const needs: FetchNeeds = {
    flags: has('FLAGS') || setsSeen,
    internalDate: has('INTERNALDATE'),
    size: has('RFC822.SIZE'),
    envelope: has('ENVELOPE'),
    structure: has('BODY') || has('BODYSTRUCTURE') || has('PREVIEW') || sections.some((item) => item.section.part.length > 0) || binaries.length > 0,
    content: sections.length > 0 || binaries.length > 0 || has('PREVIEW'),
    headerOnly: sections.length > 0 && binaries.length === 0 && sections.every(topHeaderOnly),
    modseq: has('MODSEQ'),
  };
  return { items, changedSince, vanished, setsSeen, needs };
}
