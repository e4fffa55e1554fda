// SEARCHRES (RFC 5182): the result a SEARCH RETURN (SAVE ...) kept for later commands to name as
// "$". It belongs to one selected-mailbox view: a new SELECT or EXAMINE opens a new view, so "$"
// starts empty again (section 2.1), and it goes when the view goes. It is kept as UIDs, so a
// message expunged since simply drops out of it (section 2.1: "$" never names an expunged
// message), and "$" in a command without UID means the sequence numbers of those UIDs now.
import type { SelectedMailbox } from './selected';
import { formatSequenceSet, parseSequenceSet, resolveUids, type Ranges } from './protocol/sequence';

const saved = new WeakMap<SelectedMailbox, readonly number[]>();

/** Keeps `uids` (ascending) as the view's "$"; [] empties it (a failed SEARCH ... SAVE). */
export function saveSearchResult(selected: SelectedMailbox, uids: readonly number[]): void {
  if (uids.length === 0) saved.delete(selected);
  else saved.set(selected, uids);
}

/** The UIDs "$" holds, ascending (possibly some expunged since). */
export function savedUids(selected: SelectedMailbox): readonly number[] {
  return saved.get(selected) ?? [];
}

/** "$" as sequence ranges of the view: its messages that are still there. */
export function savedRanges(selected: SelectedMailbox): Ranges {
  const uids = savedUids(selected);
  if (uids.length === 0) return [];
  return resolveUids(parseSequenceSet(formatSequenceSet(uids)), selected.uids);
}
