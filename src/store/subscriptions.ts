// Subscriptions of a person's own namespace, kept by name (migration 011; RFC 3501 sections
// 6.3.6, 6.3.7). A name stays subscribed when its mailbox is deleted or renamed (RFC 9051
// section 6.3.7: the server MUST NOT remove it unilaterally); LIST (SUBSCRIBED) then shows it
// \NonExistent (RFC 5258 section 3). ORG folders are not kept here: see imap-mailboxes.ts
// setMailboxSubscribed and shared_subscriptions (R6).
import { cachedStatement, type Db } from './database';

export function subscribeName(db: Db, accountId: number, name: string): void {
  cachedStatement(db, 'INSERT OR IGNORE INTO subscriptions (account_id, name) VALUES (?, ?)').run(accountId, name);
}

/** Returns whether the name was subscribed. */
export function unsubscribeName(db: Db, accountId: number, name: string): boolean {
  return cachedStatement(db, 'DELETE FROM subscriptions WHERE account_id = ? AND name = ?').run(accountId, name).changes > 0;
}

export function isNameSubscribed(db: Db, accountId: number, name: string): boolean {
  return cachedStatement(db, 'SELECT 1 FROM subscriptions WHERE account_id = ? AND name = ?').get(accountId, name) !== undefined;
}

export function subscribedNames(db: Db, accountId: number): Set<string> {
  const rows = cachedStatement(db, 'SELECT name FROM subscriptions WHERE account_id = ?').all(accountId) as Array<{ name: string }>;
  return new Set(rows.map((row) => row.name));
}
