// Writing messages into mailboxes. Bodies are stored once by SHA-256 with a reference count
// (one reference per message row or queue entry that holds them); UIDs and MODSEQs follow
// RFC 3501 section 2.3.1.1 (strictly increasing, never reused) and RFC 7162 section 3.
import { createHash } from 'node:crypto';
import type { MimePart } from '../mime';
import { cachedStatement, type Db } from './database';
import { markForIndexing } from './search-index';

/** System flags as stored in messages.flags (a bit mask). */
export const FLAG_BITS = {
  '\\Seen': 1,
  '\\Answered': 2,
  '\\Flagged': 4,
  '\\Deleted': 8,
  '\\Draft': 16,
} as const;

export function bodyHash(raw: Buffer): string {
  return createHash('sha256').update(raw).digest('hex');
}

/**
 * Adds `references` references to a body, inserting it the first time it is seen. A body stored
 * for mailbox messages comes with its parsed structure and is listed for the SEARCH index in the
 * same transaction (search-index.ts markForIndexing; the background indexer indexes it shortly
 * after); a body only queued for relay does not need it.
 */
export function retainBody(db: Db, hash: string, raw: Buffer, references: number, now: number, structure?: MimePart): void {
  cachedStatement(
    db,
    `INSERT INTO bodies (hash, size, refcount, content, created_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT(hash) DO UPDATE SET refcount = refcount + excluded.refcount`,
  ).run(hash, raw.length, references, raw, now);
  if (structure) markForIndexing(db, hash, now);
}

/** Drops one reference; a body nobody references any more is deleted at once. */
export function releaseBody(db: Db, hash: string): void {
  cachedStatement(db, 'UPDATE bodies SET refcount = refcount - 1 WHERE hash = ?').run(hash);
  cachedStatement(db, 'DELETE FROM bodies WHERE hash = ? AND refcount <= 0').run(hash);
}

export function readBody(db: Db, hash: string): Buffer | undefined {
  const row = cachedStatement(db, 'SELECT content FROM bodies WHERE hash = ?').get(hash) as { content: Buffer } | undefined;
  return row?.content;
}

/**
 * The first `length` octets of a stored body (a message's header block, FETCH BODY[HEADER...]):
 * SQLite cuts them, so the rest of the body is never copied into the process.
 */
export function readBodyPrefix(db: Db, hash: string, length: number): Buffer | undefined {
  const row = cachedStatement(db, 'SELECT substr(content, 1, ?) AS prefix FROM bodies WHERE hash = ?').get(length, hash) as { prefix: Buffer } | undefined;
  return row?.prefix;
}

export interface NewMessage {
  mailboxId: number;
  bodyHash: string;
  size: number;
  internalDate: number;
  arrivedAt: number;
  flags?: number;
  keywords?: string[];
  deliveryId?: number | null;
  messageId?: string | null;
  trashOrigin?: string | null;
  envelope: string;
  structure: string;
}

export interface AppendedMessage {
  mailboxId: number;
  uid: number;
  modseq: number;
}

/**
 * Appends a message to a mailbox: takes the mailbox's UIDNEXT and the next MODSEQ and advances
 * both. The caller holds a transaction and has already retained the body for this row.
 */
export function appendMessage(db: Db, message: NewMessage): AppendedMessage {
  const slot = cachedStatement(
      db,
      `UPDATE mailboxes SET uidnext = uidnext + 1, highestmodseq = highestmodseq + 1
       WHERE id = ? RETURNING uidnext - 1 AS uid, highestmodseq AS modseq`,
    )
    .get(message.mailboxId) as { uid: number; modseq: number } | undefined;
  if (!slot) throw new Error(`mailbox ${message.mailboxId} does not exist`);
  cachedStatement(
    db,
    `INSERT INTO messages (mailbox_id, uid, modseq, flags, keywords, internal_date, arrived_at, size,
       body_hash, delivery_id, message_id, trash_origin, envelope, structure)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    message.mailboxId,
    slot.uid,
    slot.modseq,
    message.flags ?? 0,
    (message.keywords ?? []).join(' '),
    message.internalDate,
    message.arrivedAt,
    message.size,
    message.bodyHash,
    message.deliveryId ?? null,
    message.messageId ?? null,
    message.trashOrigin ?? null,
    message.envelope,
    message.structure,
  );
  return { mailboxId: message.mailboxId, uid: slot.uid, modseq: slot.modseq };
}

export function inboxOf(db: Db, accountId: number): number {
  const row = cachedStatement(db, `SELECT id FROM mailboxes WHERE account_id = ? AND name = 'INBOX'`).get(accountId) as
    | { id: number }
    | undefined;
  if (!row) throw new Error(`account ${accountId} has no INBOX`);
  return row.id;
}

export interface DeliveryRecord {
  queueId: string;
  source: 'mta' | 'submission' | 'internal';
  receivedAt: number;
  peerAddress: string | null;
  helo: string | null;
  tlsProtocol: string | null;
  clientDn: string | null;
  authLogin: string | null;
  mailFrom: string;
  envid: string | null;
  ret: 'FULL' | 'HDRS' | null;
  messageId: string | null;
  size: number;
}

export function insertDelivery(db: Db, delivery: DeliveryRecord): number {
  const result = cachedStatement(
      db,
      `INSERT INTO deliveries (queue_id, source, received_at, peer_address, helo, tls_protocol, client_dn,
         auth_login, mail_from, envid, ret, message_id, size)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      delivery.queueId,
      delivery.source,
      delivery.receivedAt,
      delivery.peerAddress,
      delivery.helo,
      delivery.tlsProtocol,
      delivery.clientDn,
      delivery.authLogin,
      delivery.mailFrom,
      delivery.envid,
      delivery.ret,
      delivery.messageId,
      delivery.size,
    );
  return Number(result.lastInsertRowid);
}

export interface DeliveryRecipientRecord {
  address: string;
  orcpt: string | null;
  notify: string | null;
  accountId: number | null;
  outcome: 'delivered' | 'queued';
}

export function insertDeliveryRecipient(db: Db, deliveryId: number, recipient: DeliveryRecipientRecord): void {
  cachedStatement(
    db,
    `INSERT OR IGNORE INTO delivery_recipients (delivery_id, address, orcpt, notify, account_id, outcome)
     VALUES (?, ?, ?, ?, ?, ?)`,
  ).run(deliveryId, recipient.address, recipient.orcpt, recipient.notify, recipient.accountId, recipient.outcome);
}

/** Records that the DSN a recipient asked for was sent (RFC 3461: at most one per recipient). */
export function markDsnSent(db: Db, deliveryId: number, address: string): void {
  cachedStatement(db, 'UPDATE delivery_recipients SET dsn_sent = 1 WHERE delivery_id = ? AND address = ?').run(deliveryId, address);
}

/** The final outcome of a relayed recipient ('relayed' or 'failed'), for `mssd message status`. */
export function setDeliveryRecipientOutcome(db: Db, deliveryId: number, address: string, outcome: 'relayed' | 'failed', dsnSent: boolean): void {
  cachedStatement(db, 'UPDATE delivery_recipients SET outcome = ?, dsn_sent = max(dsn_sent, ?) WHERE delivery_id = ? AND address = ?').run(
    outcome,
    dsnSent ? 1 : 0,
    deliveryId,
    address,
  );
}
