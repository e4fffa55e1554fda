// Setting the flags of messages a person works on: the one entry point of IMAP STORE (RFC 3501
// section 6.4.6) and of the implicit \Seen of FETCH BODY[] / RFC822 / RFC822.TEXT (section 6.4.5).
// In one transaction it stores the flags (imap-messages.ts storeFlags) and records the R9 openings
// the new \Seen flags are (openings.ts), with what follows them: the status keywords on the
// sender's Sent copy and the opening notice. It returns what changed; the caller announces it
// (wakes the IMAP sessions on those mailboxes and the notice sender) once the commit is done, as
// the router announces its CommitEffects.
import { cachedStatement, immediateTransaction, type Db } from './database';
import { storeFlags, type StoreMode, type StoreResult } from './imap-messages';
import { applyOpening, recordOpening } from './openings';

/** What a commit changed that others must hear of once it is durable. */
export interface FlagEffects {
  /** Mailboxes whose messages changed (IMAP sessions that have them selected are woken). */
  mailboxes: number[];
  /** An opening notice was queued (the notice sender is woken). */
  notices: boolean;
}

/** An opening that could not be recorded, or whose sender could not be told: the flags stand. */
export interface OpeningFailure {
  /** 'record': no opening of this command was recorded; 'follow-up': recorded, sender not told. */
  stage: 'record' | 'follow-up';
  /** The message concerned (follow-up only). */
  messageId: string | null;
  error: unknown;
}

export interface FlagChange extends Omit<StoreResult, 'newlySeen'> {
  effects: FlagEffects;
  openingFailures: OpeningFailure[];
}

export interface SetFlagsRequest {
  mailboxId: number;
  uids: readonly number[];
  mode: StoreMode;
  flags: readonly string[];
  /** RFC 7162 section 3.1.3 UNCHANGEDSINCE. */
  unchangedSince?: number;
  /** When the openings happen (milliseconds since the epoch). */
  now?: number;
}

/**
 * Stores the flags and records the openings in one IMMEDIATE transaction. A message that just got
 * \Seen and carries a Message-ID is an opening by the box that owns the mailbox: the person, or
 * the ORG box whose shared folder they work in (R6): the opening is the box's, whoever of its
 * members read it. Openings never fail the flag change: they run in savepoints of their own and
 * their failures are returned for the caller to log; what follows an opening (applyOpening) has a
 * savepoint of its own too, so that when it fails the opening itself is still recorded.
 */
export function setFlags(db: Db, request: SetFlagsRequest): FlagChange {
  return immediateTransaction(db, (): FlagChange => {
    const { newlySeen, ...stored } = storeFlags(db, request.mailboxId, request.uids, request.mode, request.flags, request.unchangedSince);
    const change: FlagChange = {
      ...stored,
      effects: { mailboxes: stored.changed.length > 0 ? [request.mailboxId] : [], notices: false },
      openingFailures: [],
    };
    const opened = newlySeen.filter((message) => message.messageId !== null && message.messageId.trim() !== '');
    if (opened.length > 0) recordOpenings(db, request.mailboxId, opened, request.now ?? Date.now(), change);
    return change;
  });
}

function recordOpenings(
  db: Db,
  mailboxId: number,
  opened: ReadonlyArray<{ messageId: string | null }>,
  now: number,
  change: FlagChange,
): void {
  const mailboxes = new Set(change.effects.mailboxes);
  let notices = false;
  try {
    // savepoints of the flag change's transaction (immediateTransaction nests), not better-sqlite3's
    // db.transaction(), which builds its wrapper functions at each call
    immediateTransaction(db, () => {
      const owner = mailboxOwner(db, mailboxId);
      if (owner === undefined) return;
      for (const message of opened) {
        const messageId = message.messageId as string;
        if (!recordOpening(db, messageId, owner, now)) continue;
        try {
          const effects = immediateTransaction(db, () => applyOpening(db, messageId, now));
          for (const id of effects.mailboxes) mailboxes.add(id);
          notices ||= effects.notices;
        } catch (error) {
          change.openingFailures.push({ stage: 'follow-up', messageId, error });
        }
      }
    });
  } catch (error) {
    change.openingFailures.push({ stage: 'record', messageId: null, error });
    return;
  }
  change.effects.mailboxes = [...mailboxes];
  change.effects.notices = notices;
}

/** The box (account) a mailbox belongs to. */
function mailboxOwner(db: Db, mailboxId: number): number | undefined {
  const row = cachedStatement(db, 'SELECT account_id FROM mailboxes WHERE id = ?').get(mailboxId) as { account_id: number } | undefined;
  return row?.account_id;
}
