// SELECT and EXAMINE (RFC 3501 sections 6.3.1, 6.3.2; CONDSTORE RFC 7162 section 3.1.8): the
// untagged data a client builds its view from, in the order of the RFC's example.
import t from 'tap';
import { connectedSession, testSession } from './harness';
import { world } from './messages-world';

const FLAGS = '\\Seen \\Answered \\Flagged \\Deleted \\Draft $label1';

function uidValidity(db: ReturnType<typeof world>['db'], id: number): number {
  return (db.prepare('SELECT uidvalidity FROM mailboxes WHERE id = ?').get(id) as { uidvalidity: number }).uidvalidity;
}

t.test('SELECT INBOX: FLAGS, PERMANENTFLAGS, EXISTS, RECENT, UNSEEN, UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ, [READ-WRITE]', async (t) => {
  const { db, jean, inbox } = world(t);
  const a = testSession(db, jean);
  const reply = await a.run('SELECT INBOX');
  const lines = reply.split('\r\n');
  t.same(lines.slice(0, 7), [
    `* FLAGS (${FLAGS})`,
    `* OK [PERMANENTFLAGS (${FLAGS} \\*)] Flags and new keywords are kept`,
    '* 3 EXISTS',
    '* 3 RECENT',
    '* OK [UNSEEN 1] First message not yet read',
    `* OK [UIDVALIDITY ${uidValidity(db, inbox)}] UIDs valid`,
    '* OK [UIDNEXT 4] Predicted next UID',
  ]);
  t.match(lines[7], /^\* OK \[HIGHESTMODSEQ \d+\] /);
  t.equal(lines[8], 'TAG OK [READ-WRITE] SELECT completed');
  t.equal(a.session.state, 'selected');
  const again = testSession(db, jean);
  t.match(await again.run('SELECT inbox'), /\* 0 RECENT\r\n/, 'INBOX in any case; \\Recent went to the first session');
});

t.test('EXAMINE: read-only, PERMANENTFLAGS (), RECENT shown but not claimed; a second SELECT closes the first', async (t) => {
  const { db, jean } = world(t);
  const a = testSession(db, jean);
  const reply = await a.run('EXAMINE INBOX');
  t.match(reply, /\* OK \[PERMANENTFLAGS \(\)\] Read-only: no flag can be changed\r\n/);
  t.match(reply, /\* 3 RECENT\r\n/, 'RFC 3501 section 6.3.2: EXAMINE reports \\Recent (imaptest "select")');
  t.match(await testSession(db, jean).run('STATUS INBOX (RECENT)'), /RECENT 3\)/, 'and leaves it for the next SELECT');
  t.match(reply, /TAG OK \[READ-ONLY\] EXAMINE completed, mailbox open read-only\r\n$/);
  const next = await a.run('SELECT Corbeille');
  t.match(next, /^\* OK \[CLOSED\] Previous mailbox closed\r\n\* FLAGS /, 'CLOSED first (RFC 7162 section 3.2.11)');
  t.match(next, /\* 0 EXISTS\r\n/);
  t.notMatch(next, /UNSEEN/, 'no UNSEEN when every message is read');
  t.match(await a.run('SELECT INBOX (CONDSTORE)'), /TAG OK \[READ-WRITE\]/);
  t.ok(a.session.condstore, 'the CONDSTORE parameter enables CONDSTORE');
});

t.test('SELECT refusals: NONEXISTENT with the same words for missing and foreign boxes; state after a failure', async (t) => {
  const { db, jean } = world(t);
  const a = testSession(db, jean);
  a.select('INBOX');
  const missing = await a.run('SELECT Nulle-part');
  t.match(missing, /^\* OK \[CLOSED\] Previous mailbox closed\r\nTAG NO \[NONEXISTENT\] /);
  t.equal(a.session.state, 'authenticated', 'a failed SELECT leaves no mailbox selected (RFC 3501 section 6.3.1)');
  const foreign = await a.run('SELECT "Partag&AOk-/labo@x.mssante.fr/INBOX"');
  t.match(missing, /TAG NO \[NONEXISTENT\] Mailbox "Nulle-part" does not exist\r\n$/);
  const absent = await a.run('SELECT "Partag&AOk-/personne@x.mssante.fr/INBOX"');
  t.equal(
    foreign.replace(/labo/g, 'X'),
    absent.replace(/personne/g, 'X'),
    'R6: an ORG box one is not linked to reads exactly as one that does not exist',
  );
  t.match(foreign, /^TAG NO \[NONEXISTENT\] /);
  t.match(await a.run('SELECT "Partag&AOk-/pharmacie@x.mssante.fr/INBOX"'), /TAG OK \[READ-WRITE\]/, 'a linked ORG box opens');
  t.equal(await connectedSession(db).run('SELECT INBOX'), 'TAG BAD SELECT needs you to log in first\r\n');
});

t.test('SELECT and EXAMINE: arguments', async (t) => {
  const { db, jean } = world(t);
  const a = testSession(db, jean);
  const cases: Array<[string, RegExp]> = [
    ['SELECT', /^TAG BAD Expected mailbox name, got nothing/],
    ['SELECT INBOX INBOX', /^TAG BAD Expected select parameters/],
    ['SELECT INBOX (CONDSTORE) extra', /^TAG BAD Unexpected argument/],
    ['SELECT (INBOX)', /^TAG BAD Expected mailbox name, got a list/],
    ['EXAMINE INBOX (QRESYNC (1 1))', /^TAG BAD QRESYNC needs ENABLE QRESYNC first/],
    ['EXAMINE INBOX (FROB)', /^TAG BAD Unknown select parameter FROB/],
    ['SELECT "R&AOk"', /^TAG NO \[CANNOT\] .*not valid modified UTF-7/],
  ];
  for (const [command, expected] of cases) t.match(await a.run(command), expected, command);
});
