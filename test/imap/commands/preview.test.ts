// PREVIEW (RFC 8970): FETCH PREVIEW [(LAZY)] gives up to 256 characters of the first text part,
// quoted lines left out, whitespace collapsed; "" for a message without text.
import t from 'tap';
import { appendToMailbox } from '../../../src/store/imap-messages';
import { freshWorld, mailboxId } from '../../store/imap-fixtures';
import { testSession } from './harness';

const message = (lines: string[]) => Buffer.from(lines.join('\r\n'));

t.test('FETCH PREVIEW', async (t) => {
  const { db, jean } = freshWorld(t);
  const inbox = mailboxId(db, jean, 'INBOX');
  appendToMailbox(db, inbox, message(['Subject: a', '', 'Bonjour,', '', '  Voici   le compte rendu.', '> ancien message cité', 'Cordialement', '']));
  appendToMailbox(
    db,
    inbox,
    message([
      'Subject: b',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b"',
      '',
      '--b',
      'Content-Type: text/html; charset=utf-8',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      '<p>R=C3=A9sultats <b>normaux</b>&nbsp;&eacute;tablis</p>',
      '--b',
      'Content-Type: application/pdf',
      'Content-Transfer-Encoding: base64',
      '',
      'JVBERg==',
      '--b--',
      '',
    ]),
  );
  appendToMailbox(db, inbox, message(['Subject: c', 'Content-Type: application/pdf', 'Content-Transfer-Encoding: base64', '', 'JVBERg==', '']));
  appendToMailbox(db, inbox, message(['Subject: d', '', 'é'.repeat(300), '']));
  // a long body whose decoded slice would end inside a two-byte character
  appendToMailbox(db, inbox, message(['Subject: e', 'Content-Type: text/plain; charset=utf-8', '', `a${'é'.repeat(9000)}`, '']));
  const s = testSession(db, jean);
  t.ok(s.session.capabilities().includes('PREVIEW'));
  s.select('INBOX');
  t.equal(await s.run('FETCH 1 PREVIEW'), '* 1 FETCH (PREVIEW "Bonjour, Voici le compte rendu. Cordialement")\r\nTAG OK FETCH completed\r\n', 'quoted line left out, whitespace collapsed');
  t.equal(
    await s.run('FETCH 2 (UID PREVIEW (LAZY))'),
    `* 2 FETCH (UID 2 PREVIEW {${Buffer.byteLength('Résultats normaux établis')}}\r\n${Buffer.from('Résultats normaux établis').toString('latin1')})\r\nTAG OK FETCH completed\r\n`,
    'HTML reduced to text, UTF-8 in a literal, LAZY accepted',
  );
  t.equal(await s.run('FETCH 3 PREVIEW (LAZY)'), '* 3 FETCH (PREVIEW "")\r\nTAG OK FETCH completed\r\n', 'no text part: empty');
  const long = await s.run('FETCH 4 PREVIEW');
  t.match(long, new RegExp(`^\\* 4 FETCH \\(PREVIEW \\{${256 * 2}\\}\\r\\n`), 'at most 256 characters');
  const cut = await s.run('FETCH 5 PREVIEW');
  t.ok(Buffer.from(cut, 'latin1').toString('utf8').includes(`a${'é'.repeat(255)})`), 'a character cut by the bounded read does not turn the text into windows-1252');
  t.match(await s.run('FETCH 1 PREVIEW (FAST)'), /^TAG BAD/);
  t.match(await s.run('FETCH 1 (PREVIEW (LAZY) FLAGS) (CHANGEDSINCE 1)'), /PREVIEW "Bonjour.*FLAGS .*MODSEQ/);
});
