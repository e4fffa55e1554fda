// The outbound queue (remote deliveries, forwards, automatic replies, DSNs, notices): entries are
// committed before SMTP answers 250 (R14) and worked through with retries by the relay. This module
// is the only SQL on outbound_queue / outbound_recipients; the operator inspects it through
// `mssd queue list|show|retry|delete`.
import { domainOf } from '../policy/identity';
import { cachedStatement, type Db } from './database';
import { bodyHash as hashOf, releaseBody, retainBody } from './messages';

export type QueueKind = 'relay' | 'forward' | 'autoreply' | 'dsn' | 'notice';
export type QueueRecipientStatus = 'pending' | 'sent' | 'failed';

export interface QueueRecipientInput {
  address: string;
  /** RFC 3461 ORCPT and NOTIFY parameters, carried over from the inbound transaction. */
  orcpt?: string | null;
  notify?: string | null;
}

export interface EnqueueInput {
  kind: QueueKind;
  /** Reverse-path; '' for the null sender (DSNs, RFC 5321 section 4.5.5). */
  mailFrom: string;
  recipients: QueueRecipientInput[];
  /**
   * A body already stored (its hash) or a new one (its bytes, and its hash when the caller has
   * computed it already): either way it gains one reference.
   */
  body: { hash: string } | { content: Buffer; hash?: string };
  /** The id the entry is known by (src/util/queue-id.ts newQueueId for new transactions). */
  queueId: string;
  deliveryId?: number | null;
  senderAccountId?: number | null;
  envid?: string | null;
  ret?: 'FULL' | 'HDRS' | null;
  /** Defaults to now: a new entry is due at once. */
  nextAttemptAt?: number;
  now?: number;
}

export interface QueueRecipient {
  address: string;
  domain: string;
  status: QueueRecipientStatus;
  orcpt: string | null;
  notify: string | null;
  lastReply: string | null;
  updatedAt: number;
}

export interface QueueEntry {
  queueId: string;
  kind: QueueKind;
  status: 'queued' | 'done';
  mailFrom: string;
  senderAccountId: number | null;
  deliveryId: number | null;
  envid: string | null;
  ret: string | null;
  bodyHash: string;
  size: number;
  createdAt: number;
  nextAttemptAt: number;
  attempts: number;
  recipients: QueueRecipient[];
}

function recipientDomain(address: string): string {
  if (!address.includes('@')) throw new Error(`not an email address: ${address}`);
  return domainOf(address);
}

/**
 * Adds an entry, its recipients and one reference on its body, in one transaction (R14: the
 * caller commits this before acknowledging). Returns the entry's queue id.
 */
export function enqueueOutbound(db: Db, input: EnqueueInput): string {
  if (input.recipients.length === 0) throw new Error('an outbound entry needs at least one recipient');
  const now = input.now ?? Date.now();
  const queueId = input.queueId;
  const recipientDomains = input.recipients.map((rcpt) => recipientDomain(rcpt.address));
  db.transaction(() => {
    let bodyHash: string;
    if ('content' in input.body) {
      bodyHash = input.body.hash ?? hashOf(input.body.content);
      retainBody(db, bodyHash, input.body.content, 1, now);
    } else {
      bodyHash = input.body.hash;
      const updated = cachedStatement(db, 'UPDATE bodies SET refcount = refcount + 1 WHERE hash = ?').run(bodyHash);
      if (updated.changes !== 1) throw new Error(`no stored body ${bodyHash}`);
    }
    const row = cachedStatement(
      db,
      `INSERT INTO outbound_queue (queue_id, kind, delivery_id, sender_account_id, body_hash, mail_from,
         envid, ret, created_at, next_attempt_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
        queueId,
        input.kind,
        input.deliveryId ?? null,
        input.senderAccountId ?? null,
        bodyHash,
        input.mailFrom,
        input.envid ?? null,
        input.ret ?? null,
        now,
        input.nextAttemptAt ?? now,
      );
    const addRecipient = cachedStatement(
      db,
      `INSERT INTO outbound_recipients (queue_row_id, address, domain, orcpt, notify, updated_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
    );
    input.recipients.forEach((rcpt, i) =>
      addRecipient.run(row.lastInsertRowid, rcpt.address, recipientDomains[i], rcpt.orcpt ?? null, rcpt.notify ?? null, now),
    );
  })();
  return queueId;
}

interface QueueRow {
  id: number;
  queue_id: string;
  kind: QueueKind;
  status: 'queued' | 'done';
  mail_from: string;
  sender_account_id: number | null;
  delivery_id: number | null;
  envid: string | null;
  ret: string | null;
  body_hash: string;
  size: number;
  created_at: number;
  next_attempt_at: number;
  attempts: number;
}

const ENTRY_COLUMNS = `q.id, q.queue_id, q.kind, q.status, q.mail_from, q.sender_account_id, q.delivery_id,
  q.envid, q.ret, q.body_hash, b.size, q.created_at, q.next_attempt_at, q.attempts`;

function recipientsOf(db: Db, rowId: number): QueueRecipient[] {
  return db
    .prepare(
      `SELECT address, domain, status, orcpt, notify, last_reply AS lastReply, updated_at AS updatedAt
       FROM outbound_recipients WHERE queue_row_id = ? ORDER BY address`,
    )
    .all(rowId) as QueueRecipient[];
}

function toEntry(db: Db, row: QueueRow): QueueEntry {
  return {
    queueId: row.queue_id,
    kind: row.kind,
    status: row.status,
    mailFrom: row.mail_from,
    senderAccountId: row.sender_account_id,
    deliveryId: row.delivery_id,
    envid: row.envid,
    ret: row.ret,
    bodyHash: row.body_hash,
    size: row.size,
    createdAt: row.created_at,
    nextAttemptAt: row.next_attempt_at,
    attempts: row.attempts,
    recipients: recipientsOf(db, row.id),
  };
}

/** Entries still to be worked (status 'queued'), the next due first. */
export function listQueued(db: Db): QueueEntry[] {
  const rows = db
    .prepare(
      `SELECT ${ENTRY_COLUMNS} FROM outbound_queue q JOIN bodies b ON b.hash = q.body_hash
       WHERE q.status = 'queued' ORDER BY q.next_attempt_at, q.id`,
    )
    .all() as QueueRow[];
  return rows.map((row) => toEntry(db, row));
}

/** One entry, queued or done; undefined when the id is unknown. */
export function findQueueEntry(db: Db, queueId: string): QueueEntry | undefined {
  const row = db
    .prepare(`SELECT ${ENTRY_COLUMNS} FROM outbound_queue q JOIN bodies b ON b.hash = q.body_hash WHERE q.queue_id = ?`)
    .get(queueId) as QueueRow | undefined;
  return row && toEntry(db, row);
}

export type RetryOutcome = 'due' | 'unknown' | 'done';

/** Makes a queued entry due at `now`, so the relay picks it up on its next pass. */
export function retryQueueEntry(db: Db, queueId: string, now = Date.now()): RetryOutcome {
  const row = db.prepare('SELECT status FROM outbound_queue WHERE queue_id = ?').get(queueId) as
    | { status: 'queued' | 'done' }
    | undefined;
  if (!row) return 'unknown';
  if (row.status === 'done') return 'done';
  db.prepare(`UPDATE outbound_queue SET next_attempt_at = ? WHERE queue_id = ? AND status = 'queued'`).run(now, queueId);
  return 'due';
}

/**
 * Removes an entry (its recipients go with it, ON DELETE CASCADE) and releases its body: one
 * reference fewer, and the body itself is deleted once nothing refers to it, all in one
 * transaction. Returns false when the id is unknown.
 */
export function deleteQueueEntry(db: Db, queueId: string): boolean {
  return db.transaction(() => {
    const row = db.prepare('SELECT id, body_hash FROM outbound_queue WHERE queue_id = ?').get(queueId) as
      | { id: number; body_hash: string }
      | undefined;
    if (!row) return false;
    db.prepare('DELETE FROM outbound_queue WHERE id = ?').run(row.id);
    releaseBody(db, row.body_hash);
    return true;
  }).immediate();
}

// ---------------------------------------------------------------------------------------------
// The relay worker's side (src/delivery/outbound.ts). Each recipient moves from 'pending' to
// 'sent' (the peer answered 250 to DATA for it) or 'failed' (a permanent refusal, or too old);
// 'sent' is written right after the peer's 250, so a recipient the peer accepted is never sent
// to again. An entry whose recipients are all final is removed with its body reference: what
// happened stays in the audit trail, delivery_recipients and the log.

/** A queued entry as the worker needs it: its row id and the recipients still pending. */
export interface WorkEntry {
  rowId: number;
  queueId: string;
  kind: QueueKind;
  mailFrom: string;
  senderAccountId: number | null;
  deliveryId: number | null;
  envid: string | null;
  ret: 'FULL' | 'HDRS' | null;
  bodyHash: string;
  createdAt: number;
  nextAttemptAt: number;
  attempts: number;
  pending: QueueRecipient[];
}

interface WorkRow {
  id: number;
  queue_id: string;
  kind: QueueKind;
  mail_from: string;
  sender_account_id: number | null;
  delivery_id: number | null;
  envid: string | null;
  ret: string | null;
  body_hash: string;
  created_at: number;
  next_attempt_at: number;
  attempts: number;
}

/**
 * Queued entries due at `now` (next_attempt_at reached), the oldest due first, at most `limit`,
 * leaving out the row ids in `skip` (those the worker is already sending).
 */
export function dueQueueEntries(db: Db, now: number, limit: number, skip: ReadonlySet<number> = new Set()): WorkEntry[] {
  const rows = cachedStatement(
    db,
    `SELECT id, queue_id, kind, mail_from, sender_account_id, delivery_id, envid, ret, body_hash, created_at,
            next_attempt_at, attempts
     FROM outbound_queue WHERE status = 'queued' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?`,
  ).all(now, limit + skip.size) as WorkRow[];
  const pendingOf = cachedStatement(
    db,
    `SELECT address, domain, status, orcpt, notify, last_reply AS lastReply, updated_at AS updatedAt
     FROM outbound_recipients WHERE queue_row_id = ? AND status = 'pending' ORDER BY domain, address`,
  );
  const entries: WorkEntry[] = [];
  for (const row of rows) {
    if (skip.has(row.id)) continue;
    if (entries.length >= limit) break;
    entries.push({
      rowId: row.id,
      queueId: row.queue_id,
      kind: row.kind,
      mailFrom: row.mail_from,
      senderAccountId: row.sender_account_id,
      deliveryId: row.delivery_id,
      envid: row.envid,
      ret: row.ret === 'FULL' || row.ret === 'HDRS' ? row.ret : null,
      bodyHash: row.body_hash,
      createdAt: row.created_at,
      nextAttemptAt: row.next_attempt_at,
      attempts: row.attempts,
      pending: pendingOf.all(row.id) as QueueRecipient[],
    });
  }
  return entries;
}

/** When the next queued entry (other than those in `skip`) is due, or null when there is none. */
export function nextQueueDueAt(db: Db, skip: ReadonlySet<number> = new Set()): number | null {
  const rows = cachedStatement(
    db,
    `SELECT id, next_attempt_at AS due FROM outbound_queue WHERE status = 'queued' ORDER BY next_attempt_at, id LIMIT ?`,
  ).all(skip.size + 1) as Array<{ id: number; due: number }>;
  return rows.find((row) => !skip.has(row.id))?.due ?? null;
}

/** Marks recipients the peer accepted (250 after DATA) as sent, with the peer's reply. */
export function markQueueRecipientsSent(db: Db, rowId: number, addresses: readonly string[], reply: string, now = Date.now()): void {
  const update = cachedStatement(
    db,
    `UPDATE outbound_recipients SET status = 'sent', last_reply = ?, updated_at = ?
     WHERE queue_row_id = ? AND address = ? AND status = 'pending'`,
  );
  for (const address of addresses) update.run(reply, now, rowId, address);
}

export interface RecipientUpdate {
  address: string;
  status: 'pending' | 'failed';
  reply: string;
}

/**
 * Records one attempt: the recipients' new status and last reply, one more attempt, and when the
 * entry is next due.
 */
export function recordQueueAttempt(db: Db, rowId: number, updates: readonly RecipientUpdate[], nextAttemptAt: number, now = Date.now()): void {
  const update = cachedStatement(
    db,
    `UPDATE outbound_recipients SET status = ?, last_reply = ?, updated_at = ?
     WHERE queue_row_id = ? AND address = ? AND status = 'pending'`,
  );
  for (const rcpt of updates) update.run(rcpt.status, rcpt.reply.slice(0, 1000), now, rowId, rcpt.address);
  cachedStatement(db, 'UPDATE outbound_queue SET attempts = attempts + 1, next_attempt_at = ? WHERE id = ?').run(nextAttemptAt, rowId);
}

/** Pending recipients left on an entry. */
export function pendingRecipientCount(db: Db, rowId: number): number {
  const row = cachedStatement(db, `SELECT COUNT(*) AS n FROM outbound_recipients WHERE queue_row_id = ? AND status = 'pending'`).get(rowId) as { n: number };
  return row.n;
}

/** Removes a finished entry (every recipient sent or failed) and releases its body. */
export function completeQueueEntry(db: Db, rowId: number): void {
  const row = cachedStatement(db, 'SELECT body_hash FROM outbound_queue WHERE id = ?').get(rowId) as { body_hash: string } | undefined;
  if (!row) return;
  cachedStatement(db, 'DELETE FROM outbound_queue WHERE id = ?').run(rowId);
  releaseBody(db, row.body_hash);
}

// For GET /metrics (src/web/admin/metrics.ts).
export interface QueueStats {
  /** Entries waiting for (another) relay attempt. */
  messages: number;
  /** created_at of the oldest waiting entry (null when the queue is empty). */
  oldestCreatedAt: number | null;
}

export function queueStats(db: Db): QueueStats {
  const row = cachedStatement(db, `SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM outbound_queue WHERE status = 'queued'`).get() as {
    n: number;
    oldest: number | null;
  };
  return { messages: row.n, oldestCreatedAt: row.oldest };
}
