// The retention job (R10, `schedules.purge`): every message older than `retention.days` in every
// folder of every box, then old audit rows and job runs (`retention.auditDays`) and finished
// outbound-queue entries (`retention.queueDays`). The work itself is src/store/purge.ts; this
// module runs it as a job:
//
//   - after each committed batch, the IMAP sessions of this process that have a touched mailbox
//     selected are woken, so a client in IDLE gets its EXPUNGEs at once (R10);
//   - batches are small and the purge yields to the event loop between them, so SMTP and IMAP
//     requests served by the same process wait at most one batch (see bench/purge.ts);
//   - a daemon that stops aborts the run between two batches; what is committed stays deleted
//     and the next run finishes the rest (each batch is one transaction).
//
// `mssd purge` runs the same function through the same runner (src/cli/operations.ts).
import type { Config } from '../config/schema';
import type { Db } from '../store/database';
import { purgeExpired, purgeHousekeeping, type HousekeepingReport, type PurgeReport } from '../store/purge';
import { throwIfAborted, type Job } from './job';
import type { JobServices } from './services';

/**
 * Messages per transaction. A batch of 200 costs a few milliseconds (bench/purge.ts measures the
 * worst SMTP/IMAP wait behind it), far below the 50 ms target, while keeping the per-commit cost
 * (one fsync) small next to the work.
 */
export const PURGE_BATCH_SIZE = 200;

export interface RetentionReport {
  messages: PurgeReport;
  housekeeping: HousekeepingReport;
}

export interface RetentionOptions {
  now: Date;
  dryRun: boolean;
  /** Recorded in the purge audit row ('schedule', 'cli', ...). */
  source: string;
  signal?: AbortSignal;
  notifyMailboxChanged?: (mailboxId: number) => void;
  progress?: (counts: Record<string, unknown>) => void;
  batchSize?: number;
}

/** The whole retention pass: messages first, then audit rows, job runs and finished queue entries. */
export async function runRetention(db: Db, config: Config, options: RetentionOptions): Promise<RetentionReport> {
  const batchSize = options.batchSize ?? PURGE_BATCH_SIZE;
  let batches = 0;
  const messages = await purgeExpired(db, {
    now: options.now,
    retentionDays: config.retention.days,
    dryRun: options.dryRun,
    batchSize,
    source: options.source,
    onBatch: (mailboxIds) => {
      for (const id of mailboxIds) options.notifyMailboxChanged?.(id);
      batches++;
      options.progress?.({ phase: 'messages', batches });
      if (options.signal) throwIfAborted(options.signal);
    },
  });
  options.progress?.({ phase: 'housekeeping', messages: messages.total });
  const housekeeping = await purgeHousekeeping(db, {
    now: options.now,
    auditDays: config.retention.auditDays,
    queueDays: config.retention.queueDays,
    dryRun: options.dryRun,
    batchSize: 500,
    onBatch: () => {
      if (options.signal) throwIfAborted(options.signal);
    },
  });
  return { messages, housekeeping };
}

/** What job_runs keeps of a retention run: counts, never addresses. */
export function retentionCounts(report: RetentionReport): Record<string, unknown> {
  return {
    now: report.messages.now,
    cutoff: report.messages.cutoff,
    messages: report.messages.total,
    boxes: report.messages.boxes.length,
    batches: report.messages.batches,
    auditRows: report.housekeeping.auditRows,
    jobRuns: report.housekeeping.jobRuns,
    queueEntries: report.housekeeping.queueEntries,
  };
}

export function purgeJob(services: JobServices): Job<RetentionReport> {
  return {
    name: 'purge',
    schedule: services.config.schedules.purge,
    run: (ctx) =>
      runRetention(services.db, services.config, {
        now: ctx.now,
        dryRun: false,
        source: ctx.trigger,
        signal: ctx.signal,
        notifyMailboxChanged: services.notifyMailboxChanged,
        progress: ctx.progress,
      }),
    counts: retentionCounts,
  };
}
