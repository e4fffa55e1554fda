// STARTTLS (RFC 3501 section 6.2.1): the tagged OK, then the handshake; refused once under TLS.
// (The handshake itself with a real client: test/e2e/imap-mailboxes-clients.test.ts.)
import t from 'tap';
import { connectedSession, testSession } from './harness';
import { world } from './messages-world';

t.test('STARTTLS on a plain connection: OK, then TLS starts, then the AUTH= mechanisms appear', async (t) => {
  const { db } = world(t);
  const a = connectedSession(db, { secure: false });
  t.equal(await a.run('STARTTLS'), 'TAG OK Begin TLS negotiation now\r\n');
  t.ok(a.io.tlsStarted, 'handshake started after the OK');
  t.match(await a.run('CAPABILITY'), /AUTH=PLAIN AUTH=LOGIN\r\n/);
});

t.test('STARTTLS refused under TLS, after login, with an argument', async (t) => {
  const { db, jean } = world(t);
  t.equal(await connectedSession(db).run('STARTTLS'), 'TAG BAD TLS is already active\r\n');
  t.equal(await testSession(db, jean).run('STARTTLS'), 'TAG BAD STARTTLS is not valid now\r\n');
  const plain = connectedSession(db, { secure: false });
  t.match(await plain.run('STARTTLS now'), /^TAG BAD /);
  t.notOk(plain.io.tlsStarted);
});
