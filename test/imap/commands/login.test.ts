// LOGIN (RFC 3501 section 6.2.3) with the RFC 5530 response codes a client acts on, the real
// password check (src/auth) and the per-account session limit.
import t from 'tap';
import { setAccountStatus } from '../../../src/store/accounts';
import { ConnectionLimiter } from '../../../src/util/connection-limits';
import { connectedSession, testSession } from './harness';
import { JEAN_PASSWORD, loginWorld } from './messages-world';

t.test('LOGIN: OK with the new CAPABILITY in the response code; the session is authenticated', async (t) => {
  const { db, jean, authenticator } = await loginWorld(t);
  const a = connectedSession(db, { authenticator });
  const reply = await a.run(`LOGIN jean.dupont@hopital.fr "${JEAN_PASSWORD}"`);
  t.match(reply, /^TAG OK \[CAPABILITY IMAP4rev1 [^\]]*IDLE[^\]]*\] Logged in as jean\.dupont@hopital\.fr\r\n$/);
  t.equal(a.session.state, 'authenticated');
  t.equal(a.session.user?.accountId, jean);
  t.equal(await a.run('LOGIN jean.dupont@hopital.fr x'), 'TAG BAD LOGIN is not valid now\r\n', 'only once');
});

t.test('LOGIN refusals: wrong password, no TLS, suspended, ORG box, too many sessions', async (t) => {
  const { db, authenticator } = await loginWorld(t);
  const wrong = connectedSession(db, { authenticator });
  t.equal(await wrong.run('LOGIN jean.dupont@hopital.fr wrong'), 'TAG NO [AUTHENTICATIONFAILED] Wrong login or password\r\n');
  t.equal(await wrong.run('LOGIN personne@hopital.fr wrong'), 'TAG NO [AUTHENTICATIONFAILED] Wrong login or password\r\n', 'unknown login: the same words');
  t.equal(wrong.session.state, 'not-authenticated');

  const plain = connectedSession(db, { authenticator, secure: false });
  t.equal(await plain.run(`LOGIN jean.dupont@hopital.fr "${JEAN_PASSWORD}"`), 'TAG NO [PRIVACYREQUIRED] Log in only over TLS: use STARTTLS first\r\n');

  const org = connectedSession(db, { authenticator });
  t.match(await org.run('LOGIN contact@pharmacie.fr whatever'), /^TAG NO \[AUTHENTICATIONFAILED\] /, 'an ORG box cannot log in');

  const limited = new ConnectionLimiter(1);
  const first = connectedSession(db, { authenticator, accountSessions: limited });
  t.match(await first.run(`LOGIN jean.dupont@hopital.fr "${JEAN_PASSWORD}"`), /^TAG OK /);
  const second = connectedSession(db, { authenticator, accountSessions: limited });
  t.match(await second.run(`LOGIN jean.dupont@hopital.fr "${JEAN_PASSWORD}"`), /^TAG NO \[LIMIT\] Too many simultaneous connections for this account/);

  setAccountStatus(db, 'jean.dupont@hopital.fr', 'suspended');
  const suspended = connectedSession(db, { authenticator });
  t.equal(await suspended.run(`LOGIN jean.dupont@hopital.fr "${JEAN_PASSWORD}"`), 'TAG NO [CONTACTADMIN] This account is suspended; contact the operator\r\n');
});

t.test('LOGIN: syntax', async (t) => {
  const { db, jean, authenticator } = await loginWorld(t);
  const a = connectedSession(db, { authenticator });
  t.match(await a.run('LOGIN jean.dupont@hopital.fr'), /^TAG BAD /, 'no password');
  t.match(await a.run('LOGIN a b c'), /^TAG BAD /, 'three arguments');
  t.match(await a.run('LOGIN (a) b'), /^TAG BAD /, 'a list for the user name');
  t.equal(await testSession(db, jean).run('LOGIN a b'), 'TAG BAD LOGIN is not valid now\r\n');
});
