// QRESYNC (RFC 7162 section 3.2): telling a client that comes back which UIDs vanished since the
// MOD-SEQUENCE it knew, for SELECT/EXAMINE (QRESYNC (...)) and UID FETCH (CHANGEDSINCE n
// VANISHED), both answered with "* VANISHED (EARLIER) uid-set" (section 3.2.10).
//
// The store keeps one `expunged` row (mailbox, UID, MODSEQ) per expunge; housekeeping trims old
// rows and records the highest trimmed MODSEQ (expunged-history.ts expungedFloor). When the
// client's MODSEQ is at or above that floor the answer is exact. Below it, the answer is every
// UID under UIDNEXT that the mailbox no longer holds, within the set the client asked about: a
// larger set than the exact one, which section 3.2.5.2 allows (a client ignores UIDs it never
// had). The seq-match-data hint of SELECT is not needed for that and is only checked for syntax.
import type { Db } from '../store/database';
import { expungedFloor } from '../store/expunged-history';
import { expungedSince } from '../store/imap-messages';
import { mailboxCounters } from '../store/mailbox-view';
import { badSyntax } from './protocol/errors';
import { MAX_MODSEQ, expectList, expectNumber, type Token } from './protocol/tokens';
import { expectSequenceSet, formatRanges, rangesInclude, rangesOf, resolveRanges, type Ranges } from './protocol/sequence';
import type { SelectedMailbox } from './selected';

const MAX_UID = 0xffffffff;

/** The parameters of SELECT/EXAMINE (QRESYNC (uidvalidity modseq [known-uids [seq-match-data]])). */
export interface QresyncParameters {
  uidValidity: number;
  modseq: number;
  /** The UIDs the client knows of; null: all. */
  knownUids: Ranges | null;
}

/** Parses the list after the QRESYNC select parameter (RFC 7162 section 7, qresync-param). */
export function parseQresyncParameters(token: Token | undefined): QresyncParameters {
  const items = expectList(token, 'QRESYNC parameters (uidvalidity modseq [known-uids [(seq-set uid-set)]])');
  if (items.length < 2 || items.length > 4) {
    throw badSyntax('QRESYNC takes (uidvalidity modseq [known-uids [(known-sequence-set known-uid-set)]])');
  }
  const uidValidity = expectNumber(items[0], 'a UIDVALIDITY', 1, MAX_UID);
  const modseq = expectNumber(items[1], 'a mod-sequence', 1, MAX_MODSEQ);
  let knownUids: Ranges | null = null;
  let matchAt = 2;
  if (items[2] !== undefined && items[2].type !== 'list') {
    knownUids = resolveRanges(expectSequenceSet(items[2]), MAX_UID);
    matchAt = 3;
  }
  if (items[matchAt] !== undefined) {
    const match = expectList(items[matchAt], '(known-sequence-set known-uid-set)');
    if (match.length !== 2) throw badSyntax('seq-match-data is (known-sequence-set known-uid-set)');
    expectSequenceSet(match[0]);
    expectSequenceSet(match[1]);
    if (matchAt + 1 < items.length) throw badSyntax('Unexpected QRESYNC parameter after seq-match-data');
  }
  return { uidValidity, modseq, knownUids };
}

function intersect(a: Ranges, b: Ranges): Ranges {
  const result: Ranges = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const low = Math.max(a[i][0], b[j][0]);
    const high = Math.min(a[i][1], b[j][1]);
    if (low <= high) result.push([low, high]);
    if (a[i][1] < b[j][1]) i++;
    else j++;
  }
  return result;
}

/**
 * UIDs of the mailbox, within `within` (null: any), expunged since `modseq`, leaving out those
 * the session's view still holds (they go out as VANISHED with the view's next update).
 */
export function vanishedSince(db: Db, selected: SelectedMailbox, modseq: number, within: Ranges | null): Ranges {
  if (modseq >= expungedFloor(db, selected.mailboxId)) {
    const uids = expungedSince(db, selected.mailboxId, modseq).filter(
      (uid) => (within === null || rangesInclude(within, uid)) && selected.seqOf(uid) === 0,
    );
    return rangesOf(uids);
  }
  // History trimmed: every UID below UIDNEXT the view does not hold (section 3.2.5.2).
  const uidNext = Math.max(mailboxCounters(db, selected.mailboxId)?.uidnext ?? 1, selected.uidNextAtOpen);
  const gaps: Ranges = [];
  let next = 1;
  for (const uid of selected.uids) {
    if (uid > next) gaps.push([next, uid - 1]);
    next = uid + 1;
  }
  if (next <= uidNext - 1) gaps.push([next, uidNext - 1]);
  return within === null ? gaps : intersect(gaps, within);
}

/** The untagged response, or null when nothing vanished. */
export function vanishedEarlierLine(ranges: Ranges): string | null {
  return ranges.length === 0 ? null : `* VANISHED (EARLIER) ${formatRanges(ranges)}`;
}
