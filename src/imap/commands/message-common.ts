// What the message commands (FETCH, STORE, SEARCH, COPY, MOVE, EXPUNGE, APPEND) share: bringing
// the selected mailbox up to date before a command reads it, turning a sequence set into the
// messages it designates, naming a destination mailbox, telling other sessions about a commit,
// and writing long responses without holding them whole in memory.
import { quotaExceeded, type QuotaUsage } from '../../policy/quota';
import type { FlagChange } from '../../store/flags';
import { MailboxError, resolveMailbox, type ResolvedMailbox } from '../../store/mailbox-view';
import { boxUsage } from '../../store/quota';
import { ImapError } from '../protocol/errors';
import {
  exceedsMessageCount,
  expectSequenceSet,
  invalidSequenceSet,
  resolveSequenceNumbers,
  resolveUids,
  type Ranges,
} from '../protocol/sequence';
import type { Token } from '../protocol/tokens';
import type { SelectedMailbox } from '../selected';
import type { ImapSession, SessionIo } from '../session';
import { asciiText, displayName, isSharedName, mailboxArgument } from './mailbox-args';
import { no, type Completion } from './registry';
import { savedRanges } from '../saved-search';

/**
 * The selected mailbox, brought up to date first so that the command works on the store's
 * current state (RFC 7162 CHANGEDSINCE and UNCHANGEDSINCE compare with it). The untagged
 * responses this produces go out before the command's own. Expunges are announced only when the
 * client's sequence numbers may shift (UID commands, `allowExpunge`): a non-UID command's set was
 * written against the numbering the client knows (RFC 3501 section 7.4.1).
 * Throws a NO when the mailbox disappeared or access to it was withdrawn (R6).
 */
export function currentMailbox(session: ImapSession, allowExpunge: boolean): SelectedMailbox {
  session.flushUpdates(allowExpunge);
  const selected = session.selected;
  if (!selected) throw new ImapError('NO', 'The selected mailbox is no longer available; select another one');
  return selected;
}

/**
 * The sequence numbers (1-based ranges) a command's set designates: message sequence numbers,
 * or UIDs for the UID forms (RFC 3501 section 6.4.8: UIDs that do not exist are simply left
 * out). A sequence number past the last message is a BAD (RFC 3501 section 9 seq-number).
 */
export function targetRanges(selected: SelectedMailbox, token: Token | undefined, uid: boolean): Ranges {
  if (token?.type === 'atom' && token.value === '$') return savedRanges(selected); // RFC 5182 SEARCHRES
  const set = expectSequenceSet(token);
  if (uid) return resolveUids(set, selected.uids);
  if (exceedsMessageCount(set, selected.exists)) throw invalidSequenceSet();
  return resolveSequenceNumbers(set, selected.exists);
}

/** The UIDs of sequence ranges, in sequence order. */
export function uidsOf(selected: SelectedMailbox, ranges: Ranges): number[] {
  const uids: number[] = [];
  for (const [low, high] of ranges) for (let seq = low; seq <= high; seq++) uids.push(selected.uids[seq - 1]);
  return uids;
}

/** Whether any of the UIDs is expunged in the store but not yet announced to this client. */
export function anyExpunged(selected: SelectedMailbox, uids: readonly number[]): boolean {
  for (const uid of uids) if (selected.isExpunged(uid)) return true;
  return false;
}

/**
 * RFC 2180 section 4.1.2 / RFC 5530: the answer to a non-UID command that named messages another
 * session expunged meanwhile (their EXPUNGE responses come with the next command that allows them).
 */
export function expungeIssued(): Completion {
  return no('Some of the requested messages no longer exist', 'EXPUNGEISSUED');
}

/** Wakes the sessions that wait in IDLE on this mailbox (RFC 2177), once the commit is done. */
export function announceChange(session: ImapSession, mailboxId: number): void {
  session.services.changes.emit('mailbox-changed', mailboxId);
}

/**
 * After a flag change committed (store/flags.ts setFlags): wakes the sessions in IDLE on every
 * mailbox it changed (the selected one, a sender's Sent folder, R9) and the notice sender when an
 * opening notice was queued. Openings that failed are logged; the flags themselves stand.
 */
export function announceFlagChange(session: ImapSession, change: Pick<FlagChange, 'effects' | 'openingFailures'>): void {
  for (const failure of change.openingFailures) {
    if (failure.stage === 'record') session.log.warn({ imap: session.id, err: failure.error }, 'could not record message openings');
    else session.log.warn({ imap: session.id, messageId: failure.messageId, err: failure.error }, 'opening recorded, but the sender could not be told');
  }
  for (const mailboxId of change.effects.mailboxes) announceChange(session, mailboxId);
  if (change.effects.notices) session.services.changes.emit('notices-queued');
}

/** A store refusal as the NO a client can act on (RFC 5530 codes), in 7-bit text. */
export function mailboxRefusal(err: unknown): Completion {
  if (err instanceof MailboxError) {
    const text = asciiText(err.message);
    return no(`${text.charAt(0).toUpperCase()}${text.slice(1)}`, err.code);
  }
  throw err;
}

/**
 * The destination of COPY, MOVE and APPEND: a mailbox the person may use (their own or a linked
 * ORG's, R6), or the NO [TRYCREATE] to answer when it does not exist (RFC 3501 sections 6.3.11
 * and 6.4.7), so that the client may create it and try again. A name that is not valid modified
 * UTF-7 is a NO [CANNOT] (mailbox-args.ts).
 */
export function destinationMailbox(session: ImapSession, token: Token | undefined): ResolvedMailbox | Completion {
  const { name } = mailboxArgument(token);
  const user = session.user;
  const resolved = user ? resolveMailbox(session.db, user.accountId, name) : null;
  const shared = isSharedName(name) ? ' or is not shared with you' : '';
  return resolved ?? no(`Mailbox ${displayName(name)} does not exist${shared}`, 'TRYCREATE');
}

/**
 * NO [OVERQUOTA] (RFC 9208 section 7.1) when adding `adding` to the box `accountId` would take
 * it past limits.quotaStorageBytes or limits.quotaMessages; null when it fits.
 */
export function quotaRefusal(session: ImapSession, accountId: number, adding: QuotaUsage): Completion | null {
  const limits = { storageBytes: session.config.limits.quotaStorageBytes, messages: session.config.limits.quotaMessages };
  if (limits.storageBytes === 0 && limits.messages === 0) return null;
  const exceeded = quotaExceeded(boxUsage(session.db, accountId), limits, adding);
  if (exceeded === null) return null;
  const what = exceeded === 'STORAGE' ? `${Math.floor(limits.storageBytes / 1048576)} MiB` : `${limits.messages} messages`;
  return no(`The mailbox is full (limit ${what}): delete messages, then try again`, 'OVERQUOTA');
}

export function isCompletion(value: ResolvedMailbox | Completion): value is Completion {
  return 'status' in value;
}

// ---------------------------------------------------------------------------------------------
// Writing long responses

/** Past this many buffered octets a response stream writes them out and waits for the socket. */
const CHUNK_BYTES = 64 * 1024;

/**
 * Response text and literal octets written in chunks of about 64 KB, waiting for the socket to
 * drain between chunks: a FETCH of 100 000 messages or of a 25 MB body never sits whole in
 * memory, and a slow client slows the command down instead of growing the server's buffers.
 */
export class ResponseStream {
  private pieces: Array<string | Buffer> = [];
  private text = '';
  private size = 0;
  /** False once the connection went away: the command may stop producing output. */
  alive = true;

  constructor(private readonly io: SessionIo) {}

  /** Appends response text (ASCII or UTF-8). */
  write(text: string): void {
    this.text += text;
    this.size += text.length;
  }

  /**
   * Appends a literal `{n}` CRLF and its octets, as they are (RFC 3501 section 4.3); with
   * `binary`, a literal8 `~{n}` (RFC 3516 section 4.2), the only form that may carry NUL.
   */
  literal(data: Buffer, binary = false): void {
    this.text += `${binary ? '~' : ''}{${data.length}}\r\n`;
    if (data.length > 0) {
      this.pieces.push(this.text, data);
      this.text = '';
      this.size += data.length;
    }
  }

  /** Whether enough is buffered to be worth a flush(). */
  get full(): boolean {
    return this.size >= CHUNK_BYTES;
  }

  /** Writes what is buffered and waits until the socket can take more. */
  async flush(): Promise<boolean> {
    if (this.text !== '') this.pieces.push(this.text);
    const pieces = this.pieces;
    this.pieces = [];
    this.text = '';
    this.size = 0;
    if (!this.alive) return false;
    for (const piece of pieces) this.io.write(piece);
    this.alive = await this.io.waitForDrain();
    return this.alive;
  }

  /** flush() when full: call after each message. */
  async maybeFlush(): Promise<boolean> {
    return this.full ? this.flush() : this.alive;
  }
}
