// What a box uses against its QUOTA (RFC 9208): the octets and messages of all its folders,
// from the counters its mailbox rows keep (migration 018).
import type { QuotaUsage } from '../policy/quota';
import { cachedStatement, type Db } from './database';

export function boxUsage(db: Db, accountId: number): QuotaUsage {
  return cachedStatement(
    db,
    `SELECT COALESCE(SUM(message_octets), 0) AS bytes, COALESCE(SUM(message_count), 0) AS messages
     FROM mailboxes WHERE account_id = ?`,
  ).get(accountId) as QuotaUsage;
}

/** The box (account) a mailbox belongs to, or null when it is gone. */
export function mailboxOwner(db: Db, mailboxId: number): number | null {
  const row = cachedStatement(db, 'SELECT account_id FROM mailboxes WHERE id = ?').get(mailboxId) as { account_id: number } | undefined;
  return row?.account_id ?? null;
}

/** Octets and count of some messages of a mailbox (what a COPY or MOVE would add elsewhere). */
export function messagesUsage(db: Db, mailboxId: number, uids: readonly number[]): QuotaUsage {
  return cachedStatement(
    db,
    `SELECT COALESCE(SUM(size), 0) AS bytes, COUNT(*) AS messages FROM messages
     WHERE mailbox_id = ? AND uid IN (SELECT value FROM json_each(?))`,
  ).get(mailboxId, JSON.stringify(uids)) as QuotaUsage;
}
