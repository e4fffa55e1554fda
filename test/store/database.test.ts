import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrate, openDatabase } from '../../src/store/database';

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
