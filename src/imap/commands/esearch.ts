// ESEARCH (RFC 4731): SEARCH / UID SEARCH with RETURN (MIN MAX ALL COUNT), answered by one
// untagged ESEARCH response instead of SEARCH. RETURN () means RETURN (ALL) (section 3.1). With
// CONDSTORE (RFC 7162 section 3.1.5 and 3.2.5) the response also carries MODSEQ: the highest
// mod-sequence of the messages the returned data is about (the MIN one, the MAX one, or all).
import { quoted } from '../protocol/encode';
import { badSyntax } from '../protocol/errors';
import { formatSequenceSet } from '../protocol/sequence';
import { describeToken, isWord, type Token } from '../protocol/tokens';

// SAVE (RFC 5182 SEARCHRES) keeps the result as "$" instead of, or besides, returning it.
// PARTIAL and UPDATE are RFC 5267's (CONTEXT=SEARCH, CONTEXT=SORT; search-context.ts).
export type ReturnOption = 'MIN' | 'MAX' | 'ALL' | 'COUNT' | 'SAVE' | 'PARTIAL' | 'UPDATE';

const OPTIONS: readonly ReturnOption[] = ['MIN', 'MAX', 'ALL', 'COUNT', 'SAVE', 'PARTIAL', 'UPDATE'];

/** PARTIAL low:high (RFC 5267 section 4.4): 1-based positions in the result, low <= high. */
export interface PartialRange {
  low: number;
  high: number;
}

/** RFC 5267 section 4.4: partial-range = number ":" number, both non-zero; 4:2 means 2:4. */
function parsePartialRange(token: Token | undefined): PartialRange {
  const text = token?.type === 'atom' ? token.value : token?.type === 'number' ? String(token.value) : '';
  const match = /^([1-9][0-9]{0,9}):([1-9][0-9]{0,9})$/.exec(text);
  if (!match) throw badSyntax(`PARTIAL needs a range of positions such as 1:100, got ${describeToken(token)}`);
  const a = Number(match[1]);
  const b = Number(match[2]);
  if (a > 0xffffffff || b > 0xffffffff) throw badSyntax('PARTIAL positions are at most 4294967295');
  return { low: Math.min(a, b), high: Math.max(a, b) };
}

/**
 * Splits `RETURN (options)` off the front of SEARCH's arguments (RFC 4731 section 3.1,
 * search-return-opts). Returns null options for a plain SEARCH.
 */
export function parseSearchReturn(args: readonly Token[]): { options: Set<ReturnOption> | null; partial: PartialRange | null; rest: readonly Token[] } {
  if (!isWord(args[0], 'RETURN')) return { options: null, partial: null, rest: args };
  const list = args[1];
  if (list?.type !== 'list') throw badSyntax(`RETURN needs a list of options such as (MIN MAX COUNT), got ${describeToken(list)}`);
  const options = new Set<ReturnOption>();
  let partial: PartialRange | null = null;
  for (let i = 0; i < list.items.length; i++) {
    const item = list.items[i];
    const name = item.type === 'atom' ? item.value.toUpperCase() : '';
    if (!OPTIONS.includes(name as ReturnOption)) {
      throw badSyntax(`Unknown SEARCH return option ${describeToken(item)}; use MIN, MAX, ALL, COUNT, SAVE, PARTIAL or UPDATE`);
    }
    if (name === 'PARTIAL') {
      if (partial) throw badSyntax('PARTIAL may be given once');
      partial = parsePartialRange(list.items[++i]);
    }
    options.add(name as ReturnOption);
  }
  if (options.size === 0) options.add('ALL');
  return { options, partial, rest: args.slice(2) };
}

/** The values at positions low..high (1-based) of a result in its order (RFC 5267 section 4.4). */
export function partialValues<T>(range: PartialRange, values: readonly T[]): T[] {
  return values.slice(range.low - 1, range.high);
}

/** ` PARTIAL (low:high set)`, or NIL in place of the set when no message is in the range. */
export function partialResponse(range: PartialRange, set: string): string {
  return ` PARTIAL (${range.low}:${range.high} ${set === '' ? 'NIL' : set})`;
}

/**
 * What SAVE keeps (RFC 5182 section 2.1): with MIN and/or MAX but neither ALL nor COUNT, only
 * those messages; otherwise every match. `matches` ascending.
 */
export function savedSubset<T>(options: ReadonlySet<ReturnOption>, matches: readonly T[]): T[] {
  if (options.has('ALL') || options.has('COUNT') || (!options.has('MIN') && !options.has('MAX'))) return [...matches];
  const kept: T[] = [];
  if (options.has('MIN') && matches.length > 0) kept.push(matches[0]);
  if (options.has('MAX') && matches.length > 0 && (kept.length === 0 || matches.length > 1)) kept.push(matches[matches.length - 1]);
  return kept;
}

/** RETURN (SAVE) alone: the result is kept and no ESEARCH response is sent (RFC 5182 section 2.1). */
export function onlySave(options: ReadonlySet<ReturnOption>): boolean {
  return options.size === 1 && options.has('SAVE');
}

export interface EsearchMatch {
  /** Sequence number or UID, ascending. */
  value: number;
  modseq: number;
}

/** The untagged ESEARCH line (without "* " and CRLF) for the matches, ascending by value. */
export function esearchResponse(
  tag: string,
  uid: boolean,
  options: ReadonlySet<ReturnOption>,
  matches: readonly EsearchMatch[],
  withModseq: boolean,
  partial: PartialRange | null = null,
): string {
  let line = `ESEARCH (TAG ${quoted(tag)})${uid ? ' UID' : ''}`;
  const first = matches[0];
  const last = matches[matches.length - 1];
  let modseq = 0;
  if (options.has('MIN') && first) {
    line += ` MIN ${first.value}`;
    modseq = Math.max(modseq, first.modseq);
  }
  if (options.has('MAX') && last) {
    line += ` MAX ${last.value}`;
    modseq = Math.max(modseq, last.modseq);
  }
  if (options.has('COUNT')) line += ` COUNT ${matches.length}`;
  if (options.has('ALL') && first) line += ` ALL ${formatSequenceSet(matches.map((match) => match.value))}`;
  if (options.has('ALL') || options.has('COUNT')) for (const match of matches) modseq = Math.max(modseq, match.modseq);
  if (partial) {
    const part = partialValues(partial, matches);
    line += partialResponse(partial, part.length > 0 ? formatSequenceSet(part.map((match) => match.value)) : '');
    for (const match of part) modseq = Math.max(modseq, match.modseq);
  }
  if (withModseq && modseq > 0) line += ` MODSEQ ${modseq}`;
  return line;
}
