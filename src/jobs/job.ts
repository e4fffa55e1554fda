// A job and one run of it. The same runner serves the scheduler (src/jobs/scheduler.ts) and the
// operator CLI, so a job behaves the same whoever starts it:
//
//   - it never overlaps itself: the run is claimed in job_runs first (src/store/job-runs.ts), and a
//     run of the same job already under way — in this process or another one — makes the new one
//     step aside ('skipped');
//   - each run records its start, counts, duration and outcome in job_runs and as pino lines;
//   - a run is told to stop through an AbortSignal (daemon shutdown) and stops at its next safe
//     point; what it committed stays, the next run finishes the work ('interrupted');
//   - a failure is recorded and returned, never thrown: the scheduler simply runs the job again at
//     its next tick.
import os from 'node:os';
import type { Db } from '../store/database';
import { claimJobRun, finishJobRun, heartbeatJobRun, runningState, type JobRun } from '../store/job-runs';
import type { Logger } from '../util/log';

/** Who started a run (recorded in its counts and log lines). */
export type JobTrigger = 'schedule' | 'cli' | 'sighup' | 'manual' | 'catch-up';

export interface JobContext {
  /** The instant the run takes as now (the clock, or `mssd purge --now`). */
  now: Date;
  trigger: JobTrigger;
  /** Aborted when the daemon stops: reach a safe point and throw (see `throwIfAborted`). */
  signal: AbortSignal;
  /** Child logger carrying the job name and run id. */
  log: Logger;
  /** Reports progress; it is saved with the next heartbeat (visible in job_runs while running). */
  progress(counts: Record<string, unknown>): void;
}

export interface Job<R = unknown> {
  /** Name in job_runs, logs and `scheduler.trigger(name)`. */
  readonly name: string;
  /** Cron expression (node-cron syntax, 5 or 6 fields) from the config. */
  readonly schedule: string;
  run(ctx: JobContext): Promise<R>;
  /** What job_runs.counts keeps of a result (default: the result when it is a plain object). */
  counts?(result: R): Record<string, unknown>;
}

export type RunOutcome<R> =
  | { status: 'ok'; runId: number; result: R; durationMs: number }
  | { status: 'failed' | 'interrupted'; runId: number; error: Error; durationMs: number }
  /** Not run: the same job is under way (`busy` is its job_runs row when another process holds
   * it), or the scheduler is stopping. */
  | { status: 'skipped'; reason: string; busy?: JobRun };

export interface RunOptions {
  db: Db;
  log: Logger;
  trigger: JobTrigger;
  /** Wall clock for job_runs and the lock (injectable in tests). */
  clock?: () => Date;
  /** The instant the job takes as now; defaults to the clock. */
  now?: Date;
  signal?: AbortSignal;
  /** Default "host:pid" of this process. */
  holder?: string;
  /** A run without heartbeat for this long is considered dead (default 2 minutes). */
  staleAfterMs?: number;
  /** How often a running job refreshes its heartbeat (default 15 s). */
  heartbeatMs?: number;
  isHolderAlive?: (holder: string) => boolean;
}

/** Thrown at a safe point once the run's signal is aborted. */
export class JobInterrupted extends Error {
  override name = 'JobInterrupted';
  constructor(message = 'interrupted: the daemon is stopping; the next run finishes the work') {
    super(message);
  }
}

export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new JobInterrupted();
}

export const thisHolder = `${os.hostname()}:${process.pid}`;

/** A holder on this host is alive while its pid exists; one elsewhere is judged by its heartbeat. */
export function holderAlive(holder: string): boolean {
  const colon = holder.lastIndexOf(':');
  const host = holder.slice(0, colon);
  const pid = Number(holder.slice(colon + 1));
  if (host !== os.hostname() || !Number.isInteger(pid) || pid <= 0) return true;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function defaultCounts(result: unknown): Record<string, unknown> {
  return typeof result === 'object' && result !== null && !Array.isArray(result) ? (result as Record<string, unknown>) : { result };
}

const errorText = (err: Error) => (err.message || err.name).split('\n')[0].slice(0, 2000);

/** Runs `job` once under its job_runs lock; see the file comment. Never throws for a job failure. */
export async function runJob<R>(job: Job<R>, options: RunOptions): Promise<RunOutcome<R>> {
  const clock = options.clock ?? (() => new Date());
  const holder = options.holder ?? thisHolder;
  const { db } = options;
  const started = clock();
  const claim = claimJobRun(db, job.name, {
    holder,
    now: started.getTime(),
    staleAfterMs: options.staleAfterMs ?? 120_000,
    isHolderAlive: options.isHolderAlive ?? holderAlive,
    progress: { trigger: options.trigger },
  });
  if (!claim.claimed) {
    const state = runningState(claim.busy);
    options.log.warn(
      { job: job.name, trigger: options.trigger, busyRunId: claim.busy.id, holder: state?.holder, since: new Date(claim.busy.startedAt).toISOString() },
      'job run skipped: the same job is still running',
    );
    return { status: 'skipped', reason: `already running (run ${claim.busy.id}, ${state?.holder ?? 'unknown holder'})`, busy: claim.busy };
  }
  const { runId } = claim;
  const log = options.log.child({ job: job.name, runId });
  for (const run of claim.tookOver) {
    log.warn({ abandonedRunId: run.id, startedAt: new Date(run.startedAt).toISOString() }, 'earlier run of this job never finished (process gone); taking over');
  }
  const now = options.now ?? started;
  log.info({ trigger: options.trigger, now: now.toISOString() }, 'job started');

  let progress: Record<string, unknown> = { trigger: options.trigger };
  const heartbeat = setInterval(() => {
    try {
      heartbeatJobRun(db, runId, holder, clock().getTime(), progress);
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'job heartbeat not recorded');
    }
  }, options.heartbeatMs ?? 15_000);
  heartbeat.unref();

  const signal = options.signal ?? new AbortController().signal;
  const startedMs = started.getTime();
  try {
    const result = await job.run({
      now,
      trigger: options.trigger,
      signal,
      log,
      progress: (counts) => {
        progress = { trigger: options.trigger, ...counts };
      },
    });
    clearInterval(heartbeat);
    const finished = clock().getTime();
    const counts = { trigger: options.trigger, ...(job.counts ? job.counts(result) : defaultCounts(result)) };
    finishJobRun(db, runId, 'ok', finished, counts, null);
    const durationMs = finished - startedMs;
    log.info({ outcome: 'ok', durationMs, counts }, 'job finished');
    return { status: 'ok', runId, result, durationMs };
  } catch (thrown) {
    clearInterval(heartbeat);
    const error = thrown instanceof Error ? thrown : new Error(String(thrown));
    const status = error instanceof JobInterrupted || signal.aborted ? 'interrupted' : 'failed';
    const finished = clock().getTime();
    const durationMs = finished - startedMs;
    try {
      finishJobRun(db, runId, status, finished, progress, errorText(error));
    } catch (err) {
      log.error({ err: (err as Error).message }, 'job outcome not recorded');
    }
    const line = { outcome: status, durationMs, counts: progress, err: errorText(error) };
    if (status === 'interrupted') log.warn(line, 'job interrupted; the next run finishes the work');
    else log.error(line, 'job failed; it runs again at its next scheduled time');
    return { status, runId, error, durationMs };
  }
}
