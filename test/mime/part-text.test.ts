import t from 'tap';
import { parseStructure, partAt, type MimePart } from '../../src/mime/structure';
import { decodeBytes } from '../../src/mime/decode';
import { decodeBody, searchableText, textOf } from '../../src/mime/part-text';

const crlf = (...lines: string[]): Buffer => Buffer.from(lines.join('\r\n'), 'utf8');

t.test('decodeBody undoes base64 and quoted-printable, leaves 7bit/8bit/binary alone', async (t) => {
  const zip = Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0xff, 0x80, 0x0d, 0x0a, 0x00]);
  const raw = crlf(
    'Content-Type: multipart/mixed; boundary=b',
    '',
    '--b',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: Quoted-Printable',
    '',
    'Bonjour Ren=C3=A9e',
    '--b',
    'Content-Type: application/zip; name=IHE_XDM.ZIP',
    'Content-Transfer-Encoding: base64',
    '',
    zip.toString('base64').slice(0, 8),
    zip.toString('base64').slice(8),
    '--b',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    'déjà',
    '--b--',
  );
  const root = parseStructure(raw);
  t.equal(decodeBody(raw, partAt(root, [1]) as MimePart).toString('utf8'), 'Bonjour Renée');
  t.ok(decodeBody(raw, partAt(root, [2]) as MimePart).equals(zip), 'base64 split over lines');
  t.equal(decodeBody(raw, partAt(root, [3]) as MimePart).toString('utf8'), 'déjà');
});

t.test('textOf decodes the declared charset, and survives lying or unknown ones', async (t) => {
  const latin1 = Buffer.concat([Buffer.from('Content-Type: text/plain; charset=ISO-8859-1\r\n\r\n'), Buffer.from('r\xe9sultat', 'latin1')]);
  t.equal(textOf(latin1, parseStructure(latin1)), 'résultat');
  const cp1252 = Buffer.concat([Buffer.from('Content-Type: text/plain; charset=windows-1252\r\n\r\n'), Buffer.from([0x80, 0x20, 0x92])]);
  t.equal(textOf(cp1252, parseStructure(cp1252)), '€ ’');
  const unlabelledUtf8 = Buffer.from('Subject: x\r\n\r\nrésultat', 'utf8');
  t.equal(textOf(unlabelledUtf8, parseStructure(unlabelledUtf8)), 'résultat', 'us-ascii by default, but 8-bit UTF-8 is read as such');
  const wrongUtf8 = Buffer.concat([Buffer.from('Content-Type: text/plain; charset=utf-8\r\n\r\n'), Buffer.from('r\xe9sultat \x93ok\x94', 'latin1')]);
  t.equal(textOf(wrongUtf8, parseStructure(wrongUtf8)), 'résultat “ok”', 'invalid UTF-8 falls back to windows-1252');
  t.equal(decodeBytes(Buffer.from('caf\xe9', 'latin1'), 'x-unknown-charset'), 'café');
});

t.test('searchableText keeps every text part, forwarded ones included, and skips binary attachments', async (t) => {
  const raw = crlf(
    'Subject: dossier',
    'Content-Type: multipart/mixed; boundary=outer',
    '',
    '--outer',
    'Content-Type: multipart/alternative; boundary=alt',
    '',
    '--alt',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    'Compte rendu de l=E2=80=99examen',
    '--alt',
    'Content-Type: text/html; charset=utf-8',
    '',
    '<html><body><p>Compte&nbsp;rendu <b>HTML</b> &amp; &#233;chographie</p></body></html>',
    '--alt--',
    '--outer',
    'Content-Type: application/zip; name=IHE_XDM.ZIP',
    'Content-Transfer-Encoding: base64',
    '',
    Buffer.from('SECRET-ZIP-CONTENT').toString('base64'),
    '--outer',
    'Content-Type: message/rfc822',
    '',
    'Subject: transfert',
    'Content-Type: text/plain; charset=ISO-8859-1',
    'Content-Transfer-Encoding: base64',
    '',
    Buffer.from('Pi\xe8ce transf\xe9r\xe9e', 'latin1').toString('base64'),
    '--outer--',
  );
  const text = searchableText(raw, parseStructure(raw));
  t.match(text, 'Compte rendu de l’examen');
  t.match(text, 'Compte rendu  HTML  & échographie');
  t.notMatch(text, '<b>', 'HTML tags are not searchable text');
  t.match(text, 'Pièce transférée');
  t.notMatch(text, 'SECRET-ZIP-CONTENT');
  t.notMatch(text, Buffer.from('SECRET-ZIP-CONTENT').toString('base64'));
});

t.test('searchableText decodes the accented HTML entities of French mail, case-sensitively', async (t) => {
  const raw = Buffer.from(
    'Content-Type: text/html; charset=us-ascii\r\n\r\n<p>Glyc&eacute;mie &Eacute;lev&eacute;e, r&eacute;sultat re&ccedil;u &AMP; contr&ocirc;le &agrave; pr&eacute;voir, &OElig;dème &euro;</p>\r\n',
  );
  const text = searchableText(raw, parseStructure(raw));
  t.match(text, 'Glycémie Élevée, résultat reçu & contrôle à prévoir, Œdème €');
  t.notMatch(text, '&eacute;');
});
