// LOGOUT (RFC 3501 section 6.1.3): the untagged BYE, the tagged OK, then the connection closes.
import t from 'tap';
import { connectedSession, testSession } from './harness';
import { world } from './messages-world';

t.test('LOGOUT: BYE before the tagged OK, then the server closes', async (t) => {
  const { db, jean } = world(t);
  const a = testSession(db, jean);
  a.select('INBOX');
  t.equal(await a.run('LOGOUT'), '* BYE mssd logging out\r\nTAG OK LOGOUT completed\r\n');
  t.ok(a.io.closed, 'connection closed after the OK');
  t.equal(a.session.state, 'logout');
  t.equal(a.session.selected, null);
});

t.test('LOGOUT before login, and with an argument', async (t) => {
  const { db } = world(t);
  const a = connectedSession(db);
  t.match(await a.run('LOGOUT now'), /^TAG BAD /, 'no argument');
  t.notOk(a.io.closed, 'a refused LOGOUT keeps the connection');
  t.equal(await a.run('LOGOUT'), '* BYE mssd logging out\r\nTAG OK LOGOUT completed\r\n');
  t.ok(a.io.closed);
});
