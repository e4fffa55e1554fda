import t, { type Test } from 'tap';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrate, openDatabase, type Db } from '../../src/store/database';
import {
  deleteQueueEntry,
  enqueueOutbound,
  findQueueEntry,
  listQueued,
  retryQueueEntry,
} from '../../src/store/queue';

function freshDb(t: Test): Db {
  const db = openDatabase(mkdtempSync(path.join(os.tmpdir(), 'mssd-queue-')));
  migrate(db);
  t.teardown(() => db.close());
  return db;
}

function bodyRefcount(db: Db, hash: string): number | undefined {
  const row = db.prepare('SELECT refcount FROM bodies WHERE hash = ?').get(hash) as { refcount: number } | undefined;
  return row?.refcount;
}

t.test('enqueueOutbound stores the entry, its recipients and a body reference in one go', async (t) => {
  const db = freshDb(t);
  const queueId = enqueueOutbound(db, {
    kind: 'relay',
    queueId: 'Q1',
    mailFrom: 'jean.dupont@exemple.mssante.fr',
    recipients: [
      { address: 'a@ch-autre.mssante.fr', notify: 'SUCCESS,FAILURE', orcpt: 'rfc822;a@ch-autre.mssante.fr' },
      { address: 'b@Clinique.MSSante.fr' },
    ],
    body: { content: Buffer.from('Subject: x\r\n\r\nbody\r\n') }, // 20 bytes
    now: 1_000,
  });
  t.equal(queueId, 'Q1');
  const entry = findQueueEntry(db, queueId)!;
  t.equal(entry.kind, 'relay');
  t.equal(entry.status, 'queued');
  t.equal(entry.nextAttemptAt, 1_000, 'due at once');
  t.equal(entry.attempts, 0);
  t.equal(entry.size, 20);
  t.same(
    entry.recipients.map((r) => [r.address, r.domain, r.status, r.notify]),
    [
      ['a@ch-autre.mssante.fr', 'ch-autre.mssante.fr', 'pending', 'SUCCESS,FAILURE'],
      ['b@Clinique.MSSante.fr', 'clinique.mssante.fr', 'pending', null],
    ],
  );
  t.equal(bodyRefcount(db, entry.bodyHash), 1);

  // Same bytes again (a forward of the same message): one body, two references.
  const second = enqueueOutbound(db, {
    kind: 'forward',
    queueId: 'Q2',
    mailFrom: '',
    recipients: [{ address: 'c@ch-autre.mssante.fr' }],
    body: { hash: entry.bodyHash },
  });
  t.equal(findQueueEntry(db, second)!.bodyHash, entry.bodyHash);
  t.equal(bodyRefcount(db, entry.bodyHash), 2);
});

t.test('enqueueOutbound leaves nothing behind when it fails', async (t) => {
  const db = freshDb(t);
  t.throws(
    () => enqueueOutbound(db, { queueId: 'M', kind: 'relay', mailFrom: '', recipients: [{ address: 'x@y.fr' }], body: { hash: 'missing' } }),
    /no stored body/,
  );
  t.throws(
    () =>
      enqueueOutbound(db, {
        kind: 'relay',
        mailFrom: '',
        queueId: 'DUP',
        recipients: [{ address: 'x@y.fr' }, { address: 'x@y.fr' }],
        body: { content: Buffer.from('x') },
      }),
    /UNIQUE|PRIMARY KEY/,
  );
  t.equal((db.prepare('SELECT COUNT(*) AS n FROM outbound_queue').get() as { n: number }).n, 0);
  t.equal((db.prepare('SELECT COUNT(*) AS n FROM bodies').get() as { n: number }).n, 0, 'body insert rolled back');
});

t.test('list shows queued entries only, next due first; retry makes one due now', async (t) => {
  const db = freshDb(t);
  const later = enqueueOutbound(db, {
    kind: 'relay',
    queueId: 'Q3',
    mailFrom: 'a@exemple.mssante.fr',
    recipients: [{ address: 'x@ch.mssante.fr' }],
    body: { content: Buffer.from('one') },
    now: 1_000,
    nextAttemptAt: 90_000,
  });
  const sooner = enqueueOutbound(db, {
    kind: 'dsn',
    queueId: 'Q4',
    mailFrom: '',
    recipients: [{ address: 'a@exemple.mssante.fr' }],
    body: { content: Buffer.from('two') },
    now: 2_000,
    nextAttemptAt: 5_000,
  });
  const done = enqueueOutbound(db, {
    kind: 'relay',
    queueId: 'Q5',
    mailFrom: 'a@exemple.mssante.fr',
    recipients: [{ address: 'y@ch.mssante.fr' }],
    body: { content: Buffer.from('three') },
  });
  db.prepare(`UPDATE outbound_queue SET status = 'done' WHERE queue_id = ?`).run(done);

  t.same(
    listQueued(db).map((e) => e.queueId),
    [sooner, later],
  );
  t.equal(retryQueueEntry(db, later, 3_000), 'due');
  t.equal(findQueueEntry(db, later)!.nextAttemptAt, 3_000);
  t.same(
    listQueued(db).map((e) => e.queueId),
    [later, sooner],
  );
  t.equal(retryQueueEntry(db, done), 'done', 'a finished entry is not revived');
  t.equal(retryQueueEntry(db, 'NOPE'), 'unknown');
  t.equal(findQueueEntry(db, 'NOPE'), undefined);
});

t.test('delete removes the entry and frees its body only when nothing else refers to it', async (t) => {
  const db = freshDb(t);
  const content = Buffer.from('shared body');
  const first = enqueueOutbound(db, { queueId: 'A1', kind: 'relay', mailFrom: '', recipients: [{ address: 'x@a.fr' }], body: { content } });
  const second = enqueueOutbound(db, { queueId: 'A2', kind: 'forward', mailFrom: '', recipients: [{ address: 'y@b.fr' }], body: { content } });
  const hash = findQueueEntry(db, first)!.bodyHash;
  t.equal(bodyRefcount(db, hash), 2);

  t.equal(deleteQueueEntry(db, first), true);
  t.equal(findQueueEntry(db, first), undefined);
  t.equal(
    (db.prepare('SELECT COUNT(*) AS n FROM outbound_recipients').get() as { n: number }).n,
    1,
    'recipients of the deleted entry went with it',
  );
  t.equal(bodyRefcount(db, hash), 1, 'body still held by the other entry');

  t.equal(deleteQueueEntry(db, second), true);
  t.equal(bodyRefcount(db, hash), undefined, 'last reference gone: body deleted');
  t.equal(deleteQueueEntry(db, second), false, 'unknown id');
});
