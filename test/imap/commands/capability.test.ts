// CAPABILITY (RFC 3501 section 6.1.1): what a client may use depends on the state and on TLS.
import t from 'tap';
import { connectedSession, testSession } from './harness';
import { world } from './messages-world';

const BASE = 'IMAP4rev1 LITERAL+ SASL-IR ID ENABLE';

t.test('CAPABILITY before login: STARTTLS and LOGINDISABLED without TLS, AUTH= mechanisms under TLS', async (t) => {
  const { db } = world(t);
  const plain = connectedSession(db, { secure: false });
  t.equal(await plain.run('CAPABILITY'), `* CAPABILITY ${BASE} STARTTLS LOGINDISABLED\r\nTAG OK CAPABILITY completed\r\n`);
  const tls = connectedSession(db);
  t.equal(await tls.run('CAPABILITY'), `* CAPABILITY ${BASE} AUTH=PLAIN AUTH=LOGIN\r\nTAG OK CAPABILITY completed\r\n`);
});

t.test('CAPABILITY after login: the extensions of the authenticated state', async (t) => {
  const { db, jean } = world(t);
  const a = testSession(db, jean);
  const reply = await a.run('CAPABILITY');
  const [line, tagged] = reply.split('\r\n');
  t.equal(tagged, 'TAG OK CAPABILITY completed');
  const caps = line.replace(/^\* CAPABILITY /, '').split(' ');
  t.equal(caps[0], 'IMAP4rev1', 'IMAP4rev1 first');
  for (const cap of ['IDLE', 'NAMESPACE', 'UIDPLUS', 'MOVE', 'UNSELECT', 'CHILDREN', 'SPECIAL-USE', 'CREATE-SPECIAL-USE', 'LIST-EXTENDED', 'LIST-STATUS', 'CONDSTORE', 'ENABLE', 'ID']) {
    t.ok(caps.includes(cap), cap);
  }
  t.match(line, / APPENDLIMIT=\d+/, 'APPENDLIMIT with the size limit (RFC 7889)');
  t.notOk(caps.some((cap) => cap.startsWith('AUTH=') || cap === 'STARTTLS'), 'no login mechanism once logged in');
  a.select('INBOX');
  t.equal(await a.run('CAPABILITY'), reply, 'the same in the selected state');
});

t.test('CAPABILITY takes no argument', async (t) => {
  const { db } = world(t);
  t.match(await connectedSession(db).run('CAPABILITY IMAP4rev1'), /^TAG BAD /);
});
