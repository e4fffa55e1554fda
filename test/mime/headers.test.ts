import t from 'tap';
import { findHeaderEnd, getHeader, getHeaders, parseHeaderBlock, parseParameterized } from '../../src/mime/headers';

const crlf = (...lines: string[]): Buffer => Buffer.from(lines.join('\r\n'), 'utf8');

t.test('findHeaderEnd stops after the first empty line, CRLF or LF', async (t) => {
  const raw = crlf('From: a@b.fr', 'Subject: x', '', 'body', '', 'more');
  const end = findHeaderEnd(raw, 0);
  t.equal(raw.subarray(end.bodyStart).toString(), 'body\r\n\r\nmore');
  t.equal(end.headerLength, Buffer.byteLength('From: a@b.fr\r\nSubject: x\r\n\r\n'));

  const lfOnly = Buffer.from('From: a@b.fr\nSubject: x\n\nbody\n');
  t.equal(lfOnly.subarray(findHeaderEnd(lfOnly, 0).bodyStart).toString(), 'body\n');
});

t.test('findHeaderEnd: no header at all, no empty line, and a bounded range', async (t) => {
  const noHeader = Buffer.from('\r\nbody');
  t.same(findHeaderEnd(noHeader, 0), { bodyStart: 2, headerLength: 2 });
  const noSeparator = Buffer.from('From: a@b.fr\r\nSubject: x');
  t.same(findHeaderEnd(noSeparator, 0), { bodyStart: noSeparator.length, headerLength: noSeparator.length });
  const raw = Buffer.from('X: 1\r\nY: 2\r\n\r\nZ: 3\r\n\r\n');
  t.same(findHeaderEnd(raw, 0, 6), { bodyStart: 6, headerLength: 6 }, 'never reads past end');
  t.same(findHeaderEnd(raw, 14), { bodyStart: 22, headerLength: 8 }, 'starts at the given offset');
});

t.test('fields are unfolded (RFC 5322 §2.2.3) and keep their exact byte range', async (t) => {
  const raw = crlf('Subject: a long', ' subject\t', '\tfolded', 'X-MSS-INS:   1234567890123 ', 'X-Mailer:', '', 'Subject: body');
  const fields = parseHeaderBlock(raw, 0, raw.length);
  t.same(
    fields.map((f) => [f.name, f.key, f.value]),
    [
      ['Subject', 'subject', 'a long subject\t\tfolded'],
      ['X-MSS-INS', 'x-mss-ins', '1234567890123'],
      ['X-Mailer', 'x-mailer', ''],
    ],
    'the empty line ends the header: the body line is not a field',
  );
  t.equal(raw.subarray(fields[0].start, fields[0].end).toString(), 'Subject: a long\r\n subject\t\r\n\tfolded\r\n');
  t.equal(raw.subarray(fields[1].start, fields[1].end).toString(), 'X-MSS-INS:   1234567890123 \r\n');
});

t.test('UTF-8 header bytes (RFC 6532) are read as UTF-8; invalid UTF-8 falls back to windows-1252', async (t) => {
  const raw = Buffer.concat([
    Buffer.from('Subject: Résultats d’analyse\r\n', 'utf8'),
    Buffer.from('X-Old: caf\xe9\r\n\r\n', 'latin1'),
  ]);
  const fields = parseHeaderBlock(raw, 0, raw.length);
  t.equal(getHeader(fields, 'subject'), 'Résultats d’analyse');
  t.equal(getHeader(fields, 'x-old'), 'café');
});

t.test('malformed lines are skipped, the fields around them kept', async (t) => {
  const raw = crlf(
    ' orphan continuation',
    'From: a@b.fr',
    'this line has no colon',
    'Bad Name: spaces are not allowed in a field name',
    ': no name',
    'Subject : obsolete space before the colon',
    '',
  );
  const fields = parseHeaderBlock(raw, 0, raw.length);
  t.same(fields.map((f) => [f.name, f.value]), [
    ['From', 'a@b.fr'],
    ['Subject', 'obsolete space before the colon'],
  ]);
});

t.test('getHeader returns the first value whatever the case, getHeaders all of them', async (t) => {
  const raw = crlf('Received: from a', 'RECEIVED: from b', 'X-MSS-CODECDA: 11488-4', '', '');
  const fields = parseHeaderBlock(raw, 0, raw.length);
  t.equal(getHeader(fields, 'Received'), 'from a');
  t.same(getHeaders(fields, 'received'), ['from a', 'from b']);
  t.equal(getHeader(fields, 'X-MSS-CodeCDA'), '11488-4');
  t.equal(getHeader(fields, 'missing'), null);
  t.same(getHeaders(fields, 'missing'), []);
});

t.test('parseParameterized: type, tokens and quoted strings (RFC 2045 §5.1)', async (t) => {
  t.same(parseParameterized('Text/Plain; Charset=UTF-8; format=flowed'), {
    value: 'text/plain',
    params: { charset: 'UTF-8', format: 'flowed' },
  });
  t.same(parseParameterized('multipart/mixed;\tboundary="----=_Part; \\"odd\\""'), {
    value: 'multipart/mixed',
    params: { boundary: '----=_Part; "odd"' },
  });
  t.same(parseParameterized('text/plain; charset=us-ascii (Plain text)'), {
    value: 'text/plain',
    params: { charset: 'us-ascii' },
  });
  t.same(parseParameterized('attachment; filename=compte rendu (1).pdf; ; novalue; size=12'), {
    value: 'attachment',
    params: { filename: 'compte rendu (1).pdf', size: '12' },
  });
  t.same(parseParameterized('inline'), { value: 'inline', params: {} });
  t.same(parseParameterized(''), { value: '', params: {} });
});

t.test('parseParameterized: RFC 2231 charsets and continuations', async (t) => {
  t.equal(parseParameterized("attachment; filename*=UTF-8''r%C3%A9sultats.pdf").params.filename, 'résultats.pdf');
  t.equal(parseParameterized("attachment; filename*=iso-8859-1'fr'r%E9sultats.pdf").params.filename, 'résultats.pdf');
  t.equal(
    parseParameterized("attachment; filename*1*=%A9sultats; filename*0*=utf-8''r%C3; filename*2=.pdf").params.filename,
    'résultats.pdf',
    'segments are joined in index order, a multi-byte character may be split',
  );
  t.equal(
    parseParameterized('attachment; filename="plain.pdf"; filename*=utf-8\'\'%C3%A9.pdf').params.filename,
    'é.pdf',
    'the RFC 2231 value wins over the plain fallback',
  );
  t.same(parseParameterized('a/b; __proto__=x; constructor=y').params, { constructor: 'y' });
});
