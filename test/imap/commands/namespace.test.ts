// NAMESPACE (RFC 2342): personal at the root, no other users, the ORG boxes under "Partagé/" (R6).
import t from 'tap';
import { connectedSession, testSession } from './harness';
import { world } from './messages-world';

t.test('NAMESPACE: personal "" and shared "Partagé/" (modified UTF-7), delimiter "/"', async (t) => {
  const { db, jean } = world(t);
  t.equal(await testSession(db, jean).run('NAMESPACE'), '* NAMESPACE (("" "/")) NIL (("Partag&AOk-/" "/"))\r\nTAG OK NAMESPACE completed\r\n');
});

t.test('NAMESPACE: after login only, no argument', async (t) => {
  const { db, jean } = world(t);
  t.equal(await connectedSession(db).run('NAMESPACE'), 'TAG BAD NAMESPACE needs you to log in first\r\n');
  t.match(await testSession(db, jean).run('NAMESPACE x'), /^TAG BAD /);
});
