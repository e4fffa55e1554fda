// The group commit under every acknowledgement (R14): jobs queued in one turn share one durable
// transaction and learn of their success only after it; a failing job rolls its batch back, the
// others are rerun alone and committed, and only the failing one's promise rejects.
import t from 'tap';
import Database from 'better-sqlite3';
import { CommitBatcher } from '../../src/store/commit-batcher';
import type { Db } from '../../src/store/database';
import { freshDb } from '../jobs/fixtures';
import { commitCounter } from '../helpers/wal-commits';

function setup(t: Parameters<typeof freshDb>[0]) {
  const db = freshDb(t);
  db.exec('CREATE TABLE batch_test (n INTEGER PRIMARY KEY, label TEXT NOT NULL)');
  // Count the commits the batcher makes, as the file shows them.
  const transactions = commitCounter(db);
  /** What another connection (another process) reads from the file: only what was committed. */
  const reader = new Database(db.name, { readonly: true });
  t.teardown(() => reader.close());
  const committed = () => (reader.prepare('SELECT n, label FROM batch_test ORDER BY n').all() as Array<{ n: number; label: string }>).map((row) => `${row.n}:${row.label}`);
  return { db, batcher: new CommitBatcher(db), transactions, committed };
}

const insert = (n: number, label: string) => (db: Db) => {
  db.prepare('INSERT INTO batch_test (n, label) VALUES (?, ?)').run(n, label);
  return n;
};

t.test('jobs queued in one turn: one transaction, run in order, each resolved with its own result once committed', async (t) => {
  const { batcher, transactions, committed } = setup(t);
  const order: number[] = [];
  const job = (n: number) => (db: Db) => {
    order.push(n);
    t.ok(db.inTransaction, `job ${n} runs inside the transaction`);
    t.same(committed(), [], `job ${n}: nothing visible to others before the commit`);
    return insert(n, `job ${n}`)(db);
  };
  const promises = [1, 2, 3].map((n) => batcher.run(job(n)));
  t.equal(batcher.queued, 3, 'nothing runs in the turn that queued them');
  t.same(await Promise.all(promises), [1, 2, 3]);
  t.equal(transactions(), 1, 'one commit for the three');
  t.same(order, [1, 2, 3], 'in the order they were queued');
  t.same(committed(), ['1:job 1', '2:job 2', '3:job 3'], 'durable and visible when the promises resolve');
  t.equal(batcher.queued, 0);
});

t.test('a job queued in a later turn goes into a later transaction', async (t) => {
  const { batcher, transactions, committed } = setup(t);
  await batcher.run(insert(1, 'first'));
  await batcher.run(insert(2, 'second'));
  t.equal(transactions(), 2);
  t.same(committed(), ['1:first', '2:second']);
});

t.test('a failing job: the batch is rolled back, the others rerun alone and committed, only its promise rejects', async (t) => {
  const { batcher, transactions, committed } = setup(t);
  const runs = new Map<string, number>();
  const counted = (label: string, work: (db: Db) => number) => (db: Db) => {
    runs.set(label, (runs.get(label) ?? 0) + 1);
    return work(db);
  };
  const failing = (db: Db) => {
    insert(20, 'half-done')(db); // a write before the failure must not survive
    throw new Error('refused by the store');
  };
  const a = batcher.run(counted('a', insert(1, 'a')));
  const b = batcher.run(counted('b', failing));
  const c = batcher.run(counted('c', insert(3, 'c')));
  await t.rejects(b, /refused by the store/, 'the failing job rejects with its own error');
  t.equal(await a, 1, 'the job before it is committed');
  t.equal(await c, 3, 'the job after it is committed');
  t.same(committed(), ['1:a', '3:c'], "nothing of the failing job; the others exactly once (the batch's first run rolled back)");
  t.same(Object.fromEntries(runs), { a: 2, b: 2, c: 1 }, 'the batch ran up to the failure, then each job alone');
  t.equal(transactions(), 2, 'the batch rolled back, then a commit for each job that succeeded');
});

t.test('a job that fails alone rejects and leaves nothing', async (t) => {
  const { batcher, committed } = setup(t);
  await t.rejects(
    batcher.run((db) => {
      insert(1, 'x')(db);
      return insert(1, 'duplicate')(db);
    }),
    /UNIQUE constraint failed/,
  );
  t.same(committed(), []);
  t.equal(await batcher.run(insert(2, 'next')), 2, 'the batcher keeps working');
});

t.test('maxBatch caps a transaction; the rest follow in order in the next ones', async (t) => {
  const db = setup(t);
  const batcher = new CommitBatcher(db.db, 2);
  const before = db.transactions();
  const results = await Promise.all([1, 2, 3, 4, 5].map((n) => batcher.run(insert(n, `job ${n}`))));
  t.same(results, [1, 2, 3, 4, 5]);
  t.equal(db.transactions() - before, 3, '2 + 2 + 1');
  t.same(db.committed(), ['1:job 1', '2:job 2', '3:job 3', '4:job 4', '5:job 5']);
});
