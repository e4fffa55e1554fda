// Search contexts (RFC 5267 sections 4.2 and 4.3, CONTEXT=SEARCH and CONTEXT=SORT): a SEARCH or
// SORT with RETURN (UPDATE) stays live while its mailbox is selected, and the server tells the
// client how its result changes as messages arrive, change flags or are expunged:
//   * ESEARCH (TAG "x") [UID] ADDTO (position set)    * ESEARCH (TAG "x") [UID] REMOVEFROM (position set)
// until CANCELUPDATE "x" or the mailbox is closed. The result is kept as UIDs in result order and
// evaluated again (the same matchingIndexes as SEARCH, the same sort as SORT) only after the
// view changed; expunged messages leave every result without evaluation, announced before their
// EXPUNGE so that sequence numbers still name them. A session keeps at most MAX_CONTEXTS.
import type { SearchKey } from './protocol/search';
import { quoted } from './protocol/encode';
import { formatSequenceSet } from './protocol/sequence';
import { sortComparator, type SortCriterion } from './protocol/sort';
import type { SelectedMailbox } from './selected';
import type { ImapSession } from './session';
import { matchingIndexes } from './commands/search';
import { keyedMessages, sortGroups } from './commands/sort';

/** Live contexts one session may keep; beyond, RETURN (UPDATE) is answered [NOUPDATE]. */
export const MAX_CONTEXTS = 8;

export interface SearchContext {
  tag: string;
  uid: boolean;
  selected: SelectedMailbox;
  key: SearchKey;
  /** SORT criteria; null for SEARCH (ascending order). */
  criteria: readonly SortCriterion[] | null;
  /** UIDs of the result, in result order. */
  uids: number[];
  /** The view's state (HIGHESTMODSEQ and message count) the result was computed at. */
  at: string;
}

interface SessionContexts {
  live: Map<string, SearchContext>;
  refreshing: boolean;
  again: boolean;
}

const contextsBySession = new WeakMap<ImapSession, SessionContexts>();

function contextsOf(session: ImapSession): SessionContexts {
  let contexts = contextsBySession.get(session);
  if (!contexts) {
    contexts = { live: new Map(), refreshing: false, again: false };
    contextsBySession.set(session, contexts);
  }
  return contexts;
}

function viewState(selected: SelectedMailbox): string {
  return `${selected.knownModseq}:${selected.exists}`;
}

/** The result of a context's query against the view now: UIDs in result order. */
export async function evaluate(session: ImapSession, selected: SelectedMailbox, key: SearchKey, criteria: readonly SortCriterion[] | null): Promise<number[]> {
  const indexes = await matchingIndexes(session, selected, key);
  if (!criteria) return indexes.map((index) => selected.uids[index]);
  const messages = await keyedMessages(session, selected, indexes, sortGroups(criteria));
  messages.sort(sortComparator(criteria));
  return messages.map((message) => message.uid);
}

/**
 * RETURN (UPDATE): keeps the context. False when the session already keeps MAX_CONTEXTS
 * (the caller answers OK [NOUPDATE "tag"], RFC 5267 section 4.2). A context with the same tag
 * is replaced.
 */
export function addContext(session: ImapSession, context: Omit<SearchContext, 'at'>): boolean {
  const contexts = contextsOf(session);
  dropStale(session, contexts);
  if (!contexts.live.has(context.tag) && contexts.live.size >= MAX_CONTEXTS) return false;
  contexts.live.set(context.tag, { ...context, at: viewState(context.selected) });
  return true;
}

/** CANCELUPDATE (RFC 5267 section 4.3): true when the tag named a live context. */
export function cancelContext(session: ImapSession, tag: string): boolean {
  const contexts = contextsBySession.get(session);
  if (!contexts) return false;
  dropStale(session, contexts);
  return contexts.live.delete(tag);
}

export function hasContexts(session: ImapSession): boolean {
  const contexts = contextsBySession.get(session);
  return contexts !== undefined && contexts.live.size > 0;
}

/** Contexts end with their mailbox (RFC 5267 section 4.2: SELECT, EXAMINE, CLOSE, UNSELECT). */
function dropStale(session: ImapSession, contexts: SessionContexts): void {
  for (const [tag, context] of contexts.live) if (context.selected !== session.selected) contexts.live.delete(tag);
}

function head(context: SearchContext): string {
  return `* ESEARCH (TAG ${quoted(context.tag)})${context.uid ? ' UID' : ''}`;
}

/**
 * Before the view drops expunged messages (`before` is its UIDs until then, `after` from then
 * on): the REMOVEFROM lines for the results that held them, with the sequence numbers the client
 * still knows (RFC 5267 section 4.3). To be sent ahead of the EXPUNGE responses.
 */
export function expungedRemovals(session: ImapSession, before: Uint32Array, after: Uint32Array): string[] {
  const contexts = contextsBySession.get(session);
  if (!contexts || contexts.live.size === 0) return [];
  dropStale(session, contexts);
  // both ascending: a merge walk finds what left (new mail may have come in the same sync)
  const oldSeq = new Map<number, number>();
  let j = 0;
  for (let i = 0; i < before.length; i++) {
    while (j < after.length && after[j] < before[i]) j++;
    if (j >= after.length || after[j] !== before[i]) oldSeq.set(before[i], i + 1);
  }
  if (oldSeq.size === 0) return [];
  const lines: string[] = [];
  for (const context of contexts.live.values()) {
    const removed = context.uids.filter((uid) => oldSeq.has(uid));
    if (removed.length === 0) continue;
    lines.push(...removalLines(context, removed, (uid) => (context.uid ? uid : oldSeq.get(uid)!)));
    context.uids = context.uids.filter((uid) => !oldSeq.has(uid));
  }
  return lines;
}

/**
 * REMOVEFROM lines for `removed` (all in context.uids): SEARCH results are ascending, so one line
 * with the set and the position of its first member; SORT results one line per message from the
 * last position back, so that each position holds when the client applies it.
 */
function removalLines(context: SearchContext, removed: readonly number[], value: (uid: number) => number): string[] {
  const gone = new Set(removed);
  if (!context.criteria) {
    const first = context.uids.findIndex((uid) => gone.has(uid)) + 1;
    return [`${head(context)} REMOVEFROM (${first} ${formatSequenceSet(removed.map(value))})`];
  }
  const lines: string[] = [];
  for (let i = context.uids.length - 1; i >= 0; i--) {
    if (gone.has(context.uids[i])) lines.push(`${head(context)} REMOVEFROM (${i + 1} ${value(context.uids[i])})`);
  }
  return lines;
}

/** ADDTO lines taking the result from `old` (in its order) to `now`. */
function additionLines(context: SearchContext, old: ReadonlySet<number>, now: readonly number[], value: (uid: number) => number): string[] {
  const added: number[] = [];
  const positions: number[] = [];
  now.forEach((uid, index) => {
    if (!old.has(uid)) {
      added.push(uid);
      positions.push(index + 1);
    }
  });
  if (added.length === 0) return [];
  if (!context.criteria) return [`${head(context)} ADDTO (${positions[0]} ${formatSequenceSet(added.map(value))})`];
  // ascending positions: each insertion counts those before it (RFC 5267 section 4.3)
  return added.map((uid, i) => `${head(context)} ADDTO (${positions[i]} ${value(uid)})`);
}

/**
 * After a command (or during IDLE): evaluates again every context whose view changed and sends
 * ADDTO / REMOVEFROM. Calls that arrive while one runs are folded into one more round.
 */
export async function refreshContexts(session: ImapSession): Promise<void> {
  const contexts = contextsBySession.get(session);
  if (!contexts || contexts.live.size === 0) return;
  if (contexts.refreshing) {
    contexts.again = true;
    return;
  }
  contexts.refreshing = true;
  try {
    do {
      contexts.again = false;
      dropStale(session, contexts);
      for (const context of [...contexts.live.values()]) {
        const selected = context.selected;
        const state = viewState(selected);
        if (state === context.at) continue;
        const now = await evaluate(session, selected, context.key, context.criteria);
        if (session.selected !== selected || contexts.live.get(context.tag) !== context) continue; // closed or cancelled meanwhile
        context.at = state;
        const value = (uid: number): number => (context.uid ? uid : selected.seqOf(uid));
        const nowSet = new Set(now);
        // a message no longer in the view left with its EXPUNGE (expungedRemovals)
        const removed = context.uids.filter((uid) => !nowSet.has(uid) && (context.uid || selected.seqOf(uid) > 0));
        const lines = removed.length > 0 ? removalLines(context, removed, value) : [];
        const remaining = context.uids.filter((uid) => nowSet.has(uid));
        lines.push(...additionLines(context, new Set(remaining), now, value));
        context.uids = now;
        for (const line of lines) session.io.write(`${line}\r\n`);
      }
    } while (contexts.again);
  } finally {
    contexts.refreshing = false;
  }
}
