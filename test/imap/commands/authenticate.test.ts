// AUTHENTICATE (RFC 3501 section 6.2.2) with PLAIN (RFC 4616), LOGIN and SASL-IR (RFC 4959).
import t from 'tap';
import { connectedSession, testSession } from './harness';
import { JEAN_PASSWORD, loginWorld } from './messages-world';

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const PLAIN = b64(`\0jean.dupont@hopital.fr\0${JEAN_PASSWORD}`);

t.test('AUTHENTICATE PLAIN with an initial response (SASL-IR), and after an empty challenge', async (t) => {
  const { db, jean, authenticator } = await loginWorld(t);
  const ir = connectedSession(db, { authenticator });
  t.match(await ir.run(`AUTHENTICATE PLAIN ${PLAIN}`), /^TAG OK \[CAPABILITY IMAP4rev1 [^\]]*\] Logged in as jean\.dupont@hopital\.fr\r\n$/);
  t.equal(ir.session.user?.accountId, jean);

  const challenged = connectedSession(db, { authenticator });
  challenged.io.send(PLAIN);
  t.match(await challenged.run('AUTHENTICATE PLAIN'), /^\+ \r\nTAG OK \[CAPABILITY /, 'an empty "+ " challenge first');
  t.equal(challenged.session.state, 'authenticated');
});

t.test('AUTHENTICATE LOGIN: Username: and Password: challenges in base64', async (t) => {
  const { db, authenticator } = await loginWorld(t);
  const a = connectedSession(db, { authenticator });
  a.io.send(b64('jean.dupont@hopital.fr'));
  a.io.send(b64(JEAN_PASSWORD));
  t.match(await a.run('AUTHENTICATE LOGIN'), new RegExp(`^\\+ ${b64('Username:')}\\r\\n\\+ ${b64('Password:')}\\r\\nTAG OK \\[CAPABILITY `));
});

t.test('AUTHENTICATE refusals', async (t) => {
  const { db, jean, authenticator } = await loginWorld(t);
  const a = connectedSession(db, { authenticator });
  t.equal(await a.run(`AUTHENTICATE PLAIN ${b64('\0jean.dupont@hopital.fr\0faux')}`), 'TAG NO [AUTHENTICATIONFAILED] Wrong login or password\r\n');
  t.equal(
    await a.run(`AUTHENTICATE PLAIN ${b64(`marie.curie@hopital.fr\0jean.dupont@hopital.fr\0${JEAN_PASSWORD}`)}`),
    'TAG NO [AUTHORIZATIONFAILED] Logging in as somebody else is not allowed\r\n',
  );
  t.equal(await a.run('AUTHENTICATE CRAM-MD5'), 'TAG NO Unsupported authentication mechanism CRAM-MD5; use PLAIN or LOGIN\r\n');
  t.equal(await a.run('AUTHENTICATE PLAIN !!!!'), 'TAG BAD Malformed base64 in the authentication exchange\r\n');
  t.equal(await a.run(`AUTHENTICATE PLAIN ${b64('sans-separateur')}`), 'TAG BAD Malformed PLAIN credentials\r\n');
  a.io.send('*');
  t.equal(await a.run('AUTHENTICATE PLAIN'), '+ \r\nTAG BAD Authentication cancelled\r\n', '"*" cancels (RFC 3501 section 6.2.2)');
  t.equal(a.session.state, 'not-authenticated');

  const plain = connectedSession(db, { authenticator, secure: false });
  t.equal(await plain.run(`AUTHENTICATE PLAIN ${PLAIN}`), 'TAG NO [PRIVACYREQUIRED] Log in only over TLS: use STARTTLS first\r\n');
  t.match(await plain.run('AUTHENTICATE'), /^TAG BAD /, 'no mechanism');
  t.equal(await testSession(db, jean).run(`AUTHENTICATE PLAIN ${PLAIN}`), 'TAG BAD AUTHENTICATE is not valid now\r\n');
});
