// STATUS (RFC 3501 section 6.3.10; HIGHESTMODSEQ RFC 7162 section 3.1.3; SIZE RFC 8438).
import t from 'tap';
import { connectedSession, testSession } from './harness';
import { world } from './messages-world';
import path from 'node:path';
import { openDatabase } from '../../../src/store/database';
import { appendToMailbox, expungeMessages, storeFlags } from '../../../src/store/imap-messages';
import { freshWorld, mailboxId } from '../../store/imap-fixtures';

t.test('STATUS: the items asked for, in order, the name echoed as sent', async (t) => {
  const { db, jean, inbox } = world(t);
  const a = testSession(db, jean);
  const uidValidity = (db.prepare('SELECT uidvalidity FROM mailboxes WHERE id = ?').get(inbox) as { uidvalidity: number }).uidvalidity;
  t.equal(
    await a.run('STATUS inbox (MESSAGES UNSEEN UIDNEXT UIDVALIDITY RECENT)'),
    `* STATUS "inbox" (MESSAGES 3 UNSEEN 2 UIDNEXT 4 UIDVALIDITY ${uidValidity} RECENT 3)\r\nTAG OK STATUS completed\r\n`,
  );
  t.equal(await a.run('STATUS Corbeille (MESSAGES MESSAGES)'), '* STATUS "Corbeille" (MESSAGES 0)\r\nTAG OK STATUS completed\r\n', 'a repeated item once');
  t.match(await a.run('STATUS INBOX (HIGHESTMODSEQ)'), /^\* STATUS "INBOX" \(HIGHESTMODSEQ \d+\)\r\n/);
  t.ok(a.session.condstore, 'STATUS HIGHESTMODSEQ enables CONDSTORE (RFC 7162 section 3.1)');
});

t.test('STATUS refusals', async (t) => {
  const { db, jean } = world(t);
  const a = testSession(db, jean);
  t.match(await a.run('STATUS Nulle-part (MESSAGES)'), /^TAG NO \[NONEXISTENT\] /);
  t.match(await a.run('STATUS INBOX'), /^TAG BAD Expected a list of status items/);
  t.match(await a.run('STATUS INBOX ()'), /^TAG BAD STATUS needs at least one item/);
  t.match(await a.run('STATUS INBOX (FROB)'), /^TAG BAD Unknown STATUS item FROB/);
  t.match(await a.run('STATUS INBOX (MESSAGES'), /^TAG BAD /);
  t.equal(await connectedSession(db).run('STATUS INBOX (MESSAGES)'), 'TAG BAD STATUS needs you to log in first\r\n');
});

t.test('STATUS SIZE is the sum of RFC822.SIZE, kept in step with APPEND and EXPUNGE', async (t) => {
  const { db, jean } = freshWorld(t);
  const inbox = mailboxId(db, jean, 'INBOX');
  const a = Buffer.from('Subject: a\r\n\r\nfirst\r\n');
  const b = Buffer.from('Subject: b\r\n\r\nsecond message\r\n');
  appendToMailbox(db, inbox, a);
  appendToMailbox(db, inbox, b, ['\\Deleted']);
  const s = testSession(db, jean);
  t.ok(s.session.capabilities().includes('STATUS=SIZE'));
  t.equal(await s.run('STATUS INBOX (MESSAGES SIZE)'), `* STATUS "INBOX" (MESSAGES 2 SIZE ${a.length + b.length})\r\nTAG OK STATUS completed\r\n`);
  t.equal(await s.run('STATUS Brouillons (SIZE)'), '* STATUS "Brouillons" (SIZE 0)\r\nTAG OK STATUS completed\r\n', 'an empty mailbox is 0');
  s.select('INBOX');
  await s.run('EXPUNGE');
  t.match(await s.run('STATUS INBOX (SIZE)'), new RegExp(`\\(SIZE ${a.length}\\)`));
  t.match(await s.run('LIST "" INBOX RETURN (STATUS (SIZE))'), new RegExp(`\\* STATUS "INBOX" \\(SIZE ${a.length}\\)`), 'LIST-STATUS too');
});

t.test('STATUS of the selected mailbox gives the store\'s numbers while another process changes it, before the view is told', async (t) => {
  const { db, jean } = freshWorld(t);
  // Another process (a second IMAP worker, `mssd` on the command line): its own SQLite connection.
  const other = openDatabase(path.dirname(db.name));
  t.teardown(() => other.close());
  const inbox = mailboxId(db, jean, 'INBOX');
  const [one, two] = [1, 2].map((i) => appendToMailbox(db, inbox, Buffer.from(`Subject: ${i}\r\n\r\nbody ${i}\r\n`)).uid);
  const a = testSession(db, jean);
  a.select('INBOX'); // claims \Recent for both
  const b = testSession(db, jean); // not selected: always counts in the store
  const statusLine = async (s: typeof a) => /^\* STATUS .*$/m.exec(await s.run('STATUS INBOX (MESSAGES UNSEEN RECENT)'))?.[0];
  t.equal(await statusLine(a), '* STATUS "INBOX" (MESSAGES 2 UNSEEN 2 RECENT 0)');

  const three = appendToMailbox(other, inbox, Buffer.from('Subject: 3\r\n\r\nbody 3\r\n')).uid;
  t.equal(await a.run('STATUS INBOX (MESSAGES UNSEEN RECENT)'), '* STATUS "INBOX" (MESSAGES 3 UNSEEN 3 RECENT 1)\r\n* 3 EXISTS\r\n* 3 RECENT\r\nTAG OK STATUS completed\r\n', 'a new message, counted before EXISTS announces it');
  t.equal(await statusLine(b), '* STATUS "INBOX" (MESSAGES 3 UNSEEN 3 RECENT 0)', 'the first session claimed its \\Recent');

  storeFlags(other, inbox, [one], 'add', ['\\Seen']);
  t.equal(await statusLine(a), '* STATUS "INBOX" (MESSAGES 3 UNSEEN 2 RECENT 0)', 'a flag changed elsewhere');

  await a.run('STORE 2 +FLAGS.SILENT (\\Seen)');
  t.equal(await statusLine(a), '* STATUS "INBOX" (MESSAGES 3 UNSEEN 1 RECENT 0)', 'its own STORE');

  storeFlags(other, inbox, [two], 'add', ['\\Deleted']);
  expungeMessages(other, inbox, [two]);
  // A FETCH may not announce the expunge (RFC 3501 section 7.4.1): the view keeps the message
  // while the store no longer has it.
  t.match(await a.run('FETCH 1 (FLAGS)'), /^\* 1 FETCH/);
  t.equal(await statusLine(b), '* STATUS "INBOX" (MESSAGES 2 UNSEEN 1 RECENT 0)');
  t.match(await a.run('STATUS INBOX (MESSAGES UNSEEN RECENT)'), /^\* STATUS "INBOX" \(MESSAGES 2 UNSEEN 1 RECENT 0\)\r\n\* 2 EXPUNGE\r\n/, 'an expunge the client has not heard of yet');
  t.equal(await statusLine(a), '* STATUS "INBOX" (MESSAGES 2 UNSEEN 1 RECENT 0)');

  storeFlags(other, inbox, [one, three], 'add', ['\\Deleted']);
  expungeMessages(other, inbox);
  t.match(await a.run('STATUS INBOX (MESSAGES UNSEEN RECENT UIDNEXT)'), /^\* STATUS "INBOX" \(MESSAGES 0 UNSEEN 0 RECENT 0 UIDNEXT 4\)\r\n/, 'all gone');
});
