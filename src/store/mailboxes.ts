// Mailbox rows (RFC 3501 section 2.3.1.1): every box gets INBOX and the special-use folders of
// RFC 6154 at creation; they cannot be deleted later.
import type { Db } from './database';

export type SpecialUse = '\\Sent' | '\\Drafts' | '\\Trash';

/** Display names of the special folders (French by default, as the operator's users expect). */
export const DEFAULT_SPECIAL_FOLDERS: Record<SpecialUse, string> = {
  '\\Sent': 'Envoyés',
  '\\Drafts': 'Brouillons',
  '\\Trash': 'Corbeille',
};

export interface MailboxRow {
  id: number;
  account_id: number;
  name: string;
  special_use: string | null;
  uidvalidity: number;
  uidnext: number;
  highestmodseq: number;
  subscribed: number;
}

/**
 * A UIDVALIDITY for a new mailbox: seconds since the epoch, made strictly greater than any already
 * given so that a mailbox deleted and re-created under the same name never reuses one
 * (RFC 3501 section 2.3.1.1).
 */
function nextUidValidity(db: Db): number {
  const row = db.prepare('SELECT MAX(uidvalidity) AS max FROM mailboxes').get() as { max: number | null };
  return Math.max(Math.floor(Date.now() / 1000), (row.max ?? 0) + 1);
}

export function createMailbox(db: Db, accountId: number, name: string, specialUse: SpecialUse | null = null): number {
  const result = db
    .prepare(
      `INSERT INTO mailboxes (account_id, name, special_use, uidvalidity, created_at)
       VALUES (?, ?, ?, ?, ?)`,
    )
    .run(accountId, name, specialUse, nextUidValidity(db), Date.now());
  return Number(result.lastInsertRowid);
}

/** INBOX plus Sent, Drafts and Trash; call inside the transaction that creates the account. */
export function createDefaultMailboxes(
  db: Db,
  accountId: number,
  names: Record<SpecialUse, string> = DEFAULT_SPECIAL_FOLDERS,
): void {
  createMailbox(db, accountId, 'INBOX');
  for (const use of Object.keys(names) as SpecialUse[]) createMailbox(db, accountId, names[use], use);
}

export function findMailbox(db: Db, accountId: number, name: string): MailboxRow | undefined {
  return db.prepare('SELECT * FROM mailboxes WHERE account_id = ? AND name = ?').get(accountId, name) as
    | MailboxRow
    | undefined;
}

/** Mailboxes of a box with their message counts, for `account show`. */
export function listMailboxesWithCounts(db: Db, accountId: number): Array<MailboxRow & { messages: number }> {
  return db
    .prepare(
      `SELECT m.*, (SELECT COUNT(*) FROM messages WHERE mailbox_id = m.id) AS messages
       FROM mailboxes m WHERE account_id = ? ORDER BY (name <> 'INBOX'), name`,
    )
    .all(accountId) as Array<MailboxRow & { messages: number }>;
}
