// Every scheduled job, in one list. To add a job:
//
//   1. write src/jobs/<name>.ts exporting a JobFactory, e.g.
//        export function digestJob(services: JobServices): Job<DigestReport> {
//          return { name: 'digest', schedule: services.config.schedules.digest, run: async (ctx) => {…} };
//        }
//      (`ctx.now`, `ctx.signal` for a safe stop, `ctx.progress`, `ctx.log`; return what
//      job_runs.counts should keep, or give `counts`);
//   2. add it to JOBS below — that one line is all the scheduler needs. A service the job uses
//      that the daemon does not pass yet goes into JobServices (src/jobs/services.ts), optional,
//      and is passed where src/daemon.ts calls createScheduler.
import type { Config } from '../config/schema';
import { allowlistJob } from './allowlist';
import { digestJob } from './digest';
import { directoryJob } from './directory';
import type { Job } from './job';
import { purgeJob } from './purge';
import { Scheduler, type SchedulerOptions } from './scheduler';
import type { JobFactory, JobServices } from './services';

export const JOBS: readonly JobFactory[] = [purgeJob, directoryJob, allowlistJob, digestJob];

export function createJobs(services: JobServices): Job[] {
  return JOBS.map((factory) => factory(services));
}

/** The daemon's scheduler over every job of the registry, in `schedules.timezone`. */
export function createScheduler(
  services: JobServices,
  options: Partial<Pick<SchedulerOptions, 'cron' | 'clock' | 'runner' | 'onRunFinished'>> = {},
): Scheduler {
  const config: Config = services.config;
  return new Scheduler({
    db: services.db,
    log: services.log,
    jobs: createJobs(services),
    timezone: config.schedules.timezone,
    ...options,
  });
}
