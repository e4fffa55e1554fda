// A session's view of its mailbox keeps MODSEQs in 4 bytes a message while they fit
// (src/imap/selected.ts); a mailbox whose counter passed 2^32 - 1 (RFC 7162 allows 63 bits) must
// still report every MODSEQ exactly, whether the view was opened before or after that.
import t from 'tap';
import { appendToMailbox } from '../../src/store/imap-messages';
import { testSession } from './commands/harness';
import { simple, world } from './commands/messages-world';

const BIG = 2 ** 32 + 5;

t.test('MODSEQs past 2^32 are reported exactly, in a view opened before and after', async (t) => {
  const { db, jean, inbox } = world(t);
  const before = testSession(db, jean);
  await before.run('ENABLE CONDSTORE');
  before.select('INBOX');
  const watcher = testSession(db, jean);
  await watcher.run('ENABLE CONDSTORE');
  watcher.select('INBOX');

  // the store's counter, moved as years of flag changes would
  db.prepare('UPDATE mailboxes SET highestmodseq = ? WHERE id = ?').run(BIG, inbox);
  t.equal(
    await before.run('STORE 1 +FLAGS.SILENT (\\Flagged)'),
    `* 1 FETCH (MODSEQ (${BIG + 1}))\r\nTAG OK STORE completed\r\n`,
    'RFC 7162 section 3.1.3: the new MODSEQ even with .SILENT',
  );
  t.equal(await before.run('FETCH 1 (MODSEQ)'), `* 1 FETCH (MODSEQ (${BIG + 1}))\r\nTAG OK FETCH completed\r\n`, 'its own change');
  t.equal(
    await watcher.run('NOOP'),
    `* 1 FETCH (UID 1 FLAGS (\\Flagged) MODSEQ (${BIG + 1}))\r\nTAG OK NOOP completed\r\n`,
    'another session\'s change, announced with its MODSEQ',
  );
  appendToMailbox(db, inbox, simple('Nouveau', 'x', 'big.4@hopital.fr'));
  t.match(await watcher.run('NOOP'), /^\* 4 EXISTS\r\n/);
  t.equal(await watcher.run('FETCH 2:4 (MODSEQ)').then((reply) => reply.match(/MODSEQ \((\d+)\)/g)?.at(-1)), `MODSEQ (${BIG + 2})`, 'new mail past 2^32');
  t.equal(await watcher.run('FETCH 1 (MODSEQ)'), `* 1 FETCH (MODSEQ (${BIG + 1}))\r\nTAG OK FETCH completed\r\n`, 'earlier entries kept when the view widened');

  const after = testSession(db, jean);
  after.select('INBOX');
  t.equal(
    await after.run('FETCH 1:4 (MODSEQ)'),
    // RFC 7162 section 3.1: the first command that enables CONDSTORE reports HIGHESTMODSEQ
    `* OK [HIGHESTMODSEQ ${BIG + 2}] Highest modification sequence\r\n` +
      `* 1 FETCH (MODSEQ (${BIG + 1}))\r\n* 2 FETCH (MODSEQ (${before.session.selected!.modseqs[1]}))\r\n` +
      `* 3 FETCH (MODSEQ (${before.session.selected!.modseqs[2]}))\r\n* 4 FETCH (MODSEQ (${BIG + 2}))\r\nTAG OK FETCH completed\r\n`,
    'a view opened after',
  );
  t.ok(before.session.selected!.modseqs[1] < 2 ** 32, 'the older messages kept their small MODSEQs');
});
