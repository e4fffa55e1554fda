// Group commit. With synchronous=FULL every SQLite commit waits for the disk; committing each
// SMTP transaction alone would cap ingest at the disk's flush rate. Work submitted during the
// same turn of the event loop is committed in one transaction instead, and every caller learns
// of its own success only after that commit is durable (R14: 250 only for what is on disk).
import type { Db } from './database';

interface Job<T> {
  work: (db: Db) => T;
  resolve: (value: T) => void;
  reject: (err: unknown) => void;
}

export class CommitBatcher {
  private pending: Array<Job<unknown>> = [];
  private scheduled = false;

  constructor(
    private readonly db: Db,
    private readonly maxBatch = 64,
  ) {}

  /** Runs `work` inside a transaction shared with other work of this turn; resolves once durable. */
  run<T>(work: (db: Db) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ work, resolve, reject } as Job<unknown>);
      this.schedule();
    });
  }

  /** Number of jobs waiting for the next commit. */
  get queued(): number {
    return this.pending.length;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.pending.splice(0, this.maxBatch);
    if (this.pending.length > 0) this.schedule();
    const results: unknown[] = [];
    try {
      this.db.transaction(() => {
        for (const job of batch) results.push(job.work(this.db));
      })();
    } catch (err) {
      // One job's failure rolled the whole batch back: run each alone so that only the
      // faulty one fails.
      if (batch.length === 1) {
        batch[0].reject(err);
        return;
      }
      for (const job of batch) {
        try {
          job.resolve(this.db.transaction(() => job.work(this.db))());
        } catch (jobErr) {
          job.reject(jobErr);
        }
      }
      return;
    }
    batch.forEach((job, index) => job.resolve(results[index]));
  }
}
