// WAL checkpoints run on the checkpoint thread (src/store/checkpointer.ts), never inside a commit
// of the daemon's connections: those open with wal_autocheckpoint=0, and the thread copies the
// WAL back into the database file by itself.
import { statSync } from 'node:fs';
import path from 'node:path';
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
