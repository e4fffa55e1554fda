// WITHIN (RFC 5032): SEARCH YOUNGER n / OLDER n compare the internal date with the time the
// command runs, in seconds.
import t from 'tap';
import { appendToMailbox } from '../../../src/store/imap-messages';
import { freshWorld, mailboxId, rawMessage } from '../../store/imap-fixtures';
import { testSession } from './harness';

t.test('YOUNGER and OLDER', async (t) => {
  const { db, jean } = freshWorld(t);
  const inbox = mailboxId(db, jean, 'INBOX');
  const now = Date.now();
  appendToMailbox(db, inbox, rawMessage('a'), [], now - 3 * 86_400_000); // 3 days ago
  appendToMailbox(db, inbox, rawMessage('b'), [], now - 2 * 3_600_000); // 2 hours ago
  appendToMailbox(db, inbox, rawMessage('c'), [], now - 60_000); // 1 minute ago
  const s = testSession(db, jean);
  t.ok(s.session.capabilities().includes('WITHIN'));
  s.select('INBOX');
  t.equal(await s.run('SEARCH YOUNGER 86400'), '* SEARCH 2 3\r\nTAG OK SEARCH completed\r\n', 'within the last day');
  t.equal(await s.run('SEARCH OLDER 86400'), '* SEARCH 1\r\nTAG OK SEARCH completed\r\n');
  t.equal(await s.run('UID SEARCH YOUNGER 3600'), '* SEARCH 3\r\nTAG OK UID SEARCH completed\r\n');
  t.equal(await s.run('SEARCH OLDER 3600 YOUNGER 86400'), '* SEARCH 2\r\nTAG OK SEARCH completed\r\n', 'combined: between one hour and one day');
  t.equal(await s.run('SEARCH NOT OLDER 604800'), '* SEARCH 1 2 3\r\nTAG OK SEARCH completed\r\n');
  t.match(await s.run('SEARCH YOUNGER 0'), /^TAG BAD/, 'interval is a non-zero number');
  t.match(await s.run('SEARCH OLDER'), /^TAG BAD/);
  t.match(await s.run('SEARCH YOUNGER -5'), /^TAG BAD/);
});
