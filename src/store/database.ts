// Opening the SQLite store and applying the numbered migrations (migrations/NNN_name.sql), each in
// its own transaction, recorded in schema_migrations and never applied twice.
import Database from 'better-sqlite3';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../config/load';

export type Db = Database.Database;

/** How long a statement waits for another connection's write lock before SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 5000;

export const migrationsDir = path.join(projectRoot, 'migrations');

export interface OpenOptions {
  /**
   * The daemon's checkpoint thread copies the WAL back (src/store/checkpointer.ts): this
   * connection never runs a checkpoint inside one of its commits.
   */
  externalCheckpoints?: boolean;
}

/**
 * Opens `dataDir/mssd.sqlite` in WAL mode with synchronous=FULL: a commit is on disk before the
 * call returns, which is what lets SMTP answer 250 only for durable messages (R14).
 */
export function openDatabase(dataDir: string, options: OpenOptions = {}): Db {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(path.join(dataDir, 'mssd.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  // Savepoint journals in memory (https://sqlite.org/pragma.html#pragma_temp_store). Every job of
  // a group commit that calls immediateTransaction runs in a SAVEPOINT inside the batch; SQLite
  // keeps the original of each page it changes there in a sub-journal, held in memory up to
  // 64 KiB and then spilled to a temporary file that it creates in /var/tmp and deletes at once.
  // An IMAP APPEND or EXPUNGE touches 15 to 20 pages (the message row, eight indexes, the body
  // and its overflow pages, the mailbox row): under imaptest's command mix each IMAP worker
  // created, wrote and deleted 90 such files a second (strace), and the mix ran 10 % faster
  // without them. The memory is bounded by the pages one transaction changes, which the store
  // keeps small (group commits, the purge's batches of 500).
  db.pragma('temp_store = MEMORY');
  if (options.externalCheckpoints) db.pragma('wal_autocheckpoint = 0');
  return db;
}

/**
 * Runs `work` in an IMMEDIATE transaction whose commit does not wait for the disk
 * (synchronous=NORMAL for that commit only). Only for bookkeeping nobody was promised, such as
 * which session saw a message as \Recent: WAL keeps the commit atomic, a process crash loses
 * nothing, and the next durable commit flushes it too; a power cut may undo it, which is
 * harmless. Never for anything a client or peer is told is stored (R14).
 * When another connection holds the write lock, waits at most `waitMs` (0 by default: returns
 * `whenLocked` at once instead of sleeping on the event loop, such bookkeeping can wait for a
 * later turn).
 */
export function commitUnflushed<T>(db: Db, work: () => T, whenLocked: T, waitMs = 0): T {
  if (db.inTransaction) return immediateTransaction(db, work);
  // exec, not pragma(): no statement object to build for these settings at every call
  db.exec(`PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = ${waitMs}`);
  try {
    return immediateTransaction(db, work);
  } catch (err) {
    if ((err as { code?: string }).code?.startsWith('SQLITE_BUSY')) return whenLocked;
    throw err;
  } finally {
    db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}; PRAGMA synchronous = FULL`);
  }
}

/**
 * Runs `work` in a BEGIN IMMEDIATE transaction, or in a savepoint of the transaction already
 * open: what better-sqlite3's `db.transaction(work).immediate()` does, without the four wrapper
 * functions that call builds each time (7 µs a call, measured; the IMAP write path made three
 * per STORE). A failure rolls back to where `work` started and is thrown again.
 */
export function immediateTransaction<T>(db: Db, work: () => T): T {
  const nested = db.inTransaction;
  cachedStatement(db, nested ? 'SAVEPOINT mssd_work' : 'BEGIN IMMEDIATE').run();
  try {
    const result = work();
    // inside the try: a COMMIT that fails (a disk error) must not leave the transaction open
    cachedStatement(db, nested ? 'RELEASE mssd_work' : 'COMMIT').run();
    return result;
  } catch (err) {
    // SQLite may already have rolled the whole transaction back (e.g. SQLITE_FULL): nothing to undo then
    if (db.inTransaction) {
      if (nested) {
        cachedStatement(db, 'ROLLBACK TO mssd_work').run();
        cachedStatement(db, 'RELEASE mssd_work').run();
      } else {
        cachedStatement(db, 'ROLLBACK').run();
      }
    }
    throw err;
  }
}

export interface AppliedMigration {
  version: number;
  name: string;
}

/** Applies the migrations not yet recorded, in order; returns those it applied. */
export function migrate(db: Db, dir = migrationsDir): AppliedMigration[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at INTEGER NOT NULL
  )`);
  const done = new Set(
    db.prepare('SELECT version FROM schema_migrations').all().map((row) => (row as { version: number }).version),
  );
  const files = readdirSync(dir)
    .map((file) => /^(\d+)_([\w-]+)\.sql$/.exec(file))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => ({ version: Number(match[1]), name: match[2], file: path.join(dir, match[0]) }))
    .sort((a, b) => a.version - b.version);
  for (let i = 1; i < files.length; i++) {
    if (files[i].version === files[i - 1].version) {
      throw new Error(`two migrations share number ${files[i].version}: ${path.basename(files[i - 1].file)} and ${path.basename(files[i].file)}`);
    }
  }
  const applied: AppliedMigration[] = [];
  const recorded = db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?');
  for (const migration of files) {
    if (done.has(migration.version)) continue;
    const sql = readFileSync(migration.file, 'utf8');
    // IMMEDIATE, and checked again inside: two processes opening a new store at once (CLI
    // commands run side by side, or the CLI and the daemon) apply each migration once.
    const ran = db.transaction(() => {
      if (recorded.get(migration.version)) return false;
      db.exec(sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        migration.version,
        migration.name,
        Date.now(),
      );
      return true;
    }).immediate();
    if (ran) applied.push({ version: migration.version, name: migration.name });
  }
  return applied;
}

const statementCache = new WeakMap<Db, Map<string, Database.Statement>>();

/**
 * The prepared statement for `sql` on `db`, prepared once and reused: preparing costs more than
 * running a small statement, and the delivery path runs the same few statements all day.
 */
export function cachedStatement(db: Db, sql: string): Database.Statement {
  let statements = statementCache.get(db);
  if (!statements) {
    statements = new Map();
    statementCache.set(db, statements);
  }
  let statement = statements.get(sql);
  if (!statement) {
    statement = db.prepare(sql);
    statements.set(sql, statement);
  }
  return statement;
}

/** When the store was created (the first migration), the baseline of jobs that never ran. */
export function storeCreatedAt(db: Db): number | null {
  const row = cachedStatement(db, 'SELECT MIN(applied_at) AS at FROM schema_migrations').get() as { at: number | null };
  return row.at;
}
