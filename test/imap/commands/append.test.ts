// APPEND with MULTIAPPEND (RFC 3502): several messages in one command, all or none, APPENDUID
// naming their UIDs as a set (RFC 4315).
import t from 'tap';
import { fetchMessages } from '../../../src/store/imap-messages';
import { freshWorld, mailboxId } from '../../store/imap-fixtures';
import { testSession } from './harness';

const one = Buffer.from('Subject: un\r\n\r\npremier\r\n');
const two = Buffer.from('Subject: deux\r\n\r\nsecond\r\n');

t.test('MULTIAPPEND stores every message, each with its own flags and date', async (t) => {
  const { db, jean } = freshWorld(t);
  const drafts = mailboxId(db, jean, 'Brouillons');
  const uidValidity = (db.prepare('SELECT uidvalidity FROM mailboxes WHERE id = ?').get(drafts) as { uidvalidity: number }).uidvalidity;
  const s = testSession(db, jean);
  t.ok(s.session.capabilities().includes('MULTIAPPEND'));
  const reply = await s.run(
    Buffer.concat([
      Buffer.from(`APPEND Brouillons (\\Draft) "14-Jul-2026 08:30:00 +0200" {${one.length}}\r\n`),
      one,
      Buffer.from(` (\\Seen) {${two.length}+}\r\n`),
      two,
    ]),
  );
  t.equal(reply, `TAG OK [APPENDUID ${uidValidity} 1:2] APPEND completed\r\n`);
  const rows = fetchMessages(db, drafts, [1, 2]);
  t.equal(rows.length, 2);
  t.equal(rows[0].internalDate, Date.UTC(2026, 6, 14, 6, 30));
  t.equal(rows[0].flags, 16, '\\Draft on the first');
  t.equal(rows[1].flags, 1, '\\Seen on the second');
});

t.test('MULTIAPPEND is all or nothing', async (t) => {
  const { db, jean } = freshWorld(t);
  const inbox = mailboxId(db, jean, 'INBOX');
  const s = testSession(db, jean);
  const before = fetchMessages(db, inbox, [1, 2]).length;
  const bad = await s.run(Buffer.concat([Buffer.from(`APPEND INBOX {${one.length}}\r\n`), one, Buffer.from(' "31-Feb-2026 08:30:00 +0200" {3}\r\nabc')]));
  t.match(bad, /^TAG BAD Invalid date-time/);
  const empty = await s.run(Buffer.concat([Buffer.from(`APPEND INBOX {${one.length}}\r\n`), one, Buffer.from(' {0}\r\n')]));
  t.match(empty, /^TAG NO \[CANNOT\]/);
  const missing = await s.run(Buffer.concat([Buffer.from(`APPEND INBOX {${one.length}}\r\n`), one, Buffer.from(' (\\Seen)')]));
  t.match(missing, /^TAG BAD APPEND needs the message as a literal/);
  t.equal(fetchMessages(db, inbox, [1, 2]).length, before, 'nothing stored from a refused MULTIAPPEND');
});
