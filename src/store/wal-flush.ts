// Making a group commit durable without holding the event loop (or the write lock) during the
// disk flush.
//
// With synchronous=FULL, SQLite calls fdatasync on the WAL inside COMMIT: the process's event
// loop stops for the whole flush (0.5 ms to several ms), and the write lock stays taken meanwhile,
// so the other processes writing the same store (the IMAP workers, the main process) queue behind
// it. The group commit instead commits with synchronous=NORMAL, which in WAL mode only skips that
// flush (checkpoints still flush the WAL before copying it and the database after, so the file
// stays consistent: https://sqlite.org/pragma.html#pragma_synchronous), and then asks this
// flusher for an fdatasync of the WAL file on libuv's thread pool. The callers learn of their
// success only once that flush returned (R14: an APPEND's OK or a 250 means the bytes are on
// disk). fdatasync acts on the file, not on the descriptor (POSIX), so it also makes durable the
// frames any other connection wrote before it.
//
// Flushes are grouped too: while one runs, the commits that ask for one wait together for the
// next, started as soon as the current one returns.
import { fdatasync, openSync, closeSync } from 'node:fs';
import type { Db } from './database';

export class WalFlusher {
  private fd: number | null = null;
  private running = false;
  /** Callers waiting for the flush that starts after the running one. */
  private waiting: Array<(err: Error | null) => void> = [];

  private constructor(private readonly walPath: string) {}

  /** A flusher for `db`'s WAL file, or null when `db` is not a WAL database on disk. */
  static forDatabase(db: Db): WalFlusher | null {
    if (db.memory) return null;
    const mode = db.pragma('journal_mode', { simple: true });
    if (String(mode).toLowerCase() !== 'wal') return null;
    return new WalFlusher(`${db.name}-wal`);
  }

  /** Resolves once an fdatasync of the WAL that started after this call has returned. */
  flush(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push((err) => (err ? reject(err) : resolve()));
      if (!this.running) this.start();
    });
  }

  close(): void {
    if (this.fd !== null && !this.running) {
      closeSync(this.fd);
      this.fd = null;
    }
  }

  private start(): void {
    const group = this.waiting;
    this.waiting = [];
    this.running = true;
    const done = (err: Error | null) => {
      this.running = false;
      for (const settle of group) settle(err);
      if (this.waiting.length > 0) this.start();
    };
    try {
      // Opened at the first flush: the WAL file exists once a commit went through it, and lives
      // as long as this process keeps its connection open (SQLite deletes it only when the last
      // connection closes).
      if (this.fd === null) this.fd = openSync(this.walPath, 'r');
    } catch (err) {
      done(err as Error);
      return;
    }
    fdatasync(this.fd, (err) => done(err));
  }
}
