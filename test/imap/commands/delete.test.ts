// DELETE (RFC 3501 section 6.3.4) with R11: the folder's messages go back to the INBOX of its box.
import t from 'tap';
import { mailboxStatus } from '../../../src/store/imap-mailboxes';
import { mailboxId } from '../../store/imap-fixtures';
import { connectedSession, testSession } from './harness';
import { world } from './messages-world';

t.test('DELETE: messages back to INBOX (R11), children keep the name as \\Noselect', async (t) => {
  const { db, jean, inbox } = world(t);
  const a = testSession(db, jean);
  await a.run('CREATE Patients/Dupont');
  a.select('INBOX');
  await a.run('MOVE 1:2 Patients');
  await a.run('UNSELECT');
  t.equal(mailboxStatus(db, inbox).messages, 1);
  t.equal(await a.run('DELETE Patients'), 'TAG OK DELETE completed; its 2 message(s) were moved back to INBOX\r\n');
  t.equal(mailboxStatus(db, inbox).messages, 3, 'R11: nothing is lost');
  t.match(await a.run('LIST "" "Patients*"'), /^\* LIST \(\\Noselect \\HasChildren\) "\/" "Patients"\r\n/, 'the parent stays as a \\Noselect name');
  t.equal(await a.run('DELETE Patients/Dupont'), 'TAG OK DELETE completed\r\n');
});

t.test('DELETE refusals: NONEXISTENT, the special folders and INBOX, state, arguments', async (t) => {
  const { db, jean } = world(t);
  const a = testSession(db, jean);
  t.match(await a.run('DELETE Nulle-part'), /^TAG NO \[NONEXISTENT\] /);
  for (const name of ['INBOX', 'Corbeille', 'Envoy&AOk-s', 'Brouillons']) {
    t.match(await a.run(`DELETE "${name}"`), /^TAG NO \[(CANNOT|NOPERM)\] /, name);
  }
  t.ok(mailboxId(db, jean, 'Corbeille'), 'the Trash is still there');
  t.match(await a.run('DELETE'), /^TAG BAD Expected mailbox name/);
  t.match(await a.run('DELETE a b'), /^TAG BAD Unexpected argument/);
  t.equal(await connectedSession(db).run('DELETE a'), 'TAG BAD DELETE needs you to log in first\r\n');
});

t.test('DELETE of the selected mailbox: the selecting session hears [CLOSED], and a FETCH next is refused', async (t) => {
  const { db, jean } = world(t);
  const a = testSession(db, jean);
  const b = testSession(db, jean);
  await a.run('CREATE Patients');
  b.select('Patients');
  t.match(await a.run('DELETE Patients'), /^TAG OK DELETE completed/);
  t.match(await b.run('NOOP'), /^\* OK \[CLOSED\] "Patients" is no longer available to you/);
  t.equal(b.session.state, 'authenticated');
  // again, once b knows the mailbox is its own (no access check before a command): the FETCH's sync finds it gone
  await a.run('CREATE Patients');
  b.select('Patients');
  t.match(await b.run('NOOP'), /^TAG OK/);
  t.match(await a.run('DELETE Patients'), /^TAG OK DELETE completed/);
  t.equal(
    await b.run('FETCH 1:* FLAGS'),
    '* OK [CLOSED] "Patients" is no longer available to you; select another mailbox\r\nTAG NO The selected mailbox is no longer available; select another one\r\n',
  );
  t.equal(b.session.state, 'authenticated');
});
