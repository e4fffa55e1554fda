// ESEARCH (RFC 4731): SEARCH RETURN (MIN MAX ALL COUNT), UID form, no match, MODSEQ (RFC 7162 3.1.5).
import t from 'tap';
import { appendToMailbox } from '../../../src/store/imap-messages';
import { freshWorld, mailboxId } from '../../store/imap-fixtures';
import { testSession } from './harness';

t.test('SEARCH RETURN', async (t) => {
  const { db, jean } = freshWorld(t);
  const inbox = mailboxId(db, jean, 'INBOX');
  for (let i = 1; i <= 6; i++) appendToMailbox(db, inbox, Buffer.from(`Subject: m${i}\r\n\r\nbody ${i}\r\n`), i % 2 === 0 ? ['\\Seen'] : []);
  const s = testSession(db, jean);
  s.select('INBOX');
  const first = async (line: string) => (await s.run(line)).split('\r\n')[0].replace(/TAG "T\d+"/, 'TAG "x"');
  t.equal(await first('SEARCH RETURN (ALL) ALL'), '* ESEARCH (TAG "x") ALL 1:6');
  t.equal(await first('SEARCH RETURN () ALL'), '* ESEARCH (TAG "x") ALL 1:6', 'RETURN () is ALL');
  t.equal(await first('SEARCH RETURN (MIN MAX COUNT) SEEN'), '* ESEARCH (TAG "x") MIN 2 MAX 6 COUNT 3');
  t.equal(await first('UID SEARCH RETURN (ALL) SEEN'), '* ESEARCH (TAG "x") UID ALL 2,4,6');
  t.equal(await first('UID SEARCH RETURN (COUNT) 1000'), '* ESEARCH (TAG "x") UID COUNT 0');
  t.equal(await first('SEARCH RETURN (MIN) 1000'), '* ESEARCH (TAG "x")', 'nothing to say when nothing matches');
  t.equal(await first('SEARCH RETURN (MIN) CHARSET UTF-8 BODY "body 3"'), '* ESEARCH (TAG "x") MIN 3');
  const reply = await s.run('SEARCH RETURN (ALL) SEEN');
  t.match(reply, /^\* ESEARCH \(TAG "T\d+"\) ALL 2,4,6\r\nTAG OK SEARCH completed\r\n$/, 'the tag is the command\'s');
  t.match(await first('SEARCH RETURN (FROB) ALL'), /^TAG BAD Unknown SEARCH return option/);
  t.match(await first('SEARCH RETURN ALL'), /^TAG BAD RETURN needs a list/);

  await s.run('STORE 3 +FLAGS (\\Flagged)');
  const modseqOf = async (seq: number) => Number(/MODSEQ \((\d+)\)/.exec(await s.run(`FETCH ${seq} (MODSEQ)`))![1]);
  const [m1, m3, m6] = [await modseqOf(1), await modseqOf(3), await modseqOf(6)];
  t.ok(m3 > m1 && m3 > m6, 'message 3 changed last');
  t.equal(await first('SEARCH RETURN (MIN MAX) MODSEQ 1'), `* ESEARCH (TAG "x") MIN 1 MAX 6 MODSEQ ${Math.max(m1, m6)}`, 'MIN MAX: the higher of those two');
  t.equal(await first('SEARCH RETURN (COUNT) MODSEQ 1'), `* ESEARCH (TAG "x") COUNT 6 MODSEQ ${m3}`, 'COUNT: the highest of all matches');
});
