// Sequence sets (RFC 3501 §9 sequence-set, §6.4.8 UID ranges), kept as ranges: "1:*" over
// 100 000 messages is one pair of numbers, never an array of 100 000 entries.
import { ImapError, badSyntax } from './errors';
import type { Token } from './tokens';

/** A seq-number: an nz-number or "*", the largest number in use (RFC 3501 §9). */
export type SeqNumber = number | '*';

/** A parsed sequence set, items as written: "5:3" stays [5, 3] until resolved. */
export interface SequenceSet {
  readonly items: ReadonlyArray<readonly [SeqNumber, SeqNumber]>;
}

/**
 * Inclusive [first, last] ranges, sorted, disjoint and not adjacent (the canonical form every
 * function below returns).
 */
export type Ranges = Array<[number, number]>;

const MAX_NZ_NUMBER = 0xffffffff;

/** Parses one seq-number starting at `pos`; returns it and where it ends, or null. */
function readSeqNumber(text: string, pos: number): { value: SeqNumber; end: number } | null {
  if (text[pos] === '*') return { value: '*', end: pos + 1 };
  let end = pos;
  while (end < text.length && text.charCodeAt(end) >= 0x30 && text.charCodeAt(end) <= 0x39) end++;
  if (end === pos || text[pos] === '0' || end - pos > 10) return null; // nz-number: no 0, no leading 0
  const value = Number(text.slice(pos, end));
  return value > MAX_NZ_NUMBER ? null : { value, end };
}

/** Parses "1:3,5,7:*" (RFC 3501 §9). Throws a BAD for anything else, "0" included. */
export function parseSequenceSet(text: string): SequenceSet {
  const items: Array<readonly [SeqNumber, SeqNumber]> = [];
  let pos = 0;
  for (;;) {
    const first = readSeqNumber(text, pos);
    if (!first) throw badSyntax(`Invalid sequence set: ${text.length > 40 ? `${text.slice(0, 40)}...` : text}`);
    pos = first.end;
    let last = first;
    if (text[pos] === ':') {
      const second = readSeqNumber(text, pos + 1);
      if (!second) throw badSyntax(`Invalid sequence set: ${text.length > 40 ? `${text.slice(0, 40)}...` : text}`);
      last = second;
      pos = second.end;
    }
    items.push([first.value, last.value]);
    if (pos === text.length) return { items };
    if (text[pos] !== ',') throw badSyntax(`Invalid sequence set: ${text.length > 40 ? `${text.slice(0, 40)}...` : text}`);
    pos++;
  }
}

/** Whether `text` is a sequence set (SEARCH tells a sequence-set key from other keys so). */
export function isSequenceSet(text: string): boolean {
  try {
    parseSequenceSet(text);
    return true;
  } catch {
    return false;
  }
}

/** The sequence set an argument holds (an atom or a number token). */
export function expectSequenceSet(token: Token | undefined): SequenceSet {
  if (token && (token.type === 'atom' || token.type === 'number')) return parseSequenceSet(token.value);
  throw badSyntax('Expected a sequence set');
}

/** Sorts and merges ranges in place into the canonical form. */
function normalize(ranges: Ranges): Ranges {
  if (ranges.length < 2) return ranges;
  ranges.sort((a, b) => a[0] - b[0]);
  let kept = 0;
  for (let i = 1; i < ranges.length; i++) {
    const current = ranges[kept];
    const range = ranges[i];
    if (range[0] <= current[1] + 1) {
      if (range[1] > current[1]) current[1] = range[1];
    } else {
      ranges[++kept] = range;
    }
  }
  ranges.length = kept + 1;
  return ranges;
}

/**
 * The numbers a set designates when "*" is `largest` (RFC 3501 §9: "*" is the largest number
 * in use; "5:3" is 3:5, so "10:*" with largest 4 is 4:10). Nothing comes from "*" when
 * `largest` is 0 (an empty mailbox), and a range reaching down to it starts at 1.
 */
export function resolveRanges(set: SequenceSet, largest: number): Ranges {
  const ranges: Ranges = [];
  for (const [a, b] of set.items) {
    const first = a === '*' ? largest : a;
    const last = b === '*' ? largest : b;
    const low = Math.max(1, Math.min(first, last));
    const high = Math.max(first, last);
    if (high >= low) ranges.push([low, high]);
  }
  return normalize(ranges);
}

/** The message sequence numbers a set designates in a mailbox of `count` messages. */
export function resolveSequenceNumbers(set: SequenceSet, count: number): Ranges {
  const ranges = resolveRanges(set, count);
  let kept = 0;
  for (const range of ranges) {
    if (range[0] > count) break;
    if (range[1] > count) range[1] = count;
    ranges[kept++] = range;
  }
  ranges.length = kept;
  return ranges;
}

/**
 * Whether a set names a message sequence number past `count`. RFC 3501 §9 gives sequence
 * numbers only in 1..count, so a command may answer BAD; UID sets never do (a missing UID is
 * simply not there, §6.4.8).
 */
export function exceedsMessageCount(set: SequenceSet, count: number): boolean {
  for (const [a, b] of set.items) {
    if ((a !== '*' && a > count) || (b !== '*' && b > count)) return true;
  }
  return false;
}

/** First index in sorted `values` whose value is >= `target`. */
function lowerBound(values: ArrayLike<number>, target: number, from = 0): number {
  let low = from;
  let high = values.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (values[middle] < target) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * The message sequence numbers a UID set designates, given the mailbox's UIDs in ascending order
 * (index i holds the UID of sequence number i + 1). "*" is the largest UID, so "559:*" always
 * includes the last message (RFC 3501 §6.4.8). One binary search per range.
 */
export function resolveUids(set: SequenceSet, uids: ArrayLike<number>): Ranges {
  const count = uids.length;
  if (count === 0) return [];
  const ranges = resolveRanges(set, uids[count - 1]);
  const result: Ranges = [];
  let from = 0;
  for (const [low, high] of ranges) {
    const first = lowerBound(uids, low, from);
    if (first >= count) break;
    const end = lowerBound(uids, high + 1, first); // exclusive
    if (end > first) {
      const previous = result[result.length - 1];
      if (previous && previous[1] === first) previous[1] = end; // adjacent once missing UIDs are gone
      else result.push([first + 1, end]);
    }
    from = end;
  }
  return result;
}

/** How many numbers the ranges hold. */
export function rangesSize(ranges: Ranges): number {
  let total = 0;
  for (const [low, high] of ranges) total += high - low + 1;
  return total;
}

/** Whether `value` is in the ranges (binary search). */
export function rangesInclude(ranges: Ranges, value: number): boolean {
  let low = 0;
  let high = ranges.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const range = ranges[middle];
    if (value < range[0]) high = middle - 1;
    else if (value > range[1]) low = middle + 1;
    else return true;
  }
  return false;
}

/** The canonical ranges of a list of numbers, in any order, duplicates allowed. */
export function rangesOf(numbers: Iterable<number>): Ranges {
  const ranges: Ranges = [];
  let sorted = true;
  let previous = -Infinity;
  for (const value of numbers) {
    if (value < previous) sorted = false;
    previous = value;
    const last = ranges[ranges.length - 1];
    if (last && value >= last[0] && value <= last[1] + 1) {
      if (value > last[1]) last[1] = value;
    } else {
      ranges.push([value, value]);
    }
  }
  return sorted ? ranges : normalize(ranges);
}

/** "1:3,5,7:9" for responses: UIDPLUS COPYUID/APPENDUID (RFC 4315 §3), SEARCH (MODSEQ). */
export function formatRanges(ranges: Ranges): string {
  let text = '';
  for (const [low, high] of ranges) {
    if (text !== '') text += ',';
    text += low === high ? String(low) : `${low}:${high}`;
  }
  return text;
}

/** A sequence set for a list of numbers, in any order. */
export function formatSequenceSet(numbers: Iterable<number>): string {
  return formatRanges(rangesOf(numbers));
}

/** The BAD for a set naming sequence numbers past the message count (see exceedsMessageCount). */
export function invalidSequenceSet(): ImapError {
  return new ImapError('BAD', 'Invalid message sequence number');
}
