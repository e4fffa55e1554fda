// Savepoint journals stay in memory (src/store/database.ts openDatabase, PRAGMA temp_store): a
// group commit's job that changes many pages inside its SAVEPOINT writes no temporary file.
// SQLite's default spilled such journals past 64 KiB to files it creates and deletes at once;
// under imaptest's command mix each IMAP worker did so 90 times a second.
import t from 'tap';
import { mkdtempSync, watch } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { immediateTransaction, openDatabase, type Db } from '../../src/store/database';

// Where SQLite puts its temporary files: read when SQLite starts, at the first database opened
// below (this file runs in a process of its own).
const sqliteTemp = mkdtempSync(path.join(os.tmpdir(), 'mssd-sqlite-temp-'));
process.env.SQLITE_TMPDIR = sqliteTemp;

/** Rewrites 200 rows of 2 KiB (about 100 pages, 400 KiB of originals) in a savepoint, as a job of a group commit does. */
function rewriteInSavepoint(db: Db, round: number): void {
  immediateTransaction(db, () => {
    immediateTransaction(db, () => {
      db.prepare('UPDATE filler SET content = ?').run(Buffer.alloc(2048, round));
    });
  });
}

/** Files created or deleted in SQLite's temporary directory while `work` runs. */
async function tempFilesDuring(work: () => void): Promise<number> {
  let seen = 0;
  const watcher = watch(sqliteTemp, () => seen++);
  work();
  await new Promise((resolve) => setTimeout(resolve, 200)); // the watcher's events come asynchronously
  watcher.close();
  return seen;
}

t.test('a savepoint that changes many pages writes no temporary file', async (t) => {
  const db = openDatabase(mkdtempSync(path.join(os.tmpdir(), 'mssd-db-')));
  t.teardown(() => db.close());
  db.exec('CREATE TABLE filler (id INTEGER PRIMARY KEY, content BLOB NOT NULL)');
  const insert = db.prepare('INSERT INTO filler (content) VALUES (?)');
  db.transaction(() => {
    for (let i = 0; i < 200; i++) insert.run(Buffer.alloc(2048, 1));
  })();

  t.equal(await tempFilesDuring(() => rewriteInSavepoint(db, 2)), 0, 'the savepoint journal stays in memory');
  t.equal(db.prepare('SELECT COUNT(*) FROM filler WHERE content = ?').pluck().get(Buffer.alloc(2048, 2)), 200, 'and the rows are rewritten');

  // SQLite's default, to show what the watch would see: the same work spills to a file.
  db.pragma('temp_store = FILE');
  t.ok((await tempFilesDuring(() => rewriteInSavepoint(db, 3))) > 0, 'with temp_store=FILE the journal spills to a temporary file');
});
