// The expunge history (RFC 7162) is trimmed, yet keeps what open sessions need and a bounded
// recent history: rows younger than keepDays always stay; beyond maxRows per mailbox the oldest go
// (daemon only: it knows its sessions); a session's view is never cut under.
import t from 'tap';
import type { Db } from '../../src/store/database';
import { expungedFloor, trimExpunged } from '../../src/store/expunged-history';
import { addAccount, addMailbox, count, DAY, freshDb } from '../jobs/fixtures';

const T0 = Date.parse('2026-06-01T03:30:00Z');

/** Expunges UIDs one by one, each with a new MODSEQ, as the store does. */
function expunge(db: Db, mailboxId: number, uids: number[]): void {
  for (const uid of uids) {
    const { highestmodseq } = db.prepare('UPDATE mailboxes SET highestmodseq = highestmodseq + 1 WHERE id = ? RETURNING highestmodseq').get(mailboxId) as { highestmodseq: number };
    db.prepare('INSERT INTO expunged (mailbox_id, uid, modseq) VALUES (?, ?, ?)').run(mailboxId, uid, highestmodseq);
  }
}

const remaining = (db: Db, mailboxId: number) =>
  (db.prepare('SELECT uid FROM expunged WHERE mailbox_id = ? ORDER BY uid').pluck().all(mailboxId) as number[]);

t.test('beyond maxRows the oldest go, but never under an open session', async (t) => {
  const db = freshDb(t);
  const account = addAccount(db, 'PER', 'a@exemple.fr');
  const a = addMailbox(db, account, 'A');
  const b = addMailbox(db, account, 'B');
  expunge(db, a, [1, 2, 3, 4, 5]);
  expunge(db, b, [1, 2, 3, 4, 5]);
  const baseA = (db.prepare('SELECT highestmodseq FROM mailboxes WHERE id = ?').pluck().get(a) as number) - 5;
  const baseB = (db.prepare('SELECT highestmodseq FROM mailboxes WHERE id = ?').pluck().get(b) as number) - 5;
  // A session has B selected and is synchronised up to B's second expunge.
  const report = await trimExpunged(db, { now: T0, keepDays: 30, maxRows: 2, inUse: new Map([[b, baseB + 2]]) });
  t.same(remaining(db, a), [4, 5], 'A keeps its two most recent rows');
  t.same(remaining(db, b), [3, 4, 5], 'B keeps what its open session has not seen yet');
  t.same(report, { rows: 5, mailboxes: 2 });
  t.equal(expungedFloor(db, a), baseA + 3, 'the trimmed range is recorded');
  t.equal(expungedFloor(db, b), baseB + 2);
});

t.test('from the CLI (sessions unknown) only rows older than keepDays go', async (t) => {
  const db = freshDb(t);
  const account = addAccount(db, 'PER', 'a@exemple.fr');
  const a = addMailbox(db, account, 'A');
  expunge(db, a, [1, 2, 3, 4, 5]);
  t.same(await trimExpunged(db, { now: T0, keepDays: 30, maxRows: 2 }), { rows: 0, mailboxes: 0 }, 'young rows stay, however many');
  expunge(db, a, [6, 7, 8]);
  t.same(await trimExpunged(db, { now: T0 + 10 * DAY, keepDays: 30, maxRows: 2 }), { rows: 0, mailboxes: 0 });
  // 31 days after the first run: what was expunged before it is older than 30 days.
  const report = await trimExpunged(db, { now: T0 + 31 * DAY, keepDays: 30, maxRows: 2 });
  t.same(remaining(db, a), [6, 7, 8]);
  t.equal(report.rows, 5);
  t.equal(count(db, 'SELECT COUNT(*) AS n FROM expunged_marks WHERE mailbox_id = ?', a) <= 3, true, 'old marks are pruned');
  // Deleting the mailbox takes its marks and floor along.
  db.prepare('DELETE FROM mailboxes WHERE id = ?').run(a);
  t.equal(count(db, 'SELECT COUNT(*) AS n FROM expunged_marks'), 0);
  t.equal(count(db, 'SELECT COUNT(*) AS n FROM expunged_floor'), 0);
});
