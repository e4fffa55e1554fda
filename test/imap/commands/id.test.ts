// ID (RFC 2971): the server names itself, whatever the client sent (NIL or field/value pairs).
import t from 'tap';
import { connectedSession, testSession } from './harness';
import { world } from './messages-world';

const SERVER_ID = '* ID ("name" "mssd" "vendor" "mssd" "support-url" NIL)\r\nTAG OK ID completed\r\n';

t.test('ID with NIL or the client fields, before and after login', async (t) => {
  const { db, jean } = world(t);
  t.equal(await connectedSession(db).run('ID NIL'), SERVER_ID);
  t.equal(await testSession(db, jean).run('ID ("name" "Thunderbird" "version" "128.0")'), SERVER_ID);
  t.equal(await testSession(db, jean).run('ID ("name" NIL)'), SERVER_ID, 'a NIL value');
});

t.test('ID: malformed field lists are BAD', async (t) => {
  const { db } = world(t);
  const a = connectedSession(db);
  t.match(await a.run('ID ("name")'), /^TAG BAD ID takes NIL or a list of field\/value pairs/, 'odd number of items');
  t.match(await a.run(`ID (${'"k" "v" '.repeat(31).trim()})`), /^TAG BAD /, 'more than 30 pairs (RFC 2971 section 3.3)');
  t.match(await a.run('ID (NIL "v")'), /^TAG BAD ID field names are strings/);
  t.match(await a.run('ID NIL NIL'), /^TAG BAD /, 'one argument only');
  t.match(await a.run('ID'), /^TAG BAD ID takes one argument/, 'the argument is not optional (RFC 2971 section 4 grammar)');
});
