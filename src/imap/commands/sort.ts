// SORT and UID SORT (RFC 5256 section 3; RFC 5957 DISPLAYFROM/DISPLAYTO), with ESORT's
// RETURN (MIN MAX COUNT ALL) answered as an ESEARCH response in sort order (RFC 5267 section 3.2).
// The messages are chosen by SEARCH's own evaluation (search.ts matchingIndexes); the keys
// compared were computed at ingest and are read from the store (store/search-index.ts sortRows).
import { sortRows, type SortKeyGroup, type SortRow } from '../../store/search-index';
import { quoted } from '../protocol/encode';
import { orderedSequenceSet, parseSort, sortComparator, type SortCriterion, type SortMessage } from '../protocol/sort';
import { usesModseq } from '../protocol/search';
import type { SelectedMailbox } from '../selected';
import type { ImapSession } from '../session';
import { addContext } from '../search-context';
import { parseSearchReturn, partialResponse, partialValues, type PartialRange, type ReturnOption } from './esearch';
import { currentMailbox, ResponseStream } from './message-common';
import { ok, SELECTED, type CommandHandler } from './registry';
import { matchingIndexes } from './search';

/** Messages whose keys are read from the store at a time. */
const BATCH = 5000;

export interface KeyedMessage extends SortRow, SortMessage {
  /** 0-based position in the selected mailbox. */
  index: number;
}

/** What each sort criterion reads from the store (ARRIVAL and SIZE are on the message row). */
const CRITERION_GROUPS: Record<SortCriterion['key'], SortKeyGroup | null> = {
  ARRIVAL: null,
  SIZE: null,
  DATE: 'sentDate',
  SUBJECT: 'subject',
  FROM: 'from',
  TO: 'to',
  CC: 'cc',
  DISPLAYFROM: 'displayFrom',
  DISPLAYTO: 'displayTo',
};

/** The key groups THREAD reads (RFC 5256 section 3: subjects, dates, Message-ID and references). */
export const THREAD_GROUPS: ReadonlySet<SortKeyGroup> = new Set(['sentDate', 'subject', 'thread']);

export function sortGroups(criteria: readonly SortCriterion[]): Set<SortKeyGroup> {
  const groups = new Set<SortKeyGroup>();
  for (const { key } of criteria) {
    const group = CRITERION_GROUPS[key];
    if (group) groups.add(group);
  }
  return groups;
}

/** The SORT/THREAD keys (those of `groups`) of the messages at the given positions, ascending (those still stored). */
export async function keyedMessages(
  session: ImapSession,
  selected: SelectedMailbox,
  indexes: readonly number[],
  groups: ReadonlySet<SortKeyGroup>,
): Promise<KeyedMessage[]> {
  const result: KeyedMessage[] = [];
  for (let start = 0; start < indexes.length; start += BATCH) {
    const batch = indexes.slice(start, start + BATCH);
    const positions = new Map(batch.map((index) => [selected.uids[index], index]));
    for (const row of sortRows(session.db, selected.mailboxId, [...positions.keys()], groups)) {
      const keyed = row as KeyedMessage; // completed in place: no copy of 100 000 rows
      keyed.index = positions.get(row.uid)!;
      keyed.seq = keyed.index + 1;
      result.push(keyed);
    }
    if (start + BATCH < indexes.length) await new Promise<void>((resolve) => setImmediate(resolve)); // let other sessions run
  }
  return result;
}

function esortResponse(tag: string, uid: boolean, options: ReadonlySet<ReturnOption>, values: readonly number[], modseq: number, partial: PartialRange | null): string {
  let line = `ESEARCH (TAG ${quoted(tag)})${uid ? ' UID' : ''}`;
  // MIN and MAX: the first and the last message in sort order (RFC 5267 section 3.2)
  if (options.has('MIN') && values.length > 0) line += ` MIN ${values[0]}`;
  if (options.has('MAX') && values.length > 0) line += ` MAX ${values[values.length - 1]}`;
  if (options.has('COUNT')) line += ` COUNT ${values.length}`;
  if (options.has('ALL') && values.length > 0) line += ` ALL ${orderedSequenceSet(values)}`;
  if (partial) line += partialResponse(partial, orderedSequenceSet(partialValues(partial, values))); // RFC 5267 section 4.4, in sort order
  if (modseq > 0) line += ` MODSEQ ${modseq}`;
  return line;
}

export const sort: CommandHandler = {
  name: 'SORT',
  states: SELECTED,
  holdsExpunges: (command) => !command.uid,
  async run(session, command) {
    const selected = currentMailbox(session, command.uid);
    const { options, partial, rest } = parseSearchReturn(command.args);
    const { criteria, search } = parseSort(rest);
    const withModseq = usesModseq(search.key);
    if (withModseq) session.enableCondstore(); // RFC 7162 section 3.1: an enabling command
    const messages = await keyedMessages(session, selected, await matchingIndexes(session, selected, search.key), sortGroups(criteria));
    messages.sort(sortComparator(criteria));
    const values = messages.map((message) => (command.uid ? message.uid : message.seq));
    // RFC 7162 section 3.1.5: with MODSEQ in the criteria, the highest mod-sequence of the result
    const modseq = withModseq ? messages.reduce((highest, message) => Math.max(highest, selected.modseqs[message.index]), 0) : 0;
    const done = ok(`${command.uid ? 'UID ' : ''}SORT completed`);
    if (options) {
      session.untagged(esortResponse(command.tag, command.uid, options, values, modseq, partial));
      if (options.has('UPDATE')) {
        // RFC 5267 section 4.2 (CONTEXT=SORT): the sorted result stays live; NOUPDATE beyond the limit or with PARTIAL
        const uids = messages.map((message) => message.uid);
        const kept = !partial && addContext(session, { tag: command.tag, uid: command.uid, selected, key: search.key, criteria, uids });
        if (!kept) return ok(`${command.uid ? 'UID ' : ''}SORT completed, without updates`, `NOUPDATE ${quoted(command.tag)}`);
      }
      return done;
    }
    const out = new ResponseStream(session.io);
    out.write('* SORT');
    for (const value of values) {
      out.write(` ${value}`);
      if (out.full && !(await out.flush())) break;
    }
    if (modseq > 0) out.write(` (MODSEQ ${modseq})`);
    out.write('\r\n');
    await out.flush();
    return done;
  },
};
