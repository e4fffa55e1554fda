// NOOP (RFC 3501 section 6.1.2) and CHECK (section 6.4.1): nothing but the pending updates.
import t from 'tap';
import { appendToMailbox } from '../../../src/store/imap-messages';
import { connectedSession, testSession } from './harness';
import { simple, world } from './messages-world';

t.test('NOOP in every state; in the selected state it carries what changed meanwhile', async (t) => {
  const { db, jean, inbox } = world(t);
  t.equal(await connectedSession(db).run('NOOP'), 'TAG OK NOOP completed\r\n', 'before login');
  const a = testSession(db, jean);
  t.equal(await a.run('NOOP'), 'TAG OK NOOP completed\r\n');
  a.select('INBOX');
  t.equal(await a.run('NOOP'), 'TAG OK NOOP completed\r\n', 'nothing new');
  appendToMailbox(db, inbox, simple('Nouveau', 'arrivé', 'new.4@hopital.fr'));
  t.equal(await a.run('NOOP'), '* 4 EXISTS\r\n* 4 RECENT\r\nTAG OK NOOP completed\r\n', 'new mail: EXISTS and RECENT (RFC 3501 section 7.3)');
  const b = testSession(db, jean);
  b.select('INBOX');
  await b.run('STORE 2 +FLAGS.SILENT (\\Answered)');
  t.equal(await a.run('NOOP'), '* 2 FETCH (UID 2 FLAGS (\\Answered \\Flagged \\Recent))\r\nTAG OK NOOP completed\r\n', "another session's flag change, with the UID a client files it by");
  t.match(await a.run('NOOP now'), /^TAG BAD /, 'no argument');
});

t.test('CHECK: only in the selected state', async (t) => {
  const { db, jean } = world(t);
  const a = testSession(db, jean);
  t.equal(await a.run('CHECK'), 'TAG BAD CHECK needs a selected mailbox (SELECT or EXAMINE first)\r\n');
  a.select('INBOX');
  t.equal(await a.run('CHECK'), 'TAG OK CHECK completed\r\n');
});
