// APPEND (RFC 3501 section 6.3.11) with APPENDUID (RFC 4315) and LITERAL+ (RFC 7888).
import t from 'tap';
import { fetchMessages } from '../../../src/store/imap-messages';
import { testSession } from './harness';
import { simple, world } from './messages-world';

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
