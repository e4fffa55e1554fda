// Migration 011: subscriptions move from a column of the mailbox row to a table keyed by name;
// what a person had subscribed before the upgrade stays subscribed after it, nothing else.
import { copyFileSync, mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { migrate, migrationsDir, openDatabase } from '../../src/store/database';
import { subscribedNames } from '../../src/store/subscriptions';

t.test('existing subscriptions are carried over by name', async (t) => {
  const db = openDatabase(mkdtempSync(path.join(os.tmpdir(), 'mssd-migration-011-')));
  t.teardown(() => db.close());
  // The store as it was before this migration.
  const before = mkdtempSync(path.join(os.tmpdir(), 'mssd-migrations-010-'));
  for (const file of readdirSync(migrationsDir).filter((name) => /^0(0\d|10)_/.test(name))) {
    copyFileSync(path.join(migrationsDir, file), path.join(before, file));
  }
  migrate(db, before);
  const now = Date.now();
  db.prepare(
    `INSERT INTO accounts (id, type, status, login, created_at, updated_at) VALUES (7, 'PER', 'active', 'jean@x.mssante.fr', ?, ?)`,
  ).run(now, now);
  const insert = db.prepare(
    'INSERT INTO mailboxes (account_id, name, uidvalidity, subscribed, created_at) VALUES (7, ?, ?, ?, ?)',
  );
  insert.run('INBOX', 1, 1, now);
  insert.run('Patients', 2, 0, now);
  insert.run('Patients/Martin', 3, 1, now);

  t.same(migrate(db).map((applied) => applied.version).filter((version) => version === 11), [11]);
  t.same([...subscribedNames(db, 7)].sort(), ['INBOX', 'Patients/Martin']);
});
