// SUBSCRIBE and UNSUBSCRIBE (RFC 3501 sections 6.3.6, 6.3.7), seen through LSUB.
import t from 'tap';
import { connectedSession, testSession } from './harness';
import { world } from './messages-world';

t.test('SUBSCRIBE shows in LSUB; UNSUBSCRIBE removes it; unsubscribing twice is fine', async (t) => {
  const { db, jean } = world(t);
  const a = testSession(db, jean);
  await a.run('CREATE Patients');
  t.equal(await a.run('SUBSCRIBE Patients'), 'TAG OK SUBSCRIBE completed\r\n');
  t.match(await a.run('LSUB "" "Pat*"'), /^\* LSUB \(\) "\/" "Patients"\r\nTAG OK LSUB completed\r\n$/);
  t.equal(await a.run('UNSUBSCRIBE Patients'), 'TAG OK UNSUBSCRIBE completed\r\n');
  t.equal(await a.run('LSUB "" "Pat*"'), 'TAG OK LSUB completed\r\n');
  t.equal(await a.run('UNSUBSCRIBE Patients'), 'TAG OK UNSUBSCRIBE completed\r\n', 'the aim (not subscribed) holds');
  t.equal(await a.run('UNSUBSCRIBE Nulle-part'), 'TAG OK UNSUBSCRIBE completed (the name was not subscribed)\r\n');
});

t.test('SUBSCRIBE: a name that does not exist is NO [NONEXISTENT]; syntax and state', async (t) => {
  const { db, jean } = world(t);
  const a = testSession(db, jean);
  t.match(await a.run('SUBSCRIBE Nulle-part'), /^TAG NO \[NONEXISTENT\] /);
  t.match(await a.run('SUBSCRIBE INBOX INBOX'), /^TAG BAD Unexpected argument/);
  t.match(await a.run('SUBSCRIBE'), /^TAG BAD /);
  t.equal(await connectedSession(db).run('SUBSCRIBE INBOX'), 'TAG BAD SUBSCRIBE needs you to log in first\r\n');
});
