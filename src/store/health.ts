// What the admin endpoints (src/web/admin/) read from the store: whether it still takes writes
// (GET /readyz) and the figures behind the gauges of GET /metrics. Every query here is a count
// over an index or a handful of rows, cheap enough for a scrape every few seconds.
import { cachedStatement, type Db } from './database';

/**
 * Proves the store takes a write: one tiny durable transaction on the daemon's own connection
 * (table health_probe, migration 007). Throws SQLite's error (read-only, disk full, I/O error,
 * locked) when it does not.
 */
export function probeWrite(db: Db, now = Date.now()): void {
  cachedStatement(db, 'INSERT INTO health_probe (id, at) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET at = excluded.at').run(now);
}

export interface QueueStats {
  /** Entries waiting for (another) relay attempt. */
  messages: number;
  /** created_at of the oldest waiting entry (null when the queue is empty). */
  oldestCreatedAt: number | null;
}

export function queueStats(db: Db): QueueStats {
  const row = cachedStatement(db, `SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM outbound_queue WHERE status = 'queued'`).get() as {
    n: number;
    oldest: number | null;
  };
  return { messages: row.n, oldestCreatedAt: row.oldest };
}

/** Notices (R9) not yet accepted by the notification relay. */
export function pendingNoticeCount(db: Db): number {
  return (cachedStatement(db, 'SELECT COUNT(*) AS n FROM notices WHERE sent_at IS NULL').get() as { n: number }).n;
}

/** started_at of each job's last successful run (job_runs), by job name. */
export function lastJobSuccesses(db: Db): Map<string, number> {
  const rows = cachedStatement(db, `SELECT job, MAX(started_at) AS at FROM job_runs WHERE outcome = 'ok' GROUP BY job`).all() as Array<{
    job: string;
    at: number;
  }>;
  return new Map(rows.map((row) => [row.job, row.at]));
}

/** When the store was created (the first migration), the baseline of jobs that never ran. */
export function storeCreatedAt(db: Db): number | null {
  const row = cachedStatement(db, 'SELECT MIN(applied_at) AS at FROM schema_migrations').get() as { at: number | null };
  return row.at;
}
