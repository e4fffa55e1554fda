// The group commit answers only once the WAL is on disk (R14), without stopping the event loop
// for the flush: the commit runs with synchronous=NORMAL, then an fdatasync of the WAL file on
// libuv's thread pool settles the jobs. These tests hold node:fs's fdatasync (test/helpers/flushes.ts) to see that order.
import t from 'tap';
import { CommitBatcher, UNFLUSHED_LIMIT_MS } from '../../src/store/commit-batcher';
import type { Db } from '../../src/store/database';
import { WalFlusher } from '../../src/store/wal-flush';
import { failFlushes, holdFlushes } from '../helpers/flushes';
import { freshDb } from '../jobs/fixtures';

const tick = () => new Promise((resolve) => setImmediate(resolve));

/** A store with a table to write to, and its group commit (closed at the end of the test). */
function storeWithBatcher(t: Parameters<typeof freshDb>[0]) {
  const db = freshDb(t);
  db.exec('CREATE TABLE flush_test (n INTEGER PRIMARY KEY)');
  const batcher = new CommitBatcher(db);
  t.teardown(() => batcher.close());
  return { db, batcher, insert: (n: number) => batcher.run((db: Db) => db.prepare('INSERT INTO flush_test (n) VALUES (?)').run(n).changes) };
}

t.test('a committed job settles only after an fdatasync of the WAL file has returned', async (t) => {
  const flushes = holdFlushes(t);
  const { db, batcher, insert } = storeWithBatcher(t);
  let settled = false;
  const job = insert(1).then((changes) => {
    settled = true;
    return changes;
  });
  for (let i = 0; i < 5; i++) await tick();
  t.equal(flushes.calls(), 1, 'one flush asked for after the commit');
  t.match(flushes.files[0], /mssd\.sqlite-wal$/, 'the flush is of the WAL file');
  t.same(db.prepare('SELECT COUNT(*) AS n FROM flush_test').get(), { n: 1 }, 'the row is committed (visible) meanwhile');
  t.equal(settled, false, 'but the job is not acknowledged before the flush returned');
  t.equal(batcher.queued, 1, 'and still counts as queued (the shutdown waits for it)');
  flushes.release();
  t.equal(await job, 1, 'it resolves once the flush returned');
  t.equal(batcher.queued, 0);
  t.equal(db.pragma('synchronous', { simple: true }), 2, 'the connection is back to synchronous=FULL for every other commit');
});

t.test('commits made while a flush runs share the next one', async (t) => {
  const flushes = holdFlushes(t);
  const { insert } = storeWithBatcher(t);
  const first = insert(1);
  for (let i = 0; i < 3; i++) await tick();
  // two more turns, two more commits, while the first flush is still held
  const second = insert(2);
  await tick();
  await tick();
  const third = insert(3);
  for (let i = 0; i < 3; i++) await tick();
  t.equal(flushes.calls(), 1, 'no second flush while the first runs');
  flushes.release();
  await first;
  for (let i = 0; i < 3; i++) await tick();
  t.equal(flushes.calls(), 2, 'one flush for both commits made meanwhile');
  flushes.release();
  t.same(await Promise.all([second, third]), [1, 1]);
});

t.test('a change that brings no message in settles at the commit; the flush follows within the limit', async (t) => {
  const flushes = holdFlushes(t);
  const { db, batcher } = storeWithBatcher(t);
  const change = (n: number) => batcher.runUnflushed((db: Db) => db.prepare('INSERT INTO flush_test (n) VALUES (?)').run(n).changes);
  t.equal(await change(1), 1, 'settled without any flush returning');
  t.equal(await change(2), 1);
  t.equal(flushes.calls(), 0, 'no flush asked for at the commit');
  t.same(db.prepare('SELECT COUNT(*) AS n FROM flush_test').get(), { n: 2 });
  await new Promise((resolve) => setTimeout(resolve, UNFLUSHED_LIMIT_MS + 200));
  t.equal(flushes.calls(), 1, `one flush for both, ${UNFLUSHED_LIMIT_MS} ms after the first`);
  flushes.release();
});

t.test('a stored message flushes the unflushed changes before it, with no extra flush later', async (t) => {
  const flushes = holdFlushes(t);
  const { batcher, insert } = storeWithBatcher(t);
  await batcher.runUnflushed((db: Db) => db.prepare('INSERT INTO flush_test (n) VALUES (1)').run().changes);
  const durable = insert(2);
  for (let i = 0; i < 3; i++) await tick();
  t.equal(flushes.calls(), 1, 'the durable job asks for its flush');
  flushes.release();
  t.equal(await durable, 1);
  await new Promise((resolve) => setTimeout(resolve, UNFLUSHED_LIMIT_MS + 200));
  t.equal(flushes.calls(), 1, 'the WAL is append-only: that flush covered the change before it');
});

t.test('in a commit holding a change and a message, only the message waits for the flush', async (t) => {
  const flushes = holdFlushes(t);
  const { batcher, insert } = storeWithBatcher(t);
  let messageSettled = false;
  const change = batcher.runUnflushed((db: Db) => db.prepare('INSERT INTO flush_test (n) VALUES (1)').run().changes);
  const message = insert(2).then(() => (messageSettled = true));
  t.equal(await change, 1, 'the change settles at the commit');
  for (let i = 0; i < 5; i++) await tick();
  t.equal(flushes.calls(), 1, 'the message asked for a flush');
  t.equal(messageSettled, false, 'the message is not acknowledged before it returned');
  flushes.release();
  await message;
});

t.test('a failed flush fails the jobs it was to acknowledge', async (t) => {
  failFlushes(t);
  const { batcher, insert } = storeWithBatcher(t);
  await t.rejects(insert(1), { code: 'EIO' });
  t.equal(batcher.queued, 0);
});

t.test('no flusher for a database that is not a WAL file (the commit then flushes by itself)', async (t) => {
  const Database = (await import('better-sqlite3')).default;
  const memory = new Database(':memory:');
  t.teardown(() => memory.close());
  t.equal(WalFlusher.forDatabase(memory), null);
  const batcher = new CommitBatcher(memory);
  memory.exec('CREATE TABLE flush_test (n INTEGER PRIMARY KEY)');
  t.equal(await batcher.run((db: Db) => db.prepare('INSERT INTO flush_test (n) VALUES (1)').run().changes), 1);
});
