// CATENATE (RFC 4469): APPEND from TEXT literals and IMAP URLs (RFC 5092) to messages this person
// can read; BADURL for anything else (another user's mailbox, another host, a wrong UIDVALIDITY),
// TOOBIG, TRYCREATE first, MULTIAPPEND mixing both forms.
import t from 'tap';
import { appendToMailbox, fetchMessages } from '../../../src/store/imap-messages';
import { readBody } from '../../../src/store/messages';
import { freshWorld, LAB, mailboxId, PHARMACY } from '../../store/imap-fixtures';
import { testSession } from './harness';

const ORIGINAL = 'From: a@hopital.fr\r\nSubject: CR\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nCompte rendu\r\n--b\r\nContent-Type: application/pdf\r\n\r\nPDF-DATA\r\n--b--\r\n';

const text = (s: string) => `TEXT {${Buffer.byteLength(s)}}\r\n${s}`;

function setup(t: Parameters<typeof freshWorld>[0]) {
  const world = freshWorld(t);
  const inbox = mailboxId(world.db, world.jean, 'INBOX');
  appendToMailbox(world.db, inbox, Buffer.from(ORIGINAL));
  const validity = (world.db.prepare('SELECT uidvalidity FROM mailboxes WHERE id = ?').get(inbox) as { uidvalidity: number }).uidvalidity;
  const s = testSession(world.db, world.jean);
  s.session.user!.login = 'jean.dupont@hopital.fr';
  const drafts = mailboxId(world.db, world.jean, 'Brouillons');
  const stored = (uid: number) => {
    const [row] = fetchMessages(world.db, drafts, [uid]);
    return row ? readBody(world.db, row.bodyHash)!.toString() : undefined;
  };
  return { ...world, inbox, validity, s, drafts, stored };
}

t.test('CATENATE: TEXT and URL parts, sections and partial, relative and absolute URLs', async (t) => {
  const { s, validity, stored, drafts, db } = setup(t);
  const draftsValidity = (db.prepare('SELECT uidvalidity FROM mailboxes WHERE id = ?').get(drafts) as { uidvalidity: number }).uidvalidity;
  const header = 'From: b@hopital.fr\r\nSubject: Fwd\r\nContent-Type: multipart/mixed; boundary="c"\r\n\r\n--c\r\n';
  const reply = await s.run(`APPEND Brouillons (\\Draft) CATENATE (${text(header)} URL "/INBOX;UIDVALIDITY=${validity}/;UID=1/;SECTION=2.MIME" URL "/INBOX/;UID=1/;SECTION=2" ${text('\r\n--c--\r\n')})`);
  t.equal(reply, `TAG OK [APPENDUID ${draftsValidity} 1] APPEND completed\r\n`);
  t.equal(stored(1), `${header}Content-Type: application/pdf\r\n\r\nPDF-DATA\r\n--c--\r\n`, 'the attachment forwarded without download');

  t.match(await s.run('APPEND Brouillons CATENATE (URL "imap://jean.dupont%40hopital.fr@localhost/INBOX/;UID=1/;SECTION=HEADER" URL "/INBOX/;UID=1/;SECTION=1/;PARTIAL=0.6")'), /^TAG OK \[APPENDUID/);
  t.equal(stored(2), 'From: a@hopital.fr\r\nSubject: CR\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\nCompte', 'absolute URL to self; PARTIAL cuts');
  t.match(await s.run('APPEND Brouillons CATENATE (URL "/INBOX/;UID=1")'), /^TAG OK/, 'no section: the whole message');
  t.equal(stored(3), ORIGINAL);
});

t.test('CATENATE: BADURL for anything but this person\'s own messages; nothing stored', async (t) => {
  const { db, marie, s, validity, stored, lab } = setup(t);
  appendToMailbox(db, mailboxId(db, marie, 'INBOX'), Buffer.from('Subject: secret\r\n\r\nconfidentiel\r\n'));
  appendToMailbox(db, mailboxId(db, lab, 'INBOX'), Buffer.from('Subject: labo\r\n\r\nresultats\r\n'));
  const refused = async (url: string) => s.run(`APPEND Brouillons CATENATE (${text('Subject: x\r\n\r\n')} URL "${url}")`);
  const bad = /^TAG NO \[BADURL [^\]]+\] /;
  t.match(await refused(`/INBOX;UIDVALIDITY=${validity + 1}/;UID=1`), bad, 'UIDVALIDITY differs');
  t.match(await refused('/INBOX/;UID=99'), bad, 'no such message');
  t.match(await refused('/Nulle-part/;UID=1'), bad, 'no such mailbox');
  t.match(await refused('imap://marie.curie%40hopital.fr@localhost/INBOX/;UID=1'), bad, 'another user on this server');
  t.match(await refused('imap://jean.dupont%40hopital.fr@ailleurs.example/INBOX/;UID=1'), bad, 'another server');
  t.match(await refused(`/Partag%C3%A9/${LAB}/INBOX/;UID=1`), bad, 'an ORG box Jean is not linked to (R6)');
  t.match(await refused('/INBOX/;UID=1;URLAUTH=anonymous:internal:abc'), bad, 'URLAUTH is not offered');
  t.match(await refused('INBOX/;UID=1'), bad, 'a relative path');
  t.equal(stored(1), undefined, 'nothing was appended');
});

t.test('CATENATE: an ORG box the person is linked to is readable (R6), TRYCREATE first, TOOBIG', async (t) => {
  const { db, pharmacy, s, stored } = setup(t);
  appendToMailbox(db, mailboxId(db, pharmacy, 'INBOX'), Buffer.from('Subject: ordonnance\r\n\r\nposologie\r\n'));
  t.match(await s.run(`APPEND Brouillons CATENATE (URL "/Partag%C3%A9/${PHARMACY}/INBOX/;UID=1/;SECTION=TEXT")`), /^TAG OK/);
  t.equal(stored(1), 'posologie\r\n');
  t.match(await s.run('APPEND Nulle-part CATENATE (URL "/INBOX;UIDVALIDITY=1/;UID=99")'), /^TAG NO \[TRYCREATE\]/, 'the destination is checked before the URLs');
  const limit = s.session.config.limits.maxMessageBytes;
  s.session.config.limits.maxMessageBytes = 20;
  t.teardown(() => {
    s.session.config.limits.maxMessageBytes = limit;
  });
  t.match(await s.run('APPEND Brouillons CATENATE (URL "/INBOX/;UID=1")'), /^TAG NO \[TOOBIG\]/);
});

t.test('CATENATE within MULTIAPPEND: all or nothing', async (t) => {
  const { s, stored } = setup(t);
  const literal = 'Subject: plain\r\n\r\ncorps\r\n';
  t.match(await s.run(`APPEND Brouillons CATENATE (URL "/INBOX/;UID=1/;SECTION=HEADER" ${text('suite\r\n')}) (\\Seen) {${literal.length}}\r\n${literal}`), /^TAG OK \[APPENDUID \d+ 1:2\]/);
  t.match(stored(1), /^From: a@hopital.fr\r\n[\s\S]*\r\n\r\nsuite\r\n$/);
  t.equal(stored(2), literal);
  t.match(await s.run(`APPEND Brouillons {${literal.length}}\r\n${literal} CATENATE (URL "/INBOX/;UID=42")`), /^TAG NO \[BADURL \/INBOX\/;UID=42\]/);
  t.equal(stored(3), undefined, 'the first message of a refused MULTIAPPEND is not stored either');
  t.match(await s.run('APPEND Brouillons CATENATE (FROB "x")'), /^TAG BAD CATENATE parts are TEXT literal or URL/);
  t.match(await s.run('APPEND Brouillons CATENATE ()'), /^TAG BAD CATENATE needs a list/);
});
