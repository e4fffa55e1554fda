// APPEND (RFC 3501 section 6.3.11) with APPENDUID (RFC 4315), LITERAL+ (RFC 7888) and MULTIAPPEND (RFC 3502).
import t from 'tap';
import { cachedStatement, type Db } from '../../../src/store/database';
import { fetchMessages } from '../../../src/store/imap-messages';
import { testSession } from './harness';
import { simple, world } from './messages-world';
import { freshWorld, mailboxId } from '../../store/imap-fixtures';

t.test('APPEND: flags, date, APPENDUID, TRYCREATE, EXISTS in the selected mailbox', async (t) => {
  const { db, jean, inbox } = world(t);
  const a = testSession(db, jean);
  const raw = simple('Brouillon', 'À relire', 'draft.1@hopital.fr');
  const sent = db.prepare("SELECT id, uidvalidity FROM mailboxes WHERE account_id = ? AND name = 'Brouillons'").get(jean) as { id: number; uidvalidity: number };
  t.equal(
    await a.run(Buffer.concat([Buffer.from(`APPEND Brouillons (\\Draft $MDNSent) "14-Jul-2026 08:30:00 +0200" {${raw.length}}\r\n`), raw])),
    `TAG OK [APPENDUID ${sent.uidvalidity} 1] APPEND completed\r\n`,
  );
  const [row] = fetchMessages(db, sent.id, [1]);
  t.equal(row.internalDate, Date.UTC(2026, 6, 14, 6, 30));
  t.same(row.keywords, ['$MDNSent']);
  t.equal(row.flags, 16);
  t.match(await a.run(Buffer.concat([Buffer.from(`APPEND Nulle-part {${raw.length}}\r\n`), raw])), /^TAG NO \[TRYCREATE\]/);
  t.match(await a.run(Buffer.concat([Buffer.from(`APPEND INBOX "31-Feb-2026 08:30:00 +0200" {${raw.length}}\r\n`), raw])), /^TAG BAD Invalid date-time/);
  t.match(await a.run('APPEND INBOX {0}\r\n'), /^TAG NO \[CANNOT\]/);
  a.select('INBOX');
  t.equal(
    await a.run(Buffer.concat([Buffer.from(`APPEND INBOX (\\Seen) {${raw.length}+}\r\n`), raw])),
    `* 4 EXISTS\r\n* 4 RECENT\r\nTAG OK [APPENDUID ${(db.prepare('SELECT uidvalidity FROM mailboxes WHERE id = ?').get(inbox) as { uidvalidity: number }).uidvalidity} 4] APPEND completed\r\n`,
  );
});

t.test('APPEND: syntax and state', async (t) => {
  const { db, jean } = world(t);
  const a = testSession(db, jean);
  t.match(await a.run('APPEND INBOX'), /^TAG BAD /, 'no message literal');
  t.match(await a.run('APPEND INBOX (\\Bogus) {1}\r\nx'), /^TAG BAD /, 'an unknown system flag');
  a.session.state = 'not-authenticated';
  a.session.user = null;
  t.equal(await a.run('APPEND INBOX {1}\r\nx'), 'TAG BAD APPEND needs you to log in first\r\n');
});

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

/** Counts the write transactions `db` begins (the IMMEDIATE ones every write of the store takes). */
function countWriteTransactions(db: Db): { count: number } {
  const counter = { count: 0 };
  const begin = cachedStatement(db, 'BEGIN IMMEDIATE');
  const run = begin.run.bind(begin);
  begin.run = (...params: unknown[]) => {
    counter.count++;
    return run(...params);
  };
  return counter;
}

t.test('APPEND into the selected mailbox: \\Recent for the appending session only, claimed in the one commit that stores it', async (t) => {
  const { db, jean, inbox } = world(t);
  const a = testSession(db, jean);
  const b = testSession(db, jean);
  a.select('INBOX'); // the first to see the three messages: its \Recent
  b.select('INBOX');
  const writes = countWriteTransactions(db);
  const raw = simple('Résultats', 'Bilan sanguin', 'bilan.4@hopital.fr');
  t.match(await a.run(Buffer.concat([Buffer.from(`APPEND INBOX {${raw.length}+}\r\n`), raw])), /^\* 4 EXISTS\r\n\* 4 RECENT\r\nTAG OK \[APPENDUID \d+ 4\] APPEND completed\r\n$/);
  t.equal(writes.count, 1, 'one write transaction: the message and its \\Recent claim together');
  t.equal((db.prepare('SELECT recent_floor FROM mailboxes WHERE id = ?').get(inbox) as { recent_floor: number }).recent_floor, 5);
  t.equal(await a.run('FETCH 4 FLAGS'), '* 4 FETCH (FLAGS (\\Recent))\r\nTAG OK FETCH completed\r\n');
  t.equal(await b.run('NOOP'), '* 4 EXISTS\r\n* 0 RECENT\r\nTAG OK NOOP completed\r\n', 'another session is told of it, not as \\Recent');
  t.equal(await b.run('FETCH 4 FLAGS'), '* 4 FETCH (FLAGS ())\r\nTAG OK FETCH completed\r\n');
  t.equal(writes.count, 1, 'nothing left to claim: the other session synchronises without a write');
  // Appending elsewhere: the selected view is not touched, the other mailbox's floor stays for its first reader
  t.match(await a.run(Buffer.concat([Buffer.from(`APPEND Brouillons {${raw.length}+}\r\n`), raw])), /^TAG OK \[APPENDUID \d+ 1\] APPEND completed\r\n$/);
  const c = testSession(db, jean);
  t.match(await c.run('SELECT Brouillons'), /\* 1 RECENT\r\n/, 'the first session to select Brouillons gets its \\Recent');
});
