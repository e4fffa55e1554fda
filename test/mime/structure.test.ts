import t from 'tap';
import { MAX_DEPTH, MAX_PARTS, parseStructure, partAt, type MimePart } from '../../src/mime/structure';
import { decodeBody } from '../../src/mime/part-text';

const crlf = (...lines: string[]): Buffer => Buffer.from(lines.join('\r\n'), 'utf8');
const lf = (...lines: string[]): Buffer => Buffer.from(lines.join('\n'), 'utf8');
const body = (raw: Buffer, part: MimePart): string => raw.subarray(part.bodyStart, part.end).toString('utf8');
const mimeHeader = (raw: Buffer, part: MimePart): string => raw.subarray(part.headerStart, part.bodyStart).toString('utf8');

// A small but real ZIP (empty archive: end-of-central-directory record only) standing for IHE_XDM.ZIP.
const xdmZip = Buffer.concat([Buffer.from([0x50, 0x4b, 0x05, 0x06]), Buffer.alloc(18), Buffer.from('IHE XDM é\u0000\xff', 'latin1')]);
const xdmBase64 = xdmZip.toString('base64').replace(/(.{20})/g, '$1\r\n').trimEnd();

t.test('a plain UTF-8 text message is one text/plain part covering the whole body', async (t) => {
  const raw = crlf(
    'From: Jean Dupont <jean.dupont@ch-test.mssante.fr>',
    'Subject: Résultats',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    'Bonjour,',
    'Les résultats de Mme Durand sont normaux.',
    '',
  );
  const part = parseStructure(raw);
  t.equal(part.type, 'text');
  t.equal(part.subtype, 'plain');
  t.same(part.params, { charset: 'utf-8' });
  t.equal(part.encoding, '8BIT');
  t.equal(part.headerStart, 0);
  t.equal(body(raw, part), 'Bonjour,\r\nLes résultats de Mme Durand sont normaux.\r\n');
  t.equal(part.size, Buffer.byteLength('Bonjour,\r\nLes résultats de Mme Durand sont normaux.\r\n'), 'size counts octets, not characters');
  t.equal(part.lines, 2);
  t.match(mimeHeader(raw, part), /^From: .*\r\n\r\n$/s, 'the header range ends with the empty line');
  t.equal(part.parts, undefined);
});

t.test('a message without Content-Type defaults to text/plain; charset=us-ascii, 7BIT (RFC 2045 §5.2)', async (t) => {
  const raw = crlf('Subject: old style', '', 'hello');
  const part = parseStructure(raw);
  t.equal(`${part.type}/${part.subtype}`, 'text/plain');
  t.same(part.params, { charset: 'us-ascii' });
  t.equal(part.encoding, '7BIT');
  t.equal(part.lines, 1, 'an unterminated last line counts');
  t.equal(body(raw, part), 'hello');
});

t.test('multipart/mixed with a text and an IHE_XDM.ZIP attachment', async (t) => {
  const raw = crlf(
    'From: a@ch-test.mssante.fr',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed;',
    '\tboundary="----=_Part_1_2"',
    '',
    'This is a multi-part message in MIME format.',
    '------=_Part_1_2',
    'Content-Type: text/plain; charset=UTF-8',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    'Ci-joint le dossier XDM.',
    '------=_Part_1_2',
    'Content-Type: application/zip; name=IHE_XDM.ZIP',
    'Content-Transfer-Encoding: base64',
    'Content-Disposition: attachment; filename="IHE_XDM.ZIP"; size=40',
    'Content-ID: <xdm@ch-test>',
    'Content-Description: Dossier XDM',
    '',
    xdmBase64,
    '------=_Part_1_2--',
    'epilogue text',
    '',
  );
  const root = parseStructure(raw);
  t.equal(`${root.type}/${root.subtype}`, 'multipart/mixed');
  t.equal(root.params.boundary, '----=_Part_1_2');
  t.equal(root.lines, undefined, 'no line count for multiparts');
  t.equal(root.end, raw.length);
  t.equal(root.parts?.length, 2);
  const [text, zip] = root.parts ?? [];

  t.equal(body(raw, text), 'Ci-joint le dossier XDM.', 'the CRLF before the delimiter is not part of the body');
  t.equal(mimeHeader(raw, text), 'Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n');
  t.equal(text.encoding, 'QUOTED-PRINTABLE');
  t.equal(text.lines, 1);

  t.equal(`${zip.type}/${zip.subtype}`, 'application/zip');
  t.same(zip.params, { name: 'IHE_XDM.ZIP' });
  t.equal(zip.encoding, 'BASE64');
  t.same(zip.disposition, { type: 'attachment', params: { filename: 'IHE_XDM.ZIP', size: '40' } });
  t.equal(zip.id, '<xdm@ch-test>');
  t.equal(zip.description, 'Dossier XDM');
  t.equal(body(raw, zip), xdmBase64);
  t.equal(zip.size, Buffer.byteLength(xdmBase64));
  t.equal(zip.lines, undefined);
  t.ok(decodeBody(raw, zip).equals(xdmZip), 'the attachment decodes to the exact original bytes (R5)');
  t.same(JSON.parse(JSON.stringify(root)), root, 'the structure survives a JSON round trip');
});

t.test('multipart/alternative inside multipart/mixed, numbered as RFC 3501 §6.4.5', async (t) => {
  const raw = crlf(
    'Content-Type: multipart/mixed; boundary=outer',
    '',
    '--outer',
    'Content-Type: multipart/alternative; boundary="outer-alt"',
    '',
    '--outer-alt',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Texte brut',
    '--outer-alt',
    'Content-Type: text/html; charset=utf-8',
    '',
    '<p>Texte <b>riche</b></p>',
    '--outer-alt--',
    '',
    '--outer',
    'Content-Type: application/pdf',
    'Content-Disposition: attachment; filename=cr.pdf',
    'Content-Transfer-Encoding: base64',
    '',
    'JVBERi0xLjQK',
    '--outer--',
  );
  const root = parseStructure(raw);
  t.same(
    root.parts?.map((p) => `${p.type}/${p.subtype}`),
    ['multipart/alternative', 'application/pdf'],
    'a boundary that starts like the outer one does not split the outer multipart',
  );
  t.equal(partAt(root, [1, 1])?.subtype, 'plain');
  t.equal(body(raw, partAt(root, [1, 1]) as MimePart), 'Texte brut');
  t.equal(body(raw, partAt(root, [1, 2]) as MimePart), '<p>Texte <b>riche</b></p>');
  t.equal(body(raw, partAt(root, [2]) as MimePart), 'JVBERi0xLjQK');
  t.equal(body(raw, partAt(root, [1]) as MimePart), [
    '--outer-alt',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Texte brut',
    '--outer-alt',
    'Content-Type: text/html; charset=utf-8',
    '',
    '<p>Texte <b>riche</b></p>',
    '--outer-alt--',
    '',
  ].join('\r\n'), 'the inner multipart body runs up to the outer delimiter, epilogue included');
  t.equal(partAt(root, []), root);
  t.equal(partAt(root, [3]), null);
  t.equal(partAt(root, [2, 2]), null);
});

t.test('a forwarded message/rfc822 carries its envelope and its own structure', async (t) => {
  const forwarded = [
    'From: "Martin, Paul" <paul.martin@labo.mssante.fr>',
    'To: jean.dupont@ch-test.mssante.fr',
    'Subject: Bilan',
    'Date: Mon, 3 Mar 2025 10:00:00 +0100',
    'Message-ID: <bilan-1@labo.mssante.fr>',
    'Content-Type: multipart/mixed; boundary=inner',
    '',
    '--inner',
    '',
    'Bilan sanguin joint.',
    '--inner',
    'Content-Type: application/octet-stream',
    '',
    'xyz',
    '--inner--',
  ];
  const raw = crlf(
    'Subject: Fwd: Bilan',
    'Content-Type: multipart/mixed; boundary=outer',
    '',
    '--outer',
    'Content-Type: text/plain',
    '',
    'Pour avis.',
    '--outer',
    'Content-Type: message/rfc822',
    'Content-Disposition: inline',
    '',
    ...forwarded,
    '--outer--',
  );
  const root = parseStructure(raw);
  const attached = partAt(root, [2]) as MimePart;
  t.equal(`${attached.type}/${attached.subtype}`, 'message/rfc822');
  t.equal(body(raw, attached), forwarded.join('\r\n'));
  t.equal(attached.lines, forwarded.length);
  t.equal(attached.envelope?.subject, 'Bilan');
  t.equal(attached.envelope?.messageId, '<bilan-1@labo.mssante.fr>');
  t.same(attached.envelope?.from, [{ name: 'Martin, Paul', adl: null, mailbox: 'paul.martin', host: 'labo.mssante.fr' }]);
  const message = attached.message as MimePart;
  t.equal(message.headerStart, attached.bodyStart, 'the embedded header starts where the part body does');
  t.match(raw.subarray(message.headerStart, message.bodyStart).toString(), /^From: .*Content-Type: multipart\/mixed; boundary=inner\r\n\r\n$/s);
  t.equal(message.parts?.length, 2);
  const first = partAt(root, [2, 1]) as MimePart;
  t.equal(body(raw, first), 'Bilan sanguin joint.', 'a part with no header starts with the empty line');
  t.equal(first.headerStart, first.bodyStart - 2);
  t.equal(body(raw, partAt(root, [2, 2]) as MimePart), 'xyz');
});

t.test('a forwarded message that is not multipart has one part: its body', async (t) => {
  const raw = crlf('Content-Type: message/rfc822', '', 'Subject: inner', '', 'inner body');
  const root = parseStructure(raw);
  t.equal(root.envelope?.subject, 'inner');
  t.equal(root.lines, 3, 'header lines, empty line and body lines of the embedded message');
  t.equal(root.message?.lines, 1);
  t.equal(body(raw, partAt(root, [1]) as MimePart), 'Subject: inner\r\n\r\ninner body');
  t.equal(body(raw, partAt(root, [1, 1]) as MimePart), 'inner body');
});

t.test('LF-only line endings give the same tree, with offsets into the LF bytes', async (t) => {
  const raw = lf(
    'Content-Type: multipart/mixed; boundary=b',
    '',
    '--b',
    'Content-Type: text/plain',
    '',
    'line one',
    'line two',
    '--b',
    'Content-Type: text/plain',
    '',
    'second',
    '--b--',
    '',
  );
  const root = parseStructure(raw);
  t.equal(root.parts?.length, 2);
  const [first, second] = root.parts ?? [];
  t.equal(body(raw, first), 'line one\nline two');
  t.equal(first.lines, 2);
  t.equal(mimeHeader(raw, first), 'Content-Type: text/plain\n\n');
  t.equal(body(raw, second), 'second');
});

t.test('delimiter rules of RFC 2046 §5.1.1', async (t) => {
  const raw = crlf(
    'Content-Type: multipart/mixed; boundary="simple boundary"',
    '',
    'preamble mentioning --simple boundary in a line',
    '--simple boundary  \t',
    '',
    'first, with --simple boundary not at line start',
    '--simple boundary',
    'Content-type: text/plain; charset=us-ascii',
    '',
    'second',
    '--simple boundary--  ',
    'epilogue',
  );
  const root = parseStructure(raw);
  t.same(root.parts?.map((p) => body(raw, p)), ['first, with --simple boundary not at line start', 'second']);
});

t.test('multipart/digest parts default to message/rfc822 (RFC 2046 §5.1.5)', async (t) => {
  const raw = crlf(
    'Content-Type: multipart/digest; boundary=d',
    '',
    '--d',
    '',
    'Subject: one',
    '',
    'first digest message',
    '--d',
    'Content-Type: text/plain',
    '',
    'explicit text',
    '--d--',
  );
  const root = parseStructure(raw);
  const [first, second] = root.parts ?? [];
  t.equal(`${first.type}/${first.subtype}`, 'message/rfc822');
  t.equal(first.envelope?.subject, 'one');
  t.equal(body(raw, first.message as MimePart), 'first digest message');
  t.equal(`${second.type}/${second.subtype}`, 'text/plain');
});

t.test('RFC 2231 filename and Content-* fields of a part', async (t) => {
  const raw = crlf(
    'Content-Type: multipart/mixed; boundary=b',
    '',
    '--b',
    "Content-Type: application/pdf; name*=UTF-8''r%C3%A9sultats.pdf",
    "Content-Disposition: attachment; filename*=UTF-8''r%C3%A9sultats.pdf",
    'Content-Language: fr, en (comment)',
    'Content-Location: http://example.org/',
    ' docs/resultats.pdf',
    'Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==',
    '',
    'JVBERi0=',
    '--b--',
  );
  const part = partAt(parseStructure(raw), [1]) as MimePart;
  t.equal(part.params.name, 'résultats.pdf');
  t.same(part.disposition, { type: 'attachment', params: { filename: 'résultats.pdf' } });
  t.same(part.language, ['fr', 'en']);
  t.equal(part.location, 'http://example.org/docs/resultats.pdf');
  t.equal(part.md5, 'Q2hlY2sgSW50ZWdyaXR5IQ==');
});

t.test('malformed: a missing close delimiter ends the last part at the end of the message', async (t) => {
  const raw = crlf('Content-Type: multipart/mixed; boundary=b', '', '--b', '', 'one', '--b', '', 'two, truncated', '');
  const root = parseStructure(raw);
  t.equal(root.parts?.length, 2);
  t.equal(body(raw, (root.parts ?? [])[1]), 'two, truncated\r\n');
  t.equal((root.parts ?? [])[1].end, raw.length);
});

t.test('malformed: an inner multipart without close delimiter stops at the outer delimiter', async (t) => {
  const raw = crlf(
    'Content-Type: multipart/mixed; boundary=outer',
    '',
    '--outer',
    'Content-Type: multipart/alternative; boundary=inner',
    '',
    '--inner',
    '',
    'alt one',
    '--outer',
    '',
    'after',
    '--outer--',
  );
  const root = parseStructure(raw);
  t.equal(root.parts?.length, 2);
  t.equal(body(raw, partAt(root, [1, 1]) as MimePart), 'alt one');
  t.equal(body(raw, partAt(root, [2]) as MimePart), 'after');
});

t.test('malformed: without an empty line the whole message is header and the body is empty', async (t) => {
  const raw = crlf('From: a@b.fr', 'Subject: no body', 'this line has no colon');
  const part = parseStructure(raw);
  t.equal(part.bodyStart, raw.length);
  t.equal(part.end, raw.length);
  t.equal(part.size, 0);
  t.equal(part.lines, 0);
});

t.test('malformed: a multipart without boundary parameter, or whose boundary never occurs, is one text part', async (t) => {
  for (const contentType of ['multipart/mixed', 'multipart/mixed; boundary=""', 'multipart/mixed; boundary=absent']) {
    const raw = crlf(`Content-Type: ${contentType}`, '', '--b', '', 'text', '--b--');
    const part = parseStructure(raw);
    t.equal(`${part.type}/${part.subtype}`, 'text/plain', contentType);
    t.equal(part.parts, undefined);
    t.equal(body(raw, part), '--b\r\n\r\ntext\r\n--b--');
    t.equal(part.lines, 4);
  }
});

t.test('malformed: an invalid Content-Type falls back to text/plain', async (t) => {
  const part = parseStructure(crlf('Content-Type: garbage', '', 'x'));
  t.equal(`${part.type}/${part.subtype}`, 'text/plain');
  t.same(part.params, { charset: 'us-ascii' });
});

t.test('malformed: 30 nested multiparts stop descending at MAX_DEPTH without throwing', async (t) => {
  const lines: string[] = [];
  for (let level = 0; level < 30; level++) lines.push(`Content-Type: multipart/mixed; boundary=level${level}`, '', `--level${level}`);
  lines.push('Content-Type: text/plain', '', 'deepest');
  for (let level = 29; level >= 0; level--) lines.push(`--level${level}--`);
  const raw = crlf(...lines);
  let depth = 0;
  let node = parseStructure(raw);
  while (node.parts) {
    t.equal(node.parts.length, 1);
    node = node.parts[0];
    depth++;
  }
  t.equal(depth, MAX_DEPTH, 'levels below the limit are read as one text leaf');
  t.equal(`${node.type}/${node.subtype}`, 'text/plain');
  t.ok(body(raw, node).includes('deepest'));
  t.ok(node.end <= raw.length && node.bodyStart <= node.end);
});

t.test('malformed: the number of parts is capped', async (t) => {
  const lines = ['Content-Type: multipart/mixed; boundary=b', ''];
  for (let i = 0; i < MAX_PARTS + 500; i++) lines.push('--b', '', `part ${i}`);
  lines.push('--b--');
  const root = parseStructure(crlf(...lines));
  t.ok((root.parts?.length ?? 0) > 0);
  t.ok((root.parts?.length ?? 0) <= MAX_PARTS, 'parts past the cap are left out');
});

/** Offsets are ordered and every child lies inside its parent. */
function checkOffsets(part: MimePart, start: number, end: number): boolean {
  if (!(start <= part.headerStart && part.headerStart <= part.bodyStart && part.bodyStart <= part.end && part.end <= end)) return false;
  if (part.size !== part.end - part.bodyStart) return false;
  const children = part.parts ?? (part.message ? [part.message] : []);
  return children.every((child) => checkOffsets(child, part.bodyStart, part.end));
}

t.test('every truncation or corruption of a message parses with consistent offsets', async (t) => {
  const raw = crlf(
    'From: "Dupont, Jean" <jean.dupont@ch-test.mssante.fr>',
    'Content-Type: multipart/mixed; boundary=outer',
    '',
    '--outer',
    'Content-Type: multipart/alternative; boundary=alt',
    '',
    '--alt',
    'Content-Type: text/plain; charset="utf-8"; format=flowed',
    '',
    'é',
    '--alt--',
    '--outer',
    'Content-Type: message/rfc822',
    '',
    'Subject: inner',
    'Content-Type: multipart/mixed; boundary=x',
    '',
    '--x',
    "Content-Disposition: attachment; filename*0*=utf-8''%C3; filename*1*=%A9.txt",
    '',
    'data',
    '--x--',
    '--outer--',
    '',
  );
  let failures = 0;
  for (let cut = 0; cut <= raw.length; cut++) {
    const truncated = raw.subarray(0, cut);
    if (!checkOffsets(parseStructure(truncated), 0, truncated.length)) failures++;
    const corrupted = Buffer.from(raw);
    corrupted[cut % raw.length] = [0x0a, 0x0d, 0x2d, 0x3a, 0x22, 0xff][cut % 6];
    if (!checkOffsets(parseStructure(corrupted), 0, corrupted.length)) failures++;
  }
  t.equal(failures, 0);
  t.same(parseStructure(Buffer.alloc(0)), {
    headerStart: 0, bodyStart: 0, end: 0, type: 'text', subtype: 'plain', params: { charset: 'us-ascii' }, encoding: '7BIT', size: 0, lines: 0,
  });
});

t.test('partAt: part 1 of a non-multipart message is its body, leaves have no parts below (issue 15)', async (t) => {
  const single = parseStructure(Buffer.from('Subject: s\r\nContent-Type: text/plain\r\n\r\ncorps\r\n'));
  t.equal(partAt(single, [1]), single, 'BODY[1] of a single-part message: its body');
  t.equal(partAt(single, [1, 1]), null, 'BODY[1.1]: nothing');
  t.equal(partAt(single, [1, 1, 1]), null, 'BODY[1.1.1]: nothing');
  t.equal(partAt(single, [2]), null);
  const forwarded = parseStructure(
    Buffer.from('Subject: s\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nun\r\n--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: dedans\r\n\r\ncorps\r\n--b--\r\n'),
  );
  const inner = partAt(forwarded, [2]);
  t.ok(inner?.message, 'part 2 is the message/rfc822');
  t.equal(partAt(forwarded, [2, 1]), inner?.message, 'part 2.1: the body of the single-part encapsulated message');
  t.equal(partAt(forwarded, [2, 1, 1]), null);
  t.equal(partAt(forwarded, [1, 1]), null, 'a text part has no part 1.1');
});
