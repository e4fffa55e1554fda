// BINARY (RFC 3516): FETCH BINARY[part]<partial>, BINARY.PEEK, BINARY.SIZE with the transfer
// encoding undone, literal8 when the data holds NUL, NO [UNKNOWN-CTE], APPEND with literal8.
import t from 'tap';
import { appendToMailbox, fetchMessages } from '../../../src/store/imap-messages';
import { freshWorld, mailboxId } from '../../store/imap-fixtures';
import { testSession } from './harness';

const PDF = Buffer.from([0x25, 0x50, 0x44, 0x46, 0x00, 0x01, 0xff, 0x0a]); // "%PDF" NUL 01 FF LF

const MESSAGE = Buffer.from(
  [
    'From: martin@chu.mssante.fr',
    'Subject: CR',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b1"',
    '',
    '--b1',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    'R=C3=A9sultat norm=',
    'al',
    '--b1',
    'Content-Type: application/pdf',
    'Content-Transfer-Encoding: base64',
    '',
    PDF.toString('base64'),
    '--b1',
    'Content-Type: application/octet-stream',
    'Content-Transfer-Encoding: x-uuencode',
    '',
    'begin 644 a',
    '--b1--',
    '',
  ].join('\r\n'),
);

t.test('FETCH BINARY decodes leaf parts, BINARY.SIZE gives the decoded size', async (t) => {
  const { db, jean } = freshWorld(t);
  const inbox = mailboxId(db, jean, 'INBOX');
  appendToMailbox(db, inbox, MESSAGE);
  const s = testSession(db, jean);
  t.ok(s.session.capabilities().includes('BINARY'));
  s.select('INBOX');

  t.equal(
    await s.run('FETCH 1 (BINARY.SIZE[1] BINARY.PEEK[1])'),
    '* 1 FETCH (BINARY.SIZE[1] 16 BINARY[1] {16}\r\nR\xc3\xa9sultat normal)\r\nTAG OK FETCH completed\r\n',
    'quoted-printable undone, soft line break joined',
  );
  const pdf = await s.runRaw('FETCH 1 (BINARY.PEEK[2])');
  t.same(pdf, Buffer.concat([Buffer.from('* 1 FETCH (BINARY[2] ~{8}\r\n'), PDF, Buffer.from(')\r\nTAG OK FETCH completed\r\n'.replace('TAG', pdf.toString('latin1').match(/\r\n(T\d+) OK/)![1]))]), 'base64 undone, NUL → literal8');
  t.equal(await s.run('FETCH 1 (BINARY.PEEK[2]<5.2>)'), '* 1 FETCH (BINARY[2]<5> {2}\r\n\x01\xff)\r\nTAG OK FETCH completed\r\n', 'partial on the decoded octets; no NUL there, plain literal');
  t.equal(await s.run('FETCH 1 BINARY.SIZE[2]'), '* 1 FETCH (BINARY.SIZE[2] 8)\r\nTAG OK FETCH completed\r\n');
  t.equal(await s.run('FETCH 1 (BINARY.PEEK[9] BINARY.SIZE[9])'), '* 1 FETCH (BINARY[9] NIL BINARY.SIZE[9] 0)\r\nTAG OK FETCH completed\r\n', 'a part that does not exist');
  t.match(await s.run('FETCH 1 (BINARY.PEEK[])'), /^\* 1 FETCH \(BINARY\[\] \{\d+\}\r\nFrom: martin/, 'BINARY[] is the message as stored');
  t.equal(await s.run('FETCH 1 BINARY.PEEK[3]'), 'TAG NO [UNKNOWN-CTE] Cannot decode the content transfer encoding X-UUENCODE of a part; fetch it with BODY[] instead\r\n');
  t.match(await s.run('FETCH 1 BINARY.SIZE[1]<0.2>'), /^TAG BAD BINARY\.SIZE takes no partial range/);
  t.match(await s.run('FETCH 1 BINARY[1.MIME]'), /^TAG BAD Invalid binary section/);

  t.equal(fetchMessages(db, inbox, [1])[0].flags & 1, 0, 'PEEK and SIZE leave \\Seen alone');
  t.equal(await s.run('FETCH 1 BINARY[1]<0.1>'), '* 1 FETCH (BINARY[1]<0> {1}\r\nR FLAGS (\\Seen \\Recent))\r\nTAG OK FETCH completed\r\n', 'BINARY without PEEK sets \\Seen');
});

t.test('APPEND with a literal8 stores NUL parts base64-encoded; BINARY gives them back', async (t) => {
  const { db, jean } = freshWorld(t);
  const s = testSession(db, jean);
  const raw = Buffer.concat([
    Buffer.from('From: a@b.fr\r\nSubject: bin\r\nMIME-Version: 1.0\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n'),
    PDF,
  ]);
  t.match(await s.run(Buffer.concat([Buffer.from(`APPEND INBOX ~{${raw.length}}\r\n`), raw])), /^TAG OK \[APPENDUID \d+ 1\] APPEND completed/);
  s.select('INBOX');
  const body = await s.run('FETCH 1 BODY.PEEK[]');
  t.notOk(body.includes('\x00'), 'BODY[] carries no NUL');
  t.match(body, /Content-Transfer-Encoding: base64\r\n\r\nJVBERgAB\/wo=\r\n\)/, 'the part was re-encoded');
  t.notMatch(body, /binary/i, 'the old encoding field is gone');
  const binary = await s.runRaw('FETCH 1 BINARY.PEEK[1]');
  t.ok(binary.includes(Buffer.concat([Buffer.from('BINARY[1] ~{8}\r\n'), PDF])), 'BINARY[1] gives the original octets');
  t.match(await s.run('FETCH 1 BINARY.SIZE[1]'), /BINARY\.SIZE\[1\] 8\)/);

  const plain = Buffer.from('Subject: texte\r\n\r\nBonjour\r\n');
  t.match(await s.run(Buffer.concat([Buffer.from(`APPEND INBOX ~{${plain.length}}\r\n`), plain])), /TAG OK \[APPENDUID/, 'literal8 without NUL: stored as sent');
  t.equal(await s.run('FETCH 2 BODY.PEEK[]'), `* 2 FETCH (BODY[] {${plain.length}}\r\n${plain.toString('latin1')})\r\nTAG OK FETCH completed\r\n`);
  t.match(await s.run('CREATE ~{3}\r\nabc'), /^TAG BAD A binary literal \(~\{n\}\) is only accepted for message data/, 'literal8 is for message data only');
});
