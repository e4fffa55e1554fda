// WAL checkpoints run on the checkpoint thread (src/store/checkpointer.ts), never inside a commit
// of the daemon's connections: those open with wal_autocheckpoint=0, and the thread copies the
// WAL back into the database file by itself.
import { statSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import t from 'tap';
import { startCheckpointer } from '../../src/store/checkpointer';
import { migrate, openDatabase } from '../../src/store/database';
import { memoryLogger, tempDir } from '../jobs/fixtures';

t.test('the daemon connection never checkpoints; the thread copies the WAL back', async (t) => {
  const dir = tempDir();
  const db = openDatabase(dir, { externalCheckpoints: true });
  t.teardown(() => db.close());
  migrate(db);
  t.equal(db.pragma('wal_autocheckpoint', { simple: true }), 0, 'no checkpoint inside this connection\'s commits');
  const file = path.join(dir, 'mssd.sqlite');
  db.exec('CREATE TABLE filler (n INTEGER PRIMARY KEY, data BLOB NOT NULL)');
  const insert = db.prepare('INSERT INTO filler (data) VALUES (?)');
  // 8 MB in 2 000 commits: with SQLite's default, some of these commits would have checkpointed
  for (let i = 0; i < 2000; i++) insert.run(Buffer.alloc(4096, i % 251));
  const before = statSync(file).size;
  t.ok(before < 1024 * 1024, `the database file did not receive the pages (${before} bytes)`);

  const { log, lines } = memoryLogger();
  const checkpointer = startCheckpointer(db.name, log, 20);
  for (let waited = 0; statSync(file).size < 8 * 1024 * 1024 && waited < 10_000; waited += 20) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  t.ok(statSync(file).size >= 8 * 1024 * 1024, 'the thread copied the WAL back into the database file');
  t.same(db.prepare('SELECT COUNT(*) AS n FROM filler').get(), { n: 2000 }, 'every row still there');
  await checkpointer.stop();
  t.same(lines.filter((line) => (line.level as number) >= 40), [], 'no warning or error on the way');
});

/** A thread that reads `file` in short transactions back to back until `stop` is set (IMAP sessions under load). */
function busyReader(file: string): { stop(): Promise<void>; reads(): number } {
  const flags = new Int32Array(new SharedArrayBuffer(8));
  const code = `
    const { workerData } = require('node:worker_threads');
    const Database = require(workerData.betterSqlite3);
    const db = new Database(workerData.file);
    const count = db.prepare('SELECT COUNT(*) AS n FROM filler');
    while (Atomics.load(workerData.flags, 0) === 0) {
      db.exec('BEGIN');
      count.get();
      db.exec('COMMIT');
      Atomics.add(workerData.flags, 1, 1);
    }
    db.close();
  `;
  const worker = new Worker(code, { eval: true, workerData: { file, flags, betterSqlite3: require.resolve('better-sqlite3') } });
  const ended = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    stop() {
      Atomics.store(flags, 0, 1);
      return ended;
    },
    reads: () => Atomics.load(flags, 1),
  };
}

t.test('under writes that never pause, with readers always on the WAL, the WAL starts over instead of growing', async (t) => {
  const dir = tempDir();
  const db = openDatabase(dir, { externalCheckpoints: true });
  t.teardown(() => db.close());
  migrate(db);
  db.exec('CREATE TABLE filler (n INTEGER PRIMARY KEY, data BLOB NOT NULL)');
  const insert = db.prepare('INSERT INTO filler (data) VALUES (?)');
  const reader = busyReader(db.name);
  const { log, lines } = memoryLogger();
  // restart from 200 frames (800 KB) on, checked every 20 ms
  const checkpointer = startCheckpointer(db.name, log, 20, 200);
  // 2 000 commits of a 4 KB row, one per millisecond, while another thread reads without pause:
  // a commit almost always begins while a reader still uses the WAL, so the WAL never starts
  // over by itself, and a PASSIVE checkpoint alone leaves it growing.
  for (let i = 0; i < 2000; i++) {
    insert.run(Buffer.alloc(4096, i % 251));
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await reader.stop();
  await checkpointer.stop();
  t.ok(reader.reads() > 1000, `the reader kept reading (${reader.reads()} transactions)`);
  const walBytes = statSync(`${db.name}-wal`).size;
  t.ok(walBytes < 4 * 1024 * 1024, `the WAL stayed small (${walBytes} bytes for 8 MB written)`);
  t.same(db.prepare('SELECT COUNT(*) AS n FROM filler').get(), { n: 2000 }, 'every row still there');
  t.same(lines.filter((line) => (line.level as number) >= 40), [], 'no warning or error on the way');
});
