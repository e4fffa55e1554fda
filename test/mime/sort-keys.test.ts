// RFC 5256 section 2.1 base subject and the other SORT/THREAD keys of src/mime/sort-keys.ts.
import t from 'tap';
import { baseSubject, parseHeaderBlock, sortKeysOf } from '../../src/mime';

t.test('base subject (RFC 5256 section 2.1)', async (t) => {
  const cases: Array<[string, string, boolean]> = [
    ['Bilan sanguin', 'BILAN SANGUIN', false],
    ['Re: Bilan sanguin', 'BILAN SANGUIN', true],
    ['RE:  Re: re : Bilan', 'BILAN', true],
    ['Fwd: Fw: bilan (fwd)', 'BILAN', true],
    ['bilan (fwd)  (FWD) ', 'BILAN', true],
    ['[CHU] Re: [liste] bilan', 'BILAN', true],
    ['Re[2]: bilan', 'BILAN', true],
    ['[Fwd: Re: bilan]', 'BILAN', true],
    ['re: [fwd: [fwd: re: [fwd: babylon]]]', 'BABYLON', true],
    ['[CHU]', '[CHU]', false],
    ['[CHU] ', '[CHU]', false],
    ['Ad: Re: x', 'AD: RE: X', false],
    ['Réponse\t rapide', 'RE\u0301PONSE RAPIDE', false],
    ['', '', false],
  ];
  for (const [subject, base, reply] of cases) t.same(baseSubject(subject), { base, replyOrForward: reply }, JSON.stringify(subject));
});

t.test('keys of a message', async (t) => {
  const raw = Buffer.from(
    [
      'From: =?utf-8?q?=C3=89mile?= Peer <Emile.Peer@chu.fr>',
      'To: equipe: a@x.fr, b@x.fr;',
      'Cc: <c@x.fr>',
      'Subject: =?utf-8?q?Re=3A_R=C3=A9sultats?=',
      'Date: Mon, 1 Jun 2026 09:00:00 +0200 (CEST)',
      'Message-ID: <m3@chu.fr>',
      'In-Reply-To: <m2@chu.fr>',
      'References: <m1@chu.fr>\r\n <m2@chu.fr>',
      '',
      'x',
    ].join('\r\n'),
  );
  const keys = sortKeysOf(parseHeaderBlock(raw, 0, raw.length));
  t.equal(keys.baseSubject, 'RE\u0301SULTATS');
  t.equal(keys.replyOrForward, true);
  t.equal(keys.from, 'EMILE.PEER', 'the mailbox (local part) of the first From address');
  t.equal(keys.to, 'EQUIPE', "a group's name");
  t.equal(keys.cc, 'C');
  t.equal(keys.displayFrom, 'E\u0301MILE PEER', 'RFC 5957: the decoded display name');
  t.equal(keys.displayTo, 'EQUIPE');
  t.equal(keys.sentDate, Date.UTC(2026, 5, 1, 7), 'the Date: instant in UTC');
  t.equal(keys.messageId, 'm3@chu.fr');
  t.same(keys.references, ['m1@chu.fr', 'm2@chu.fr'], 'References wins over In-Reply-To');
  const bare = sortKeysOf(parseHeaderBlock(Buffer.from('In-Reply-To: <p@x> <q@x>\r\nDate: lundi\r\n\r\n'), 0, 40));
  t.same(bare.references, ['p@x'], 'no References: the first In-Reply-To id');
  t.equal(bare.sentDate, null, 'an unreadable Date: is null (the internal date stands in)');
  t.equal(bare.displayFrom, '');
});
