// Migration 018: each mailbox row counts its messages and their octets, kept by triggers, and
// QUOTA (boxUsage) and STATUS SIZE (mailboxSize) read those counters. Whatever adds or removes
// messages (APPEND, COPY, MOVE, EXPUNGE, the purge's plain DELETE, deleting a folder), the
// counters must say exactly what a count of the rows says: a quota that drifts refuses mail
// that fits, or lets a box grow past its limit.
import t from 'tap';
import { migrate, type Db } from '../../src/store/database';
import { appendToMailbox, copyMessages, expungeMessages, moveMessages, storeFlags } from '../../src/store/imap-messages';
import { createUserMailbox, deleteUserMailbox, mailboxSize } from '../../src/store/imap-mailboxes';
import { boxUsage } from '../../src/store/quota';
import { freshWorld, mailboxId, rawMessage } from './imap-fixtures';
import { OLD_ACCOUNT, storeMigratedTo } from './migration-fixtures';

/** What the rows say: the octets and count of every message of the account's mailboxes. */
function counted(db: Db, accountId: number): { bytes: number; messages: number } {
  return db
    .prepare(
      `SELECT COALESCE(SUM(size), 0) AS bytes, COUNT(*) AS messages FROM messages
       WHERE mailbox_id IN (SELECT id FROM mailboxes WHERE account_id = ?)`,
    )
    .get(accountId) as { bytes: number; messages: number };
}

function octetsOf(db: Db, mailbox: number): number {
  return (db.prepare('SELECT COALESCE(SUM(size), 0) AS n FROM messages WHERE mailbox_id = ?').get(mailbox) as { n: number }).n;
}

t.test('the counters follow every way messages come and go', async (t) => {
  const { db, jean } = freshWorld(t);
  const inbox = mailboxId(db, jean, 'INBOX');
  const archive = createUserMailbox(db, jean, 'Archives').mailboxId;
  t.same(boxUsage(db, jean), { bytes: 0, messages: 0 }, 'an empty box uses nothing');

  for (let i = 0; i < 6; i++) appendToMailbox(db, inbox, rawMessage(`Bilan ${i}`, 'x'.repeat(100 * (i + 1))));
  t.same(boxUsage(db, jean), counted(db, jean), 'after APPEND');
  t.equal(boxUsage(db, jean).messages, 6);
  t.equal(mailboxSize(db, inbox), octetsOf(db, inbox), 'STATUS SIZE of INBOX');

  copyMessages(db, inbox, [1, 2], archive);
  t.same(boxUsage(db, jean), counted(db, jean), 'after COPY');
  t.equal(boxUsage(db, jean).messages, 8);
  moveMessages(db, inbox, [3], archive);
  t.same(boxUsage(db, jean), counted(db, jean), 'after MOVE');
  t.equal(mailboxSize(db, archive), octetsOf(db, archive), 'STATUS SIZE of the destination');

  storeFlags(db, inbox, [4, 5], 'add', ['\\Deleted']);
  t.same(expungeMessages(db, inbox), [4, 5], 'EXPUNGE removes the flagged messages');
  t.same(boxUsage(db, jean), counted(db, jean), 'after EXPUNGE');
  t.equal(boxUsage(db, jean).messages, 6);

  db.prepare('DELETE FROM messages WHERE mailbox_id = ? AND uid = 6').run(inbox); // as the purge deletes
  t.same(boxUsage(db, jean), counted(db, jean), 'after a plain DELETE');

  deleteUserMailbox(db, jean, 'Archives');
  t.same(boxUsage(db, jean), counted(db, jean), 'after deleting a folder (R11: its messages go to INBOX)');
  t.equal(boxUsage(db, jean).messages, 5);
  t.equal(mailboxSize(db, inbox), octetsOf(db, inbox), 'STATUS SIZE of INBOX with them');

});

t.test('UID EXPUNGE removes only the flagged messages of its set, through the index of flagged messages', async (t) => {
  const { db, jean } = freshWorld(t);
  const inbox = mailboxId(db, jean, 'INBOX');
  for (let i = 0; i < 10; i++) appendToMailbox(db, inbox, rawMessage());
  storeFlags(db, inbox, [2, 4, 6, 8], 'add', ['\\Deleted']);
  storeFlags(db, inbox, [4], 'remove', ['\\Deleted']);
  t.same(expungeMessages(db, inbox, [1, 2, 3, 4, 5, 6]), [2, 6]);
  t.same(expungeMessages(db, inbox), [8]);
  t.same(expungeMessages(db, inbox), [], 'nothing left flagged');
  t.same(boxUsage(db, jean), counted(db, jean));
});

t.test('the migration counts what a store already holds', async (t) => {
  const { db, inbox } = storeMigratedTo(t, 17);
  const now = Date.now();
  const sent = Number(db.prepare(`INSERT INTO mailboxes (account_id, name, uidvalidity, created_at) VALUES (?, 'Sent', 2, ?)`).run(OLD_ACCOUNT, now).lastInsertRowid);
  for (let i = 0; i < 3; i++) appendToMailbox(db, inbox, rawMessage('Avant', 'y'.repeat(300 * i)));
  appendToMailbox(db, sent, rawMessage('Envoyé'));

  t.same(migrate(db).map((applied) => applied.version), [18]);
  t.same(boxUsage(db, OLD_ACCOUNT), counted(db, OLD_ACCOUNT), 'the box as the rows say');
  t.equal(boxUsage(db, OLD_ACCOUNT).messages, 4);
  t.equal(mailboxSize(db, inbox), octetsOf(db, inbox));
  appendToMailbox(db, sent, rawMessage('Après'));
  t.same(boxUsage(db, OLD_ACCOUNT), counted(db, OLD_ACCOUNT), 'and kept from then on');
});
