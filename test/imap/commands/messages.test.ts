// The message commands on the real dispatch, store and selected-mailbox view, without sockets:
// FETCH, STORE, SEARCH, COPY, MOVE, EXPUNGE and APPEND, with their UID forms.
import t from 'tap';
import type { TapTest } from '../../helpers/tap';
import { appendToMailbox, fetchMessages } from '../../../src/store/imap-messages';
import { openingStatus } from '../../../src/store/openings';
import { freshWorld, mailboxId, PHARMACY } from '../../store/imap-fixtures';
import { testSession } from './harness';

const MULTIPART = Buffer.from(
  [
    'From: =?utf-8?q?Dr_=C3=89mile_Peer?= <emile@chu.mssante.fr>',
    'To: Jean Dupont <jean.dupont@x.mssante.fr>',
    'Subject: =?utf-8?q?R=C3=A9sultats_d=27analyse?=',
    'Date: Mon, 1 Jun 2026 10:00:00 +0200',
    'Message-ID: <multi.1@chu.mssante.fr>',
    'X-MSS-INS: 180017512345678',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b1"',
    '',
    'preamble',
    '--b1',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    'Cr=C3=A9atinine normale, h=C3=A9moglobine basse.',
    '--b1',
    'Content-Type: application/pdf; name="cr.pdf"',
    'Content-Disposition: attachment; filename="cr.pdf"',
    'Content-Transfer-Encoding: base64',
    '',
    'JVBERi0xLjQK',
    '--b1--',
    '',
  ].join('\r\n'),
);

function simple(subject: string, body: string, messageId: string): Buffer {
  return Buffer.from(
    [
      'From: Secretariat <secretariat@hopital.fr>',
      'To: Jean Dupont <jean.dupont@x.mssante.fr>',
      `Subject: ${subject}`,
      'Date: Tue, 2 Jun 2026 09:00:00 +0000',
      `Message-ID: <${messageId}>`,
      '',
      body,
      '',
    ].join('\r\n'),
  );
}

function world(t: TapTest) {
  const w = freshWorld(t);
  const inbox = mailboxId(w.db, w.jean, 'INBOX');
  appendToMailbox(w.db, inbox, MULTIPART, [], Date.UTC(2026, 5, 1, 8));
  appendToMailbox(w.db, inbox, simple('Rendez-vous', 'Demain 10h', 'rdv.2@hopital.fr'), ['\\Flagged'], Date.UTC(2026, 5, 2, 9));
  appendToMailbox(w.db, inbox, simple('Planning', 'Garde du week-end', 'planning.3@hopital.fr'), ['\\Seen', '$label1'], Date.UTC(2026, 5, 3, 9));
  return { ...w, inbox };
}

t.test('FETCH answers FLAGS, UID and MODSEQ from the view, the rest from the store', async (t) => {
  const { db, jean } = world(t);
  const a = testSession(db, jean);
  a.select('INBOX');
  t.equal(
    await a.run('FETCH 1:* (UID FLAGS)'),
    '* 1 FETCH (UID 1 FLAGS (\\Recent))\r\n* 2 FETCH (UID 2 FLAGS (\\Flagged \\Recent))\r\n* 3 FETCH (UID 3 FLAGS (\\Seen $label1 \\Recent))\r\nTAG OK FETCH completed\r\n',
  );
  t.notOk(a.session.condstore);
  const fast = await a.run('FETCH 2 FAST');
  t.equal(fast, `* 2 FETCH (FLAGS (\\Flagged \\Recent) INTERNALDATE " 2-Jun-2026 09:00:00 +0000" RFC822.SIZE ${simple('Rendez-vous', 'Demain 10h', 'rdv.2@hopital.fr').length})\r\nTAG OK FETCH completed\r\n`);
  const envelope = await a.run('UID FETCH 1 (ENVELOPE)');
  t.match(envelope, /^\* 1 FETCH \(UID 1 ENVELOPE \("Mon, 1 Jun 2026 10:00:00 \+0200" /);
  t.match(envelope, /\(\("=\?utf-8\?q\?Dr_=C3=89mile_Peer\?=" NIL "emile" "chu\.mssante\.fr"\)\)/);
  const structure = await a.run('FETCH 1 BODYSTRUCTURE');
  t.match(structure, /BODYSTRUCTURE \(\("TEXT" "PLAIN" \("CHARSET" "utf-8"\) NIL NIL "QUOTED-PRINTABLE" \d+ 1 NIL NIL NIL NIL\)\("APPLICATION" "PDF" \("NAME" "cr\.pdf"\) NIL NIL "BASE64" 12 NIL \("ATTACHMENT" \("FILENAME" "cr\.pdf"\)\) NIL NIL\) "MIXED" \("BOUNDARY" "b1"\) NIL NIL NIL\)/);
  const body = await a.run('FETCH 1 BODY');
  t.match(body, /BODY \(\("TEXT" "PLAIN" \("CHARSET" "utf-8"\) NIL NIL "QUOTED-PRINTABLE" \d+ 1\)\("APPLICATION" "PDF" \("NAME" "cr\.pdf"\) NIL NIL "BASE64" 12\) "MIXED"\)/);
  t.equal(await a.run('FETCH 4 FLAGS'), 'TAG BAD Invalid message sequence number\r\n');
  t.equal(await a.run('UID FETCH 4:9 FLAGS'), 'TAG OK UID FETCH completed\r\n', 'missing UIDs are simply absent');
  t.equal(await a.run('UID FETCH 9:* FLAGS'), '* 3 FETCH (UID 3 FLAGS (\\Seen $label1 \\Recent))\r\nTAG OK UID FETCH completed\r\n', '9:* includes the last');
});

t.test('BODY[section]<partial>, PEEK and \\Seen', async (t) => {
  const { db, jean, inbox } = world(t);
  const a = testSession(db, jean);
  a.select('INBOX');
  const peek = await a.run('FETCH 1 (BODY.PEEK[HEADER.FIELDS (Subject X-MSS-INS)])');
  t.equal(
    peek,
    '* 1 FETCH (BODY[HEADER.FIELDS (Subject X-MSS-INS)] {79}\r\nSubject: =?utf-8?q?R=C3=A9sultats_d=27analyse?=\r\nX-MSS-INS: 180017512345678\r\n\r\n)\r\nTAG OK FETCH completed\r\n',
  );
  t.equal(fetchMessages(db, inbox, [1])[0].flags & 1, 0, 'PEEK leaves \\Seen alone');
  const part = await a.run('FETCH 1 (BODY[1]<0.11>)');
  t.equal(part, '* 1 FETCH (BODY[1]<0> {11}\r\nCr=C3=A9ati FLAGS (\\Seen \\Recent))\r\nTAG OK FETCH completed\r\n', 'new flags reported');
  t.equal(fetchMessages(db, inbox, [1])[0].flags & 1, 1, '\\Seen set in the store');
  const again = await a.run('FETCH 1 (BODY[2.MIME])');
  t.match(again, /^\* 1 FETCH \(BODY\[2\.MIME\] \{\d+\}\r\nContent-Type: application\/pdf; name="cr\.pdf"\r\n.*\r\n\r\n\)\r\nTAG OK/s, 'no FLAGS when nothing changed');
  const whole = await a.runRaw('UID FETCH 1 (RFC822.SIZE BODY[])');
  t.ok(whole.includes(MULTIPART), 'BODY[] is the message byte for byte');
  t.match(whole.toString('latin1'), new RegExp(`^\\* 1 FETCH \\(UID 1 RFC822\\.SIZE ${MULTIPART.length} BODY\\[\\] \\{${MULTIPART.length}\\}\\r\\n`));
  const text = await a.run('FETCH 2 (RFC822.TEXT)');
  t.equal(text, '* 2 FETCH (RFC822.TEXT {12}\r\nDemain 10h\r\n FLAGS (\\Seen \\Flagged \\Recent))\r\nTAG OK FETCH completed\r\n');
  const notSeen = a.changes.listenerCount('mailbox-changed');
  t.equal(notSeen, 0);

  const reader = testSession(db, jean);
  reader.select('INBOX', true);
  await reader.run('UID STORE 3 -FLAGS (\\Seen)').then((reply) => t.match(reply, /^TAG NO \[CANNOT\]/, 'EXAMINE: STORE refused'));
  await reader.run('FETCH 3 BODY[TEXT]');
  t.equal(fetchMessages(db, inbox, [3])[0].flags & 1, 1);
  const b = testSession(db, jean);
  b.select('INBOX');
  await b.run('STORE 3 -FLAGS.SILENT (\\Seen)');
  const examined = await reader.run('FETCH 3 (BODY[TEXT])');
  t.notMatch(examined, /FLAGS \(\\Seen/, 'EXAMINE: a body fetch does not set \\Seen');
  t.equal(fetchMessages(db, inbox, [3])[0].flags & 1, 0);
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

t.test('STORE: replace, add, remove, .SILENT, keywords, UNCHANGEDSINCE', async (t) => {
  const { db, jean, inbox } = world(t);
  const a = testSession(db, jean);
  a.select('INBOX');
  t.equal(await a.run('STORE 1 +FLAGS ($label1 $MDNSent Junk)'), '* 1 FETCH (FLAGS ($label1 $MDNSent Junk \\Recent))\r\nTAG OK STORE completed\r\n');
  t.equal(await a.run('UID STORE 1:2 FLAGS.SILENT (\\Answered NonJunk)'), 'TAG OK STORE completed\r\n');
  t.equal(await a.run('FETCH 1:2 FLAGS'), '* 1 FETCH (FLAGS (\\Answered NonJunk \\Recent))\r\n* 2 FETCH (FLAGS (\\Answered NonJunk \\Recent))\r\nTAG OK FETCH completed\r\n');
  t.equal(await a.run('STORE 2 -FLAGS \\Answered'), '* 2 FETCH (FLAGS (NonJunk \\Recent))\r\nTAG OK STORE completed\r\n');
  t.match(await a.run('STORE 1 +FLAGS (\\Recent)'), /^TAG BAD .*Recent/);
  t.match(await a.run('STORE 1 +FLAGS (\\Bogus)'), /^TAG BAD /);
  t.match(await a.run('STORE 1 FROB (\\Seen)'), /^TAG BAD /);

  // CONDSTORE
  const modseq = fetchMessages(db, inbox, [1])[0].modseq;
  t.equal(
    await a.run(`UID STORE 1:3 (UNCHANGEDSINCE ${modseq}) +FLAGS.SILENT (\\Flagged)`),
    `* 1 FETCH (UID 1 MODSEQ (${modseq + 2}))\r\n* 3 FETCH (UID 3 MODSEQ (${modseq + 2}))\r\nTAG OK [MODIFIED 2] Conditional STORE failed for some messages\r\n`,
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
});

t.test('another session\'s changes arrive as FETCH and EXPUNGE, never an EXPUNGE during FETCH', async (t) => {
  const { db, jean } = world(t);
  const a = testSession(db, jean);
  const b = testSession(db, jean, a.changes);
  a.select('INBOX');
  b.select('INBOX');
  let woken = 0;
  a.changes.on('mailbox-changed', () => woken++);
  await b.run('STORE 2 +FLAGS.SILENT (\\Deleted)');
  t.equal(woken, 1, 'IDLE sessions are told');
  await b.run('EXPUNGE');
  t.equal(
    await a.run('FETCH 1:3 (FLAGS)'),
    '* 1 FETCH (FLAGS (\\Recent))\r\n* 2 FETCH (FLAGS (\\Flagged \\Recent))\r\n* 3 FETCH (FLAGS (\\Seen $label1 \\Recent))\r\nTAG OK FETCH completed\r\n',
    'the expunged message is still answered from the view, with its last known flags',
  );
  t.equal(await a.run('FETCH 2 (BODY.PEEK[TEXT])'), 'TAG NO [EXPUNGEISSUED] Some of the requested messages no longer exist\r\n');
  t.equal(await a.run('SEARCH ALL'), '* SEARCH 1 2 3\r\nTAG OK SEARCH completed\r\n', 'SEARCH keeps the numbering too');
  t.equal(await a.run('NOOP'), '* 2 EXPUNGE\r\nTAG OK NOOP completed\r\n');
  t.equal(await a.run('FETCH 1:* UID'), '* 1 FETCH (UID 1)\r\n* 2 FETCH (UID 3)\r\nTAG OK FETCH completed\r\n');
  await b.run('UID STORE 3 +FLAGS.SILENT (\\Deleted)');
  await b.run('UID EXPUNGE 3');
  t.equal(await a.run('UID FETCH 1:* UID'), '* 2 EXPUNGE\r\n* 1 FETCH (UID 1)\r\nTAG OK UID FETCH completed\r\n', 'a UID FETCH may carry them, first');
});

t.test('SEARCH keys, UTF-8 text, UID SEARCH, MODSEQ', async (t) => {
  const { db, jean } = world(t);
  const a = testSession(db, jean);
  a.select('INBOX');
  const search = async (criteria: string | Buffer) => (await a.run(Buffer.concat([Buffer.from('SEARCH '), Buffer.from(criteria)]))).split('\r\n')[0];
  t.equal(await search('ALL'), '* SEARCH 1 2 3');
  t.equal(await search('UNSEEN'), '* SEARCH 1 2');
  t.equal(await search('FLAGGED UNSEEN'), '* SEARCH 2');
  t.equal(await search('KEYWORD $label1'), '* SEARCH 3');
  t.equal(await search('OR FLAGGED KEYWORD $label1'), '* SEARCH 2 3');
  t.equal(await search('NOT FROM secretariat'), '* SEARCH 1');
  t.equal(await search('SUBJECT planning'), '* SEARCH 3');
  t.equal(await search('SINCE 2-Jun-2026 BEFORE 3-Jun-2026'), '* SEARCH 2');
  t.equal(await search('SENTON 1-Jun-2026'), '* SEARCH 1');
  t.equal(await search('RECENT'), '* SEARCH 1 2 3');
  t.equal(await search('2:* LARGER 10'), '* SEARCH 2 3');
  t.equal(await search('HEADER X-MSS-INS 1800175'), '* SEARCH 1');
  const accents = Buffer.from('hémoglobine', 'utf8');
  t.equal(await search(Buffer.concat([Buffer.from(`CHARSET UTF-8 TEXT {${accents.length}}\r\n`), accents])), '* SEARCH 1', 'decoded quoted-printable body');
  const subject = Buffer.from('résultats', 'utf8');
  t.equal(await search(Buffer.concat([Buffer.from(`CHARSET UTF-8 SUBJECT {${subject.length}}\r\n`), subject])), '* SEARCH 1', 'decoded RFC 2047 subject');
  t.equal(await search('BODY garde'), '* SEARCH 3');
  t.equal(await search('CHARSET KOI8-R TEXT x'), 'TAG NO [BADCHARSET (UTF-8 US-ASCII)] Unsupported charset KOI8-R');
  t.match(await search('FROBNICATE'), /^TAG BAD /);
  t.equal((await a.run('UID SEARCH UID 2:* UNFLAGGED')).split('\r\n')[0], '* SEARCH 3');
  const modseqs = fetchMessages(db, mailboxId(db, jean, 'INBOX'), [1, 2, 3]).map((row) => row.modseq);
  t.equal(await search(`MODSEQ ${modseqs[1]}`), `* SEARCH 2 3 (MODSEQ ${Math.max(...modseqs)})`);
  t.equal(await search('MODSEQ 99999'), '* SEARCH');
});

t.test('COPY, MOVE, EXPUNGE with UIDPLUS codes; Trash remembers where a message came from', async (t) => {
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

  const t1 = testSession(db, jean);
  t1.select('Corbeille');
  t.equal(await t1.run('STORE 1:2 +FLAGS.SILENT (\\Deleted)'), 'TAG OK STORE completed\r\n');
  t.equal(await t1.run('UID EXPUNGE 2:3'), '* 2 EXPUNGE\r\nTAG OK UID EXPUNGE completed\r\n');
  t.equal(await t1.run('EXPUNGE'), '* 1 EXPUNGE\r\nTAG OK EXPUNGE completed\r\n');
  t.equal(await t1.run('FETCH 1:* UID'), '* 1 FETCH (UID 3)\r\n* 2 FETCH (UID 4)\r\nTAG OK FETCH completed\r\n');
  const ro = testSession(db, jean);
  ro.select('INBOX', true);
  t.match(await ro.run('EXPUNGE'), /^TAG NO \[CANNOT\]/);
  t.match(await ro.run('MOVE 1 Corbeille'), /^TAG NO \[CANNOT\]/);
  t.match(await ro.run('COPY 1 Corbeille'), /^TAG OK \[COPYUID/, 'COPY from a read-only mailbox is fine');
  t.equal(fetchMessages(db, inbox, [2]).length, 1);
});

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

t.test('long responses go out in chunks, each after the socket drained', async (t) => {
  const { db, jean, inbox } = world(t);
  const big = Buffer.concat([simple('Gros', 'x', 'big.1@hopital.fr').subarray(0, 200), Buffer.alloc(150_000, 0x61), Buffer.from('\r\n')]);
  for (let i = 0; i < 3; i++) appendToMailbox(db, inbox, big);
  const a = testSession(db, jean);
  let drains = 0;
  const writesAtDrain: number[] = [];
  Object.assign(a.io, {
    waitForDrain: async () => {
      drains++;
      writesAtDrain.push(a.io.chunks.length);
      await new Promise((resolve) => setImmediate(resolve));
      return true;
    },
  });
  a.select('INBOX');
  const response = await a.runRaw('FETCH 1:* (BODY.PEEK[])');
  t.equal(response.toString('latin1').match(/^\* \d FETCH/gm)?.length, 6);
  t.ok(drains >= 3, `waited for the socket ${drains} times`);
  const flags = await a.runRaw('FETCH 1:* FLAGS');
  t.ok(flags.length < 64 * 1024, 'small responses: one write');
});
