// The relay worker's side of the queue store: due entries, sent marks, attempts, completion.
import t, { type Test } from 'tap';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrate, openDatabase, type Db } from '../../src/store/database';
import {
  completeQueueEntry,
  dueQueueEntries,
  enqueueOutbound,
  findQueueEntry,
  markQueueRecipientsSent,
  nextQueueDueAt,
  pendingRecipientCount,
  recordQueueAttempt,
} from '../../src/store/queue';

function freshDb(t: Test): Db {
  const db = openDatabase(mkdtempSync(path.join(os.tmpdir(), 'mssd-queue-relay-')));
  migrate(db);
  t.teardown(() => db.close());
  return db;
}

const refcount = (db: Db, hash: string) => (db.prepare('SELECT refcount FROM bodies WHERE hash = ?').get(hash) as { refcount: number } | undefined)?.refcount;

t.test('an entry through its attempts', async (t) => {
  const db = freshDb(t);
  enqueueOutbound(db, {
    kind: 'relay',
    queueId: 'Q1',
    mailFrom: 'a@exemple.mssante.fr',
    recipients: [{ address: 'b@chu.mssante.fr', notify: 'SUCCESS' }, { address: 'c@chu.mssante.fr' }, { address: 'd@clinique.mssante.fr' }],
    body: { content: Buffer.from('Subject: x\r\n\r\nbody\r\n') },
    ret: 'HDRS',
    now: 1_000,
  });
  enqueueOutbound(db, { kind: 'dsn', queueId: 'Q2', mailFrom: '', recipients: [{ address: 'z@chu.mssante.fr' }], body: { content: Buffer.from('x') }, now: 1_000, nextAttemptAt: 5_000 });

  t.same(dueQueueEntries(db, 999, 10), [], 'nothing due before its time');
  const [due] = dueQueueEntries(db, 1_000, 10);
  t.match(due, { queueId: 'Q1', kind: 'relay', mailFrom: 'a@exemple.mssante.fr', ret: 'HDRS', attempts: 0, createdAt: 1_000 });
  t.same(due.pending.map((r) => [r.address, r.domain, r.notify]), [
    ['b@chu.mssante.fr', 'chu.mssante.fr', 'SUCCESS'],
    ['c@chu.mssante.fr', 'chu.mssante.fr', null],
    ['d@clinique.mssante.fr', 'clinique.mssante.fr', null],
  ]);
  t.same(dueQueueEntries(db, 1_000, 10, new Set([due.rowId])), [], 'entries in flight are skipped');
  t.equal(nextQueueDueAt(db), 1_000);
  t.equal(nextQueueDueAt(db, new Set([due.rowId])), 5_000);

  markQueueRecipientsSent(db, due.rowId, ['b@chu.mssante.fr'], '250 2.0.0 queued', 1_100);
  recordQueueAttempt(db, due.rowId, [
    { address: 'c@chu.mssante.fr', status: 'failed', reply: '550 5.1.1 unknown' },
    { address: 'd@clinique.mssante.fr', status: 'pending', reply: '451 4.3.0 later' },
  ], 61_000, 1_100);
  const entry = findQueueEntry(db, 'Q1')!;
  t.equal(entry.attempts, 1);
  t.equal(entry.nextAttemptAt, 61_000);
  t.same(entry.recipients.map((r) => [r.address, r.status, r.lastReply]), [
    ['b@chu.mssante.fr', 'sent', '250 2.0.0 queued'],
    ['c@chu.mssante.fr', 'failed', '550 5.1.1 unknown'],
    ['d@clinique.mssante.fr', 'pending', '451 4.3.0 later'],
  ]);
  markQueueRecipientsSent(db, due.rowId, ['c@chu.mssante.fr'], '250 again', 1_200);
  t.equal(findQueueEntry(db, 'Q1')!.recipients[1].status, 'failed', 'a final status never changes');
  t.same(dueQueueEntries(db, 61_000, 10).find((e) => e.queueId === 'Q1')!.pending.map((r) => r.address), ['d@clinique.mssante.fr'], 'only pending recipients are worked again');

  t.equal(pendingRecipientCount(db, due.rowId), 1);
  markQueueRecipientsSent(db, due.rowId, ['d@clinique.mssante.fr'], '250 ok', 61_500);
  t.equal(pendingRecipientCount(db, due.rowId), 0);
  const hash = entry.bodyHash;
  t.equal(refcount(db, hash), 1);
  completeQueueEntry(db, due.rowId);
  t.equal(findQueueEntry(db, 'Q1'), undefined, 'a finished entry leaves the queue');
  t.equal(refcount(db, hash), undefined, 'with its body');
  t.equal((db.prepare('SELECT COUNT(*) AS n FROM outbound_recipients').get() as { n: number }).n, 1, 'its recipients too');
});

t.test('a body shared with a mailbox copy keeps that reference', async (t) => {
  const db = freshDb(t);
  const content = Buffer.from('Subject: shared\r\n\r\nbody\r\n');
  enqueueOutbound(db, { kind: 'relay', queueId: 'Q1', mailFrom: 'a@x.fr', recipients: [{ address: 'b@y.fr' }], body: { content }, now: 1 });
  const entry = findQueueEntry(db, 'Q1')!;
  db.prepare('UPDATE bodies SET refcount = refcount + 1 WHERE hash = ?').run(entry.bodyHash); // a mailbox copy
  enqueueOutbound(db, { kind: 'relay', queueId: 'Q2', mailFrom: 'a@x.fr', recipients: [{ address: 'c@y.fr' }], body: { hash: entry.bodyHash }, now: 1 });
  t.equal(refcount(db, entry.bodyHash), 3);
  const [first] = dueQueueEntries(db, 1, 1);
  completeQueueEntry(db, first.rowId);
  t.equal(refcount(db, entry.bodyHash), 2);
});
