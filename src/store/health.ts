// Whether the store still takes writes, for GET /readyz and the systemd watchdog (table
// health_probe, migration 007). The gauges of GET /metrics read their figures from the owners of
// the tables: queue.ts, notices.ts, job-runs.ts.
import { cachedStatement, type Db } from './database';

/**
 * Proves the store takes a write: one tiny durable transaction on the daemon's own connection.
 * Throws SQLite's error (read-only, disk full, I/O error, locked) when it does not.
 */
export function probeWrite(db: Db, now = Date.now()): void {
  cachedStatement(db, 'INSERT INTO health_probe (id, at) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET at = excluded.at').run(now);
}
