// `mssd jobs list`: the recent runs of the scheduled jobs (job_runs), whoever started them — the
// daemon's schedule, SIGHUP, or an operator's `mssd purge` / `mssd directory publish`.
// `mssd jobs run JOB`: any job of the registry, now, under the same one-at-a-time rule.
import type { Command } from 'commander';
import { nextTick } from '../jobs/cron-times';
import { runJob, type Job } from '../jobs/job';
import { createJobs } from '../jobs/registry';
import { recentJobRuns, runningState, type JobRun } from '../store/job-runs';
import { createLogger } from '../util/log';
import { CliError, type CliContext } from './context';
import type { WithContext } from './with-context';

const iso = (ms: number) => new Date(ms).toISOString();

/** Runs a job from the CLI: refused with one line when the same job is under way elsewhere. */
export async function runJobByHand<R>(ctx: CliContext, job: Job<R>, now?: Date): Promise<{ result: R; runId: number }> {
  const outcome = await runJob(job, { db: ctx.db, log: createLogger('silent'), trigger: 'cli', now });
  if (outcome.status === 'skipped') {
    const since = outcome.busy ? ` since ${iso(outcome.busy.startedAt)}` : '';
    throw new CliError(`${job.name} is already running${since} (${outcome.reason}); try again when it has finished`);
  }
  if (outcome.status !== 'ok') {
    throw new CliError(`${job.name} ${outcome.status === 'interrupted' ? 'was interrupted' : 'failed'}: ${outcome.error.message}`);
  }
  return { result: outcome.result, runId: outcome.runId };
}


function runJson(run: JobRun) {
  const state = runningState(run);
  return {
    id: run.id,
    job: run.job,
    outcome: run.outcome,
    startedAt: iso(run.startedAt),
    finishedAt: run.finishedAt === null ? null : iso(run.finishedAt),
    durationMs: run.finishedAt === null ? null : run.finishedAt - run.startedAt,
    ...(state ? { holder: state.holder, heartbeatAt: iso(state.heartbeatAt), progress: state.progress ?? {} } : { counts: run.counts }),
    error: run.error,
  };
}

function summary(values: Record<string, unknown> | null | undefined): string {
  if (!values) return '';
  return Object.entries(values)
    .filter(([, value]) => value === null || ['string', 'number', 'boolean'].includes(typeof value))
    .map(([key, value]) => `${key}=${value}`)
    .join(' ');
}

function runText(run: JobRun): string {
  const state = runningState(run);
  const head = `#${run.id}  ${run.job}  ${run.outcome}  started ${iso(run.startedAt)}`;
  if (state) return `${head}  by ${state.holder}, alive at ${iso(state.heartbeatAt)}  ${summary(state.progress)}`.trimEnd();
  const duration = run.finishedAt === null ? '' : `  ${((run.finishedAt - run.startedAt) / 1000).toFixed(1)} s`;
  return `${head}${duration}  ${summary(run.counts)}${run.error ? `\n    error: ${run.error}` : ''}`.trimEnd();
}

export function registerJobCommands(program: Command, withContext: WithContext): void {
  const jobs = program.command('jobs').description('scheduled jobs: purge, directory, allowlist, digest');
  jobs
    .command('list')
    .description('when each job runs next, then recent runs (newest first) with outcome, duration and counts')
    .option('--job <name>', 'runs of this job only')
    .option('--limit <n>', 'how many runs (default 20)')
    .action(
      withContext((ctx, opts) => {
        let limit = 20;
        if (opts.limit !== undefined) {
          limit = Number(opts.limit);
          if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new CliError(`--limit: '${String(opts.limit)}': expected a number from 1 to 10000`);
        }
        const job = typeof opts.job === 'string' ? opts.job.trim() : undefined;
        if (job === '') throw new CliError('--job: must not be empty');
        const runs = recentJobRuns(ctx.db, { job, limit });
        // Next run of each job, from its schedule in schedules.timezone (as the daemon runs it).
        const now = new Date();
        const next = Object.fromEntries(
          createJobs({ config: ctx.config, db: ctx.db, log: createLogger('silent') })
            .filter((candidate) => job === undefined || candidate.name === job)
            .map((candidate) => [candidate.name, nextTick(candidate.schedule, ctx.config.schedules.timezone, now).toISOString()]),
        );
        const nextText = Object.entries(next).map(([name, at]) => `next ${name}: ${at}`).join('\n');
        ctx.print({ next, runs: runs.map(runJson) }, `${nextText}\n${runs.length === 0 ? 'no job run recorded' : runs.map(runText).join('\n')}`);
      }),
    );
  jobs
    .command('run <job>')
    .description('run one scheduled job now (purge, directory, allowlist, digest), as its schedule would')
    .action(
      withContext(async (ctx, _opts, args) => {
        const name = String(args[0] ?? '');
        const all = createJobs({ config: ctx.config, db: ctx.db, log: createLogger('silent') });
        const job = all.find((candidate) => candidate.name === name);
        if (!job) throw new CliError(`unknown job '${name}' (one of: ${all.map((candidate) => candidate.name).join(', ')})`);
        const { result, runId } = await runJobByHand(ctx, job);
        const counts = job.counts ? job.counts(result) : result;
        ctx.print({ job: name, runId, outcome: 'ok', result: counts }, `${name}: ok (run #${runId}) ${summary(counts as Record<string, unknown>)}`.trimEnd());
      }),
    );
}
