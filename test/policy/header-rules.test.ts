import t from 'tap';
import { parseHeaderBlock } from '../../src/mime';
import { fromFieldCountRefusal, submittedHeaderRefusal } from '../../src/policy/header-rules';
import { addressFieldsOf } from '../../src/smtp/submitted-message';

const SENDABLE = ['bob@hopital.fr', 'bob.durand@exemple.mssante.fr', 'pharmacie@exemple.mssante.fr'];

/** Judges a header section written as lines. */
function judge(...lines: string[]) {
  const raw = Buffer.from(`${lines.join('\r\n')}\r\n\r\nbody\r\n`, 'utf8');
  return submittedHeaderRefusal(addressFieldsOf(parseHeaderBlock(raw, 0, raw.length)), SENDABLE);
}

t.test('a well-formed message of the user passes', async (t) => {
  t.equal(judge('From: Bob <bob@hopital.fr>', 'To: a@x.fr, "Dr B" <b@y.fr>', 'Cc: undisclosed-recipients:;', 'Subject: s'), null);
  t.equal(judge('From: pharmacie@exemple.mssante.fr', 'Sender: bob@hopital.fr', 'To: a@x.fr'), null, 'send-as ORG with Sender: the person');
  t.equal(judge('From: =?utf-8?q?B=C3=B6b?= <bob@hopital.fr>', 'To: "jean dupont"@x.fr, élise@hôpital.fr'), null, 'encoded words, quoted local parts, UTF-8 (RFC 6532)');
  t.equal(judge('From: bob@hopital.fr, pharmacie@exemple.mssante.fr', 'Sender: bob@hopital.fr', 'To: a@x.fr'), null, 'two authors with a Sender:');
});

t.test('From: exactly once (issue 15 finding 3)', async (t) => {
  t.same(judge('From: <bob@hopital.fr>', 'From: <alice@hopital.fr>', 'To: a@x.fr'), {
    code: 550,
    enhanced: '5.6.0',
    message: 'The message has 2 From: headers: RFC 5322 section 3.6 allows exactly one, so readers could be shown the wrong author',
  });
  t.match(judge('From: <bob@hopital.fr>', 'From: <bob@hopital.fr>'), { code: 550, enhanced: '5.6.0' }, 'even twice the same address');
  t.match(judge('To: a@x.fr'), { code: 550, enhanced: '5.6.0', message: /no From: header/ });
  t.match(judge('From: undisclosed:;'), { code: 550, enhanced: '5.6.0', message: /no From: header with an address/ });
});

t.test('Sender: at most once, one mailbox, and the user\'s (R6)', async (t) => {
  t.match(judge('From: bob@hopital.fr', 'Sender: bob@hopital.fr', 'Sender: chef@hopital.fr'), { code: 550, enhanced: '5.6.0', message: /2 Sender: headers/ });
  t.match(judge('From: bob@hopital.fr', 'Sender: bob@hopital.fr, pharmacie@exemple.mssante.fr'), { code: 550, enhanced: '5.6.0', message: /exactly one address/ });
  t.match(judge('From: bob@hopital.fr', 'Sender: chef@hopital.fr'), { code: 550, enhanced: '5.7.1', message: /<chef@hopital\.fr> \(Sender:\) is not one of your addresses/ });
  t.match(judge('From: bob@hopital.fr, pharmacie@exemple.mssante.fr'), { code: 550, enhanced: '5.6.0', message: /several authors.*Sender:/ });
});

t.test('every From: address must be sendable', async (t) => {
  t.match(judge('From: bob@hopital.fr, chef@hopital.fr', 'Sender: bob@hopital.fr'), { code: 550, enhanced: '5.7.1', message: /<chef@hopital\.fr> \(From:\)/ });
  t.match(judge('From: Chef <CHEF@hopital.fr>'), { code: 550, enhanced: '5.7.1' });
  t.equal(judge('From: BOB@Hopital.FR'), null, 'addresses compare without case');
});

t.test('To:, Cc: and Reply-To: at most once, with well-formed addresses', async (t) => {
  t.match(judge('From: bob@hopital.fr', 'To: a@x.fr', 'To: b@x.fr'), { code: 550, enhanced: '5.6.0', message: /2 To: headers/ });
  t.match(judge('From: bob@hopital.fr', 'Cc: a@x.fr', 'Cc: b@x.fr'), { code: 550, enhanced: '5.6.0', message: /2 Cc: headers/ });
  t.match(judge('From: bob@hopital.fr', 'Reply-To: a@x.fr', 'Reply-To: b@x.fr'), { code: 550, enhanced: '5.6.0', message: /2 Reply-To: headers/ });
  for (const bad of ['Jean Dupont', 'a@', 'a@b@c.fr', '<a@x..fr>', '"Dr" <jean.dupont>']) {
    t.match(judge('From: bob@hopital.fr', `To: ${bad}`), { code: 550, enhanced: '5.6.0', message: /^The To: header holds ".*", which is not an email address/ }, `To: ${bad}`);
  }
  t.match(judge('From: bob@hopital.fr', 'Cc: ok@x.fr, broken'), { code: 550, message: /The Cc: header holds "broken"/ });
  t.match(judge('From: bob@hopital.fr', 'To: a@x.fr\r\n\tb@x.fr'), { code: 550, message: /To: header holds/ }, 'a missing comma');
  t.equal(judge('From: bob@hopital.fr', 'To: a@[192.0.2.1]'), null, 'a domain literal');
});

t.test('MTA: exactly one From:', async (t) => {
  t.equal(fromFieldCountRefusal(1), null);
  t.match(fromFieldCountRefusal(0), { code: 550, enhanced: '5.6.0', message: /no From: header/ });
  t.match(fromFieldCountRefusal(3), { code: 550, enhanced: '5.6.0', message: /3 From: headers/ });
});
