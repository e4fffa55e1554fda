// Fixtures for the job tests: a migrated store in a temporary directory, a config for it, a
// logger that keeps its lines, and messages inserted the way the store appends them.
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config/load';
import type { Config } from '../../src/config/schema';
import { migrate, openDatabase, type Db } from '../../src/store/database';
import { createLogger, type Logger } from '../../src/util/log';

export const DAY = 86_400_000;

export function tempDir(prefix = 'mssd-jobs-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function freshDb(t: { teardown(fn: () => void): void }, dir = tempDir()): Db {
  const db = openDatabase(dir);
  migrate(db);
  t.teardown(() => db.close());
  return db;
}

/** The embedded defaults with a data directory of our own and `overrides` merged on top. */
export function testConfig(dataDir: string, overrides: (config: Config) => void = () => undefined): Config {
  const config = structuredClone(loadConfig());
  config.dataDir = dataDir;
  config.directory.outputDir = path.join(dataDir, 'directory');
  overrides(config);
  return config;
}

/** A pino logger whose JSON lines are kept in `lines`. */
export function memoryLogger(): { log: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { log: createLogger('debug', stream), lines };
}

export function addAccount(db: Db, type: string, login: string): number {
  return Number(
    db.prepare(`INSERT INTO accounts (type, status, login, created_at, updated_at) VALUES (?, 'active', ?, 0, 0)`).run(type, login).lastInsertRowid,
  );
}

let uidValidity = 1000;
export function addMailbox(db: Db, accountId: number, name: string, specialUse: string | null = null): number {
  return Number(
    db
      .prepare(`INSERT INTO mailboxes (account_id, name, special_use, uidvalidity, created_at) VALUES (?, ?, ?, ?, 0)`)
      .run(accountId, name, specialUse, uidValidity++).lastInsertRowid,
  );
}

/** Appends a message as the store does (next UID and MODSEQ, one more body reference). */
export function addMessage(db: Db, mailboxId: number, arrivedAt: number, bodyText = `body ${mailboxId} ${arrivedAt}`): number {
  const hash = createHash('sha256').update(bodyText).digest('hex');
  db.prepare(
    `INSERT INTO bodies (hash, size, refcount, content, created_at) VALUES (?, ?, 1, ?, 0)
     ON CONFLICT(hash) DO UPDATE SET refcount = refcount + 1`,
  ).run(hash, bodyText.length, Buffer.from(bodyText));
  const slot = db
    .prepare(
      `UPDATE mailboxes SET uidnext = uidnext + 1, highestmodseq = highestmodseq + 1 WHERE id = ?
       RETURNING uidnext - 1 AS uid, highestmodseq AS modseq`,
    )
    .get(mailboxId) as { uid: number; modseq: number };
  db.prepare(
    `INSERT INTO messages (mailbox_id, uid, modseq, internal_date, arrived_at, size, body_hash, envelope, structure)
     VALUES (?, ?, ?, ?, ?, ?, ?, '{}', '{}')`,
  ).run(mailboxId, slot.uid, slot.modseq, arrivedAt, arrivedAt, bodyText.length, hash);
  return slot.uid;
}

export const count = (db: Db, sql: string, ...params: unknown[]): number => (db.prepare(sql).get(...params) as { n: number }).n;
