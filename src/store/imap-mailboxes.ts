// Mailbox operations of an IMAP session (RFC 3501 sections 6.3.3–6.3.7, STATUS 6.3.10, RFC 7162
// HIGHESTMODSEQ), on names as the person sees them (mailbox-view.ts). Each runs in one IMMEDIATE
// transaction; a refusal is a MailboxError carrying its RFC 5530 response code.
//
// Decisions:
// - ORG members create, rename and delete folders inside the ORG boxes they are linked to (R6:
//   they work there as in their own box), under the same rules as in their own box. They cannot
//   create "Partagé" or "Partagé/<address>" themselves, nor anything in a personal box that starts
//   with "Partagé" (in any case): that prefix is the shared namespace. Nor may they create or
//   rename to a personal name whose first level reads like it once accents and case are
//   dropped ("Partage/…", "PARTAGE/…", issue 15): a client or a printout that loses accents would
//   show it as a shared box. Folders that already have such a name stay reachable.
// - RENAME never crosses boxes (personal ↔ ORG, ORG ↔ ORG): the messages would change owner; the
//   client is told to move them instead.
// - DELETE of a mailbox with children deletes the mailbox (its messages go to INBOX, R11) and
//   leaves the children; the name stays in LIST as a \Noselect node (RFC 3501 section 6.3.4).
//   INBOX and special-use folders (Envoyés, Brouillons, Corbeille) cannot be deleted.
// - Parents are created as needed by CREATE and RENAME (section 6.3.3 SHOULD).
// - UIDVALIDITY: a new mailbox gets one above every value any mailbox has had, live or retired
//   (RFC 3501 section 2.3.1.1), so that deleting and re-creating a name always changes it. RENAME
//   keeps the row and its UIDVALIDITY, unless the target name once had an equal or higher one.
// - Subscriptions of a person's own namespace are kept by name (subscriptions.ts, migration
//   011): CREATE does not subscribe (RFC 3501 section 6.3.3 says nothing of it, RFC 5258 and
//   imaptest expect a new mailbox unsubscribed; Thunderbird and Outlook subscribe what they
//   create); INBOX and the special folders are subscribed with the account; a subscription
//   outlives DELETE (RFC 9051 section 6.3.7) and RENAME, and RENAME also subscribes the new
//   names of subscribed mailboxes so that a renamed folder stays in the client's tree. SUBSCRIBE
//   to a name that does not exist is refused (section 6.3.6 allows it): a typo would otherwise
//   leave a folder in the tree that cannot be opened. For ORG mailboxes, each member's choice is
//   kept in shared_subscriptions (migration 002), subscribed unless they unsubscribed (R6).
import { cachedStatement, immediateTransaction, type Db } from './database';
import { moveMessages, type MoveResult } from './imap-messages';
import { nextMailboxIdentity } from './mailboxes';
import { isNameSubscribed, subscribeName, unsubscribeName } from './subscriptions';
import {
  findOwnedMailbox,
  HIERARCHY_DELIMITER,
  locateMailboxName,
  MailboxError,
  mailboxNameLevels,
  MAX_MAILBOX_DEPTH,
  MAX_MAILBOX_NAME_LENGTH,
  sharedViewName,
  SHARED_ROOT,
  type LocatedName,
  type ResolvedMailbox,
} from './mailbox-view';

/** At most this many mailboxes in one box (personal or ORG). */
export const MAX_MAILBOXES_PER_BOX = 1000;

/**
 * Like locateMailboxName, but a name that cannot be located is refused with the reason. An ORG
 * the person is not linked to gets the same answer whether it exists or not.
 */
function locateOrRefuse(db: Db, userAccountId: number, name: string): LocatedName {
  const located = locateMailboxName(db, userAccountId, name);
  if (located) return located;
  const levels = mailboxNameLevels(name);
  if (!levels) throw new MailboxError('CANNOT', 'invalid mailbox name');
  if (levels[0] === SHARED_ROOT) {
    if (levels.length < 3) throw new MailboxError('CANNOT', `${SHARED_ROOT} and its boxes are managed by the operator`);
    if (levels.length - 2 > MAX_MAILBOX_DEPTH || levels.slice(2).join(HIERARCHY_DELIMITER).length > MAX_MAILBOX_NAME_LENGTH) {
      throw new MailboxError('CANNOT', 'mailbox name too long');
    }
    throw new MailboxError('NONEXISTENT', `no shared box ${levels[1]} for this account`);
  }
  if (levels[0].toLowerCase() === SHARED_ROOT.toLowerCase()) {
    throw new MailboxError('CANNOT', `${levels[0]} is reserved for the shared boxes`);
  }
  throw new MailboxError('CANNOT', 'mailbox name too long');
}

function resolveOrRefuse(db: Db, userAccountId: number, name: string): ResolvedMailbox {
  const located = locateOrRefuse(db, userAccountId, name);
  const row = findOwnedMailbox(db, located.ownerAccountId, located.ownerName);
  if (!row) throw new MailboxError('NONEXISTENT', 'no such mailbox');
  return { ...located, mailboxId: row.id, specialUse: row.special_use, uidValidity: row.uidvalidity };
}

/** A name level with accents and case dropped, to compare names as a reader would see them. */
function folded(level: string): string {
  return level.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();
}

/** A CREATE or RENAME target in the person's own box must not look like the shared namespace. */
function refuseLookalikeOfSharedRoot(target: LocatedName): void {
  if (target.isShared) return;
  const first = target.ownerName.split(HIERARCHY_DELIMITER)[0];
  if (folded(first) === folded(SHARED_ROOT)) {
    throw new MailboxError('CANNOT', `"${first}" would read like the folder of the shared boxes (BAL ORG) where accents or case are lost: choose another name`);
  }
}

/** CREATE and RENAME targets may end with the delimiter (RFC 3501 section 6.3.3). */
function withoutTrailingDelimiter(name: string): string {
  return name.length > 1 && name.endsWith(HIERARCHY_DELIMITER) ? name.slice(0, -1) : name;
}

/** The view name of a name inside the box `located` points into. */
function viewNameIn(located: LocatedName, ownerName: string): string {
  return located.isShared && located.orgAddress !== null ? sharedViewName(located.orgAddress, ownerName) : ownerName;
}

// ---------------------------------------------------------------------------------------------
// Identity of new mailboxes

function insertMailbox(db: Db, accountId: number, name: string): number {
  const { id, uidValidity } = nextMailboxIdentity(db);
  cachedStatement(
    db,
    'INSERT INTO mailboxes (id, account_id, name, special_use, uidvalidity, created_at) VALUES (?, ?, ?, NULL, ?, ?)',
  ).run(id, accountId, name, uidValidity, Date.now());
  return id;
}

function mailboxCount(db: Db, accountId: number): number {
  return (cachedStatement(db, 'SELECT COUNT(*) AS n FROM mailboxes WHERE account_id = ?').get(accountId) as { n: number }).n;
}

/** The proper ancestors of a name inside a box, outermost first: "a/b/c" → ["a", "a/b"]. */
function ancestorsOf(ownerName: string): string[] {
  const levels = ownerName.split(HIERARCHY_DELIMITER);
  return levels.slice(1).map((_, i) => levels.slice(0, i + 1).join(HIERARCHY_DELIMITER));
}

/** Creates the missing ancestors then the mailbox itself; returns the owner names created. */
function createWithAncestors(db: Db, accountId: number, ownerName: string): { mailboxId: number; created: string[] } {
  const missing = [...ancestorsOf(ownerName), ownerName].filter((name) => !findOwnedMailbox(db, accountId, name));
  if (mailboxCount(db, accountId) + missing.length > MAX_MAILBOXES_PER_BOX) {
    throw new MailboxError('LIMIT', `at most ${MAX_MAILBOXES_PER_BOX} mailboxes per box`);
  }
  let mailboxId = 0;
  for (const name of missing) mailboxId = insertMailbox(db, accountId, name);
  return { mailboxId, created: missing };
}

// ---------------------------------------------------------------------------------------------
// CREATE (RFC 3501 section 6.3.3)

export interface CreatedMailbox {
  mailboxId: number;
  viewName: string;
  /** View names of the mailboxes created, ancestors first, the mailbox itself last. */
  created: string[];
}

export function createUserMailbox(db: Db, userAccountId: number, name: string): CreatedMailbox {
  return immediateTransaction(db, () => {
    const located = locateOrRefuse(db, userAccountId, withoutTrailingDelimiter(name));
    refuseLookalikeOfSharedRoot(located);
    if (findOwnedMailbox(db, located.ownerAccountId, located.ownerName)) {
      throw new MailboxError('ALREADYEXISTS', 'mailbox already exists');
    }
    const { mailboxId, created } = createWithAncestors(db, located.ownerAccountId, located.ownerName);
    return { mailboxId, viewName: located.viewName, created: created.map((owned) => viewNameIn(located, owned)) };
  });
}

// ---------------------------------------------------------------------------------------------
// DELETE (RFC 3501 section 6.3.4, R11)

export interface DeletedMailbox {
  mailboxId: number;
  /** The owner's INBOX, where the messages went (R11). */
  inboxMailboxId: number;
  /** The messages moved: old UID in the deleted mailbox → new UID in INBOX. */
  moved: MoveResult;
}

export function deleteUserMailbox(db: Db, userAccountId: number, name: string): DeletedMailbox {
  return immediateTransaction(db, () => {
    const mailbox = resolveOrRefuse(db, userAccountId, name);
    if (mailbox.ownerName === 'INBOX') throw new MailboxError('CANNOT', 'INBOX cannot be deleted');
    if (mailbox.specialUse !== null) {
      throw new MailboxError('CANNOT', `${mailbox.viewName} is a special folder (${mailbox.specialUse}) and cannot be deleted`);
    }
    const inbox = findOwnedMailbox(db, mailbox.ownerAccountId, 'INBOX');
    if (!inbox) throw new MailboxError('CANNOT', 'this box has no INBOX to keep the messages');
    // R11: the messages go back to INBOX (new UIDs there, expunge records here for open sessions).
    const moved = moveMessages(db, mailbox.mailboxId, 'all', inbox.id);
    cachedStatement(db, 'DELETE FROM mailboxes WHERE id = ?').run(mailbox.mailboxId);
    return { mailboxId: mailbox.mailboxId, inboxMailboxId: inbox.id, moved };
  });
}

// ---------------------------------------------------------------------------------------------
// RENAME (RFC 3501 section 6.3.5)

export interface RenamedMailbox {
  /** Every row renamed (the mailbox and its children), with their new UIDVALIDITY. */
  renamed: Array<{ mailboxId: number; from: string; to: string; uidValidity: number }>;
  /** View names of the mailboxes created (missing ancestors; for INBOX, the new mailbox too). */
  created: string[];
  /** Renaming INBOX: the new mailbox and the messages moved into it. */
  inbox?: { mailboxId: number; moved: MoveResult };
}

export function renameUserMailbox(db: Db, userAccountId: number, from: string, to: string): RenamedMailbox {
  return immediateTransaction(db, () => {
    const source = locateOrRefuse(db, userAccountId, from);
    const target = locateOrRefuse(db, userAccountId, withoutTrailingDelimiter(to));
    refuseLookalikeOfSharedRoot(target);
    if (source.ownerAccountId !== target.ownerAccountId) {
      throw new MailboxError('CANNOT', 'a mailbox cannot be renamed into another box: move its messages instead');
    }
    const owner = source.ownerAccountId;
    if (findOwnedMailbox(db, owner, target.ownerName)) throw new MailboxError('ALREADYEXISTS', 'target mailbox already exists');

    if (source.ownerName === 'INBOX') {
      // Section 6.3.5: all messages move to a new mailbox, INBOX stays (empty), its children stay.
      const inbox = findOwnedMailbox(db, owner, 'INBOX');
      if (!inbox) throw new MailboxError('NONEXISTENT', 'no such mailbox');
      const { mailboxId, created } = createWithAncestors(db, owner, target.ownerName);
      const moved = moveMessages(db, inbox.id, 'all', mailboxId);
      return { renamed: [], created: created.map((name) => viewNameIn(target, name)), inbox: { mailboxId, moved } };
    }

    const prefix = source.ownerName + HIERARCHY_DELIMITER;
    if (target.ownerName.startsWith(prefix)) throw new MailboxError('CANNOT', 'a mailbox cannot be moved inside itself');
    const rows = cachedStatement(
      db,
      `SELECT id, name, uidvalidity FROM mailboxes
       WHERE account_id = ? AND (name = ? OR substr(name, 1, length(?)) = ?) ORDER BY name`,
    ).all(owner, source.ownerName, prefix, prefix) as Array<{ id: number; name: string; uidvalidity: number }>;
    if (rows.length === 0) throw new MailboxError('NONEXISTENT', 'no such mailbox');

    const moves = rows.map((row) => ({ row, newName: target.ownerName + row.name.slice(source.ownerName.length) }));
    for (const { newName } of moves) {
      if (newName.split(HIERARCHY_DELIMITER).length > MAX_MAILBOX_DEPTH || newName.length > MAX_MAILBOX_NAME_LENGTH) {
        throw new MailboxError('CANNOT', 'mailbox name too long');
      }
      if (findOwnedMailbox(db, owner, newName)) throw new MailboxError('ALREADYEXISTS', `${viewNameIn(target, newName)} already exists`);
    }
    const missingAncestors = ancestorsOf(target.ownerName).filter((name) => !findOwnedMailbox(db, owner, name));
    if (mailboxCount(db, owner) + missingAncestors.length > MAX_MAILBOXES_PER_BOX) {
      throw new MailboxError('LIMIT', `at most ${MAX_MAILBOXES_PER_BOX} mailboxes per box`);
    }
    for (const name of missingAncestors) insertMailbox(db, owner, name);

    const retired = cachedStatement(db, 'SELECT uidvalidity FROM retired_mailbox_names WHERE account_id = ? AND name = ?');
    const rename = cachedStatement(db, 'UPDATE mailboxes SET name = ?, uidvalidity = ? WHERE id = ?');
    const renamed: RenamedMailbox['renamed'] = [];
    for (const { row, newName } of moves) {
      // A client that knew the target name under a UIDVALIDITY must see a greater one (2.3.1.1).
      const earlier = retired.get(owner, newName) as { uidvalidity: number } | undefined;
      const uidValidity =
        earlier && earlier.uidvalidity >= row.uidvalidity ? nextMailboxIdentity(db).uidValidity : row.uidvalidity;
      rename.run(newName, uidValidity, row.id);
      if (isNameSubscribed(db, owner, row.name)) subscribeName(db, owner, newName);
      renamed.push({ mailboxId: row.id, from: viewNameIn(source, row.name), to: viewNameIn(target, newName), uidValidity });
    }
    // R11: messages in the box's Trash keep pointing at where they came from.
    cachedStatement(
      db,
      `UPDATE messages SET trash_origin = ? || substr(trash_origin, length(?) + 1)
       WHERE mailbox_id IN (SELECT id FROM mailboxes WHERE account_id = ? AND special_use = '\\Trash')
         AND (trash_origin = ? OR substr(trash_origin, 1, length(?)) = ?)`,
    ).run(target.ownerName, source.ownerName, owner, source.ownerName, prefix, prefix);
    return { renamed, created: missingAncestors.map((name) => viewNameIn(target, name)) };
  });
}

// ---------------------------------------------------------------------------------------------
// SUBSCRIBE / UNSUBSCRIBE (RFC 3501 sections 6.3.6, 6.3.7)

export function setMailboxSubscribed(db: Db, userAccountId: number, name: string, subscribed: boolean): void {
  immediateTransaction(db, () => {
    const located = locateOrRefuse(db, userAccountId, name);
    const row = findOwnedMailbox(db, located.ownerAccountId, located.ownerName);
    if (located.isShared) {
      if (!row) throw new MailboxError('NONEXISTENT', 'no such mailbox');
      cachedStatement(
        db,
        `INSERT INTO shared_subscriptions (member_id, mailbox_id, subscribed) VALUES (?, ?, ?)
         ON CONFLICT (member_id, mailbox_id) DO UPDATE SET subscribed = excluded.subscribed`,
      ).run(userAccountId, row.id, subscribed ? 1 : 0);
    } else if (subscribed) {
      if (!row) throw new MailboxError('NONEXISTENT', 'no such mailbox');
      subscribeName(db, userAccountId, located.ownerName);
    } else if (!unsubscribeName(db, userAccountId, located.ownerName) && !row) {
      // Neither subscribed nor a mailbox: the caller says the aim already holds.
      throw new MailboxError('NONEXISTENT', 'no such mailbox');
    }
  });
}

// ---------------------------------------------------------------------------------------------
// STATUS / SELECT data (RFC 3501 sections 6.3.1, 6.3.10; RFC 7162 section 3.1.2)

export interface MailboxStatus {
  messages: number;
  /** Messages not yet shown as \Recent to any session (from recent_floor up). */
  recent: number;
  unseen: number;
  uidnext: number;
  uidvalidity: number;
  highestmodseq: number;
}

/** RFC 8438 STATUS SIZE: the total of the RFC822.SIZE of the mailbox's messages (a counter of its row, migration 018). */
export function mailboxSize(db: Db, mailboxId: number): number {
  const row = cachedStatement(db, 'SELECT message_octets FROM mailboxes WHERE id = ?').pluck().get(mailboxId) as number | undefined;
  return row ?? 0;
}

/**
 * STATUS of a mailbox (RFC 3501 section 6.3.10): one statement, hence one consistent snapshot
 * without a transaction around it, over the covering index of migration 002 (\Seen is bit 1,
 * messages.ts FLAG_BITS). The aggregate always yields one row: no mailbox leaves its columns NULL.
 */
export function mailboxStatus(db: Db, mailboxId: number): MailboxStatus {
  const row = cachedStatement(
    db,
    `SELECT mb.uidnext, mb.uidvalidity, mb.highestmodseq,
            COUNT(m.uid) AS messages,
            COUNT(m.uid) FILTER (WHERE m.uid >= mb.recent_floor) AS recent,
            COUNT(m.uid) FILTER (WHERE m.flags & 1 = 0) AS unseen
     FROM mailboxes mb LEFT JOIN messages m INDEXED BY messages_flags_by_uid ON m.mailbox_id = mb.id
     WHERE mb.id = ?`,
  ).get(mailboxId) as { uidnext: number | null; uidvalidity: number | null; highestmodseq: number | null; messages: number; recent: number; unseen: number };
  if (row.uidvalidity === null) throw new MailboxError('NONEXISTENT', 'the mailbox no longer exists');
  return row as MailboxStatus;
}

/** What STATUS reads of a mailbox besides its messages: enough to answer from a view in step with the store. */
export interface MailboxStatusHead {
  uidnext: number;
  uidvalidity: number;
  highestmodseq: number;
  /** Messages from this UID up are \Recent for the store (not yet claimed by any session). */
  recent_floor: number;
}

/** The row behind MailboxStatusHead; undefined once the mailbox no longer exists. */
export function mailboxStatusHead(db: Db, mailboxId: number): MailboxStatusHead | undefined {
  return cachedStatement(db, 'SELECT uidnext, uidvalidity, highestmodseq, recent_floor FROM mailboxes WHERE id = ?').get(mailboxId) as
    | MailboxStatusHead
    | undefined;
}
