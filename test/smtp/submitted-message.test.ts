import t from 'tap';
import { analyzeMessage } from '../../src/mime';
import { fixSubmittedMessage, mailboxesOf } from '../../src/smtp/submitted-message';

const fixes = { hostname: 'mx.exemple.fr', queueId: 'Q1', now: new Date(Date.UTC(2026, 10, 22, 9, 5, 7)) };

t.test('Bcc removed, Date and Message-ID added at the top, the rest byte for byte', async (t) => {
  const raw = Buffer.from(
    'From: <a@x.fr>\r\nTo: <b@x.fr>\r\nBcc: <c@x.fr>,\r\n <d@x.fr>\r\nSubject: =?UTF-8?Q?R=C3=A9sultats?=\r\nX-MSS-MES: FIN\r\nresent-bcc: <e@x.fr>\r\n\r\nBcc: in the body stays\r\n',
  );
  const fixed = fixSubmittedMessage(raw, analyzeMessage(raw).header, fixes);
  t.equal(fixed.removedBcc, 2);
  t.ok(fixed.addedDate && fixed.addedMessageId);
  const text = fixed.raw.toString();
  t.match(text, /^Date: Sun, 22 Nov 2026 09:05:07 \+0000\r\nMessage-ID: <Q1\.[0-9a-f]{12}@mx\.exemple\.fr>\r\nFrom: <a@x\.fr>\r\nTo: <b@x\.fr>\r\nSubject: /);
  t.notMatch(text.slice(0, text.indexOf('\r\n\r\n')), /bcc/i, 'no Bcc or Resent-Bcc left, folded lines included');
  t.ok(text.endsWith('X-MSS-MES: FIN\r\n\r\nBcc: in the body stays\r\n'));
});

t.test('nothing to do: the same Buffer', async (t) => {
  const raw = Buffer.from('From: <a@x.fr>\r\nDate: Sun, 22 Nov 2026 10:00:00 +0100\r\nMessage-ID: <1@x>\r\n\r\nbody\r\n');
  const fixed = fixSubmittedMessage(raw, analyzeMessage(raw).header, fixes);
  t.equal(fixed.raw, raw);
  t.notOk(fixed.addedDate || fixed.addedMessageId);
});

t.test('mailboxesOf skips group markers', async (t) => {
  const { envelope } = analyzeMessage(Buffer.from('From: Equipe: <a@x.fr>, b@y.fr;, "C" <c@z.fr>\r\n\r\n'));
  t.same(mailboxesOf(envelope.from), ['a@x.fr', 'b@y.fr', 'c@z.fr']);
  t.same(mailboxesOf(null), []);
});
