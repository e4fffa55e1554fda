// The notices table (R9): merging a burst of receptions, due/postpone/sent, one opening notice and
// one digest per day, forgetting old ones.
import t from 'tap';
import { freshDb } from '../jobs/fixtures';
import {
  deleteOldNotices,
  dueNotices,
  hasDigestNotice,
  hasOpeningNotice,
  insertNotice,
  listNotices,
  markNoticeSent,
  nextNoticeDueAt,
  postponeNotice,
  queueReceptionNotice,
  type ReceptionPayload,
} from '../../src/store/notices';
import type { Db } from '../../src/store/database';

function account(db: Db, login: string): number {
  return Number(db.prepare(`INSERT INTO accounts (type, status, login, created_at, updated_at) VALUES ('PER', 'active', ?, 0, 0)`).run(login).lastInsertRowid);
}

t.test('receptions within the window make one notice; a due notice is never merged into', async (t) => {
  const db = freshDb(t);
  const alice = account(db, 'alice@exemple.fr');
  const input = { accountId: alice, recipient: 'alice@exemple.fr', box: 'alice@exemple.mssante.fr', windowMs: 60_000 };
  t.equal(queueReceptionNotice(db, { ...input, at: 1_000 }), 'queued');
  t.equal(queueReceptionNotice(db, { ...input, at: 2_000 }), 'merged');
  t.equal(queueReceptionNotice(db, { ...input, at: 60_999 }), 'merged', 'still before the notice is due');
  t.equal(queueReceptionNotice(db, { ...input, recipient: 'other@exemple.fr', at: 3_000 }), 'queued', 'one notice per recipient');
  const [first] = listNotices(db, { accountId: alice, kind: 'reception' }).filter((n) => n.recipient === 'alice@exemple.fr');
  t.same(first.payload, { box: 'alice@exemple.mssante.fr', count: 3, first: 1_000, last: 60_999 });
  t.equal(first.dueAt, 61_000);
  t.equal(nextNoticeDueAt(db), 61_000);
  t.same(dueNotices(db, 60_000, 10), []);
  t.same(dueNotices(db, 61_000, 10).map((n) => n.id), [first.id]);
  // The relay refused at 61 000: the postponed notice absorbs the receptions meanwhile.
  postponeNotice(db, first.id, 120_000);
  t.equal(queueReceptionNotice(db, { ...input, at: 70_000 }), 'merged');
  const again = listNotices(db, { accountId: alice }).find((n) => n.id === first.id)!;
  t.equal(again.attempts, 1);
  t.equal((again.payload as ReceptionPayload).count, 4);
  markNoticeSent(db, first.id, 121_000);
  t.notOk(dueNotices(db, 200_000, 10).some((n) => n.id === first.id), 'sent: never due again');
  t.equal(listNotices(db, { accountId: alice }).find((n) => n.id === first.id)!.attempts, 2);
  t.equal(queueReceptionNotice(db, { ...input, at: 121_000 }), 'queued', 'a sent notice takes nothing more');

  // A notice that is due may be on its way: a reception at that moment starts a new notice.
  const bob = { ...input, recipient: 'bob@exemple.fr' };
  t.equal(queueReceptionNotice(db, { ...bob, at: 200_000 }), 'queued');
  t.equal(queueReceptionNotice(db, { ...bob, at: 260_000 }), 'queued');
  t.same(listNotices(db, { accountId: alice }).filter((n) => n.recipient === 'bob@exemple.fr').map((n) => (n.payload as ReceptionPayload).count), [1, 1]);
});

t.test('one opening notice per message, one digest per box and day; old notices forgotten', async (t) => {
  const db = freshDb(t);
  const erin = account(db, 'erin@exemple.fr');
  t.notOk(hasOpeningNotice(db, erin, '<m@x>'));
  const id = insertNotice(db, { kind: 'opening', accountId: erin, recipient: 'erin@exemple.fr', payload: { box: 'e@x', messageId: '<m@x>', sentAt: 1, recipients: 2, openedAt: 2 }, at: 10 });
  t.ok(hasOpeningNotice(db, erin, '<m@x>'));
  t.notOk(hasOpeningNotice(db, erin, '<other@x>'));
  insertNotice(db, { kind: 'digest', accountId: erin, recipient: 'erin@exemple.fr', payload: { box: 'e@x', day: '2026-11-23', count: 0, since: 0, until: 10 }, at: 10 });
  t.ok(hasDigestNotice(db, erin, 'erin@exemple.fr', '2026-11-23'));
  t.notOk(hasDigestNotice(db, erin, 'erin@exemple.fr', '2026-11-24'));
  t.equal(deleteOldNotices(db, 1_000), 0, 'unsent notices are never forgotten');
  markNoticeSent(db, id, 20);
  t.equal(deleteOldNotices(db, 1_000), 1);
  t.equal(listNotices(db).length, 1);
});
