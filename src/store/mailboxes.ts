// Mailbox rows (RFC 3501 section 2.3.1.1): every box gets INBOX and the special-use folders of
// RFC 6154 at creation; they cannot be deleted later.
import { cachedStatement, type Db } from './database';
import { subscribeName } from './subscriptions';

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
  /** No longer read: subscriptions are kept by name (migration 011, subscriptions.ts). */
  subscribed: number;
}

/**
 * Id and UIDVALIDITY for a new mailbox row: above every id and UIDVALIDITY of live and retired
 * mailboxes (retired_mailbox_names, migration 002), the UIDVALIDITY at least the current time
 * in seconds. Call inside the transaction that inserts the row.
 */
export function nextMailboxIdentity(db: Db, now = Date.now()): { id: number; uidValidity: number } {
  const row = cachedStatement(
    db,
    `SELECT max(COALESCE((SELECT MAX(id) FROM mailboxes), 0),
                COALESCE((SELECT MAX(mailbox_id) FROM retired_mailbox_names), 0)) + 1 AS id,
            max(COALESCE((SELECT MAX(uidvalidity) FROM mailboxes), 0),
                COALESCE((SELECT MAX(uidvalidity) FROM retired_mailbox_names), 0)) + 1 AS uidValidity`,
  ).get() as { id: number; uidValidity: number };
  return { id: row.id, uidValidity: Math.max(row.uidValidity, Math.floor(now / 1000)) };
}

export function createMailbox(db: Db, accountId: number, name: string, specialUse: SpecialUse | null = null): number {
  const { id, uidValidity } = nextMailboxIdentity(db);
  cachedStatement(
    db,
    'INSERT INTO mailboxes (id, account_id, name, special_use, uidvalidity, created_at) VALUES (?, ?, ?, ?, ?, ?)',
  ).run(id, accountId, name, specialUse, uidValidity, Date.now());
  return id;
}

/**
 * INBOX plus Sent, Drafts and Trash, subscribed (clients that show only subscribed folders, such
 * as Thunderbird by default, must show them); call inside the transaction that creates the account.
 */
export function createDefaultMailboxes(
  db: Db,
  accountId: number,
  names: Record<SpecialUse, string> = DEFAULT_SPECIAL_FOLDERS,
): void {
  createMailbox(db, accountId, 'INBOX');
  subscribeName(db, accountId, 'INBOX');
  for (const use of Object.keys(names) as SpecialUse[]) {
    createMailbox(db, accountId, names[use], use);
    subscribeName(db, accountId, names[use]);
  }
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
