// Box rules as pure decisions (src/delivery/box-rules.ts): forward traces and loops (R7), when an
// automatic reply may answer (RFC 3834 section 2) and what it looks like (section 3).
import t from 'tap';
import { simpleParser } from 'mailparser';
import {
  autoreplyRefusal,
  buildAutoreply,
  forwardedCopy,
  forwardRefusal,
  forwardTrace,
  MAX_FORWARD_HOPS,
} from '../../src/delivery/box-rules';
import { analyzeMessage } from '../../src/mime';

const header = (...lines: string[]) => analyzeMessage(Buffer.from([...lines, '', 'body', ''].join('\r\n'))).header;

t.test('forward trace: who already forwarded, how many hops', async (t) => {
  t.same(forwardTrace(header('Subject: x')), { by: [], hops: 0 });
  const trace = forwardTrace(
    header(
      'X-MSSD-Forwarded-By: <Bob@exemple.mssante.fr>; hop=2; Mon, 23 Nov 2026 08:00:00 +0000',
      'x-mssd-forwarded-by: <alice@exemple.mssante.fr>; hop=1; Mon, 23 Nov 2026 08:00:00 +0000',
    ),
  );
  t.same(trace, { by: ['bob@exemple.mssante.fr', 'alice@exemple.mssante.fr'], hops: 2 });
  t.equal(forwardRefusal(trace, ['ALICE@exemple.mssante.fr', 'alice@exemple.fr'], 'x@y.fr'), 'loop', 'a box never forwards a message twice');
  t.equal(forwardRefusal(trace, ['carol@exemple.mssante.fr'], 'x@y.fr'), null);
  t.equal(forwardRefusal(trace, ['carol@exemple.mssante.fr'], ''), 'null-sender', 'reports stay in the box');
  const many = { by: Array.from({ length: MAX_FORWARD_HOPS }, (_, i) => `b${i}@x.fr`), hops: MAX_FORWARD_HOPS };
  t.equal(forwardRefusal(many, ['carol@exemple.mssante.fr'], 'x@y.fr'), 'too-many-hops');
});

t.test('the forwarded copy: trace fields, then the stored message without its Return-Path, byte for byte', async (t) => {
  const original = Buffer.from('Return-Path: <a@b.fr>\r\nReceived: from x\r\n\tby y; date\r\nSubject: é\r\n\r\n8-bit ✓\r\n', 'utf8');
  const copy = forwardedCopy(original, { by: 'alice@exemple.mssante.fr', hop: 1, hostname: 'mx.exemple.fr', queueId: 'Q1', date: new Date(Date.UTC(2026, 10, 23, 8)) });
  const rest = original.subarray('Return-Path: <a@b.fr>\r\n'.length);
  t.ok(copy.subarray(copy.length - rest.length).equals(rest));
  t.equal(
    copy.subarray(0, copy.length - rest.length).toString('utf8'),
    'X-MSSD-Forwarded-By: <alice@exemple.mssante.fr>; hop=1; Mon, 23 Nov 2026 08:00:00 +0000\r\n' +
      'Received: by mx.exemple.fr (mssd) with local id Q1\r\n\t(automatic forward of <alice@exemple.mssante.fr>);\r\n\tMon, 23 Nov 2026 08:00:00 +0000\r\n',
  );
  t.same(forwardTrace(analyzeMessage(copy).header), { by: ['alice@exemple.mssante.fr'], hops: 1 }, 'the copy carries the trace it is judged by');
});

t.test('automatic reply: RFC 3834 section 2', async (t) => {
  const box = ['frank@exemple.mssante.fr', 'frank@exemple.fr'];
  const addressed = 'To: Dr Frank <Frank@Exemple.MSSante.fr>';
  const decide = (mailFrom: string, ...lines: string[]) => autoreplyRefusal({ mailFrom, header: header(...lines), boxAddresses: box });
  t.equal(decide('carol@exemple.mssante.fr', addressed), null);
  t.equal(decide('carol@exemple.mssante.fr', 'To: someone@else.fr', 'Cc: <frank@exemple.fr>'), null, 'Cc counts');
  t.equal(decide('carol@exemple.mssante.fr', addressed, 'Auto-Submitted: no'), null, 'Auto-Submitted: no is a person');
  t.equal(decide('', addressed), 'null-sender');
  t.equal(decide('carol@exemple.mssante.fr', addressed, 'Auto-Submitted: auto-generated'), 'auto-submitted');
  t.equal(decide('carol@exemple.mssante.fr', addressed, 'Auto-Submitted: Auto-Replied (vacation)'), 'auto-submitted');
  for (const precedence of ['bulk', 'list', 'JUNK']) t.equal(decide('carol@exemple.mssante.fr', addressed, `Precedence: ${precedence}`), 'bulk', precedence);
  t.equal(decide('carol@exemple.mssante.fr', addressed, 'List-Unsubscribe: <mailto:x@y.fr>'), 'list');
  t.equal(decide('Frank@exemple.fr', addressed), 'own-address', 'never to the box itself');
  for (const program of ['MAILER-DAEMON@x.fr', 'owner-liste@x.fr', 'liste-request@x.fr', 'noreply@x.fr']) {
    t.equal(decide(program, addressed), 'system-sender', program);
  }
  t.equal(decide('carol@exemple.mssante.fr', 'To: secretariat@exemple.mssante.fr'), 'not-addressed', 'a forwarded copy or a Bcc is not answered');
});

t.test('the automatic reply message', async (t) => {
  const original = header(
    'From: <carol@exemple.mssante.fr>',
    'Message-ID: <m2@client.example>',
    'References: <m0@client.example> <m1@client.example>',
  );
  const raw = buildAutoreply({
    from: 'frank@exemple.mssante.fr',
    to: 'carol@exemple.mssante.fr',
    subject: 'Absent jusqu’au 30 novembre',
    body: 'Je suis absent.\nUrgences : secrétariat.',
    original,
    hostname: 'mx.exemple.fr',
    queueId: 'Q2',
    date: new Date(Date.UTC(2026, 10, 23, 8)),
  });
  t.notOk(raw.some((byte) => byte >= 0x80), 'plain 7-bit on the wire');
  const parsed = await simpleParser(raw);
  t.equal(parsed.subject, 'Absent jusqu’au 30 novembre');
  t.equal(parsed.headers.get('auto-submitted'), 'auto-replied');
  t.equal(parsed.inReplyTo, '<m2@client.example>');
  t.same(parsed.references, ['<m0@client.example>', '<m1@client.example>', '<m2@client.example>']);
  t.equal(parsed.text?.trim(), 'Je suis absent.\nUrgences : secrétariat.');
  t.match(parsed.messageId, /^<autoreply\.Q2\.[0-9a-f]+@mx\.exemple\.fr>$/);
  t.equal(autoreplyRefusal({ mailFrom: 'frank@exemple.mssante.fr', header: analyzeMessage(raw).header, boxAddresses: ['carol@exemple.mssante.fr'] }), 'auto-submitted', 'a reply is never answered');
});
