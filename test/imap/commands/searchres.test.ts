// SEARCHRES (RFC 5182): SEARCH RETURN (SAVE) keeps the result as "$" for FETCH, STORE, COPY,
// MOVE, SEARCH and their UID forms; "$" follows expunges and is emptied by SELECT and by a
// failed SEARCH ... SAVE.
import t from 'tap';
import { appendToMailbox } from '../../../src/store/imap-messages';
import { freshWorld, mailboxId, rawMessage } from '../../store/imap-fixtures';
import { testSession } from './harness';

t.test('RETURN (SAVE) and "$"', async (t) => {
  const { db, jean } = freshWorld(t);
  const inbox = mailboxId(db, jean, 'INBOX');
  for (const subject of ['alpha', 'beta', 'alpha bis', 'gamma', 'alpha ter']) appendToMailbox(db, inbox, rawMessage(subject));
  const s = testSession(db, jean);
  t.ok(s.session.capabilities().includes('SEARCHRES'));
  s.select('INBOX');

  t.equal(await s.run('SEARCH RETURN (SAVE) SUBJECT alpha'), 'TAG OK SEARCH completed\r\n', 'SAVE alone: no ESEARCH response');
  t.equal(await s.run('FETCH $ (UID)'), '* 1 FETCH (UID 1)\r\n* 3 FETCH (UID 3)\r\n* 5 FETCH (UID 5)\r\nTAG OK FETCH completed\r\n');
  t.equal(await s.run('UID FETCH $ (FLAGS)'), '* 1 FETCH (UID 1 FLAGS (\\Recent))\r\n* 3 FETCH (UID 3 FLAGS (\\Recent))\r\n* 5 FETCH (UID 5 FLAGS (\\Recent))\r\nTAG OK UID FETCH completed\r\n');
  t.equal(await s.run('STORE $ +FLAGS.SILENT (\\Flagged)'), 'TAG OK STORE completed\r\n');
  t.equal(await s.run('SEARCH FLAGGED'), '* SEARCH 1 3 5\r\nTAG OK SEARCH completed\r\n');
  t.equal(await s.run('SEARCH $ SUBJECT bis'), '* SEARCH 3\r\nTAG OK SEARCH completed\r\n', '"$" as a search key');
  t.equal(await s.run('UID SEARCH UID $'), '* SEARCH 1 3 5\r\nTAG OK UID SEARCH completed\r\n', 'UID $');
  t.equal(await s.run('SEARCH NOT $'), '* SEARCH 2 4\r\nTAG OK SEARCH completed\r\n');

  // expunge message 3: "$" keeps naming the others, by their new sequence numbers
  await s.run('STORE 3 +FLAGS.SILENT (\\Deleted)');
  await s.run('EXPUNGE');
  t.equal(await s.run('FETCH $ (UID)'), '* 1 FETCH (UID 1)\r\n* 4 FETCH (UID 5)\r\nTAG OK FETCH completed\r\n', 'expunged messages drop out of "$"');

  // MIN/MAX with SAVE keep only those (section 2.1); the ESEARCH response leaves SAVE out
  t.match(await s.run('SEARCH RETURN (MIN MAX SAVE) ALL'), /^\* ESEARCH \(TAG "T\d+"\) MIN 1 MAX 4\r\nTAG OK SEARCH completed\r\n$/);
  t.equal(await s.run('FETCH $ (UID)'), '* 1 FETCH (UID 1)\r\n* 4 FETCH (UID 5)\r\nTAG OK FETCH completed\r\n', 'MIN and MAX only');
  t.match(await s.run('UID SEARCH RETURN (SAVE COUNT) UID 2:4'), /^\* ESEARCH \(TAG "T\d+"\) UID COUNT 2\r\n/);
  t.equal(await s.run('UID FETCH $ (UID)'), '* 2 FETCH (UID 2)\r\n* 3 FETCH (UID 4)\r\nTAG OK UID FETCH completed\r\n', 'with COUNT every match is kept');
  t.match(await s.run('COPY $ Brouillons'), /^TAG OK \[COPYUID \d+ 2,4 1:2\]/);

  // a failed SEARCH ... SAVE empties "$"; a new SELECT too
  t.match(await s.run('SEARCH RETURN (SAVE) NOSUCHKEY'), /^TAG BAD/);
  t.equal(await s.run('FETCH $ (UID)'), 'TAG OK FETCH completed\r\n', 'empty "$": nothing, no error');
  await s.run('SEARCH RETURN (SAVE) ALL');
  s.select('INBOX');
  t.equal(await s.run('FETCH $ (UID)'), 'TAG OK FETCH completed\r\n', 'SELECT starts with an empty "$"');
});
