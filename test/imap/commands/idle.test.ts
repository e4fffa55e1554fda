// IDLE (RFC 2177): "+ idling", then what changes arrives at once, until DONE.
import t from 'tap';
import { appendToMailbox } from '../../../src/store/imap-messages';
import { connectedSession, testSession } from './harness';
import { simple, world } from './messages-world';

t.test('IDLE: continuation, pushed EXISTS, DONE ends it', async (t) => {
  const { db, jean, inbox } = world(t);
  const a = testSession(db, jean);
  a.select('INBOX');
  const running = a.run('IDLE');
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(a.io.take().toString(), '+ idling\r\n', 'the continuation request comes first');
  appendToMailbox(db, inbox, simple('Pendant IDLE', 'x', 'idle.4@hopital.fr'));
  a.session.idleWaker?.(); // what the server does on 'mailbox-changed' for this mailbox
  t.equal(a.io.take().toString(), '* 4 EXISTS\r\n* 4 RECENT\r\n', 'pushed while idling, before DONE');
  a.io.send('DONE');
  t.equal(await running, 'TAG OK IDLE terminated\r\n');
  t.equal(a.session.idleWaker, null, 'nothing pushed after DONE');
});

t.test('IDLE: ended by anything but DONE is BAD; needs login', async (t) => {
  const { db, jean } = world(t);
  const a = testSession(db, jean);
  a.io.send('NOOP');
  t.equal(await a.run('IDLE'), '+ idling\r\nTAG BAD IDLE ends with DONE\r\n');
  a.io.send('done');
  t.equal(await a.run('IDLE'), '+ idling\r\nTAG OK IDLE terminated\r\n', 'DONE in any case');
  t.match(await a.run('IDLE now'), /^TAG BAD /);
  t.equal(await connectedSession(db).run('IDLE'), 'TAG BAD IDLE needs you to log in first\r\n');
});
