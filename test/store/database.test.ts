import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { immediateTransaction, migrate, openDatabase } from '../../src/store/database';

function tempDir(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

t.test('migrations apply in order, are recorded, and never run twice', async (t) => {
  const db = openDatabase(tempDir('mssd-db-'));
  t.teardown(() => db.close());
  const first = migrate(db);
  t.ok(first.length >= 2, 'the shipped migrations apply');
  t.same(first.map((m) => m.version), [...first.map((m) => m.version)].sort((a, b) => a - b), 'in order');
  t.same(migrate(db), [], 'nothing to apply the second time');
  t.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  t.equal(db.pragma('synchronous', { simple: true }), 2, 'synchronous=FULL');
});

t.test('a failing migration leaves nothing half-applied', async (t) => {
  const dir = tempDir('mssd-mig-');
  writeFileSync(path.join(dir, '001_ok.sql'), 'CREATE TABLE a (x INTEGER);');
  writeFileSync(path.join(dir, '002_bad.sql'), 'CREATE TABLE b (x INTEGER); INSERT INTO nowhere VALUES (1);');
  const db = openDatabase(tempDir('mssd-db-'));
  t.teardown(() => db.close());
  t.throws(() => migrate(db, dir), /nowhere/);
  const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('a', 'b')`).pluck().all();
  t.same(tables, ['a'], '002 rolled back whole');
  t.same(db.prepare('SELECT version FROM schema_migrations').pluck().all(), [1]);
});

t.test('two migrations with the same number are refused', async (t) => {
  const dir = tempDir('mssd-mig-');
  writeFileSync(path.join(dir, '001_one.sql'), 'CREATE TABLE a (x INTEGER);');
  writeFileSync(path.join(dir, '001_other.sql'), 'CREATE TABLE b (x INTEGER);');
  const db = openDatabase(tempDir('mssd-db-'));
  t.teardown(() => db.close());
  t.throws(() => migrate(db, dir), /two migrations share number 1/);
});

t.test('immediateTransaction: all or nothing, and a nested failure undoes only its own part', async (t) => {
  const db = openDatabase(tempDir('mssd-tx-'));
  t.teardown(() => db.close());
  db.exec('CREATE TABLE notes (n INTEGER PRIMARY KEY)');
  const add = (n: number) => db.prepare('INSERT INTO notes (n) VALUES (?)').run(n);
  const stored = () => db.prepare('SELECT n FROM notes ORDER BY n').pluck().all();

  t.equal(immediateTransaction(db, () => (add(1), 'done')), 'done', 'returns what the work returns');
  t.throws(() => immediateTransaction(db, () => { add(2); throw new Error('refused'); }), /refused/, 'the failure reaches the caller');
  t.same(stored(), [1], 'a failed transaction leaves nothing behind');
  t.notOk(db.inTransaction, 'and is closed');

  immediateTransaction(db, () => {
    add(3);
    t.throws(() => immediateTransaction(db, () => { add(4); throw new Error('inner'); }), /inner/);
    immediateTransaction(db, () => add(5));
  });
  t.same(stored(), [1, 3, 5], 'the outer work and the nested work that succeeded are kept');
  t.throws(() => immediateTransaction(db, () => { immediateTransaction(db, () => add(6)); throw new Error('outer'); }), /outer/);
  t.same(stored(), [1, 3, 5], 'an outer failure undoes its nested work too');

  // A deferred foreign key is checked at COMMIT, which then fails with the transaction still open.
  db.exec('CREATE TABLE links (n INTEGER REFERENCES notes (n) DEFERRABLE INITIALLY DEFERRED)');
  t.throws(() => immediateTransaction(db, () => { add(7); db.prepare('INSERT INTO links (n) VALUES (99)').run(); }), /FOREIGN KEY/);
  t.notOk(db.inTransaction, 'a COMMIT that fails leaves no transaction open');
  t.same(stored(), [1, 3, 5], 'and nothing of its work');
});
