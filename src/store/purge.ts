// Retention (R10): every message in every folder of every box — INBOX, folders, drafts, sent,
// trash, and the folders of ORG boxes — is deleted `retention.days` after it arrived
// (messages.arrived_at, kept across moves). One function serves `mssd purge`, the nightly
// schedule and the daemon.
//
// Deletion runs in small transactions: each batch removes its messages, records them in
// `expunged` with a new MODSEQ (RFC 7162 section 3.2.10: an expunge advances the mailbox's
// HIGHESTMODSEQ), and releases their bodies, all at once. A process killed at any moment thus
// leaves whole messages or none, and the next run simply finds what is left. Between batches the
// function yields to the event loop — or, with `pacing` (the daemon's job), sizes batches to a
// few milliseconds and pauses between them — so that SMTP and IMAP sessions of the same process
// keep being served while a large purge runs.
import { cachedStatement, type Db } from './database';
import { insertAudit } from './audit';
import { releaseBody } from './messages';
import { deleteQueueEntry } from './queue';

const DAY_MS = 86_400_000;

export interface PurgeOptions {
  now: Date;
  retentionDays: number;
  dryRun: boolean;
  /** Messages deleted per transaction (default 500); with `pacing`, the most per transaction. */
  batchSize?: number;
  /**
   * For a purge that shares its process and its disk with SMTP and IMAP (the daemon's job): each
   * transaction is sized to last about `batchMs`, and the purge then pauses so that it takes
   * about `share` of the time (0.5: pauses as long as the transaction took; at least 1 ms). It
   * thus never holds the event loop for long, and leaves the disk time to flush what it wrote.
   * Without it, batches run back to back with a single yield between them.
   */
  pacing?: { batchMs: number; share: number };
  /**
   * Called after each committed batch with the ids of the mailboxes it touched, so that open IMAP
   * sessions can be told of the expunges (R10). An exception stops the purge: what is committed
   * stays deleted, the rest waits for the next run.
   */
  onBatch?: (mailboxIds: number[]) => void | Promise<void>;
  /** Recorded in the audit row ('cli', 'schedule', ...). */
  source?: string;
}

export interface PurgeBoxReport {
  /** Login of the box (for an ORG box, its login too). */
  box: string;
  accountId: number;
  /** Messages deleted (or, in a dry run, to delete) per mailbox name. */
  mailboxes: Record<string, number>;
  total: number;
}

export interface PurgeReport {
  now: string;
  /** Messages that arrived at or before this instant are expired. */
  cutoff: string;
  retentionDays: number;
  dryRun: boolean;
  boxes: PurgeBoxReport[];
  total: number;
  batches: number;
}

interface ExpiredMessage {
  id: number;
  mailbox_id: number;
  uid: number;
  body_hash: string;
  mailbox: string;
  account_id: number;
  login: string;
}

/** The instant before which (inclusive) a message has outlived its retention. */
export function retentionCutoff(now: Date, retentionDays: number): number {
  return now.getTime() - retentionDays * DAY_MS;
}

/** Accumulates per-box, per-mailbox counts in first-seen order, then sorts boxes by login. */
class Tally {
  private readonly boxes = new Map<number, PurgeBoxReport>();
  total = 0;

  add(accountId: number, login: string, mailbox: string, count: number): void {
    let box = this.boxes.get(accountId);
    if (!box) {
      box = { box: login, accountId, mailboxes: {}, total: 0 };
      this.boxes.set(accountId, box);
    }
    box.mailboxes[mailbox] = (box.mailboxes[mailbox] ?? 0) + count;
    box.total += count;
    this.total += count;
  }

  report(): PurgeBoxReport[] {
    return [...this.boxes.values()].sort((a, b) => a.box.localeCompare(b.box));
  }
}

/** Counts what a purge would delete, without touching anything. */
function countExpired(db: Db, cutoff: number, tally: Tally): void {
  const rows = db
    .prepare(
      `SELECT a.id AS account_id, a.login, mb.name AS mailbox, COUNT(*) AS n
       FROM messages m JOIN mailboxes mb ON mb.id = m.mailbox_id JOIN accounts a ON a.id = mb.account_id
       WHERE m.arrived_at <= ?
       GROUP BY mb.id ORDER BY a.login, mb.name`,
    )
    .all(cutoff) as Array<{ account_id: number; login: string; mailbox: string; n: number }>;
  for (const row of rows) tally.add(row.account_id, row.login, row.mailbox, row.n);
}

/**
 * Deletes one batch of expired messages in one transaction; returns the mailboxes it touched
 * (empty when nothing is left to delete).
 */
function deleteBatch(db: Db, cutoff: number, batchSize: number, tally: Tally): number[] {
  const selectExpired = cachedStatement(
    db,
    `SELECT m.id, m.mailbox_id, m.uid, m.body_hash, mb.name AS mailbox, a.id AS account_id, a.login
     FROM messages m JOIN mailboxes mb ON mb.id = m.mailbox_id JOIN accounts a ON a.id = mb.account_id
     WHERE m.arrived_at <= ? ORDER BY m.arrived_at, m.id LIMIT ?`,
  );
  const bumpModseq = cachedStatement(
    db,
    'UPDATE mailboxes SET highestmodseq = highestmodseq + 1 WHERE id = ? RETURNING highestmodseq',
  );
  const deleteMessage = cachedStatement(db, 'DELETE FROM messages WHERE id = ?');
  const recordExpunge = cachedStatement(db, 'INSERT OR REPLACE INTO expunged (mailbox_id, uid, modseq) VALUES (?, ?, ?)');

  return db
    .transaction(() => {
      const expired = selectExpired.all(cutoff, batchSize) as ExpiredMessage[];
      // One new MODSEQ per mailbox per batch: all its expunges in this batch happen together.
      const newModseq = new Map<number, number>();
      for (const message of expired) {
        let modseq = newModseq.get(message.mailbox_id);
        if (modseq === undefined) {
          modseq = (bumpModseq.get(message.mailbox_id) as { highestmodseq: number }).highestmodseq;
          newModseq.set(message.mailbox_id, modseq);
        }
        deleteMessage.run(message.id);
        recordExpunge.run(message.mailbox_id, message.uid, modseq);
        releaseBody(db, message.body_hash);
      }
      for (const message of expired) tally.add(message.account_id, message.login, message.mailbox, 1);
      return [...newModseq.keys()];
    })
    .immediate();
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));
const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Deletes (or, with dryRun, counts) every message older than the retention period. One audit row
 * (event 'purge') records each real run with its counts, never any content; a dry run writes
 * nothing at all.
 */
export async function purgeExpired(db: Db, options: PurgeOptions): Promise<PurgeReport> {
  const batchSize = options.batchSize ?? 500;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error('batchSize must be a positive integer');
  if (!Number.isInteger(options.retentionDays) || options.retentionDays < 1) {
    throw new Error('retentionDays must be a positive integer');
  }
  const cutoff = retentionCutoff(options.now, options.retentionDays);
  const tally = new Tally();
  let batches = 0;
  const report = (): PurgeReport => ({
    now: options.now.toISOString(),
    cutoff: new Date(cutoff).toISOString(),
    retentionDays: options.retentionDays,
    dryRun: options.dryRun,
    boxes: tally.report(),
    total: tally.total,
    batches,
  });

  if (options.dryRun) {
    countExpired(db, cutoff, tally);
    return report();
  }

  const audit = (outcome: string, error?: unknown) => {
    const { boxes, total } = report();
    const detail = {
      cutoff: new Date(cutoff).toISOString(),
      retentionDays: options.retentionDays,
      total,
      batches,
      boxes: Object.fromEntries(boxes.map((box) => [box.box, box.total])),
      ...(error === undefined ? {} : { error: error instanceof Error ? error.message : String(error) }),
    };
    insertAudit(db, { event: 'purge', source: options.source ?? null, outcome, detail: JSON.stringify(detail) });
  };

  const pacing = options.pacing;
  // With pacing, start small and let the measured cost of each batch size the next one.
  let size = pacing ? Math.min(batchSize, 50) : batchSize;
  try {
    for (;;) {
      const started = performance.now();
      const touched = deleteBatch(db, cutoff, size, tally);
      const elapsed = performance.now() - started;
      if (touched.length === 0) break;
      batches++;
      await options.onBatch?.(touched);
      if (!pacing) {
        await yieldToEventLoop();
        continue;
      }
      // Halfway towards the size that would have taken batchMs, within [10, batchSize].
      const ideal = (size * pacing.batchMs) / Math.max(elapsed, 0.05);
      size = Math.max(10, Math.min(batchSize, Math.round((size + ideal) / 2)));
      const rest = (Math.min(elapsed, 4 * pacing.batchMs) * (1 - pacing.share)) / pacing.share;
      await pause(Math.max(1, Math.round(rest)));
    }
  } catch (err) {
    // What was committed stays deleted; record the partial run before reporting the failure.
    try {
      audit('interrupted', err);
    } catch {
      // the store itself is failing: the original error is the one worth reporting
    }
    throw err;
  }
  audit('ok');
  return report();
}

// ---------------------------------------------------------------------------------------------
// Housekeeping that runs with the retention purge: audit rows after `retention.auditDays`, job
// runs after the same period, and finished outbound-queue entries (status 'done') after
// `retention.queueDays`, their bodies released. Same shape as above: small transactions, a yield
// (or, with pacing, a pause as long as the transaction) between them, so a large backlog never
// holds up SMTP or IMAP.

export interface HousekeepingOptions {
  now: Date;
  /** Audit rows and job runs older than this many days go. */
  auditDays: number;
  /** Finished queue entries created more than this many days ago go. */
  queueDays: number;
  dryRun: boolean;
  /** Rows per transaction (default 500). */
  batchSize?: number;
  /** Called between batches; an exception stops the work (what is committed stays). */
  onBatch?: () => void | Promise<void>;
  /** As in PurgeOptions: after each batch, pause so that the work takes about this share of the time. */
  pacing?: { share: number };
}

export interface HousekeepingReport {
  auditCutoff: string;
  queueCutoff: string;
  /** Rows deleted (or, in a dry run, to delete). */
  auditRows: number;
  jobRuns: number;
  queueEntries: number;
}

/** Deletes old audit rows, old finished job runs and old finished queue entries (see above). */
export async function purgeHousekeeping(db: Db, options: HousekeepingOptions): Promise<HousekeepingReport> {
  const batchSize = options.batchSize ?? 500;
  for (const [key, value] of [['auditDays', options.auditDays], ['queueDays', options.queueDays]] as const) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`${key} must be a positive integer`);
  }
  const auditCutoff = retentionCutoff(options.now, options.auditDays);
  const queueCutoff = retentionCutoff(options.now, options.queueDays);
  const report: HousekeepingReport = {
    auditCutoff: new Date(auditCutoff).toISOString(),
    queueCutoff: new Date(queueCutoff).toISOString(),
    auditRows: 0,
    jobRuns: 0,
    queueEntries: 0,
  };
  const count = (sql: string, cutoff: number) => (db.prepare(sql).get(cutoff) as { n: number }).n;
  const AUDIT = `FROM audit WHERE at < ?`;
  const JOB_RUNS = `FROM job_runs WHERE finished_at IS NOT NULL AND started_at < ?`;
  const QUEUE = `FROM outbound_queue WHERE status = 'done' AND created_at < ?`;
  if (options.dryRun) {
    report.auditRows = count(`SELECT COUNT(*) AS n ${AUDIT}`, auditCutoff);
    report.jobRuns = count(`SELECT COUNT(*) AS n ${JOB_RUNS}`, auditCutoff);
    report.queueEntries = count(`SELECT COUNT(*) AS n ${QUEUE}`, queueCutoff);
    return report;
  }

  /** Runs one batch transaction; returns how many rows it handled and waits before the next. */
  const batch = async (transaction: () => number): Promise<number> => {
    const started = performance.now();
    const done = transaction();
    const elapsed = performance.now() - started;
    if (done === batchSize) {
      await options.onBatch?.();
      const share = options.pacing?.share;
      await (share ? pause(Math.max(1, Math.round((Math.min(elapsed, 50) * (1 - share)) / share))) : yieldToEventLoop());
    }
    return done;
  };
  const deleteRows = async (table: string, where: string, cutoff: number): Promise<number> => {
    const statement = db.prepare(`DELETE FROM ${table} WHERE id IN (SELECT id ${where} LIMIT ?)`);
    let total = 0;
    for (;;) {
      const deleted = await batch(() => db.transaction(() => statement.run(cutoff, batchSize).changes).immediate());
      total += deleted;
      if (deleted < batchSize) return total;
    }
  };
  report.auditRows = await deleteRows('audit', AUDIT, auditCutoff);
  report.jobRuns = await deleteRows('job_runs', JOB_RUNS, auditCutoff);

  // Queue entries go through deleteQueueEntry, the one place that removes an entry and releases
  // its body; a batch of them is one transaction.
  const selectDone = db.prepare(`SELECT queue_id ${QUEUE} ORDER BY id LIMIT ?`).pluck();
  for (;;) {
    const deleted = await batch(() =>
      db
        .transaction(() => {
          const ids = selectDone.all(queueCutoff, batchSize) as string[];
          for (const id of ids) deleteQueueEntry(db, id);
          return ids.length;
        })
        .immediate(),
    );
    report.queueEntries += deleted;
    if (deleted < batchSize) break;
  }
  return report;
}
