// STATUS (RFC 3501 section 6.3.10; HIGHESTMODSEQ RFC 7162 section 3.1.3; SIZE RFC 8438).
import t from 'tap';
import { connectedSession, testSession } from './harness';
import { world } from './messages-world';
import { appendToMailbox } from '../../../src/store/imap-messages';
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
