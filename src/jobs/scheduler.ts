// The daemon's scheduler: each job of the registry (src/jobs/registry.ts) runs on its cron
// expression (`schedules.*`) in `schedules.timezone`, through the runner of src/jobs/job.ts (no
// overlap, job_runs rows, pino lines, failures recorded and retried at the next tick). `trigger`
// runs a job at once (SIGHUP for the allowlist); `stop` lets running jobs reach a safe point.
//
// node-cron is behind the `CronFactory` seam so that tests tick jobs by hand, with a clock of
// their choosing, instead of waiting for real cron times.
import { createTask } from 'node-cron';
import type { Db } from '../store/database';
import type { Logger } from '../util/log';
import { missedTick } from './cron-times';
import { runJob, type Job, type JobTrigger, type RunOptions, type RunOutcome } from './job';

export interface CronHandle {
  stop(): void;
}

/** Calls `onTick` at each time `expression` matches in `timezone`. */
export type CronFactory = (expression: string, timezone: string, onTick: () => void, name: string) => CronHandle;

/** node-cron v4, with its own log lines sent to pino (stdout carries JSON lines only). */
export function nodeCronFactory(log: Logger): CronFactory {
  const cronLog = log.child({ component: 'node-cron' });
  const logger = {
    info: (message: string) => cronLog.debug(message),
    warn: (message: string) => cronLog.warn(message),
    error: (message: string | Error, err?: Error) => cronLog.error({ err: err?.message }, String(message)),
    debug: (message: string | Error) => cronLog.debug(String(message)),
  };
  return (expression, timezone, onTick, name) => {
    const task = createTask(expression, () => onTick(), { timezone, name, logger, noOverlap: false });
    void task.start();
    return {
      stop: () => {
        void task.stop();
        void task.destroy();
      },
    };
  };
}

export interface SchedulerOptions {
  db: Db;
  log: Logger;
  jobs: Job[];
  timezone: string;
  cron?: CronFactory;
  /** Wall clock (tests set it); jobs take it as their "now". */
  clock?: () => Date;
  /** Told of every run's outcome (the daemon's metrics). */
  onRunFinished?: (job: string, outcome: RunOutcome<unknown>) => void;
  /** Passed on to the runner (lock staleness, heartbeat period, holder liveness). */
  runner?: Pick<RunOptions, 'staleAfterMs' | 'heartbeatMs' | 'holder' | 'isHolderAlive'>;
}

export class Scheduler {
  private readonly jobs = new Map<string, Job>();
  private readonly handles: CronHandle[] = [];
  /** Runs under way in this process, by job name. */
  private readonly running = new Map<string, Promise<RunOutcome<unknown>>>();
  private readonly abort = new AbortController();
  private stopped = false;

  constructor(private readonly options: SchedulerOptions) {
    for (const job of options.jobs) {
      if (this.jobs.has(job.name)) throw new Error(`two jobs named ${job.name}`);
      this.jobs.set(job.name, job);
    }
  }

  /** Registers every job with cron. */
  start(): void {
    const cron = this.options.cron ?? nodeCronFactory(this.options.log);
    for (const job of this.jobs.values()) {
      this.handles.push(cron(job.schedule, this.options.timezone, () => void this.trigger(job.name, 'schedule'), job.name));
    }
    this.options.log.info(
      { timezone: this.options.timezone, jobs: Object.fromEntries([...this.jobs.values()].map((job) => [job.name, job.schedule])) },
      'scheduler started',
    );
  }

  /**
   * At start: a job whose last successful run — or, for a job that never ran, the creation of the
   * store — is older than its schedule's latest tick runs once now, one after the other in
   * registry order (the purge first). A daemon that was stopped at 03:30 thus still purges that day (R10). Returns the
   * names of the jobs owed.
   */
  catchUp(lastSuccess: ReadonlyMap<string, number>, storeCreatedAt: number | null): string[] {
    const now = (this.options.clock ?? (() => new Date()))();
    const started: string[] = [];
    for (const job of this.jobs.values()) {
      const since = lastSuccess.get(job.name) ?? storeCreatedAt;
      if (since === null || since === undefined) continue;
      const tick = missedTick(job.schedule, this.options.timezone, new Date(since), now);
      if (!tick) continue;
      this.options.log.info(
        { job: job.name, lastSuccess: lastSuccess.has(job.name) ? new Date(since).toISOString() : null, missedTick: tick.toISOString() },
        'job missed its scheduled time while the daemon was stopped (or failed then); running it now',
      );
      started.push(job.name);
    }
    // One after the other, so the purge has the store to itself first.
    void (async () => {
      for (const name of started) await this.trigger(name, 'catch-up');
    })();
    return started;
  }

  /** Names of the registered jobs. */
  jobNames(): string[] {
    return [...this.jobs.keys()];
  }

  /** Whether a run of `name` is under way in this process. */
  isRunning(name: string): boolean {
    return this.running.has(name);
  }

  /**
   * Runs a job now. A run of the same job still under way in this process makes this one step
   * aside (status 'skipped'); one in another process is detected by the runner's lock.
   */
  trigger(name: string, trigger: JobTrigger = 'manual'): Promise<RunOutcome<unknown>> {
    const job = this.jobs.get(name);
    if (!job) return Promise.reject(new Error(`unknown job ${name}`));
    const underway = this.running.get(name);
    if (this.stopped || underway) {
      this.options.log.warn(
        { job: name, trigger },
        this.stopped ? 'job run skipped: the scheduler is stopping' : 'job run skipped: the same job is still running',
      );
      return Promise.resolve({ status: 'skipped', reason: this.stopped ? 'stopping' : 'already running in this process' });
    }
    const run = runJob(job, {
      db: this.options.db,
      log: this.options.log,
      trigger,
      clock: this.options.clock,
      signal: this.abort.signal,
      ...this.options.runner,
    })
      .catch((err: unknown): RunOutcome<unknown> => {
        // runJob records failures itself; this is the store failing under it (e.g. disk gone).
        this.options.log.error({ job: name, err: (err as Error).message }, 'job run could not be recorded');
        return { status: 'failed', runId: 0, error: err as Error, durationMs: 0 };
      })
      .then((outcome) => {
        this.options.onRunFinished?.(name, outcome);
        return outcome;
      })
      .finally(() => this.running.delete(name));
    this.running.set(name, run);
    return run;
  }

  /**
   * Stops the cron ticks, asks running jobs to stop at their next safe point, and waits for them
   * (at most `graceMs`; a job still running then is left to the process exit, its committed work
   * stays and its job_runs row is taken over by the next run).
   */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const handle of this.handles.splice(0)) handle.stop();
    if (this.running.size === 0) return;
    this.options.log.info({ jobs: [...this.running.keys()] }, 'waiting for running jobs to reach a safe point');
    this.abort.abort();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), graceMs);
    });
    const outcome = await Promise.race([Promise.allSettled([...this.running.values()]), timeout]);
    clearTimeout(timer);
    if (outcome === 'timeout') this.options.log.warn({ jobs: [...this.running.keys()] }, 'jobs still running at the end of the grace period');
  }
}
