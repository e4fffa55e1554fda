// Notices (R9): the short emails that tell a person something arrived in a box (reception, daily
// digest) or that every local recipient opened their message (opening). They are rows of the
// `notices` table, written in the same transaction as what they announce, and sent later through
// notifications.smtp by src/delivery/notices.ts: a relay that is down delays them, never the
// delivery, and loses none. This module is the only SQL on `notices`.
//
// A payload is JSON that never holds health content: a box address, counts and times, a
// Message-ID. Never a subject, a sender, a body or an attachment name.
import { cachedStatement, type Db } from './database';

export type NoticeKind = 'reception' | 'opening' | 'digest';

/** A reception notice: `count` messages arrived in `box` between `first` and `last`. */
export interface ReceptionPayload {
  box: string;
  count: number;
  first: number;
  last: number;
}

/** The daily digest of a box: how many messages arrived in it between `since` and `until`. */
export interface DigestPayload {
  box: string;
  /** The local day it covers (YYYY-MM-DD in schedules.timezone): one digest per box and day. */
  day: string;
  count: number;
  since: number;
  until: number;
}

/** Every local recipient of the message the box sent at `sentAt` has opened it. */
export interface OpeningPayload {
  box: string;
  /** With angle brackets, as `mssd message status` shows it. */
  messageId: string;
  sentAt: number;
  recipients: number;
  openedAt: number;
}

export type NoticePayload = ReceptionPayload | DigestPayload | OpeningPayload;

export interface Notice {
  id: number;
  kind: NoticeKind;
  accountId: number | null;
  recipient: string;
  createdAt: number;
  dueAt: number;
  attempts: number;
  sentAt: number | null;
  payload: NoticePayload;
}

interface NoticeRow {
  id: number;
  kind: NoticeKind;
  account_id: number | null;
  recipient: string;
  created_at: number;
  due_at: number;
  attempts: number;
  sent_at: number | null;
  payload: string;
}

function toNotice(row: NoticeRow): Notice {
  return {
    id: row.id,
    kind: row.kind,
    accountId: row.account_id,
    recipient: row.recipient,
    createdAt: row.created_at,
    dueAt: row.due_at,
    attempts: row.attempts,
    sentAt: row.sent_at,
    payload: JSON.parse(row.payload) as NoticePayload,
  };
}

export interface NewNotice {
  kind: NoticeKind;
  accountId: number;
  recipient: string;
  payload: NoticePayload;
  at: number;
  dueAt?: number;
}

export function insertNotice(db: Db, notice: NewNotice): number {
  const result = cachedStatement(
    db,
    `INSERT INTO notices (kind, account_id, recipient, created_at, due_at, payload) VALUES (?, ?, ?, ?, ?, ?)`,
  ).run(notice.kind, notice.accountId, notice.recipient, notice.at, notice.dueAt ?? notice.at, JSON.stringify(notice.payload));
  return Number(result.lastInsertRowid);
}

/**
 * A reception in `box` for `recipient`: merged into the notice already waiting for them about this
 * box, or a new notice due `windowMs` later, so that a burst of deliveries makes one notice.
 *
 * Only a notice not yet due is merged into: the sender takes a notice once it is due and moves its
 * due time on only after the attempt, so a notice whose due time is still ahead is never being sent
 * at that moment, and the reception it absorbs is announced by it. A notice the relay keeps
 * refusing (due again later) keeps absorbing receptions: a relay that is down yields one notice,
 * not one per message.
 */
export function queueReceptionNotice(
  db: Db,
  input: { accountId: number; recipient: string; box: string; at: number; windowMs: number },
): 'merged' | 'queued' {
  const pending = cachedStatement(
    db,
    `SELECT id, payload FROM notices
     WHERE account_id = ? AND kind = 'reception' AND recipient = ? AND sent_at IS NULL AND due_at > ?
     ORDER BY id DESC LIMIT 1`,
  ).get(input.accountId, input.recipient, input.at) as { id: number; payload: string } | undefined;
  if (pending) {
    const payload = JSON.parse(pending.payload) as ReceptionPayload;
    const merged: ReceptionPayload = {
      box: payload.box,
      count: payload.count + 1,
      first: Math.min(payload.first, input.at),
      last: Math.max(payload.last, input.at),
    };
    cachedStatement(db, 'UPDATE notices SET payload = ? WHERE id = ?').run(JSON.stringify(merged), pending.id);
    return 'merged';
  }
  insertNotice(db, {
    kind: 'reception',
    accountId: input.accountId,
    recipient: input.recipient,
    payload: { box: input.box, count: 1, first: input.at, last: input.at },
    at: input.at,
    dueAt: input.at + input.windowMs,
  });
  return 'queued';
}

/** Whether the opening notice of a message was already queued for this box (it is sent once). */
export function hasOpeningNotice(db: Db, accountId: number, messageId: string): boolean {
  return (
    cachedStatement(
      db,
      `SELECT 1 FROM notices WHERE account_id = ? AND kind = 'opening' AND json_extract(payload, '$.messageId') = ? LIMIT 1`,
    ).get(accountId, messageId) !== undefined
  );
}

/** Whether the digest of `day` was already queued for this box and recipient. */
export function hasDigestNotice(db: Db, accountId: number, recipient: string, day: string): boolean {
  return (
    cachedStatement(
      db,
      `SELECT 1 FROM notices WHERE account_id = ? AND kind = 'digest' AND recipient = ? AND json_extract(payload, '$.day') = ? LIMIT 1`,
    ).get(accountId, recipient, day) !== undefined
  );
}

/** Unsent notices due at `now`, oldest due first, leaving out the ids in `skip`. */
export function dueNotices(db: Db, now: number, limit: number, skip: ReadonlySet<number> = new Set()): Notice[] {
  const rows = cachedStatement(
    db,
    `SELECT id, kind, account_id, recipient, created_at, due_at, attempts, sent_at, payload FROM notices
     WHERE sent_at IS NULL AND due_at <= ? ORDER BY due_at, id LIMIT ?`,
  ).all(now, limit + skip.size) as NoticeRow[];
  return rows.filter((row) => !skip.has(row.id)).slice(0, limit).map(toNotice);
}

/** When the next unsent notice is due, or null when none is waiting. */
export function nextNoticeDueAt(db: Db): number | null {
  const row = cachedStatement(db, 'SELECT MIN(due_at) AS due FROM notices WHERE sent_at IS NULL').get() as { due: number | null };
  return row.due;
}

/** The relay accepted the notice (or refused it for good: see the sender). */
export function markNoticeSent(db: Db, id: number, at: number): void {
  cachedStatement(db, 'UPDATE notices SET sent_at = ?, attempts = attempts + 1 WHERE id = ? AND sent_at IS NULL').run(at, id);
}

/** One more failed attempt; the notice is due again at `dueAt`. */
export function postponeNotice(db: Db, id: number, dueAt: number): void {
  cachedStatement(db, 'UPDATE notices SET attempts = attempts + 1, due_at = ? WHERE id = ? AND sent_at IS NULL').run(dueAt, id);
}

/** Notices of a box (newest first), for the operator and the tests. */
export function listNotices(db: Db, filter: { accountId?: number; kind?: NoticeKind; unsentOnly?: boolean } = {}): Notice[] {
  const where: string[] = [];
  const params: Array<number | string> = [];
  if (filter.accountId !== undefined) {
    where.push('account_id = ?');
    params.push(filter.accountId);
  }
  if (filter.kind !== undefined) {
    where.push('kind = ?');
    params.push(filter.kind);
  }
  if (filter.unsentOnly) where.push('sent_at IS NULL');
  const rows = db
    .prepare(
      `SELECT id, kind, account_id, recipient, created_at, due_at, attempts, sent_at, payload FROM notices
       ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC`,
    )
    .all(...params) as NoticeRow[];
  return rows.map(toNotice);
}

/**
 * Forgets notices sent before `before`. The caller keeps them as long as the messages they are
 * about (retention.days): an opening notice is the proof that the opening was announced once.
 */
export function deleteOldNotices(db: Db, before: number): number {
  return cachedStatement(db, 'DELETE FROM notices WHERE sent_at IS NOT NULL AND sent_at < ?').run(before).changes;
}

// For GET /metrics (src/web/admin/metrics.ts).
/** Notices (R9) not yet accepted by the notification relay. */
export function pendingNoticeCount(db: Db): number {
  return (cachedStatement(db, 'SELECT COUNT(*) AS n FROM notices WHERE sent_at IS NULL').get() as { n: number }).n;
}
