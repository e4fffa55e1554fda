import t from 'tap';
import { parseStructure } from '../../../src/mime';
import { parseFetchArguments, type BodySectionItem } from '../../../src/imap/protocol/fetch-items';
import { applyPartial, fetchSection, sectionContent, setsSeen } from '../../../src/imap/protocol/sections';
import { argsOf } from './helpers';

const crlf = (...lines: string[]): Buffer => Buffer.from(lines.join('\r\n'), 'utf8');
const item = (text: string): BodySectionItem => parseFetchArguments(argsOf(text), { uid: false }).items[0] as BodySectionItem;

// RFC 3501 §6.4.5's own example, shaped as an MSSanté message:
//   HEADER ([RFC-2822] header of the message), TEXT, 1 TEXT/PLAIN, 2 APPLICATION/PDF,
//   3 MESSAGE/RFC822 (3.HEADER, 3.TEXT, 3.1 TEXT/PLAIN, 3.2 APPLICATION/ZIP), 4 MULTIPART/MIXED
//   (4.1 IMAGE/GIF, 4.1.MIME, 4.2 MESSAGE/RFC822 whose 4.2.1 is TEXT/PLAIN).
const top = [
  'From: Jean Dupont <jean.dupont@ch-test.mssante.fr>',
  'To: labo@labo.mssante.fr',
  'Subject: Dossier',
  'X-MSS-INS: 279035121518989',
  'Received: from a',
  '\tby b; Tue, 4 Mar 2025 09:12:00 +0100',
  'Date: Tue, 4 Mar 2025 09:12:00 +0100',
  'Content-Type: multipart/mixed; boundary="outer"',
];
const part1 = ['Content-Type: text/plain; charset=utf-8', '', 'Bonjour, voici le dossier.'];
const part2 = ['Content-Type: application/pdf', 'Content-Transfer-Encoding: base64', '', 'JVBERi0xLjQK'];
const part3Header = ['Content-Type: message/rfc822', 'Content-Description: original'];
const inner3Header = ['From: b@labo.mssante.fr', 'Subject: Résultats', 'Content-Type: multipart/mixed; boundary="in3"'];
const inner3Body = ['--in3', 'Content-Type: text/plain', '', 'résultats', '--in3', 'Content-Type: application/zip', '', 'UEsFBg==', '--in3--'];
const part4 = [
  'Content-Type: multipart/mixed; boundary="p4"',
  '',
  '--p4',
  'Content-Type: image/gif',
  '',
  'R0lGODlh',
  '--p4',
  'Content-Type: message/rfc822',
  '',
  'Subject: inner 4.2',
  '',
  'corps 4.2.1',
  '--p4--',
];
const raw = crlf(
  ...top,
  '',
  'preamble',
  '--outer',
  ...part1,
  '--outer',
  ...part2,
  '--outer',
  ...part3Header,
  '',
  ...inner3Header,
  '',
  ...inner3Body,
  '--outer',
  ...part4,
  '--outer--',
  '',
);
const structure = parseStructure(raw);
const text = (section: string): string => fetchSection(raw, structure, item(section)).toString('utf8');
const joined = (...lines: string[]): string => lines.join('\r\n');

t.test('the whole message, its header and its text', async (t) => {
  t.equal(text('BODY[]'), raw.toString('utf8'));
  t.equal(text('RFC822'), raw.toString('utf8'));
  t.equal(text('BODY[HEADER]'), `${joined(...top)}\r\n\r\n`, 'the header ends with its empty line');
  t.equal(text('RFC822.HEADER'), `${joined(...top)}\r\n\r\n`);
  t.equal(text('BODY[TEXT]'), raw.toString('utf8').slice(Buffer.byteLength(`${joined(...top)}\r\n\r\n`)));
  t.equal(text('RFC822.TEXT'), text('BODY[TEXT]'));
});

t.test('numbered parts: bodies, MIME headers, encapsulated messages (RFC 3501 §6.4.5)', async (t) => {
  t.equal(text('BODY[1]'), 'Bonjour, voici le dossier.', 'a part body, without the CRLF before the next boundary');
  t.equal(text('BODY[1.MIME]'), `${part1[0]}\r\n\r\n`, "the part's own MIME header");
  t.equal(text('BODY[2]'), 'JVBERi0xLjQK', 'still transfer-encoded');
  t.equal(text('BODY[3]'), `${joined(...inner3Header)}\r\n\r\n${joined(...inner3Body)}`, 'a message/rfc822 part: the whole message');
  t.equal(text('BODY[3.MIME]'), `${joined(...part3Header)}\r\n\r\n`);
  t.equal(text('BODY[3.HEADER]'), `${joined(...inner3Header)}\r\n\r\n`, 'HEADER of a message/rfc822 part: the encapsulated header');
  t.equal(text('BODY[3.TEXT]'), joined(...inner3Body));
  t.equal(text('BODY[3.1]'), 'résultats');
  t.equal(text('BODY[3.2]'), 'UEsFBg==');
  t.equal(text('BODY[3.2.MIME]'), 'Content-Type: application/zip\r\n\r\n');
  t.equal(text('BODY[3.HEADER.FIELDS (SUBJECT)]'), 'Subject: Résultats\r\n\r\n');
  t.equal(text('BODY[4.1]'), 'R0lGODlh');
  t.equal(text('BODY[4.1.MIME]'), 'Content-Type: image/gif\r\n\r\n');
  t.equal(text('BODY[4.2.HEADER]'), 'Subject: inner 4.2\r\n\r\n');
  t.equal(text('BODY[4.2.1]'), 'corps 4.2.1', 'the encapsulated single-part message is its own part 1');
  t.equal(text('BODY[4.2.TEXT]'), 'corps 4.2.1');
});

t.test('parts that do not exist, and HEADER/TEXT of parts that are not messages, are empty', async (t) => {
  // Issue 15: a leaf part (text/plain part 1 here) has no parts below it (RFC 3501 §6.4.5).
  for (const section of ['BODY[1.1.1]', 'BODY[1.1]', 'BODY[2.1]', 'BODY[3.1.1]', 'BODY[4.1.1]', 'BODY[5]', 'BODY[1.2]', 'BODY[3.3]', 'BODY[4.3.MIME]', 'BODY[1.HEADER]', 'BODY[2.TEXT]', 'BODY[4.1.HEADER.FIELDS (FROM)]', 'BODY[99.HEADER]']) {
    t.equal(text(section), '', section);
  }
});

t.test('HEADER.FIELDS and HEADER.FIELDS.NOT: whole lines, folding kept, empty line added', async (t) => {
  t.equal(text('BODY[HEADER.FIELDS (subject from)]'), `${top[0]}\r\n${top[2]}\r\n\r\n`, 'in message order, names case-insensitive');
  t.equal(text('BODY[HEADER.FIELDS (Received)]'), `${top[4]}\r\n${top[5]}\r\n\r\n`, 'continuation lines follow their field');
  t.equal(text('BODY[HEADER.FIELDS (X-Absent)]'), '\r\n', 'nothing matches: only the empty line');
  t.equal(
    text('BODY[HEADER.FIELDS.NOT (Received X-MSS-INS Content-Type)]'),
    `${joined(top[0], top[1], top[2], top[6])}\r\n\r\n`,
    'the complement, folded lines of excluded fields excluded',
  );
  const odd = crlf('Subject : spaced', 'not a field', '\tcontinuation of nothing', 'X-A: 1', 'Subject: second', '', 'body');
  const oddStructure = parseStructure(odd);
  const pick = (section: string): string => fetchSection(odd, oddStructure, item(section)).toString();
  t.equal(pick('BODY[HEADER.FIELDS (SUBJECT)]'), 'Subject : spaced\r\nSubject: second\r\n\r\n', 'obsolete space before the colon, repeated fields');
  t.equal(pick('BODY[HEADER.FIELDS.NOT (SUBJECT)]'), 'X-A: 1\r\n\r\n', 'lines that are not fields never come out');
  const cut = Buffer.from('Subject: no line end');
  t.equal(fetchSection(cut, parseStructure(cut), item('BODY[HEADER.FIELDS (SUBJECT)]')).toString(), 'Subject: no line end\r\n\r\n');
});

t.test('partial ranges: <origin.count> (RFC 3501 §6.4.5)', async (t) => {
  t.equal(text('BODY[1]<0.7>'), 'Bonjour');
  t.equal(text('BODY[1]<9.100>'), 'voici le dossier.', 'fewer octets than asked: what there is');
  t.equal(text('BODY[1]<25.1>'), '.');
  t.equal(text('BODY[1]<26.1>'), '', 'an origin at or past the end: empty');
  t.equal(text('BODY.PEEK[HEADER]<0.5>'), 'From:');
  const data = Buffer.from('0123456789');
  t.equal(applyPartial(data, null), data, 'no partial: the same Buffer');
  t.equal(applyPartial(data, { origin: 2, count: 3 }).toString(), '234');
  t.equal(applyPartial(data, { origin: 10, count: 3 }).length, 0);
  t.equal(applyPartial(data, { origin: 8, count: 4294967295 }).toString(), '89');
});

t.test('raw octets are returned untouched, 8-bit included', async (t) => {
  const binary = Buffer.concat([Buffer.from('Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n'), Buffer.from([0, 0xff, 0x80, 0x0d])]);
  const binaryStructure = parseStructure(binary);
  t.same(sectionContent(binary, binaryStructure, { part: [], text: 'TEXT', fields: [] }), Buffer.from([0, 0xff, 0x80, 0x0d]));
  t.same(sectionContent(binary, binaryStructure, { part: [1], text: null, fields: [] }), Buffer.from([0, 0xff, 0x80, 0x0d]));
});

t.test('which items set \\Seen', async (t) => {
  const seen = (text: string): boolean => setsSeen(parseFetchArguments(argsOf(text), { uid: false }).items[0]);
  t.equal(seen('BODY[]'), true);
  t.equal(seen('BODY[1.MIME]'), true);
  t.equal(seen('RFC822'), true);
  t.equal(seen('RFC822.TEXT'), true);
  t.equal(seen('BODY.PEEK[]'), false);
  t.equal(seen('RFC822.HEADER'), false);
  t.equal(seen('FLAGS'), false);
  t.equal(seen('BODYSTRUCTURE'), false);
});
