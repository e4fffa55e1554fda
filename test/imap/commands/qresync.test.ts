// QRESYNC (RFC 7162 section 3.2): ENABLE QRESYNC, SELECT (QRESYNC (...)), UID FETCH (CHANGEDSINCE
// n VANISHED), VANISHED instead of EXPUNGE, and the answer once the expunge history was trimmed.
import t from 'tap';
import { trimExpunged } from '../../../src/store/expunged-history';
import { testSession } from './harness';
import { world } from './messages-world';

/** The value of a response code in a SELECT answer, e.g. HIGHESTMODSEQ. */
function code(response: string, name: string): number {
  const match = new RegExp(`\\[${name} (\\d+)\\]`).exec(response);
  if (!match) throw new Error(`no ${name} in ${response}`);
  return Number(match[1]);
}

/** A session that knew INBOX at `modseq`, then another session flags 2 and expunges 1. */
async function changedInbox(t: Parameters<typeof world>[0]) {
  const w = world(t);
  const before = await testSession(w.db, w.jean).run('SELECT INBOX');
  const known = { uidValidity: code(before, 'UIDVALIDITY'), modseq: code(before, 'HIGHESTMODSEQ') };
  const other = testSession(w.db, w.jean);
  other.select('INBOX');
  await other.run('STORE 2 +FLAGS (\\Seen)');
  await other.run('STORE 1 +FLAGS (\\Deleted)');
  t.match(await other.run('EXPUNGE'), /^\* 1 EXPUNGE\r\n/, 'without QRESYNC: EXPUNGE');
  return { ...w, known };
}

t.test('ENABLE QRESYNC turns CONDSTORE on too; QRESYNC parameters need it', async (t) => {
  const { db, jean } = world(t);
  const a = testSession(db, jean);
  t.match(await a.run('SELECT INBOX (QRESYNC (1 1))'), /^TAG BAD QRESYNC needs ENABLE QRESYNC first/);
  await a.run('UNSELECT');
  t.equal(await a.run('ENABLE QRESYNC'), '* ENABLED QRESYNC\r\nTAG OK ENABLE completed\r\n');
  t.ok(a.session.condstore, 'QRESYNC implies CONDSTORE (section 3.2.3)');
  t.equal(await a.run('ENABLE QRESYNC CONDSTORE'), '* ENABLED\r\nTAG OK ENABLE completed\r\n', 'nothing new');
  t.match(await a.run('CAPABILITY'), /^\* CAPABILITY .* CONDSTORE QRESYNC /);
  for (const bad of ['(QRESYNC)', '(QRESYNC (1))', '(QRESYNC (0 1))', '(QRESYNC (1 1 x))', '(QRESYNC (1 1 1:2 (1)))', '(QRESYNC (1 1 1:2 (1 1) 3))']) {
    t.match(await a.run(`SELECT INBOX ${bad}`), /^TAG BAD /, bad);
  }
});

t.test('SELECT (QRESYNC (...)): VANISHED (EARLIER) then the changed messages', async (t) => {
  const { db, jean, known } = await changedInbox(t);
  const a = testSession(db, jean);
  await a.run('ENABLE QRESYNC');
  const answer = await a.run(`SELECT INBOX (QRESYNC (${known.uidValidity} ${known.modseq}))`);
  const highest = code(answer, 'HIGHESTMODSEQ');
  t.match(
    answer,
    new RegExp(
      `\\* OK \\[HIGHESTMODSEQ ${highest}\\][^\\r]*\\r\\n\\* VANISHED \\(EARLIER\\) 1\\r\\n` +
        `\\* 1 FETCH \\(UID 2 FLAGS \\(\\\\Seen \\\\Flagged\\) MODSEQ \\(\\d+\\)\\)\\r\\nTAG OK \\[READ-WRITE\\]`,
    ),
    'RFC 7162 section 3.2.5 example order: VANISHED (EARLIER), FETCH, tagged OK',
  );
  t.notMatch(answer, /UID 3/, 'an unchanged message is not sent');

  const knownUids = await a.run(`EXAMINE INBOX (QRESYNC (${known.uidValidity} ${known.modseq} 2:3))`);
  t.match(knownUids, /^\* OK \[CLOSED\]/, 'the previous mailbox is closed with CLOSED (section 3.2.11)');
  t.notMatch(knownUids, /VANISHED/, 'known UIDs restrict VANISHED (UID 1 not among them)');
  t.match(knownUids, /\* 1 FETCH \(UID 2 /);
  const seqMatch = await a.run(`EXAMINE INBOX (QRESYNC (${known.uidValidity} ${known.modseq} 1:3 (1:3 1:3)))`);
  t.match(seqMatch, /\* VANISHED \(EARLIER\) 1\r\n/, 'seq-match-data accepted');

  const otherValidity = await a.run(`EXAMINE INBOX (QRESYNC (${known.uidValidity + 1} ${known.modseq}))`);
  t.notMatch(otherValidity, /VANISHED|FETCH/, 'another UIDVALIDITY: a plain (CONDSTORE) EXAMINE');
  t.match(otherValidity, /TAG OK \[READ-ONLY\]/);
});

t.test('UID FETCH (CHANGEDSINCE n VANISHED) and VANISHED instead of EXPUNGE', async (t) => {
  const { db, jean, known } = await changedInbox(t);
  const a = testSession(db, jean);
  await a.run('ENABLE QRESYNC');
  await a.run('SELECT INBOX');
  t.match(
    await a.run(`UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${known.modseq} VANISHED)`),
    /^\* VANISHED \(EARLIER\) 1\r\n\* 1 FETCH \(UID 2 FLAGS \(\\Seen \\Flagged\) MODSEQ \(\d+\)\)\r\nTAG OK UID FETCH completed\r\n$/,
  );
  t.match(await a.run(`UID FETCH 3:* (FLAGS) (CHANGEDSINCE ${known.modseq} VANISHED)`), /^TAG OK/, 'only the UIDs of the set');
  t.match(await a.run(`FETCH 1:* (FLAGS) (CHANGEDSINCE ${known.modseq} VANISHED)`), /^TAG BAD VANISHED is a UID FETCH modifier/);
  t.match(await a.run('UID FETCH 1:* (FLAGS) (VANISHED)'), /^TAG BAD VANISHED needs CHANGEDSINCE/);

  const b = testSession(db, jean);
  b.select('INBOX');
  await b.run('UID STORE 2 +FLAGS (\\Deleted)');
  await b.run('EXPUNGE');
  const afterOther = code(await testSession(db, jean).run('EXAMINE INBOX'), 'HIGHESTMODSEQ');
  t.equal(
    await a.run('NOOP'),
    `* VANISHED 2\r\n* OK [HIGHESTMODSEQ ${afterOther}] Highest modification sequence\r\nTAG OK NOOP completed\r\n`,
    'another session expunged: VANISHED, not EXPUNGE (section 3.2.10), then the MODSEQ the view is at',
  );
  t.equal(await a.run('UID STORE 3 +FLAGS.SILENT (\\Deleted)'), `* 1 FETCH (UID 3 MODSEQ (${afterOther + 1}))\r\nTAG OK STORE completed\r\n`);
  t.equal(
    await a.run('EXPUNGE'),
    `* VANISHED 3\r\n* OK [HIGHESTMODSEQ ${afterOther + 2}] Highest modification sequence\r\nTAG OK EXPUNGE completed\r\n`,
    'its own EXPUNGE too',
  );
  b.session.enabled.add('QRESYNC'); // b still has UID 3 in its view, not yet told
  t.notMatch(await b.run('FETCH 1 (FLAGS)'), /VANISHED|HIGHESTMODSEQ/, 'no HIGHESTMODSEQ while an expunge waits (non-UID FETCH holds it)');
  t.match(await b.run('NOOP'), /^\* VANISHED 3\r\n\* OK \[HIGHESTMODSEQ \d+\]/);

  const plain = testSession(db, jean);
  t.match(await plain.run('SELECT INBOX'), /\* 0 EXISTS/);
  t.match(await plain.run('UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)'), /^TAG BAD VANISHED needs ENABLE QRESYNC first/);
});

t.test('after the expunge history was trimmed: a larger VANISHED set (section 3.2.5.2)', async (t) => {
  const { db, jean, known } = await changedInbox(t);
  // The client then knew the mailbox after UID 1 went; UID 2 goes next; housekeeping forgets both.
  const later = code(await testSession(db, jean).run('EXAMINE INBOX'), 'HIGHESTMODSEQ');
  const other = testSession(db, jean);
  other.select('INBOX');
  await other.run('UID STORE 2 +FLAGS (\\Deleted)');
  await other.run('EXPUNGE');
  const report = await trimExpunged(db, { now: Date.now(), keepDays: 0, maxRows: 0 });
  t.equal(report.rows, 2, 'the expunges of UIDs 1 and 2 are forgotten');
  const a = testSession(db, jean);
  await a.run('ENABLE QRESYNC');
  await a.run('SELECT INBOX');
  t.match(
    await a.run(`UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${later} VANISHED)`),
    /^\* VANISHED \(EARLIER\) 1:2\r\nTAG OK/,
    'every UID below UIDNEXT the mailbox no longer holds: 1 too, though it went before that MODSEQ',
  );
  t.match(await a.run(`UID FETCH 2:* (FLAGS) (CHANGEDSINCE ${later} VANISHED)`), /^\* VANISHED \(EARLIER\) 2\r\n/, 'within the set asked');
  t.match(
    await a.run(`EXAMINE INBOX (QRESYNC (${known.uidValidity} ${known.modseq} 2:3))`),
    /\* VANISHED \(EARLIER\) 2\r\n/,
    'SELECT too, within the known UIDs',
  );
  const current = code(await a.run('EXAMINE INBOX'), 'HIGHESTMODSEQ');
  t.match(await a.run(`UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${current} VANISHED)`), /^TAG OK/, 'from the floor up the answer is exact again');
});
