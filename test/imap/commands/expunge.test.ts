// EXPUNGE and UID EXPUNGE (RFC 3501 section 6.4.3, RFC 4315 section 2.1): the untagged EXPUNGE
// responses a client renumbers by, and the read-only refusal.
import t from 'tap';
import Database from 'better-sqlite3';
import { CommitBatcher } from '../../../src/store/commit-batcher';
import { appendToMailbox, fetchMessages } from '../../../src/store/imap-messages';
import { rawMessage } from '../../store/imap-fixtures';
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

t.test('scattered expunges: numbers from the highest down, and every message keeps its own flags after', async (t) => {
  const { db, jean, inbox } = world(t);
  for (let i = 4; i <= 12; i++) appendToMailbox(db, inbox, rawMessage(`Message ${i}`), i % 3 === 0 ? ['\\Answered'] : []);
  const a = testSession(db, jean);
  const b = testSession(db, jean);
  a.select('INBOX');
  b.select('INBOX');
  await a.run('STORE 1,4:5,9,12 +FLAGS.SILENT (\\Deleted)');
  t.equal(
    await a.run('EXPUNGE'),
    '* 12 EXPUNGE\r\n* 9 EXPUNGE\r\n* 5 EXPUNGE\r\n* 4 EXPUNGE\r\n* 1 EXPUNGE\r\nTAG OK EXPUNGE completed\r\n',
  );
  const expected =
    '* 1 FETCH (UID 2 FLAGS (\\Flagged))\r\n* 2 FETCH (UID 3 FLAGS (\\Seen $label1))\r\n* 3 FETCH (UID 6 FLAGS (\\Answered))\r\n' +
    '* 4 FETCH (UID 7 FLAGS ())\r\n* 5 FETCH (UID 8 FLAGS ())\r\n* 6 FETCH (UID 10 FLAGS ())\r\n* 7 FETCH (UID 11 FLAGS ())\r\nTAG OK FETCH completed\r\n';
  // the session that selected first sees the new messages as \Recent (RFC 3501 section 2.3.2)
  t.equal((await a.run('FETCH 1:* (UID FLAGS)')).replace(/ ?\\Recent/g, ''), expected, 'the view of the session that expunged');
  t.equal(
    await b.run('NOOP'),
    '* 12 EXPUNGE\r\n* 9 EXPUNGE\r\n* 5 EXPUNGE\r\n* 4 EXPUNGE\r\n* 1 EXPUNGE\r\nTAG OK NOOP completed\r\n',
    'another session is told the same',
  );
  t.equal(await b.run('FETCH 1:* (UID FLAGS)'), expected, 'and its view holds the same messages');
  t.equal(await b.run('FETCH 8 UID'), 'TAG BAD Invalid message sequence number\r\n', 'seven left');
});

t.test('EXPUNGE with nothing flagged \\Deleted: no write, not even while another process holds the write lock', async (t) => {
  const { db, jean, inbox } = world(t);
  const a = testSession(db, jean, undefined, new CommitBatcher(db));
  a.select('INBOX');
  const other = new Database(db.name); // another process's connection, in the middle of a long write
  t.teardown(() => other.close());
  other.prepare('BEGIN IMMEDIATE').run();
  t.equal(await a.run('EXPUNGE'), 'TAG OK EXPUNGE completed\r\n', 'answered at once: there was nothing to remove');
  t.equal(await a.run('UID EXPUNGE 1:3'), 'TAG OK UID EXPUNGE completed\r\n');
  other.prepare('ROLLBACK').run();
  // flagged by another session since this one last synchronised: EXPUNGE sees it and removes it
  const b = testSession(db, jean);
  b.select('INBOX');
  await b.run('STORE 2 +FLAGS.SILENT (\\Deleted)');
  t.equal(await a.run('UID EXPUNGE 1'), '* 2 FETCH (UID 2 FLAGS (\\Flagged \\Deleted \\Recent))\r\nTAG OK UID EXPUNGE completed\r\n', 'outside the UID set: kept');
  t.equal(await a.run('EXPUNGE'), '* 2 EXPUNGE\r\nTAG OK EXPUNGE completed\r\n');
  t.equal(fetchMessages(db, inbox, [2]).length, 0);
});
