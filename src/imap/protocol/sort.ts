// SORT (RFC 5256 section 3, RFC 5957 DISPLAYFROM/DISPLAYTO): the sort criteria, the comparison
// of two messages, and the ESORT answer (RFC 5267 section 3.2). The search part of the command
// is protocol/search.ts's; this module never reads a message, it gets its keys.
import { ImapError, badSyntax } from './errors';
import { parseSearch, type SearchRequest } from './search';
import { describeToken, expectAstring, type Token } from './tokens';

export type SortKeyName = 'ARRIVAL' | 'CC' | 'DATE' | 'FROM' | 'SIZE' | 'SUBJECT' | 'TO' | 'DISPLAYFROM' | 'DISPLAYTO';

const KEY_NAMES: readonly SortKeyName[] = ['ARRIVAL', 'CC', 'DATE', 'FROM', 'SIZE', 'SUBJECT', 'TO', 'DISPLAYFROM', 'DISPLAYTO'];

export interface SortCriterion {
  key: SortKeyName;
  reverse: boolean;
}

/** What SORT compares of one message (keys already case-mapped, src/mime/sort-keys.ts). */
export interface SortMessage {
  /** Sequence number: the final tie-break (RFC 5256 section 3). */
  seq: number;
  internalDate: number;
  size: number;
  /** Date: instant, null when missing or unreadable: the internal date then stands in. */
  sentDate: number | null;
  baseSubject: string;
  from: string;
  to: string;
  cc: string;
  displayFrom: string;
  displayTo: string;
}

/** Charsets SORT and THREAD accept (the strings are UTF-8 either way). */
export function checkCharset(token: Token | undefined): void {
  const name = expectAstring(token, 'a charset').toUpperCase();
  if (name !== 'UTF-8' && name !== 'US-ASCII') throw new ImapError('NO', `Unsupported charset ${name.slice(0, 40)}`, 'BADCHARSET (UTF-8 US-ASCII)');
}

/**
 * `sort-criteria SP search-charset 1*(SP search-key)` (RFC 5256 section 4): the criteria in
 * order, then the search request (the charset is given without the CHARSET word here).
 */
export function parseSort(args: readonly Token[]): { criteria: SortCriterion[]; search: SearchRequest } {
  const list = args[0];
  if (list?.type !== 'list' || list.items.length === 0) throw badSyntax(`SORT needs a list of sort criteria such as (DATE), got ${describeToken(list)}`);
  const criteria: SortCriterion[] = [];
  let reverse = false;
  for (const item of list.items) {
    const name = item.type === 'atom' ? item.value.toUpperCase() : '';
    if (name === 'REVERSE') {
      if (reverse) throw badSyntax('REVERSE must be followed by a sort key');
      reverse = true;
      continue;
    }
    if (!KEY_NAMES.includes(name as SortKeyName)) {
      throw badSyntax(`Unknown sort key ${describeToken(item)}; use ARRIVAL, CC, DATE, FROM, SIZE, SUBJECT, TO, DISPLAYFROM or DISPLAYTO`);
    }
    criteria.push({ key: name as SortKeyName, reverse });
    reverse = false;
  }
  if (reverse) throw badSyntax('REVERSE must be followed by a sort key');
  if (criteria.length === 0) throw badSyntax('SORT needs at least one sort key');
  checkCharset(args[1]);
  return { criteria, search: parseSearch(args.slice(2)) };
}

/** The sent date as RFC 5256 section 3 uses it: the Date: field, else the internal date. */
export function sentDateOf(message: { sentDate: number | null; internalDate: number }): number {
  return message.sentDate ?? message.internalDate;
}

function compareKey(key: SortKeyName, a: SortMessage, b: SortMessage): number {
  switch (key) {
    case 'ARRIVAL':
      return a.internalDate - b.internalDate;
    case 'DATE':
      return sentDateOf(a) - sentDateOf(b);
    case 'SIZE':
      return a.size - b.size;
    case 'SUBJECT':
      return compareStrings(a.baseSubject, b.baseSubject);
    case 'FROM':
      return compareStrings(a.from, b.from);
    case 'TO':
      return compareStrings(a.to, b.to);
    case 'CC':
      return compareStrings(a.cc, b.cc);
    case 'DISPLAYFROM':
      return compareStrings(a.displayFrom, b.displayFrom);
    case 'DISPLAYTO':
      return compareStrings(a.displayTo, b.displayTo);
  }
}

/** Case-mapped keys compare octet by octet (i;unicode-casemap, RFC 5051). */
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The comparator of a SORT: each criterion in turn (REVERSE reverses that one only), then the
 * sequence number, ascending, whatever REVERSE said (RFC 5256 section 3 "…sorted by sequence").
 */
export function sortComparator(criteria: readonly SortCriterion[]): (a: SortMessage, b: SortMessage) => number {
  return (a, b) => {
    for (const { key, reverse } of criteria) {
      const order = compareKey(key, a, b);
      if (order !== 0) return reverse ? -order : order;
    }
    return a.seq - b.seq;
  };
}

/** A sequence set keeping the given order; only ascending runs are written as ranges (RFC 5267). */
export function orderedSequenceSet(values: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < values.length; ) {
    let j = i;
    while (j + 1 < values.length && values[j + 1] === values[j] + 1) j++;
    parts.push(j > i ? `${values[i]}:${values[j]}` : `${values[i]}`);
    i = j + 1;
  }
  return parts.join(',');
}
