// STORE and UID STORE (RFC 3501 section 6.4.6; UNCHANGEDSINCE RFC 7162 section 3.1.3), and the
// opening status (R9) recorded when a message becomes \\Seen.
import t from 'tap';
import { fetchMessages } from '../../../src/store/imap-messages';
import { openingStatus } from '../../../src/store/openings';
import { testSession } from './harness';
import { world } from './messages-world';

t.test('STORE: replace, add, remove, .SILENT, keywords, UNCHANGEDSINCE', async (t) => {
  const { db, jean, inbox } = world(t);
  const a = testSession(db, jean);
  a.select('INBOX');
  // new keywords: FLAGS and PERMANENTFLAGS announce them first (RFC 3501 section 7.2.6), even under .SILENT
  const announce = (keywords: string) =>
    `* FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft ${keywords})\r\n` +
    `* OK [PERMANENTFLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft ${keywords} \\*)] Flags and new keywords are kept\r\n`;
  t.equal(
    await a.run('STORE 1 +FLAGS ($label1 $MDNSent Junk)'),
    `${announce('$MDNSent $label1 Junk')}* 1 FETCH (FLAGS ($label1 $MDNSent Junk \\Recent))\r\nTAG OK STORE completed\r\n`,
  );
  t.equal(await a.run('UID STORE 1:2 FLAGS.SILENT (\\Answered NonJunk)'), `${announce('$MDNSent $label1 Junk NonJunk')}TAG OK STORE completed\r\n`);
  t.equal(await a.run('FETCH 1:2 FLAGS'), '* 1 FETCH (FLAGS (\\Answered NonJunk \\Recent))\r\n* 2 FETCH (FLAGS (\\Answered NonJunk \\Recent))\r\nTAG OK FETCH completed\r\n');
  t.equal(await a.run('STORE 2 -FLAGS \\Answered'), '* 2 FETCH (FLAGS (NonJunk \\Recent))\r\nTAG OK STORE completed\r\n');
  t.match(await a.run('STORE 1 +FLAGS (\\Recent)'), /^TAG BAD .*Recent/);
  t.match(await a.run('STORE 1 +FLAGS (\\Bogus)'), /^TAG BAD /);
  t.match(await a.run('STORE 1 FROB (\\Seen)'), /^TAG BAD /);

  // CONDSTORE
  const modseq = fetchMessages(db, inbox, [1])[0].modseq;
  t.equal(
    await a.run(`UID STORE 1:3 (UNCHANGEDSINCE ${modseq}) +FLAGS.SILENT (\\Flagged)`),
    `* OK [HIGHESTMODSEQ ${modseq + 1}] Highest modification sequence\r\n* 1 FETCH (UID 1 MODSEQ (${modseq + 2}))\r\n* 3 FETCH (UID 3 MODSEQ (${modseq + 2}))\r\nTAG OK [MODIFIED 2] Conditional STORE failed for some messages\r\n`,
  );
  t.ok(a.session.condstore, 'UNCHANGEDSINCE enables CONDSTORE');
  t.equal(await a.run('STORE 3 (UNCHANGEDSINCE 1) -FLAGS (\\Flagged)'), 'TAG OK [MODIFIED 3] Conditional STORE failed for some messages\r\n');
  t.equal(
    await a.run(`FETCH 1:3 (FLAGS) (CHANGEDSINCE ${modseq + 1})`),
    `* 1 FETCH (FLAGS (\\Answered \\Flagged NonJunk \\Recent) MODSEQ (${modseq + 2}))\r\n* 3 FETCH (FLAGS (\\Seen \\Flagged $label1 \\Recent) MODSEQ (${modseq + 2}))\r\nTAG OK FETCH completed\r\n`,
  );
  t.equal(await a.run(`UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${modseq + 2})`), 'TAG OK UID FETCH completed\r\n');
  t.equal(
    await a.run('STORE 3 +FLAGS (\\Deleted)'),
    `* 3 FETCH (MODSEQ (${modseq + 3}) FLAGS (\\Seen \\Flagged \\Deleted $label1 \\Recent))\r\nTAG OK STORE completed\r\n`,
  );
  t.notMatch(await a.run('STORE 2 +FLAGS (Junk)'), /\* FLAGS/, 'a keyword already announced is not announced again');
  const other = testSession(db, jean);
  other.select('INBOX');
  t.match(await other.run('STORE 2 +FLAGS.SILENT (Urgent)'), /^\* FLAGS \(.* Urgent\)\r\n\* OK \[PERMANENTFLAGS \(.* Urgent \\\*\)\]/);
  t.match(await a.run('NOOP'), /^\* FLAGS \(.*Urgent\)\r\n\* OK \[PERMANENTFLAGS [^\r]*\r\n\* 2 FETCH \(UID 2 FLAGS \([^)]*Urgent/, 'another session learns the new keyword before the FETCH that carries it');
});

t.test('opening status (R9) is recorded when a message becomes \\Seen', async (t) => {
  const { db, jean } = world(t);
  const a = testSession(db, jean);
  a.select('INBOX');
  await a.run('STORE 2 +FLAGS (\\Seen)');
  const row = db.prepare('SELECT account_id FROM openings WHERE message_id = ?').get('<rdv.2@hopital.fr>') as { account_id: number };
  t.equal(row.account_id, jean);
  await a.run('FETCH 1 BODY[TEXT]');
  t.ok(db.prepare('SELECT 1 FROM openings WHERE message_id = ?').get('<multi.1@chu.mssante.fr>'));
  t.equal(openingStatus(db, 'multi.1@chu.mssante.fr'), undefined, 'no delivery: status unknown, but no failure');
});

t.test('STORE needs a selected mailbox', async (t) => {
  const { db, jean } = world(t);
  const a = testSession(db, jean);
  t.equal(await a.run('STORE 1 +FLAGS (\\Seen)'), 'TAG BAD STORE needs a selected mailbox (SELECT or EXAMINE first)\r\n');
  a.select('INBOX');
  t.match(await a.run('STORE 1 +FLAGS'), /^TAG BAD /, 'no flag list');
});
