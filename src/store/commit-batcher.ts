// Group commit. With synchronous=FULL every SQLite commit waits for the disk; committing each
// SMTP transaction alone would cap ingest at the disk's flush rate. Work submitted during the
// same turn of the event loop is committed in one transaction instead, and every caller learns
// of its own success only after that commit is durable (R14: 250 only for what is on disk).
//
// Several processes write to the store (the IMAP workers of src/imap/workers.ts, the CLI): when
// another one holds the write lock, the batch does not wait inside SQLite (its busy handler
// sleeps on the event loop, stalling every session of this process); it stays queued and is
// tried again a moment later while the event loop goes on serving.
//
// The commit itself does not wait for the disk: it runs with synchronous=NORMAL and the WAL is
// flushed afterwards on libuv's thread pool (src/store/wal-flush.ts), with the write lock already
// released; the jobs' promises settle once that flush returned.
//
// Changes that bring no message in (IMAP flags, expunges: runUnflushed) settle at the commit and
// do not ask for a flush of their own, as Dovecot's default mail_fsync=optimized: the WAL is
// append-only, so the next flush (the next message stored, a checkpoint, or at the latest
// UNFLUSHED_LIMIT_MS later) makes them durable with everything before them. A power cut in
// between may undo the last second of such changes, never a message (R14), and never half of one
// transaction.
import { BUSY_TIMEOUT_MS, immediateTransaction, type Db } from './database';
import { WalFlusher } from './wal-flush';

/** How long a batch may keep finding the write lock taken before its jobs fail. */
const LOCK_WAIT_LIMIT_MS = BUSY_TIMEOUT_MS;

/** The longest an unflushed commit (runUnflushed) waits for the flush that makes it durable. */
export const UNFLUSHED_LIMIT_MS = 1000;

function isBusy(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_SNAPSHOT';
}

interface Job<T> {
  work: (db: Db) => T;
  resolve: (value: T) => void;
  reject: (err: unknown) => void;
  /** runCommitted: settles at the commit, handing over the flush still under way. */
  early?: (value: T, durable: Promise<void>) => void;
  /** runUnflushed: settles at the commit and needs no flush of its own. */
  unflushed?: boolean;
}

/** What runCommitted gives: the work's result, and when the commit holding it is on disk. */
export interface Committed<T> {
  result: T;
  /** Resolves once the commit is durable; rejects if the flush failed (nothing may then be acknowledged). */
  durable: Promise<void>;
}

const ALREADY_DURABLE = Promise.resolve();

export class CommitBatcher {
  private pending: Array<Job<unknown>> = [];
  private scheduled = false;
  /** When the batch at the head of the queue first found the write lock taken (0: it did not). */
  private lockedSince = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  /** Jobs committed whose WAL flush has not returned yet. */
  private flushing = 0;
  /** Flushes the WAL after each commit; null (not a WAL file) = the commit flushes by itself. */
  private readonly flusher: WalFlusher | null;
  /** The flush that makes unflushed commits durable at the latest (runUnflushed). */
  private unflushedTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly db: Db,
    private readonly maxBatch = 64,
  ) {
    this.flusher = WalFlusher.forDatabase(db);
  }

  /** Runs `work` inside a transaction shared with other work of this turn; resolves once durable. */
  run<T>(work: (db: Db) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ work, resolve, reject } as Job<unknown>);
      this.schedule();
    });
  }

  /**
   * Like run(), but resolves as soon as the transaction holding `work` is committed (visible to
   * every connection), with the flush that makes it durable still under way: the caller may go on
   * working from the committed state, and must not acknowledge anything before `durable`
   * resolves (R14). IMAP uses it to run a client's next pipelined command meanwhile.
   */
  runCommitted<T>(work: (db: Db) => T): Promise<Committed<T>> {
    return new Promise<Committed<T>>((resolve, reject) => {
      const job: Job<T> = {
        work,
        resolve: (result) => resolve({ result, durable: ALREADY_DURABLE }),
        reject,
        early: (result, durable) => resolve({ result, durable }),
      };
      this.pending.push(job as Job<unknown>);
      this.schedule();
    });
  }

  /**
   * Runs `work` in the next group commit and resolves once committed, without waiting for the
   * disk: for changes that bring no message in (see the top of this file). The flush follows with
   * the next commit that needs one, or after UNFLUSHED_LIMIT_MS.
   */
  runUnflushed<T>(work: (db: Db) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ work, resolve, reject, unflushed: true } as Job<unknown>);
      this.schedule();
    });
  }

  /** Number of jobs not settled yet: waiting for their commit, or for the flush after it. */
  get queued(): number {
    return this.pending.length + this.flushing;
  }

  private schedule(): void {
    if (this.scheduled || this.retryTimer) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.pending.splice(0, this.maxBatch);
    if (this.pending.length > 0) this.schedule();
    const results: unknown[] = [];
    let started = false;
    // IMMEDIATE: take the write lock first. A deferred transaction that read, then wants to
    // write while another process committed meanwhile fails at once with SQLITE_BUSY, whatever
    // busy_timeout says. Without waiting: see retryLater.
    try {
      // exec, not pragma(): no statement object to build for these two settings at every batch
      this.db.exec(this.flusher ? 'PRAGMA busy_timeout = 0; PRAGMA synchronous = NORMAL' : 'PRAGMA busy_timeout = 0');
      try {
        immediateTransaction(this.db, () => {
          started = true;
          for (const job of batch) results.push(job.work(this.db));
        });
      } finally {
        this.db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}${this.flusher ? '; PRAGMA synchronous = FULL' : ''}`);
      }
    } catch (err) {
      if (!started && isBusy(err) && this.retryLater(batch)) return;
      // One job's failure rolled the whole batch back: run each alone so that only the
      // faulty one fails.
      if (batch.length === 1) {
        batch[0].reject(err);
        return;
      }
      // These commits run with synchronous=FULL: this path is rare and flushes on its own.
      for (const job of batch) {
        try {
          job.resolve(immediateTransaction(this.db, () => job.work(this.db)));
        } catch (jobErr) {
          job.reject(jobErr);
        }
      }
      return;
    }
    this.lockedSince = 0;
    if (!this.flusher) {
      batch.forEach((job, index) => job.resolve(results[index]));
      return;
    }
    // changes that need no flush settle now; the others once the flush returned (or at once, early)
    const waiting: Array<{ job: Job<unknown>; result: unknown }> = [];
    batch.forEach((job, index) => (job.unflushed ? job.resolve(results[index]) : waiting.push({ job, result: results[index] })));
    if (waiting.length === 0) {
      this.flushUnflushedLater(this.flusher);
      return;
    }
    this.clearUnflushedTimer(); // the flush below covers them
    this.flushing += waiting.length;
    const durable = this.flusher.flush();
    durable
      .then(
        () => waiting.forEach(({ job, result }) => job.early || job.resolve(result)),
        (err: unknown) => waiting.forEach(({ job }) => job.early || job.reject(err)),
      )
      .finally(() => (this.flushing -= waiting.length));
    waiting.forEach(({ job, result }) => job.early?.(result, durable));
  }

  /** Closes the WAL descriptor kept for flushing (before the database is closed). */
  close(): void {
    this.clearUnflushedTimer();
    this.flusher?.close();
  }

  /** Makes the unflushed commits durable UNFLUSHED_LIMIT_MS from now, unless a flush comes first. */
  private flushUnflushedLater(flusher: WalFlusher): void {
    if (this.unflushedTimer) return;
    this.unflushedTimer = setTimeout(() => {
      this.unflushedTimer = null;
      // Nothing acknowledged waits on this flush; a failing disk fails the next stored message's.
      flusher.flush().catch(() => undefined);
    }, UNFLUSHED_LIMIT_MS);
    this.unflushedTimer.unref();
  }

  private clearUnflushedTimer(): void {
    if (this.unflushedTimer) clearTimeout(this.unflushedTimer);
    this.unflushedTimer = null;
  }

  /** Puts a batch that found the write lock taken back at the head of the queue; false once it waited too long. */
  private retryLater(batch: Array<Job<unknown>>): boolean {
    const now = Date.now();
    if (this.lockedSince === 0) this.lockedSince = now;
    if (now - this.lockedSince > LOCK_WAIT_LIMIT_MS) {
      this.lockedSince = 0;
      return false;
    }
    this.pending.unshift(...batch);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.flush();
    }, 1);
    return true;
  }
}
