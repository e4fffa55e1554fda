// The retention job (R10, `schedules.purge`): every message older than `retention.days` in every
// folder of every box, then old audit rows and job runs (`retention.auditDays`) and finished
// outbound-queue entries (`retention.queueDays`). The work itself is src/store/purge.ts; this
// module runs it as a job:
//
//   - after each committed batch, the IMAP sessions of this process that have a touched mailbox
//     selected are woken, so a client in IDLE gets its EXPUNGEs at once (R10);
//   - batches are paced (PURGE_PACING): each transaction is sized to take a few milliseconds,
//     then the purge pauses three times as long. SMTP and IMAP requests served by the same
//     process — or, for `mssd purge`, waiting for the database lock — wait a few milliseconds
//     behind it at most, and the disk keeps time for their commits (bench/purge.ts measures it);
//   - a daemon that stops aborts the run between two batches; what is committed stays deleted
//     and the next run finishes the rest (each batch is one transaction).
//
// `mssd purge` runs the same function through the same runner (src/cli/operations.ts).
import type { Config } from '../config/schema';
import type { Db } from '../store/database';
import { trimExpunged, type ExpungedTrimReport } from '../store/expunged-history';
import { purgeExpired, purgeHousekeeping, type HousekeepingReport, type PurgeReport } from '../store/purge';
import { throwIfAborted, type Job } from './job';
import type { JobServices } from './services';

/** Most messages per transaction; pacing usually settles well below. */
export const PURGE_MAX_BATCH = 500;
/**
 * Target duration of one purge transaction, and the share of the time the purge takes. Measured
 * by bench/purge.ts on 1 M messages: a share of 0.5 doubles the tail of SMTP/IMAP latencies
 * compared with 0.25, whose purge is about twice as long (minutes for 500 000 messages).
 */
export const PURGE_PACING = { batchMs: 5, share: 0.25 };

/**
 * History of expunges kept for resynchronising clients (src/store/expunged-history.ts): every
 * row of the last `days` days, and at most `perMailbox` older rows per mailbox, and always what
 * an open session still needs.
 */
export const EXPUNGED_HISTORY = { days: 30, perMailbox: 10_000 };

export interface RetentionReport {
  messages: PurgeReport;
  housekeeping: HousekeepingReport;
  /** Absent in a dry run. */
  expunged?: ExpungedTrimReport;
}

export interface RetentionOptions {
  now: Date;
  dryRun: boolean;
  /** Recorded in the purge audit row ('schedule', 'cli', ...). */
  source: string;
  signal?: AbortSignal;
  notifyMailboxChanged?: (mailboxId: number) => void;
  progress?: (counts: Record<string, unknown>) => void;
  /** Per mailbox, the lowest MODSEQ an open IMAP session is synchronised to (the daemon only). */
  expungedInUse?: () => ReadonlyMap<number, number>;
  /** A fixed number of messages per transaction, back to back, instead of pacing (tests). */
  batchSize?: number;
}

/** The whole retention pass: messages first, then audit rows, job runs and finished queue entries. */
export async function runRetention(db: Db, config: Config, options: RetentionOptions): Promise<RetentionReport> {
  let batches = 0;
  const paced = options.batchSize === undefined;
  const messages = await purgeExpired(db, {
    now: options.now,
    retentionDays: config.retention.days,
    dryRun: options.dryRun,
    batchSize: options.batchSize ?? PURGE_MAX_BATCH,
    pacing: paced ? PURGE_PACING : undefined,
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
    batchSize: 200,
    pacing: paced ? PURGE_PACING : undefined,
    onBatch: () => {
      if (options.signal) throwIfAborted(options.signal);
    },
  });
  if (options.dryRun) return { messages, housekeeping };
  options.progress?.({ phase: 'expunged-history', messages: messages.total });
  const expunged = await trimExpunged(db, {
    now: options.now.getTime(),
    keepDays: EXPUNGED_HISTORY.days,
    maxRows: EXPUNGED_HISTORY.perMailbox,
    inUse: options.expungedInUse?.(),
    onBatch: async () => {
      if (options.signal) throwIfAborted(options.signal);
      await new Promise((resolve) => setTimeout(resolve, paced ? 5 : 0));
    },
  });
  return { messages, housekeeping, expunged };
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
    expungedRows: report.expunged?.rows ?? 0,
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
        expungedInUse: services.expungedInUse,
        progress: ctx.progress,
      }),
    counts: retentionCounts,
  };
}
