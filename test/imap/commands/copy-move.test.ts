// COPY, MOVE and their UID forms (RFC 3501 section 6.4.7, RFC 6851, COPYUID of RFC 4315).
import t from 'tap';
import { fetchMessages } from '../../../src/store/imap-messages';
import { mailboxId, PHARMACY } from '../../store/imap-fixtures';
import { testSession } from './harness';
import { world } from './messages-world';

t.test('COPY, MOVE with UIDPLUS codes; Trash remembers where a message came from', async (t) => {
  const { db, jean, inbox } = world(t);
  const a = testSession(db, jean);
  a.select('INBOX');
  const archives = db.prepare("SELECT uidvalidity FROM mailboxes WHERE account_id = ? AND name = 'Corbeille'").get(jean) as { uidvalidity: number };
  t.match(await a.run('COPY 1:2 Archives'), /^TAG NO \[TRYCREATE\] Mailbox "Archives" does not exist\r\n$/);
  const trash = mailboxId(db, jean, 'Corbeille');
  t.equal(await a.run('COPY 2:3 Corbeille'), `TAG OK [COPYUID ${archives.uidvalidity} 2:3 1:2] COPY completed\r\n`);
  t.equal(await a.run('UID MOVE 1,3 Corbeille'), `* OK [COPYUID ${archives.uidvalidity} 1,3 3:4] Moved\r\n* 3 EXPUNGE\r\n* 1 EXPUNGE\r\nTAG OK UID MOVE completed\r\n`);
  const origins = db.prepare('SELECT uid, trash_origin FROM messages WHERE mailbox_id = ? ORDER BY uid').all(trash);
  t.same(origins, [
    { uid: 1, trash_origin: 'INBOX' },
    { uid: 2, trash_origin: 'INBOX' },
    { uid: 3, trash_origin: 'INBOX' },
    { uid: 4, trash_origin: 'INBOX' },
  ]);
  t.equal(await a.run('FETCH 1:* UID'), '* 1 FETCH (UID 2)\r\nTAG OK FETCH completed\r\n');
  t.equal(await a.run('UID COPY 99 Corbeille'), 'TAG OK UID COPY completed (no messages)\r\n');
  t.match(await a.run(`COPY 1 ${PHARMACY}`), /TRYCREATE/);
  const utf8Name = Buffer.from(`Partagé/${PHARMACY}/INBOX`, 'utf8');
  t.match(await a.run(Buffer.concat([Buffer.from(`COPY 1 {${utf8Name.length}}\r\n`), utf8Name])), /^TAG NO \[CANNOT\] .*modified UTF-7/, 'names go in modified UTF-7');
  t.match(await a.run(`COPY 1 "Partag&AOk-/${PHARMACY}/INBOX"`), /^TAG OK \[COPYUID \d+ 2 1\] COPY completed/, 'into a linked ORG box (R6)');

  const ro = testSession(db, jean);
  ro.select('INBOX', true);
  t.match(await ro.run('MOVE 1 Corbeille'), /^TAG NO \[CANNOT\]/, 'MOVE out of a read-only mailbox is refused');
  t.match(await ro.run('COPY 1 Corbeille'), /^TAG OK \[COPYUID/, 'COPY from a read-only mailbox is fine');
  t.equal(fetchMessages(db, inbox, [2]).length, 1);
});

t.test('COPY and MOVE: syntax and state', async (t) => {
  const { db, jean } = world(t);
  const a = testSession(db, jean);
  t.equal(await a.run('COPY 1 Corbeille'), 'TAG BAD COPY needs a selected mailbox (SELECT or EXAMINE first)\r\n');
  t.equal(await a.run('MOVE 1 Corbeille'), 'TAG BAD MOVE needs a selected mailbox (SELECT or EXAMINE first)\r\n');
  a.select('INBOX');
  t.match(await a.run('COPY 1'), /^TAG BAD /, 'no destination');
  t.match(await a.run('MOVE Corbeille'), /^TAG BAD /, 'no sequence set');
  t.match(await a.run('COPY 9 Corbeille'), /^TAG BAD /, 'a sequence number beyond EXISTS');
});
