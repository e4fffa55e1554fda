// Housekeeping of the `expunged` table (RFC 7162): every expunge leaves a row (mailbox, UID,
// MODSEQ) so that other sessions learn of it and, with QRESYNC, a client that comes back can be
// told which UIDs vanished since the MODSEQ it knew (`VANISHED (EARLIER)`, section 3.2.5.2).
// Without trimming, the table grows by one row per message ever deleted.
//
// What is kept, per mailbox:
//   - every row an open IMAP session of the daemon still needs: rows above the MODSEQ its view of
//     the mailbox is synchronised to (`inUse`);
//   - the rows of the last `keepDays` days (dated through expunged_marks, see migration 007);
//   - at most `maxRows` rows beyond that, the most recent ones.
// The highest trimmed MODSEQ is recorded in expunged_floor: a resynchronisation from at or below
// it cannot be answered exactly from this table (a QRESYNC implementation falls back on the UIDs
// still present, as RFC 7162 section 3.2.5.2 allows).
import { cachedStatement, type Db } from './database';

const DAY_MS = 86_400_000;

export interface ExpungedTrimOptions {
  now: number;
  /** Rows younger than this are always kept. */
  keepDays: number;
  /** Beyond the young rows and the rows in use, at most this many rows per mailbox are kept. */
  maxRows: number;
  /**
   * Per mailbox, the lowest MODSEQ an open session's view is synchronised to: rows above it are
   * kept whatever their age. Undefined (the CLI: it cannot see the daemon's sessions) keeps only
   * the time bound, which sessions never outlive (a session resynchronises at every command and
   * at every wake-up in IDLE).
   */
  inUse?: ReadonlyMap<number, number>;
  /** Rows deleted per transaction. */
  batchSize?: number;
  /** Called between transactions (pacing, abort checks). */
  onBatch?: () => void | Promise<void>;
}

export interface ExpungedTrimReport {
  rows: number;
  mailboxes: number;
}

/** Trims `expunged` as described above; returns how many rows went. */
export async function trimExpunged(db: Db, options: ExpungedTrimOptions): Promise<ExpungedTrimReport> {
  const batchSize = options.batchSize ?? 500;
  const timeCutoff = options.now - options.keepDays * DAY_MS;
  // Date today's rows: a mark per mailbox that has expunge history.
  db.prepare(
    `INSERT OR IGNORE INTO expunged_marks (mailbox_id, at, modseq)
     SELECT id, ?, highestmodseq FROM mailboxes WHERE id IN (SELECT DISTINCT mailbox_id FROM expunged)`,
  ).run(options.now);

  const mailboxes = db.prepare('SELECT DISTINCT mailbox_id AS id FROM expunged').pluck().all() as number[];
  const markBefore = db.prepare('SELECT MAX(modseq) FROM expunged_marks WHERE mailbox_id = ? AND at <= ?').pluck();
  const nthNewest = db.prepare('SELECT modseq FROM expunged WHERE mailbox_id = ? ORDER BY modseq DESC LIMIT 1 OFFSET ?').pluck();
  const deleteSome = db.prepare(
    `DELETE FROM expunged WHERE rowid IN (SELECT rowid FROM expunged WHERE mailbox_id = ? AND modseq <= ? LIMIT ?)`,
  );
  const raiseFloor = db.prepare(
    `INSERT INTO expunged_floor (mailbox_id, modseq) VALUES (?, ?)
     ON CONFLICT(mailbox_id) DO UPDATE SET modseq = max(modseq, excluded.modseq)`,
  );
  const report: ExpungedTrimReport = { rows: 0, mailboxes: 0 };
  let looked = 0;
  for (const mailboxId of mailboxes) {
    if (++looked % 200 === 0) await options.onBatch?.(); // many mailboxes: let SMTP and IMAP in
    // Everything at or below `cut` goes: old enough, or beyond the most recent maxRows…
    const old = (markBefore.get(mailboxId, timeCutoff) as number | null) ?? 0;
    const beyond = (nthNewest.get(mailboxId, options.maxRows) as number | undefined) ?? 0;
    let cut = Math.max(old, options.inUse ? beyond : 0);
    // …but never a row an open session still needs.
    const needed = options.inUse?.get(mailboxId);
    if (needed !== undefined) cut = Math.min(cut, needed);
    if (cut <= 0) continue;
    let deleted = 0;
    for (;;) {
      const changes = db.transaction(() => {
        const n = deleteSome.run(mailboxId, cut, batchSize).changes;
        if (n > 0) raiseFloor.run(mailboxId, cut);
        return n;
      }).immediate();
      deleted += changes;
      if (changes < batchSize) break;
      await options.onBatch?.();
    }
    if (deleted > 0) {
      report.rows += deleted;
      report.mailboxes++;
    }
  }
  // Marks older than the kept history are no longer needed, except the newest of them.
  db.prepare(
    `DELETE FROM expunged_marks WHERE at < ? AND at < (SELECT MAX(at) FROM expunged_marks m WHERE m.mailbox_id = expunged_marks.mailbox_id AND m.at <= ?)`,
  ).run(timeCutoff, timeCutoff);
  return report;
}

/** The highest MODSEQ whose expunges were trimmed from a mailbox (0: its history is whole). */
export function expungedFloor(db: Db, mailboxId: number): number {
  const row = cachedStatement(db, 'SELECT modseq FROM expunged_floor WHERE mailbox_id = ?').get(mailboxId) as { modseq: number } | undefined;
  return row?.modseq ?? 0;
}
