import t from 'tap';
import { buildEnvelope, MAX_ENVELOPE_LIST_CHARS, messageIdOf, parseAddressList } from '../../src/mime/envelope';
import { parseHeaderBlock } from '../../src/mime/headers';

const fieldsOf = (...lines: string[]) => {
  const raw = Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'utf8');
  return parseHeaderBlock(raw, 0, raw.length);
};
const address = (name: string | null, mailbox: string | null, host: string | null, adl: string | null = null) => ({ name, adl, mailbox, host });

t.test('ENVELOPE of an ordinary message (RFC 3501 §7.4.2)', async (t) => {
  const envelope = buildEnvelope(
    fieldsOf(
      'Date: Tue, 4 Mar 2025 09:12:00 +0100',
      'From: Jean Dupont <jean.dupont@ch-test.mssante.fr>',
      'To: "Martin, Paul" <paul.martin@labo.mssante.fr>, secretariat@labo.mssante.fr',
      'Cc: =?UTF-8?Q?Ren=C3=A9e?= <renee@ch-test.mssante.fr>',
      'Subject: =?UTF-8?Q?R=C3=A9sultats?=',
      'In-Reply-To: <demande-42@labo.mssante.fr>',
      'Message-ID: <resultats-42@ch-test.mssante.fr>',
    ),
  );
  t.same(envelope, {
    date: 'Tue, 4 Mar 2025 09:12:00 +0100',
    subject: '=?UTF-8?Q?R=C3=A9sultats?=',
    from: [address('Jean Dupont', 'jean.dupont', 'ch-test.mssante.fr')],
    sender: [address('Jean Dupont', 'jean.dupont', 'ch-test.mssante.fr')],
    replyTo: [address('Jean Dupont', 'jean.dupont', 'ch-test.mssante.fr')],
    to: [address('Martin, Paul', 'paul.martin', 'labo.mssante.fr'), address(null, 'secretariat', 'labo.mssante.fr')],
    cc: [address('=?UTF-8?Q?Ren=C3=A9e?=', 'renee', 'ch-test.mssante.fr')],
    bcc: null,
    inReplyTo: '<demande-42@labo.mssante.fr>',
    messageId: '<resultats-42@ch-test.mssante.fr>',
  }, 'strings stay raw; sender and reply-to default to from');
});

t.test('explicit Sender and Reply-To are kept; empty ones fall back to From', async (t) => {
  const explicit = buildEnvelope(fieldsOf('From: a@x.fr', 'Sender: secretariat@x.fr', 'Reply-To: service@x.fr'));
  t.same(explicit.sender, [address(null, 'secretariat', 'x.fr')]);
  t.same(explicit.replyTo, [address(null, 'service', 'x.fr')]);
  const empty = buildEnvelope(fieldsOf('From: a@x.fr', 'Sender:', 'Reply-To: ', 'To:'));
  t.same(empty.sender, [address(null, 'a', 'x.fr')]);
  t.same(empty.replyTo, [address(null, 'a', 'x.fr')]);
  t.equal(empty.to, null, 'an empty list is NIL');
  const nothing = buildEnvelope([]);
  t.same(nothing, { date: null, subject: null, from: null, sender: null, replyTo: null, to: null, cc: null, bcc: null, inReplyTo: null, messageId: null });
});

t.test('a huge address field is cut at an address boundary in the ENVELOPE only', async (t) => {
  const count = 20000;
  const many = Array.from({ length: count }, (_, i) => `patient${i}@x.fr`).join(', ');
  t.ok(many.length > MAX_ENVELOPE_LIST_CHARS);
  const to = buildEnvelope(fieldsOf('From: a@x.fr', `To: ${many}`)).to ?? [];
  t.ok(to.length > 1000 && to.length < count, `${to.length} addresses kept`);
  t.same(to[to.length - 1], address(null, `patient${to.length - 1}`, 'x.fr'), 'the last kept address is whole');
  t.equal(parseAddressList(many).length, count, 'parseAddressList itself reads everything');
});

t.test('groups become start and end markers', async (t) => {
  t.same(parseAddressList('Équipe soins: a@x.fr, "B" <b@y.fr>;, c@z.fr'), [
    address(null, 'Équipe soins', null),
    address(null, 'a', 'x.fr'),
    address('B', 'b', 'y.fr'),
    address(null, null, null),
    address(null, 'c', 'z.fr'),
  ]);
  t.same(parseAddressList('undisclosed-recipients:;'), [address(null, 'undisclosed-recipients', null), address(null, null, null)]);
  t.same(parseAddressList('open group: a@x.fr'), [address(null, 'open group', null), address(null, 'a', 'x.fr'), address(null, null, null)], 'a group left open is closed');
});

t.test('display names: quoted, escaped, dotted, with comments', async (t) => {
  t.same(parseAddressList('"Dupont, Jean \\"JD\\"" <jean@x.fr>'), [address('Dupont, Jean "JD"', 'jean', 'x.fr')]);
  t.same(parseAddressList('John Q. Public <jqp@x.fr>'), [address('John Q. Public', 'jqp', 'x.fr')]);
  t.same(parseAddressList('jean@x.fr (Jean Dupont)'), [address('Jean Dupont', 'jean', 'x.fr')], 'a trailing comment names a bare address');
  t.same(parseAddressList('Jean (Dr) Dupont <jean@x.fr> (cabinet)'), [address('Jean Dupont', 'jean', 'x.fr')]);
  t.same(parseAddressList('Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>'), [address('Pete', 'pete', 'silly.test')], 'RFC 5322 appendix A.5');
});

t.test('addr-spec forms: quoted local part, domain literal, route, missing pieces', async (t) => {
  t.same(parseAddressList('"jean dupont"@x.fr, "jean.dupont"@x.fr'), [address(null, '"jean dupont"', 'x.fr'), address(null, 'jean.dupont', 'x.fr')]);
  t.same(parseAddressList('<admin@[192.0.2.1]>'), [address(null, 'admin', '[192.0.2.1]')]);
  t.same(parseAddressList('<@relay1.fr,@relay2.fr:jean@x.fr>'), [address(null, 'jean', 'x.fr', '@relay1.fr,@relay2.fr')]);
  t.same(parseAddressList('Jean <jean@x.fr'), [address('Jean', 'jean', 'x.fr')], 'a missing ">" is forgiven');
  t.same(parseAddressList('postmaster, <>, , jean@'), [address(null, 'postmaster', ''), address(null, 'jean', '')], 'no host is "" (not NIL, which would mean a group)');
  t.same(parseAddressList(''), []);
  for (const garbage of [':;<>@,"', '((((', '<<<>>>', '"unterminated', 'a:b:c;;;', '@@@', '\\']) {
    const list = parseAddressList(garbage);
    const starts = list.filter((a) => a.host === null && a.mailbox !== null).length;
    const ends = list.filter((a) => a.host === null && a.mailbox === null).length;
    t.equal(starts, ends, `group markers stay balanced in ${JSON.stringify(garbage)}`);
  }
});

t.test('messageIdOf returns the id without angle brackets', async (t) => {
  t.equal(messageIdOf(fieldsOf('Message-ID: <abc.123@ch-test.mssante.fr>')), 'abc.123@ch-test.mssante.fr');
  t.equal(messageIdOf(fieldsOf('message-id:', ' <folded@x.fr> (comment)')), 'folded@x.fr');
  t.equal(messageIdOf(fieldsOf('Message-Id: bare@x.fr')), 'bare@x.fr');
  t.equal(messageIdOf(fieldsOf('Message-ID: ')), null);
  t.equal(messageIdOf(fieldsOf('Subject: none')), null);
});
