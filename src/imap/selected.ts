// The selected mailbox as one session sees it (RFC 3501 section 2.3.1.2: sequence numbers are a
// per-session view). The session keeps the UIDs, flags and MODSEQs it has told its client about;
// sync() compares them with the store and produces the untagged EXISTS / RECENT / FETCH /
// EXPUNGE responses that bring the client up to date (RFC 3501 section 7.4.1, 5.2, RFC 7162).
import type { Db } from '../store/database';
import {
  changesSince,
  claimRecent,
  peekRecent,
  flagNames,
  messageIndex,
  type FlagState,
} from '../store/imap-messages';
import type { MailboxStatus, MailboxStatusHead } from '../store/imap-mailboxes';
import { mailboxCounters, type MailboxCounters } from '../store/mailbox-view';
import { FLAG_BITS } from '../store/messages';
import { formatSequenceSet } from './protocol/sequence';

export interface SyncOptions {
  /** False during FETCH, STORE and SEARCH (non-UID): EXPUNGE must wait (RFC 3501 section 7.4.1). */
  allowExpunge: boolean;
  /** CONDSTORE enabled: unsolicited FETCH carries MODSEQ (RFC 7162 section 3.2.4). */
  condstore: boolean;
  /** QRESYNC enabled: expunges go out as one VANISHED response, not EXPUNGE (RFC 7162 section 3.2.10). */
  qresync?: boolean;
}

export type SyncOutcome = { gone: false; lines: string[] } | { gone: true; lines: string[] };

const NO_KEYWORDS: readonly string[] = Object.freeze([]);
const SYSTEM_FLAG_NAMES = Object.keys(FLAG_BITS);
const MAX_UINT32 = 0xffff_ffff;
const SEEN = FLAG_BITS['\\Seen'];

export class SelectedMailbox {
  // Per-message state in typed arrays (9 bytes a message instead of about 50 for JS arrays):
  // every open session holds one of these for its selected mailbox. The buffers have spare
  // capacity for new mail; the public fields are views of their first `count` entries. MODSEQs
  // (one counter per mailbox, RFC 7162) take 4 bytes while they fit, 8 once one does not.
  private uidBuffer: Uint32Array;
  private flagBuffer: Uint8Array;
  private modseqBuffer: Uint32Array | Float64Array;
  private count: number;
  /** UIDs in sequence order: sequence number n is uids[n - 1]. */
  uids!: Uint32Array;
  /** System flag bits (FLAG_BITS) by sequence index. */
  flagBits!: Uint8Array;
  modseqs!: Uint32Array | Float64Array;
  /** Keywords of the messages that have any, by UID (most messages have none). */
  private readonly keywordsByUid = new Map<number, readonly string[]>();
  /** Keywords named in the FLAGS response, by lower case (keywords are case-insensitive). */
  private readonly announcedKeywords = new Map<string, string>();
  /** A keyword appeared that the last FLAGS response did not name. */
  private keywordsGrew = false;
  /** UIDs this session shows with \Recent (RFC 3501 section 2.3.2). */
  readonly recent = new Set<number>();
  /**
   * UIDs this session claimed \Recent for in the commit that stored them (its own APPEND), not
   * in the view yet: shown \Recent once sync() adds them.
   */
  private claimedAhead: readonly number[] = [];
  /** Expunged in the store, not yet announced to the client (kept in the sequence until then). */
  private readonly pendingExpunge = new Set<number>();
  /** The store's HIGHESTMODSEQ when this view was last brought up to date. */
  knownModseq: number;
  /**
   * The store's UIDNEXT when the mailbox was opened (read before the index: a message delivered
   * in between may be in the view with a UID at or above it). For SELECT's [UIDNEXT].
   */
  readonly uidNextAtOpen: number;

  private constructor(
    readonly mailboxId: number,
    /** The name the client selected it by, for messages. */
    readonly name: string,
    readonly uidValidity: number,
    readonly readOnly: boolean,
    head: MailboxCounters,
    private readonly db: Db,
  ) {
    const index = messageIndex(db, mailboxId);
    this.uidBuffer = index.uids;
    this.flagBuffer = index.flags;
    this.modseqBuffer = index.modseqs.every((modseq) => modseq <= MAX_UINT32) ? Uint32Array.from(index.modseqs) : index.modseqs;
    this.count = index.uids.length;
    index.keywords.forEach((keywords, i) => this.setKeywords(index.uids[i], keywords));
    this.keywordsGrew = false; // SELECT's own FLAGS response names these
    this.refreshViews();
    this.knownModseq = head.highestmodseq;
    this.uidNextAtOpen = head.uidnext;
  }

  private refreshViews(): void {
    this.uids = this.uidBuffer.subarray(0, this.count);
    this.flagBits = this.flagBuffer.subarray(0, this.count);
    this.modseqs = this.modseqBuffer.subarray(0, this.count);
  }

  /** Stores a MODSEQ, widening the buffer to 8 bytes a message the first time one needs it. */
  private setModseq(index: number, modseq: number): void {
    if (modseq > MAX_UINT32 && this.modseqBuffer instanceof Uint32Array) {
      this.modseqBuffer = Float64Array.from(this.modseqBuffer);
      this.refreshViews();
    }
    this.modseqBuffer[index] = modseq;
  }

  /** Keywords of the message at 0-based `index`. */
  keywordsAt(index: number): readonly string[] {
    return this.keywordsByUid.get(this.uids[index]) ?? NO_KEYWORDS;
  }

  /** Every keyword list in use (for SELECT's FLAGS). */
  keywordLists(): Iterable<readonly string[]> {
    return this.keywordsByUid.values();
  }

  private setKeywords(uid: number, keywords: readonly string[]): void {
    if (keywords.length > 0) this.keywordsByUid.set(uid, keywords);
    else this.keywordsByUid.delete(uid);
    for (const keyword of keywords) {
      const lower = keyword.toLowerCase();
      if (this.announcedKeywords.has(lower)) continue;
      this.announcedKeywords.set(lower, keyword);
      this.keywordsGrew = true;
    }
  }

  /**
   * The FLAGS and PERMANENTFLAGS lines for the client (SELECT's, and again whenever a keyword
   * new to this session appears: RFC 3501 section 7.2.6, RFC 9051 section 7.3.5). Keywords are
   * never withdrawn from the list while the mailbox stays selected.
   */
  flagsLines(): string[] {
    this.keywordsGrew = false;
    const keywords = [...this.announcedKeywords.values()].sort();
    const flags = [...SYSTEM_FLAG_NAMES, ...keywords].join(' ');
    return [
      `* FLAGS (${flags})`,
      this.readOnly
        ? '* OK [PERMANENTFLAGS ()] Read-only: no flag can be changed'
        : `* OK [PERMANENTFLAGS (${flags} \\*)] Flags and new keywords are kept`,
    ];
  }

  /** flagsLines() when a keyword appeared since the client was last told, else nothing. */
  newKeywordLines(): string[] {
    return this.keywordsGrew ? this.flagsLines() : [];
  }

  /**
   * Appends new messages at the end of the sequence. The buffers grow by an eighth (at least 8
   * entries), not by doubling: every idle session holds one, and a delivery that woke 1 000
   * sessions on a 100-message INBOX would otherwise leave 1.3 KiB of spare room in each.
   */
  private append(messages: readonly FlagState[]): void {
    const needed = this.count + messages.length;
    if (needed > this.uidBuffer.length) {
      const capacity = needed + Math.max(8, needed >> 3);
      const grow = <T extends Uint32Array | Uint8Array | Float64Array>(old: T, make: (n: number) => T): T => {
        const bigger = make(capacity);
        bigger.set(old.subarray(0, this.count));
        return bigger;
      };
      this.uidBuffer = grow(this.uidBuffer, (n) => new Uint32Array(n));
      this.flagBuffer = grow(this.flagBuffer, (n) => new Uint8Array(n));
      this.modseqBuffer = this.modseqBuffer instanceof Uint32Array ? grow(this.modseqBuffer, (n) => new Uint32Array(n)) : grow(this.modseqBuffer, (n) => new Float64Array(n));
    }
    for (const message of messages) {
      this.uidBuffer[this.count] = message.uid;
      this.flagBuffer[this.count] = message.flags;
      this.setModseq(this.count, message.modseq);
      this.setKeywords(message.uid, message.keywords);
      this.count++;
    }
    this.refreshViews();
  }

  /** SELECT (read-write) or EXAMINE (read-only) of a resolved mailbox. */
  static open(db: Db, mailboxId: number, name: string, readOnly: boolean): SelectedMailbox | null {
    const head = mailboxCounters(db, mailboxId);
    if (!head) return null;
    const selected = new SelectedMailbox(mailboxId, name, head.uidvalidity, readOnly, head, db);
    const claimWaitMs = 50; // another process's commit holds the lock for an fsync at most, as a rule
    selected.takeRecent(head, claimWaitMs);
    return selected;
  }

  /**
   * Adds to `recent` the messages of the view no session was shown yet: claimed (RFC 3501 section
   * 2.3.2), or only looked at under EXAMINE (section 6.3.2: the state is left as is). The floor
   * only rises: when `head` (read earlier) already has it above the view's last UID, nothing is
   * left to claim, and no write transaction is taken for it (every session syncs after new mail).
   */
  private takeRecent(head: MailboxCounters, claimWaitMs = 0): void {
    const below = this.count > 0 ? this.uidBuffer[this.count - 1] + 1 : 1; // what the view holds (another process may add more)
    if (head.recent_floor >= below) return;
    const uids = this.readOnly ? peekRecent(this.db, this.mailboxId, below) : claimRecent(this.db, this.mailboxId, below, claimWaitMs);
    for (const uid of uids) this.recent.add(uid);
  }

  get exists(): number {
    return this.uids.length;
  }

  /** Sequence number of a UID in this view, or 0 when absent (binary search). */
  seqOf(uid: number): number {
    let low = 0;
    let high = this.uids.length - 1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      const value = this.uids[mid];
      if (value === uid) return mid + 1;
      if (value < uid) low = mid + 1;
      else high = mid - 1;
    }
    return 0;
  }

  /** Whether the client still sees this UID but the store no longer has it. */
  isExpunged(uid: number): boolean {
    return this.pendingExpunge.has(uid);
  }

  /** IMAP flag list of the message at 0-based `index`, \Recent included when it applies. */
  flagsAt(index: number): string[] {
    const names = flagNames(this.flagBits[index], this.keywordsAt(index));
    if (this.recent.has(this.uids[index])) names.push('\\Recent');
    return names;
  }

  /** Records flag states this session itself changed (STORE), so sync() does not repeat them. */
  applyFlagStates(states: readonly FlagState[]): void {
    for (const state of states) {
      const seq = this.seqOf(state.uid);
      if (seq === 0) continue;
      this.flagBits[seq - 1] = state.flags;
      this.setKeywords(state.uid, state.keywords);
      this.setModseq(seq - 1, state.modseq);
    }
  }

  /**
   * Whether any message of the view (of `uids` only, when given) carries \Deleted. Right after a
   * sync, what the store holds: EXPUNGE then needs no write transaction when nothing is flagged.
   */
  hasDeleted(uids?: readonly number[]): boolean {
    const deleted = FLAG_BITS['\\Deleted'];
    if (uids === undefined) return this.flagBits.some((bits) => (bits & deleted) !== 0);
    return uids.some((uid) => {
      const seq = this.seqOf(uid);
      return seq > 0 && (this.flagBits[seq - 1] & deleted) !== 0;
    });
  }

  /**
   * The store's counters of this mailbox as read at the start of the current command (with the
   * credential check, ImapSession.cutIfNoLongerAllowed), for the syncs of that command instead of
   * reads of their own; null when none. Everything committed before the command started is in
   * them; what other sessions commit while it runs is concurrent with it and reaches the client
   * with the next command (RFC 3501 section 5.2 leaves that moment to the server). The session's
   * own writes drop them (store-writes.ts): their EXISTS or EXPUNGE must go with the command.
   */
  private primedHead: MailboxCounters | undefined | null = null;

  /** Hands this command's syncs the counters just read (undefined: the mailbox no longer exists). */
  primeHead(head: MailboxCounters | undefined): void {
    this.primedHead = head;
  }

  /** Forgets the primed counters: the session wrote, or the command is over. */
  dropPrimedHead(): void {
    this.primedHead = null;
  }

  /** Records the UIDs this session claimed \Recent for inside its own write (see claimedAhead). */
  noteClaimedRecent(uids: readonly number[]): void {
    if (uids.length > 0) this.claimedAhead = [...this.claimedAhead, ...uids];
  }

  /** Marks UIDs this session itself expunged; the next sync() that may announce them does. */
  markExpunged(uids: readonly number[]): void {
    for (const uid of uids) if (this.seqOf(uid) > 0) this.pendingExpunge.add(uid);
  }

  /**
   * STATUS counts of this mailbox exactly as the store has them (RFC 3501 section 6.3.10: the
   * store's numbers, not this session's), counted from the view instead of the messages table —
   * only while the view holds exactly the store's messages and flags: same UIDVALIDITY, the
   * store's HIGHESTMODSEQ still the one the view was last brought to (every append, flag change
   * and expunge raises it), no expunge waiting to be announced, no flag change of this session's
   * own not yet synchronised. Otherwise null, and the caller asks the store.
   */
  statusFromView(head: MailboxStatusHead): MailboxStatus | null {
    if (head.uidvalidity !== this.uidValidity || head.highestmodseq !== this.knownModseq || this.pendingExpunge.size > 0) return null;
    for (let i = 0; i < this.count; i++) if (this.modseqBuffer[i] > this.knownModseq) return null;
    let unseen = 0;
    for (let i = 0; i < this.count; i++) if ((this.flagBuffer[i] & SEEN) === 0) unseen++;
    // \Recent for the store: UIDs from recent_floor up (UIDs ascend: the first one there, by bisection)
    let low = 0;
    let high = this.count;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.uidBuffer[mid] < head.recent_floor) low = mid + 1;
      else high = mid;
    }
    return {
      messages: this.count,
      recent: this.count - low,
      unseen,
      uidnext: head.uidnext,
      uidvalidity: head.uidvalidity,
      highestmodseq: head.highestmodseq,
    };
  }

  /**
   * Brings the view up to date with the store and returns the untagged responses for the client.
   * `gone` when the mailbox was deleted or replaced meanwhile.
   */
  sync(options: SyncOptions): SyncOutcome {
    const head = this.primedHead !== null ? this.primedHead : mailboxCounters(this.db, this.mailboxId);
    if (!head || head.uidvalidity !== this.uidValidity) return { gone: true, lines: [] };
    const lines: string[] = [];
    if (head.highestmodseq !== this.knownModseq) {
      const { changed, expunged } = changesSince(this.db, this.mailboxId, this.knownModseq);
      for (const uid of expunged) {
        if (this.seqOf(uid) > 0) this.pendingExpunge.add(uid);
      }
      const added: FlagState[] = [];
      const last = this.uids.length > 0 ? this.uids[this.uids.length - 1] : 0;
      for (const change of changed) {
        if (change.uid > last) {
          added.push(change);
          continue;
        }
        const seq = this.seqOf(change.uid);
        if (seq === 0 || this.pendingExpunge.has(change.uid)) continue;
        const i = seq - 1;
        const same = this.flagBits[i] === change.flags && this.keywordsAt(i).join(' ') === change.keywords.join(' ');
        this.flagBits[i] = change.flags;
        this.setKeywords(change.uid, change.keywords);
        this.setModseq(i, change.modseq);
        if (!same) lines.push(this.fetchFlagsLine(i, options.condstore));
      }
      this.knownModseq = head.highestmodseq;
      const vanished = options.allowExpunge ? this.announceExpunges(options.qresync === true) : [];
      lines.push(...vanished);
      if (added.length > 0) this.append(added);
      // a keyword new to the client is announced before the FETCH that carries it
      lines.unshift(...this.newKeywordLines());
      if (added.length > 0) {
        for (const uid of this.claimedAhead) if (this.seqOf(uid) > 0) this.recent.add(uid);
        this.takeRecent(head);
        lines.push(`* ${this.uids.length} EXISTS`, `* ${this.recent.size} RECENT`);
      }
      this.claimedAhead = [];
      lines.push(...this.modseqAfterVanished(vanished, options));
      return { gone: false, lines };
    }
    const vanished = options.allowExpunge ? this.announceExpunges(options.qresync === true) : [];
    lines.push(...vanished, ...this.modseqAfterVanished(vanished, options));
    return { gone: false, lines };
  }

  /**
   * An expunge carries no MODSEQ the client could keep: with QRESYNC, once every expunge up to
   * the view's MODSEQ is announced, say how far the view now is, for the client's next
   * SELECT (QRESYNC ...) (as Dovecot does). Never while an expunge still waits to be told.
   */
  private modseqAfterVanished(vanished: readonly string[], options: SyncOptions): string[] {
    if (!options.qresync || vanished.length === 0 || this.pendingExpunge.size > 0) return [];
    return [`* OK [HIGHESTMODSEQ ${this.knownModseq}] Highest modification sequence`];
  }

  /**
   * RFC 3501 section 7.4.1: from the highest sequence number down, so none needs adjusting; with
   * QRESYNC one "* VANISHED uid-set" instead (RFC 7162 section 3.2.10).
   */
  private announceExpunges(qresync: boolean): string[] {
    if (this.pendingExpunge.size === 0) return [];
    // Where the expunged messages sit: a binary search each (seqOf), so that expunging a few
    // messages costs the same in a mailbox of 100 000 as in one of 100 (a pass over the whole
    // view with a Set lookup per message took 5 ms there, per EXPUNGE).
    const gone: number[] = [];
    for (const uid of this.pendingExpunge) {
      const seq = this.seqOf(uid);
      if (seq > 0) gone.push(seq - 1);
      this.keywordsByUid.delete(uid);
      this.recent.delete(uid);
    }
    gone.sort((a, b) => a - b);
    const lines: string[] = [];
    if (qresync) {
      lines.push(`* VANISHED ${formatSequenceSet(this.pendingExpunge)}`);
    } else {
      for (let j = gone.length - 1; j >= 0; j--) lines.push(`* ${gone[j] + 1} EXPUNGE`);
    }
    // Compact in place: each run of kept entries after a gap moves down in one copy.
    let kept = gone.length > 0 ? gone[0] : this.count;
    for (let j = 0; j < gone.length; j++) {
      const from = gone[j] + 1;
      const to = j + 1 < gone.length ? gone[j + 1] : this.count;
      if (to <= from) continue;
      this.uidBuffer.copyWithin(kept, from, to);
      this.flagBuffer.copyWithin(kept, from, to);
      this.modseqBuffer.copyWithin(kept, from, to);
      kept += to - from;
    }
    this.count = kept;
    this.refreshViews();
    this.pendingExpunge.clear();
    return lines;
  }

  fetchFlagsLine(index: number, condstore: boolean): string {
    const modseq = condstore ? ` MODSEQ (${this.modseqs[index]})` : '';
    return `* ${index + 1} FETCH (UID ${this.uids[index]} FLAGS (${this.flagsAt(index).join(' ')})${modseq})`;
  }
}
