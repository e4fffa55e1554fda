// EXPUNGE and UID EXPUNGE (RFC 3501 section 6.4.3, RFC 4315 section 2.1): the untagged EXPUNGE
// responses a client renumbers by, and the read-only refusal.
import t from 'tap';
import { fetchMessages } from '../../../src/store/imap-messages';
import { testSession } from './harness';
import { world } from './messages-world';


t.test('EXPUNGE removes \\Deleted messages, UID EXPUNGE only those in its set', async (t) => {
  const { db, jean, inbox } = world(t);
  const a = testSession(db, jean);
  a.select('INBOX');
  t.equal(await a.run('STORE 1:3 +FLAGS.SILENT (\\Deleted)'), 'TAG OK STORE completed\r\n');
  t.equal(await a.run('UID EXPUNGE 2:3'), '* 3 EXPUNGE\r\n* 2 EXPUNGE\r\nTAG OK UID EXPUNGE completed\r\n', 'each EXPUNGE names the number at that moment');
  t.equal(await a.run('FETCH 1:* UID'), '* 1 FETCH (UID 1)\r\nTAG OK FETCH completed\r\n');
  t.equal(await a.run('EXPUNGE'), '* 1 EXPUNGE\r\nTAG OK EXPUNGE completed\r\n');
  t.equal(fetchMessages(db, inbox, [1, 2, 3]).length, 0, 'gone from the store');
  t.equal(await a.run('EXPUNGE'), 'TAG OK EXPUNGE completed\r\n', 'nothing to remove: no untagged response');
});

t.test('EXPUNGE: read-only, state and syntax', async (t) => {
  const { db, jean, inbox } = world(t);
  const rw = testSession(db, jean);
  rw.select('INBOX');
  await rw.run('STORE 2 +FLAGS.SILENT (\\Deleted)');
  const ro = testSession(db, jean);
  t.equal(await ro.run('EXPUNGE'), 'TAG BAD EXPUNGE needs a selected mailbox (SELECT or EXAMINE first)\r\n');
  ro.select('INBOX', true);
  t.match(await ro.run('EXPUNGE'), /^TAG NO \[CANNOT\] /, 'EXAMINE: nothing can be removed');
  t.equal(fetchMessages(db, inbox, [2]).length, 1);
  t.match(await rw.run('UID EXPUNGE'), /^TAG BAD /, 'UID EXPUNGE needs a set');
  t.match(await rw.run('EXPUNGE 1'), /^TAG BAD /, 'EXPUNGE takes no argument');
});
