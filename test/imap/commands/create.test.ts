// CREATE (RFC 3501 section 6.3.3) with USE (RFC 6154 section 3); refusals with RFC 5530 codes.
import t from 'tap';
import { connectedSession, testSession } from './harness';
import { world } from './messages-world';

t.test('CREATE: a folder, its missing parents, a trailing delimiter', async (t) => {
  const { db, jean } = world(t);
  const a = testSession(db, jean);
  t.equal(await a.run('CREATE Patients'), 'TAG OK CREATE completed\r\n');
  t.equal(await a.run('CREATE "Archives/2026/R&AOk-sultats/"'), 'TAG OK CREATE completed\r\n');
  t.match(await a.run('LIST "" "Archives*"'), /LIST \([^)]*\) "\/" "Archives"\r\n.*"Archives\/2026"\r\n.*"Archives\/2026\/R&AOk-sultats"\r\n/s, 'parents created');
  t.equal(await a.run('CREATE "USE ()"'), 'TAG OK CREATE completed\r\n', 'a name, not a parameter');
  t.equal(await a.run('CREATE Dossier (USE ())'), 'TAG OK CREATE completed\r\n', 'an empty USE is an ordinary CREATE');
});

t.test('CREATE refusals: ALREADYEXISTS, CANNOT, USEATTR', async (t) => {
  const { db, jean } = world(t);
  const a = testSession(db, jean);
  t.equal(await a.run('CREATE INBOX'), 'TAG NO [ALREADYEXISTS] A mailbox named "INBOX" already exists\r\n');
  t.equal(await a.run('CREATE "Envoy&AOk-s"'), 'TAG NO [ALREADYEXISTS] A mailbox named "Envoyes" (Envoy&AOk-s) already exists\r\n', 'response text is 7-bit');
  t.match(await a.run('CREATE "a//b"'), /^TAG NO \[CANNOT\] .* is not a valid mailbox name/);
  t.match(await a.run(`CREATE "${'x'.repeat(300)}"`), /^TAG NO \[CANNOT\] "x{97}\.\.\." is too long for a mailbox name: at most 255 characters/);
  t.match(await a.run('CREATE "R&AOk"'), /^TAG NO \[CANNOT\] .*not valid modified UTF-7/);
  t.match(await a.run('CREATE Envois (USE (\\Sent))'), /^TAG NO \[USEATTR\] Your box already has its \\Sent folder, "Envoyes" .*and only one/);
  t.match(await a.run('CREATE Archive (USE (\\Archive))'), /^TAG NO \[USEATTR\] This server does not keep \\Archive folders/);
  t.notMatch(await a.run('LIST "" "*"'), /Envois|"Archive"/, 'a refused CREATE created nothing');
});

t.test('CREATE: arguments and state', async (t) => {
  const { db, jean } = world(t);
  const a = testSession(db, jean);
  t.match(await a.run('CREATE'), /^TAG BAD Expected mailbox name/);
  t.match(await a.run('CREATE a b'), /^TAG BAD Expected CREATE parameters/);
  t.match(await a.run('CREATE a (FOO (x))'), /^TAG BAD Unknown CREATE parameter FOO/);
  t.match(await a.run('CREATE a (USE (\\Bogus))'), /^TAG BAD Unknown special-use attribute/);
  t.equal(await connectedSession(db).run('CREATE a'), 'TAG BAD CREATE needs you to log in first\r\n');
});
