// CLOSE (RFC 3501 section 6.4.2) and UNSELECT (RFC 3691): back to the authenticated state; CLOSE
// silently removes \Deleted messages of a read-write mailbox, UNSELECT never does.
import t from 'tap';
import { fetchMessages } from '../../../src/store/imap-messages';
import { testSession } from './harness';
import { world } from './messages-world';

t.test('CLOSE expunges silently (no untagged EXPUNGE); UNSELECT and a read-only CLOSE keep the messages', async (t) => {
  const { db, jean, inbox } = world(t);
  const a = testSession(db, jean);
  a.select('INBOX');
  await a.run('STORE 1 +FLAGS.SILENT (\\Deleted)');
  t.equal(await a.run('UNSELECT'), 'TAG OK UNSELECT completed\r\n');
  t.equal(a.session.state, 'authenticated');
  t.equal(fetchMessages(db, inbox, [1]).length, 1, 'UNSELECT removed nothing');
  a.select('INBOX', true);
  t.equal(await a.run('CLOSE'), 'TAG OK CLOSE completed\r\n');
  t.equal(fetchMessages(db, inbox, [1]).length, 1, 'read-only CLOSE removed nothing');
  a.select('INBOX');
  t.equal(await a.run('CLOSE'), 'TAG OK CLOSE completed, 1 deleted message(s) removed\r\n');
  t.equal(fetchMessages(db, inbox, [1]).length, 0);
  t.equal(a.session.state, 'authenticated');
});

t.test('CLOSE and UNSELECT need a selected mailbox and take no argument', async (t) => {
  const { db, jean } = world(t);
  const a = testSession(db, jean);
  t.equal(await a.run('CLOSE'), 'TAG BAD CLOSE needs a selected mailbox (SELECT or EXAMINE first)\r\n');
  t.equal(await a.run('UNSELECT'), 'TAG BAD UNSELECT needs a selected mailbox (SELECT or EXAMINE first)\r\n');
  a.select('INBOX');
  t.match(await a.run('CLOSE now'), /^TAG BAD /);
  t.match(await a.run('UNSELECT now'), /^TAG BAD Unexpected argument/);
  t.equal(a.session.state, 'selected', 'a refused CLOSE leaves the mailbox selected');
});
