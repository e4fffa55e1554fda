// Which IMAP workers hear of a mailbox change (src/imap/workers.ts, IdleInterest): only those
// with a session in IDLE on that mailbox; and each worker is told when a mailbox becomes watched,
// or stops being watched, by another worker, so that it sends nothing nobody waits for.
import type { Worker } from 'node:cluster';
import t from 'tap';
import { IdleInterest } from '../../src/imap/workers';

function setUp() {
  const [a, b, c] = ['a', 'b', 'c'].map((name) => ({ name }) as unknown as Worker);
  const told: string[] = [];
  const interest = new IdleInterest((worker, message) => {
    if (message.t === 'watched') told.push(`${(worker as unknown as { name: string }).name}:${message.mailboxId}:${message.elsewhere}`);
  });
  return { a, b, c, all: [a, b, c], told, interest };
}

t.test('a first idler on a mailbox: the other workers learn it is watched elsewhere; changes go to its worker only', async (t) => {
  const { a, all, told, interest } = setUp();
  interest.set(a, 7, true, all);
  t.same(told, ['b:7:true', 'c:7:true'], 'b and c now send changes of mailbox 7');
  t.same([...(interest.watching(7) ?? [])], [a], 'a change of mailbox 7 goes to a');
  t.equal(interest.watching(8), undefined, 'a change of an unwatched mailbox goes nowhere');
});

t.test('a second worker watching the same mailbox: the first learns it is now watched elsewhere too', async (t) => {
  const { a, b, all, told, interest } = setUp();
  interest.set(a, 7, true, all);
  told.length = 0;
  interest.set(b, 7, true, all);
  t.same(told, ['a:7:true'], 'only a is told: c already knew');
  t.same([...(interest.watching(7) ?? [])], [a, b]);
  told.length = 0;
  interest.set(a, 7, false, all);
  t.same(told, ['b:7:false'], 'a stopped: b is the only watcher left, nobody else watches for it');
  t.same([...(interest.watching(7) ?? [])], [b]);
});

t.test('the last idler leaves: every other worker stops sending', async (t) => {
  const { a, all, told, interest } = setUp();
  interest.set(a, 7, true, all);
  told.length = 0;
  interest.set(a, 7, false, all);
  t.same(told, ['b:7:false', 'c:7:false']);
  t.equal(interest.watching(7), undefined);
});

t.test('a worker that died watches nothing; a new worker learns every watched mailbox', async (t) => {
  const { a, b, c, all, told, interest } = setUp();
  interest.set(a, 7, true, all);
  interest.set(a, 9, true, all);
  told.length = 0;
  interest.forget(a, [b, c]);
  t.same(told.sort(), ['b:7:false', 'b:9:false', 'c:7:false', 'c:9:false']);
  interest.set(b, 5, true, [b, c]);
  told.length = 0;
  const fresh = { name: 'd' } as unknown as Worker;
  interest.introduce(fresh);
  t.same(told, ['d:5:true'], 'the new worker sends changes of mailbox 5');
});
