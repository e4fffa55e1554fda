// RENAME (RFC 3501 section 6.3.5): children follow; INBOX's messages move to the new name.
import t from 'tap';
import { mailboxStatus } from '../../../src/store/imap-mailboxes';
import { mailboxId } from '../../store/imap-fixtures';
import { connectedSession, testSession } from './harness';
import { world } from './messages-world';

t.test('RENAME a folder with its children; missing parents are created', async (t) => {
  const { db, jean } = world(t);
  const a = testSession(db, jean);
  await a.run('CREATE Patients/Dupont');
  t.equal(await a.run('RENAME Patients "Archives/Patients 2026"'), 'TAG OK RENAME completed\r\n');
  const list = await a.run('LIST "" "*"');
  t.match(list, /"Archives\/Patients 2026\/Dupont"\r\n/, 'the child followed');
  t.match(list, /"Archives"\r\n/, 'the missing parent was created');
  t.notMatch(list, /"Patients/);
});

t.test('RENAME of a special folder keeps its special use (RFC 6154)', async (t) => {
  const { db, jean } = world(t);
  const a = testSession(db, jean);
  t.equal(await a.run('RENAME Corbeille Poubelle'), 'TAG OK RENAME completed\r\n');
  t.equal(await a.run('LIST "" "Poubelle"'), '* LIST (\\HasNoChildren \\Trash) "/" "Poubelle"\r\nTAG OK LIST completed\r\n');
});

t.test('RENAME INBOX: its messages move to the new mailbox, INBOX stays and is empty', async (t) => {
  const { db, jean, inbox } = world(t);
  const a = testSession(db, jean);
  t.equal(await a.run('RENAME INBOX Ancienne'), 'TAG OK RENAME completed; INBOX stays, its 3 message(s) moved to the new mailbox\r\n');
  t.equal(mailboxStatus(db, inbox).messages, 0);
  t.equal(mailboxStatus(db, mailboxId(db, jean, 'Ancienne')).messages, 3);
});

t.test('RENAME refusals: NONEXISTENT source, ALREADYEXISTS target, across boxes', async (t) => {
  const { db, jean } = world(t);
  const a = testSession(db, jean);
  await a.run('CREATE Patients');
  t.match(await a.run('RENAME Nulle-part Ailleurs'), /^TAG NO \[NONEXISTENT\] Mailbox "Nulle-part" does not exist/);
  t.match(await a.run('RENAME Patients Corbeille'), /^TAG NO \[ALREADYEXISTS\] A mailbox named "Corbeille" already exists/);
  t.match(await a.run('RENAME Patients "Partag&AOk-/pharmacie@x.mssante.fr/Patients"'), /^TAG NO \[CANNOT\] /, 'never from a personal box to an ORG box');
  t.match(await a.run('RENAME INBOX'), /^TAG BAD Expected new mailbox name, got nothing/);
  t.match(await a.run('RENAME a b c'), /^TAG BAD Unexpected argument/);
  t.equal(await connectedSession(db).run('RENAME a b'), 'TAG BAD RENAME needs you to log in first\r\n');
});
