// IDLE (RFC 2177): "+ idling", then what changes arrives at once, until DONE. A commit wakes only
// the sessions idling on the mailbox it changed (src/imap/idle-watchers.ts, as the server does on
// 'mailbox-changed'); the others hear of it at their next command.
import t from 'tap';
import { IdleWatchers } from '../../../src/imap/idle-watchers';
import { appendToMailbox } from '../../../src/store/imap-messages';
import { mailboxId } from '../../store/imap-fixtures';
import { connectedSession, testSession } from './harness';
import { simple, world } from './messages-world';

const turn = () => new Promise((resolve) => setImmediate(resolve));

t.test('IDLE: continuation, pushed EXISTS, DONE ends it', async (t) => {
  const { db, jean, inbox } = world(t);
  const watchers = new IdleWatchers();
  const a = testSession(db, jean, undefined, undefined, watchers);
  a.select('INBOX');
  const running = a.run('IDLE');
  await turn();
  t.equal(a.io.take().toString(), '+ idling\r\n', 'the continuation request comes first');
  t.equal(watchers.size, 1, 'registered while idling');
  appendToMailbox(db, inbox, simple('Pendant IDLE', 'x', 'idle.4@hopital.fr'));
  watchers.wake(inbox); // what the server does on 'mailbox-changed' for this mailbox
  await turn(); // wake-ups run on the next turn of the event loop
  t.equal(a.io.take().toString(), '* 4 EXISTS\r\n* 4 RECENT\r\n', 'pushed while idling, before DONE');
  a.io.send('DONE');
  t.equal(await running, 'TAG OK IDLE terminated\r\n');
  t.equal(watchers.size, 0, 'no longer registered after DONE');
  appendToMailbox(db, inbox, simple('Après IDLE', 'x', 'idle.5@hopital.fr'));
  watchers.wake(inbox);
  await turn();
  t.equal(a.io.take().length, 0, 'nothing pushed after DONE');
  t.match(await a.run('NOOP'), /^\* 5 EXISTS\r\n/, 'the next command tells it');
});

t.test('IDLE: a commit wakes only the sessions idling on that mailbox; null wakes them all', async (t) => {
  const { db, jean, marie, inbox } = world(t);
  const marieInbox = mailboxId(db, marie, 'INBOX');
  const watchers = new IdleWatchers();
  const jeanIdling = testSession(db, jean, undefined, undefined, watchers);
  const marieIdling = testSession(db, marie, undefined, undefined, watchers);
  const jeanBusy = testSession(db, jean, undefined, undefined, watchers);
  jeanIdling.select('INBOX');
  marieIdling.select('INBOX');
  jeanBusy.select('INBOX');
  const runs = [jeanIdling.run('IDLE'), marieIdling.run('IDLE')];
  await turn();
  for (const session of [jeanIdling, marieIdling]) t.equal(session.io.take().toString(), '+ idling\r\n');
  t.equal(watchers.size, 2, 'the two sessions in IDLE, not the third');

  appendToMailbox(db, inbox, simple('Pour Jean', 'x', 'jean.4@hopital.fr'));
  appendToMailbox(db, marieInbox, simple('Pour Marie', 'x', 'marie.1@hopital.fr'));
  watchers.wake(inbox);
  t.equal(jeanIdling.io.take().length, 0, 'not during the commit\'s own turn (its SMTP 250 or tagged OK goes first)');
  await turn();
  t.equal(jeanIdling.io.take().toString(), '* 4 EXISTS\r\n* 4 RECENT\r\n', 'the session idling on the changed mailbox is told');
  t.equal(marieIdling.io.take().length, 0, 'a session idling on another mailbox is not woken by it');
  t.equal(jeanBusy.io.take().length, 0, 'a session not in IDLE waits for its next command');
  watchers.wake(marieInbox);
  await turn();
  t.equal(marieIdling.io.take().toString(), '* 1 EXISTS\r\n* 1 RECENT\r\n', 'woken by its own mailbox\'s change');

  // a change of unknown extent (another process committed): every idling session looks again
  appendToMailbox(db, inbox, simple('Encore', 'x', 'jean.5@hopital.fr'));
  watchers.wake(null);
  await turn();
  t.equal(jeanIdling.io.take().toString(), '* 5 EXISTS\r\n* 5 RECENT\r\n');
  t.equal(marieIdling.io.take().length, 0, 'nothing changed for Marie: nothing said');

  // a burst of deliveries to one box: one wake-up, one EXISTS
  appendToMailbox(db, inbox, simple('Un', 'x', 'jean.6@hopital.fr'));
  watchers.wake(inbox);
  appendToMailbox(db, inbox, simple('Deux', 'x', 'jean.7@hopital.fr'));
  watchers.wake(inbox);
  await turn();
  t.equal(jeanIdling.io.take().toString(), '* 7 EXISTS\r\n* 7 RECENT\r\n', 'two deliveries in one turn: told once');

  for (const session of [jeanIdling, marieIdling]) session.io.send('DONE');
  t.same(await Promise.all(runs), ['TAG OK IDLE terminated\r\n', 'TAG OK IDLE terminated\r\n']);
  t.equal(watchers.size, 0);
  t.match(await jeanBusy.run('NOOP'), /^\* 7 EXISTS\r\n/, 'the busy session hears at its next command');
});

t.test('IDLE: ended by anything but DONE is BAD; needs login', async (t) => {
  const { db, jean } = world(t);
  const watchers = new IdleWatchers();
  const a = testSession(db, jean, undefined, undefined, watchers);
  a.io.send('NOOP');
  t.equal(await a.run('IDLE'), '+ idling\r\nTAG BAD IDLE ends with DONE\r\n');
  a.io.send('done');
  t.equal(await a.run('IDLE'), '+ idling\r\nTAG OK IDLE terminated\r\n', 'DONE in any case');
  t.equal(watchers.size, 0, 'IDLE without a selected mailbox registers nowhere');
  t.match(await a.run('IDLE now'), /^TAG BAD /);
  t.equal(await connectedSession(db).run('IDLE'), 'TAG BAD IDLE needs you to log in first\r\n');
});
