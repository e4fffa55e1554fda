// ENABLE (RFC 5161): CONDSTORE (RFC 7162 section 3.1) is enabled once; unknown names are ignored.
import t from 'tap';
import { connectedSession, testSession } from './harness';
import { world } from './messages-world';

t.test('ENABLE CONDSTORE: ENABLED lists what was newly enabled; then flag changes carry MODSEQ', async (t) => {
  const { db, jean } = world(t);
  const a = testSession(db, jean);
  t.equal(await a.run('ENABLE CONDSTORE X-UNKNOWN'), '* ENABLED CONDSTORE\r\nTAG OK ENABLE completed\r\n', 'unknown extensions ignored');
  t.ok(a.session.condstore);
  t.equal(await a.run('ENABLE condstore'), '* ENABLED\r\nTAG OK ENABLE completed\r\n', 'already enabled: not listed again');
  a.select('INBOX');
  t.match(await a.run('STORE 1 +FLAGS (\\Answered)'), /^\* 1 FETCH \(MODSEQ \(\d+\) FLAGS \(\\Answered \\Recent\)\)\r\nTAG OK/, 'RFC 7162 section 3.1: MODSEQ in the FETCH a STORE causes');
  const b = testSession(db, jean);
  b.select('INBOX');
  t.equal(await b.run('STORE 1 +FLAGS (\\Seen)'), '* 1 FETCH (FLAGS (\\Seen \\Answered))\r\nTAG OK STORE completed\r\n', 'not enabled: no MODSEQ');
});

t.test('ENABLE: only in the authenticated state (RFC 5161 section 3.1)', async (t) => {
  const { db, jean } = world(t);
  t.equal(await connectedSession(db).run('ENABLE CONDSTORE'), 'TAG BAD ENABLE needs you to log in first\r\n');
  const a = testSession(db, jean);
  a.select('INBOX');
  t.equal(await a.run('ENABLE CONDSTORE'), 'TAG BAD ENABLE is not valid now\r\n');
  t.notOk(a.session.condstore);
  const b = testSession(db, jean);
  t.match(await b.run('ENABLE "CONDSTORE"'), /^TAG BAD /, 'extension names are atoms');
});
