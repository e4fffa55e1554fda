// Online backup, verification and restore of the store (`mssd backup DEST`, `mssd verify`,
// `mssd restore SRC`). Message bodies live in the database (table bodies), so the database file
// is the whole store; a backup is one SQLite file plus a manifest.
//
// Consistency while the daemon serves: the copy is made with SQLite's online backup API
// (better-sqlite3's db.backup) from the CLI's own connection, inside one read transaction held
// from the first page to the last. In WAL mode a reader never blocks the daemon's writers, and a
// backup whose source connection holds its read transaction sees one snapshot: it is neither
// restarted by the daemon's commits (which a backup without it is, after every write) nor torn.
// The daemon pays nothing but disk bandwidth; the copy is paced (a pause after each step, flushes
// in pieces) so that it leaves the disk to the daemon's fsyncs (`BENCH_BACKUP=1 npm run
// bench:smtp` measures the effect).
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Db } from './database';

export const DATABASE_FILE = 'mssd.sqlite';
export const MANIFEST_FILE = 'mssd-backup.json';

export interface BackupPacing {
  /** Pages copied per step (4 KiB each). */
  pagesPerStep: number;
  /** Share of the time spent copying; after each step the copy pauses for the rest. */
  share: number;
  /**
   * The copy is flushed to disk every this many steps (0: only at the end). Flushing it in
   * pieces keeps the disk from holding a burst of dirty pages that the daemon's commit fsyncs
   * would queue behind (ext4 ties them into the same journal commit).
   */
  fsyncEverySteps: number;
}

/**
 * 1 MiB per step, copying a third of the time, flushed every 8 MiB. bench:smtp with
 * BENCH_BACKUP=1 (back-to-back backups of a 60–100 MiB store during ingest, loaded machine):
 * flushing every 8 steps gave the lowest worst DATA reply of 0, 1 and 8 (182–184 ms against
 * 253–340 ms), two runs each.
 */
export const BACKUP_PACING: BackupPacing = { pagesPerStep: 256, share: 1 / 3, fsyncEverySteps: 8 };

export interface BackupManifest {
  format: 'mssd-backup';
  /** The instant the copy is a snapshot of. */
  createdAt: string;
  /** Highest applied migration of the copied store. */
  schemaVersion: number;
  bytes: number;
  sha256: string;
  counts: { accounts: number; messages: number; bodies: number; queued: number };
}

/** Sleeps the CLI process without an event loop turn (the backup's steps are synchronous). */
function blockFor(ms: number): void {
  if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export function fileSha256(file: string): string {
  const hash = createHash('sha256');
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.allocUnsafe(1 << 20);
    let read: number;
    while ((read = readSync(fd, buffer, 0, buffer.length, null)) > 0) hash.update(buffer.subarray(0, read));
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

function storeCounts(db: Db): BackupManifest['counts'] {
  const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
  return {
    accounts: count('SELECT COUNT(*) AS n FROM accounts'),
    messages: count('SELECT COUNT(*) AS n FROM messages'),
    bodies: count('SELECT COUNT(*) AS n FROM bodies'),
    queued: count(`SELECT COUNT(*) AS n FROM outbound_queue WHERE status = 'queued'`),
  };
}

function schemaVersion(db: Db): number {
  return (db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null }).v ?? 0;
}

export class BackupRefused extends Error {
  override name = 'BackupRefused';
}

/**
 * Copies the store opened as `db` into the directory `dest` (created; it must not exist or be
 * empty): `mssd.sqlite` and `mssd-backup.json`. The copy is checked (integrity_check) before it
 * takes its final name, so a DEST with a manifest always holds a whole, readable store.
 */
export async function backupStore(db: Db, dest: string, pacing: BackupPacing = BACKUP_PACING): Promise<BackupManifest> {
  if (existsSync(dest)) {
    if (!statSync(dest).isDirectory()) throw new BackupRefused(`backup: ${dest} exists and is not a directory`);
    if (readdirSync(dest).length > 0) throw new BackupRefused(`backup: ${dest} is not empty; give a new directory (e.g. one per date)`);
  }
  mkdirSync(dest, { recursive: true });
  const partial = path.join(dest, `${DATABASE_FILE}.partial`);
  const final = path.join(dest, DATABASE_FILE);
  // One snapshot for the whole copy (see the file comment).
  db.exec('BEGIN');
  const snapshotAt = new Date();
  let counts: BackupManifest['counts'];
  let version: number;
  try {
    counts = storeCounts(db);
    version = schemaVersion(db);
    // The progress callback runs right after each step: now and then flush what the steps wrote
    // (see fsyncEverySteps), then pause so that copying takes `share` of the time.
    let stepStarted = performance.now();
    let fd: number | undefined;
    let steps = 0;
    try {
      await db.backup(partial, {
        progress: () => {
          steps++;
          if (pacing.fsyncEverySteps > 0 && steps % pacing.fsyncEverySteps === 0) {
            fd ??= openSync(partial, 'r');
            fsyncSync(fd);
          }
          const stepMs = performance.now() - stepStarted;
          blockFor(Math.min(1000, Math.round((stepMs * (1 - pacing.share)) / pacing.share)));
          stepStarted = performance.now();
          return pacing.pagesPerStep;
        },
      });
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  } catch (err) {
    rmSync(partial, { force: true });
    throw err;
  } finally {
    db.exec('COMMIT');
  }
  const copy = new Database(partial);
  try {
    const check = copy.pragma('integrity_check', { simple: true });
    if (check !== 'ok') throw new Error(`the copy failed its integrity check: ${String(check)}`);
    // A standalone file: no -wal/-shm beside it once closed.
    copy.pragma('journal_mode = DELETE');
  } catch (err) {
    copy.close();
    rmSync(partial, { force: true });
    throw err;
  }
  copy.close();
  renameSync(partial, final);
  const manifest: BackupManifest = {
    format: 'mssd-backup',
    createdAt: snapshotAt.toISOString(),
    schemaVersion: version,
    bytes: statSync(final).size,
    sha256: fileSha256(final),
    counts,
  };
  writeFileSync(path.join(dest, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

export interface VerifyProblem {
  kind: 'integrity' | 'body-hash' | 'body-size' | 'refcount' | 'missing-body';
  /** A body hash, a table name or SQLite's message; never content. */
  subject: string;
  detail: string;
}

export interface VerifyReport {
  ok: boolean;
  integrity: string;
  bodies: number;
  bodyBytes: number;
  messages: number;
  queueEntries: number;
  problems: VerifyProblem[];
}

/**
 * Checks a store: SQLite's integrity_check, every body's SHA-256 against its key and its size,
 * every body's reference count against the message rows and queue entries that hold it, and no
 * message or queue entry pointing at a missing body. Reads only; `onProgress` is called between
 * bodies (every 256) so that a long run can pace itself or report.
 */
export async function verifyStore(db: Db, onProgress?: (checked: number) => void | Promise<void>): Promise<VerifyReport> {
  const problems: VerifyProblem[] = [];
  const integrityRows = db.pragma('integrity_check') as Array<{ integrity_check: string }>;
  const integrity = integrityRows.map((row) => row.integrity_check).join('; ');
  if (integrity !== 'ok') problems.push({ kind: 'integrity', subject: 'database', detail: integrity.slice(0, 2000) });

  let bodies = 0;
  let bodyBytes = 0;
  // Hash by hash (rowid order), one row at a time: a big store is never held in memory.
  const nextBody = db.prepare('SELECT rowid, hash, size, length(content) AS length FROM bodies WHERE rowid > ? ORDER BY rowid LIMIT 1');
  const content = db.prepare('SELECT content FROM bodies WHERE rowid = ?').pluck();
  let after = 0;
  for (;;) {
    const row = nextBody.get(after) as { rowid: number; hash: string; size: number; length: number } | undefined;
    if (!row) break;
    after = row.rowid;
    bodies++;
    bodyBytes += row.length;
    const raw = content.get(row.rowid) as Buffer;
    const actual = createHash('sha256').update(raw).digest('hex');
    if (actual !== row.hash) problems.push({ kind: 'body-hash', subject: row.hash, detail: `content hashes to ${actual}` });
    if (row.length !== row.size) problems.push({ kind: 'body-size', subject: row.hash, detail: `size ${row.size} recorded, ${row.length} stored` });
    if (bodies % 256 === 0) await onProgress?.(bodies);
  }

  const refcounts = db
    .prepare(
      `SELECT b.hash, b.refcount,
              (SELECT COUNT(*) FROM messages m WHERE m.body_hash = b.hash) +
              (SELECT COUNT(*) FROM outbound_queue q WHERE q.body_hash = b.hash) AS actual
       FROM bodies b`,
    )
    .all() as Array<{ hash: string; refcount: number; actual: number }>;
  for (const row of refcounts) {
    if (row.refcount !== row.actual) {
      problems.push({ kind: 'refcount', subject: row.hash, detail: `reference count ${row.refcount}, ${row.actual} holders` });
    }
  }
  const missing = db
    .prepare(
      `SELECT 'messages' AS tbl, body_hash AS hash, COUNT(*) AS n FROM messages WHERE body_hash NOT IN (SELECT hash FROM bodies) GROUP BY body_hash
       UNION ALL
       SELECT 'outbound_queue', body_hash, COUNT(*) FROM outbound_queue WHERE body_hash NOT IN (SELECT hash FROM bodies) GROUP BY body_hash`,
    )
    .all() as Array<{ tbl: string; hash: string; n: number }>;
  for (const row of missing) problems.push({ kind: 'missing-body', subject: row.hash, detail: `${row.n} row(s) of ${row.tbl} point to it` });

  const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
  return {
    ok: problems.length === 0,
    integrity,
    bodies,
    bodyBytes,
    messages: count('SELECT COUNT(*) AS n FROM messages'),
    queueEntries: count('SELECT COUNT(*) AS n FROM outbound_queue'),
    problems,
  };
}

/** Files a data directory may hold and still count as empty for a restore. */
const IGNORABLE = new Set(['mssd.lock.sock', 'lost+found']);

export interface RestoreResult {
  database: string;
  manifest: BackupManifest | null;
  verify: VerifyReport;
}

/**
 * Restores a backup (a directory made by backupStore, or a bare SQLite file) into `dataDir`,
 * which must be empty: the copy is verified (verifyStore, and the manifest's SHA-256 when there
 * is one) before it takes its final name. The caller holds the data directory's instance lock.
 */
export async function restoreStore(src: string, dataDir: string): Promise<RestoreResult> {
  if (!existsSync(src)) throw new BackupRefused(`restore: ${src} does not exist`);
  let sourceFile = src;
  let manifest: BackupManifest | null = null;
  if (statSync(src).isDirectory()) {
    sourceFile = path.join(src, DATABASE_FILE);
    if (!existsSync(sourceFile)) throw new BackupRefused(`restore: ${src} holds no ${DATABASE_FILE} (not a backup made by mssd backup)`);
    const manifestFile = path.join(src, MANIFEST_FILE);
    if (existsSync(manifestFile)) manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as BackupManifest;
  }
  const leftovers = existsSync(dataDir) ? readdirSync(dataDir).filter((name) => !IGNORABLE.has(name)) : [];
  if (leftovers.length > 0) {
    throw new BackupRefused(`restore: the data directory ${dataDir} is not empty (${leftovers.slice(0, 3).join(', ')}${leftovers.length > 3 ? ', …' : ''}); restore only into an empty one`);
  }
  if (manifest) {
    const actual = fileSha256(sourceFile);
    if (actual !== manifest.sha256) throw new BackupRefused(`restore: ${sourceFile} does not match its manifest (SHA-256 ${actual}, expected ${manifest.sha256})`);
  }
  mkdirSync(dataDir, { recursive: true });
  const partial = path.join(dataDir, `${DATABASE_FILE}.partial`);
  const final = path.join(dataDir, DATABASE_FILE);
  const source = new Database(sourceFile, { readonly: true, fileMustExist: true });
  try {
    await source.backup(partial);
  } finally {
    source.close();
  }
  const copy = new Database(partial);
  let verify: VerifyReport;
  try {
    verify = await verifyStore(copy);
  } finally {
    copy.close();
  }
  if (!verify.ok) {
    rmSync(partial, { force: true });
    const first = verify.problems[0];
    throw new BackupRefused(`restore: the backup is damaged (${verify.problems.length} problem(s), first: ${first.kind} ${first.subject}: ${first.detail}); nothing was restored`);
  }
  renameSync(partial, final);
  return { database: final, manifest, verify };
}
