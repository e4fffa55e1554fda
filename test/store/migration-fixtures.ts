// Stores as an older version left them, for the tests of a migration: the numbered migrations up
// to `last` applied, and one PER box (account 7) with its INBOX written the way those versions did.
import { copyFileSync, mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrate, migrationsDir, openDatabase, type Db } from '../../src/store/database';
import type { TapTest } from '../helpers/tap';

export const OLD_ACCOUNT = 7;

export function storeMigratedTo(t: TapTest, last: number): { db: Db; inbox: number } {
  const db = openDatabase(mkdtempSync(path.join(os.tmpdir(), `mssd-migration-${last + 1}-`)));
  t.teardown(() => db.close());
  const before = mkdtempSync(path.join(os.tmpdir(), `mssd-migrations-${last}-`));
  for (const file of readdirSync(migrationsDir)) {
    const version = /^(\d+)_/.exec(file);
    if (version && Number(version[1]) <= last) copyFileSync(path.join(migrationsDir, file), path.join(before, file));
  }
  migrate(db, before);
  const now = Date.now();
  db.prepare(`INSERT INTO accounts (id, type, status, login, created_at, updated_at) VALUES (?, 'PER', 'active', 'jean@x.mssante.fr', ?, ?)`).run(OLD_ACCOUNT, now, now);
  const inbox = Number(db.prepare(`INSERT INTO mailboxes (account_id, name, uidvalidity, created_at) VALUES (?, 'INBOX', 1, ?)`).run(OLD_ACCOUNT, now).lastInsertRowid);
  return { db, inbox };
}
