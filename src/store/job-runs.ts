// Scheduled and manual job runs (table job_runs): one row per run, which is also the lock that keeps
// a job from overlapping itself — in this process, in another daemon thread of work, or in an
// operator's `mssd purge` started while the daemon runs.
//
// A run under way has outcome 'running' and, in `counts`, its holder ("host:pid"), the time of its
// last heartbeat and its progress so far; a finished run has its final outcome, counts, error and
// finished_at. A run whose holder died (SIGKILL, power loss) leaves a 'running' row behind: it is
// taken over — marked 'abandoned' — once its heartbeat is older than the staleness bound, or at
// once when its holder is a process of this host that no longer exists.
import { cachedStatement, type Db } from './database';

export type JobOutcome = 'running' | 'ok' | 'failed' | 'interrupted' | 'abandoned';

export interface JobRun {
  id: number;
  job: string;
  startedAt: number;
  finishedAt: number | null;
  outcome: JobOutcome;
  counts: Record<string, unknown> | null;
  error: string | null;
}

/** What a 'running' row keeps in `counts`. */
export interface RunningState {
  holder: string;
  heartbeatAt: number;
  progress?: Record<string, unknown>;
}

interface JobRunRow {
  id: number;
  job: string;
  started_at: number;
  finished_at: number | null;
  outcome: string | null;
  counts: string | null;
  error: string | null;
}

function parseCounts(text: string | null): Record<string, unknown> | null {
  if (text === null) return null;
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function toJobRun(row: JobRunRow): JobRun {
  return {
    id: row.id,
    job: row.job,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    outcome: (row.outcome ?? 'running') as JobOutcome,
    counts: parseCounts(row.counts),
    error: row.error,
  };
}

/** The holder and heartbeat of a 'running' row (null when the row is not one). */
export function runningState(run: JobRun): RunningState | null {
  if (run.outcome !== 'running' || !run.counts) return null;
  const { holder, heartbeatAt, progress } = run.counts as Partial<RunningState>;
  if (typeof holder !== 'string' || typeof heartbeatAt !== 'number') return null;
  return { holder, heartbeatAt, progress };
}

export interface ClaimOptions {
  /** "host:pid" of the claiming process. */
  holder: string;
  now: number;
  /** A 'running' row whose heartbeat is older than this is taken over. */
  staleAfterMs: number;
  /** Whether the holder of a 'running' row still exists (false: take over at once). */
  isHolderAlive: (holder: string) => boolean;
  /** Progress counts to start with (e.g. the trigger). */
  progress?: Record<string, unknown>;
}

export type ClaimResult = { claimed: true; runId: number; tookOver: JobRun[] } | { claimed: false; busy: JobRun };

/**
 * Starts a run of `job` unless another run of it is under way: one IMMEDIATE transaction reads the
 * job's unfinished rows, marks those whose holder is gone 'abandoned', and inserts the new row.
 */
export function claimJobRun(db: Db, job: string, options: ClaimOptions): ClaimResult {
  return db
    .transaction((): ClaimResult => {
      const open = (
        db
          .prepare(`SELECT * FROM job_runs WHERE job = ? AND finished_at IS NULL ORDER BY id`)
          .all(job) as JobRunRow[]
      ).map(toJobRun);
      const tookOver: JobRun[] = [];
      for (const run of open) {
        const state = runningState(run);
        const stale =
          state === null ||
          state.heartbeatAt < options.now - options.staleAfterMs ||
          !options.isHolderAlive(state.holder);
        if (!stale) return { claimed: false, busy: run };
        tookOver.push(run);
      }
      const abandon = db.prepare(
        `UPDATE job_runs SET outcome = 'abandoned', finished_at = ?, error = ? WHERE id = ?`,
      );
      for (const run of tookOver) {
        const state = runningState(run);
        abandon.run(options.now, `run of ${state?.holder ?? 'an unknown process'} stopped without finishing`, run.id);
      }
      const state: RunningState = { holder: options.holder, heartbeatAt: options.now, progress: options.progress };
      const runId = Number(
        db
          .prepare(`INSERT INTO job_runs (job, started_at, outcome, counts) VALUES (?, ?, 'running', ?)`)
          .run(job, options.now, JSON.stringify(state)).lastInsertRowid,
      );
      return { claimed: true, runId, tookOver };
    })
    .immediate();
}

/** Records that a run is alive, with its progress so far. */
export function heartbeatJobRun(db: Db, runId: number, holder: string, now: number, progress?: Record<string, unknown>): void {
  const state: RunningState = { holder, heartbeatAt: now, progress };
  db.prepare(`UPDATE job_runs SET counts = ? WHERE id = ? AND outcome = 'running'`).run(JSON.stringify(state), runId);
}

/** Closes a run with its outcome, final counts and error (null when it succeeded). */
export function finishJobRun(
  db: Db,
  runId: number,
  outcome: Exclude<JobOutcome, 'running' | 'abandoned'>,
  now: number,
  counts: Record<string, unknown> | null,
  error: string | null,
): void {
  db.prepare(`UPDATE job_runs SET outcome = ?, finished_at = ?, counts = ?, error = ? WHERE id = ?`).run(
    outcome,
    now,
    counts === null ? null : JSON.stringify(counts),
    error,
    runId,
  );
}

/** The most recent runs, newest first; of one job when `job` is given. */
export function recentJobRuns(db: Db, options: { job?: string; limit?: number } = {}): JobRun[] {
  const limit = options.limit ?? 20;
  const rows = (
    options.job === undefined
      ? db.prepare(`SELECT * FROM job_runs ORDER BY id DESC LIMIT ?`).all(limit)
      : db.prepare(`SELECT * FROM job_runs WHERE job = ? ORDER BY id DESC LIMIT ?`).all(options.job, limit)
  ) as JobRunRow[];
  return rows.map(toJobRun);
}

// For GET /metrics and the catch-up at start (src/jobs/scheduler.ts).
/** started_at of each job's last successful run (job_runs), by job name. */
export function lastJobSuccesses(db: Db): Map<string, number> {
  const rows = cachedStatement(db, `SELECT job, MAX(started_at) AS at FROM job_runs WHERE outcome = 'ok' GROUP BY job`).all() as Array<{
    job: string;
    at: number;
  }>;
  return new Map(rows.map((row) => [row.job, row.at]));
}
