// FETCH and UID FETCH (RFC 3501 sections 6.4.5, 7.4.2; CONDSTORE RFC 7162 section 3.1.4) on the
// real dispatch, store and selected-mailbox view, without sockets.
import t from 'tap';
import { clearFetchCaches } from '../../../src/imap/fetch-cache';
import { appendToMailbox, fetchMessages } from '../../../src/store/imap-messages';
import { testSession } from './harness';
import { MULTIPART, simple, world } from './messages-world';

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

t.test('a message another session expunged is still answered from what was kept of it (RFC 2180 section 4.1.1)', async (t) => {
  const { db, jean, inbox } = world(t);
  clearFetchCaches();
  const shared = simple('Partagé', 'Même corps', 'shared.1@hopital.fr');
  appendToMailbox(db, inbox, shared); // UID 4
  appendToMailbox(db, inbox, shared); // UID 5, the same body
  const a = testSession(db, jean);
  const b = testSession(db, jean, a.changes);
  a.select('INBOX');
  b.select('INBOX');
  const before = await a.run('FETCH 2 (ENVELOPE INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER])');
  const beforeShared = await a.run('FETCH 4 (UID BODY.PEEK[])');
  t.match(beforeShared, /^\* 4 FETCH \(UID 4 BODY\[\] \{\d+\}\r\n/);
  await b.run('STORE 2,4 +FLAGS.SILENT (\\Deleted)');
  await b.run('EXPUNGE');
  t.equal(await a.run('FETCH 2 (ENVELOPE INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER])'), before, 'the same answer as before the expunge');
  t.equal(await a.run('FETCH 4 (UID BODY.PEEK[])'), beforeShared, 'its body, still held by another message, too');
  t.equal(await a.run('FETCH 2 (BODY.PEEK[TEXT])'), 'TAG NO [EXPUNGEISSUED] Some of the requested messages no longer exist\r\n', 'a body nothing holds any more: gone');
  t.equal(await a.run('FETCH 1:2 (ENVELOPE)').then((reply) => reply.split('\r\n').at(-2)), 'TAG OK FETCH completed', 'what was kept answers for the expunged message');
  clearFetchCaches();
  t.equal(await a.run('FETCH 2 (ENVELOPE)'), 'TAG NO [EXPUNGEISSUED] Some of the requested messages no longer exist\r\n', 'nothing kept: refused (section 4.1.2)');
  t.equal(await a.run('NOOP'), '* 4 EXPUNGE\r\n* 2 EXPUNGE\r\nTAG OK NOOP completed\r\n', 'then the EXPUNGEs come');
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

t.test('FETCH: syntax errors are BAD, and it needs a selected mailbox', async (t) => {
  const { db, jean } = world(t);
  const a = testSession(db, jean);
  t.equal(await a.run('FETCH 1 FLAGS'), 'TAG BAD FETCH needs a selected mailbox (SELECT or EXAMINE first)\r\n');
  t.equal(await a.run('UID FETCH 1 FLAGS'), 'TAG BAD FETCH needs a selected mailbox (SELECT or EXAMINE first)\r\n');
  a.select('INBOX');
  t.match(await a.run('FETCH 1 (FROBNICATE)'), /^TAG BAD /, 'unknown item');
  t.match(await a.run('FETCH 1'), /^TAG BAD /, 'no items');
  t.match(await a.run('FETCH x FLAGS'), /^TAG BAD /, 'not a sequence set');
  t.match(await a.run('FETCH 0 FLAGS'), /^TAG BAD /, 'sequence numbers start at 1');
  t.match(await a.run('FETCH 1 BODY[99]'), /^\* 1 FETCH \(BODY\[99\] \{0\}\r\n FLAGS/, 'a missing part is empty, not an error (RFC 3501 section 6.4.5)');
});

t.test('FETCH MODSEQ enables CONDSTORE and reports HIGHESTMODSEQ once (RFC 7162 section 3.1)', async (t) => {
  const { db, jean, inbox } = world(t);
  const a = testSession(db, jean);
  a.select('INBOX');
  const highest = Math.max(...fetchMessages(db, inbox, [1, 2, 3]).map((row) => row.modseq));
  const first = fetchMessages(db, inbox, [1])[0].modseq;
  t.equal(
    await a.run('FETCH 1 MODSEQ'),
    `* OK [HIGHESTMODSEQ ${highest}] Highest modification sequence\r\n* 1 FETCH (MODSEQ (${first}))\r\nTAG OK FETCH completed\r\n`,
  );
  t.equal(await a.run('FETCH 1 MODSEQ'), `* 1 FETCH (MODSEQ (${first}))\r\nTAG OK FETCH completed\r\n`, 'not again');
  t.match(await a.run('STORE 1 +FLAGS (\\Seen)'), /^\* 1 FETCH \(MODSEQ \(\d+\) FLAGS \(/, 'STORE responses carry MODSEQ from now on');
  t.match(await a.run('UID STORE 1 -FLAGS (\\Seen)'), /^\* 1 FETCH \(UID 1 MODSEQ \(\d+\) FLAGS \(/, 'and UID for UID STORE');
});
