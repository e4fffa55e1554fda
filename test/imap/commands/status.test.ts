// STATUS (RFC 3501 section 6.3.10) with SIZE (RFC 8438, STATUS=SIZE) and HIGHESTMODSEQ.
import t from 'tap';
import { appendToMailbox } from '../../../src/store/imap-messages';
import { freshWorld, mailboxId } from '../../store/imap-fixtures';
import { testSession } from './harness';

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
  t.match(await s.run('STATUS INBOX (FROB)'), /^TAG BAD Unknown STATUS item FROB/);
});
