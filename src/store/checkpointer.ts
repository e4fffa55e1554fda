// WAL checkpoints on a thread of their own (issue 12).
//
// In WAL mode a commit only appends to the -wal file; a checkpoint later copies those pages back
// into the database file and flushes it twice (https://sqlite.org/wal.html#checkpointing). By
// default SQLite runs that checkpoint inside whichever COMMIT makes the WAL pass 1000 pages: an
// IMAP APPEND or EXPUNGE, or the search indexer, then stops its whole event loop for the copy
// and both flushes, several milliseconds under load, while every session of that process waits.
//
// The daemon's connections (main process and IMAP workers) open with wal_autocheckpoint=0, and
// this thread of the main process checkpoints for all of them: every CHECK_MS it runs a PASSIVE
// checkpoint on a connection of its own (synchronous=FULL: the WAL is flushed before its pages
// are copied, the database after), which never takes a lock a writer or reader waits for.
// Other programs opening the store (the CLI) keep SQLite's automatic checkpoints.
//
// A PASSIVE checkpoint never makes the WAL start again from its beginning: only a writer that
// finds every frame copied back does (https://sqlite.org/wal.html#avoiding_excessively_large_wal
// _files). Under a load that never pauses (imaptest's command mix: a commit every millisecond)
// that moment never comes, and the WAL grew by 20 MB a second, 440 MB in one 20 s run, every
// page lookup slower as it grew (SQLite searches the WAL index one 4 096-frame segment at a
// time). So once the WAL holds RESTART_FRAMES frames, the thread follows its PASSIVE pass with a
// RESTART checkpoint: it takes the write lock (the workers' group commits find it taken and try
// again a millisecond later, src/store/commit-batcher.ts), copies the few frames left, waits up
// to RESTART_WAIT_MS for readers still on the WAL, and the next commit writes from the start of
// the file again.
//
// The thread's code is a few lines of plain JavaScript given to the Worker as a string, so that
// it runs the same from the compiled daemon and under the tests' TypeScript loader.
import { Worker } from 'node:worker_threads';
import type { Logger } from '../util/log';

/** How often the thread checkpoints (a checkpoint with nothing to copy costs almost nothing). */
export const CHECK_MS = 200;

/** WAL size (in frames, one page each) from which a checkpoint also restarts the WAL: 16 MiB. */
export const RESTART_FRAMES = 4000;

/** How long a RESTART checkpoint may wait for the write lock and for readers on the WAL. */
const RESTART_WAIT_MS = 10;

const THREAD_CODE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.betterSqlite3);
const db = new Database(workerData.file);
db.pragma('synchronous = FULL');
db.pragma('busy_timeout = 0');
const restart = () => {
  db.pragma('busy_timeout = ' + workerData.restartWaitMs);
  try {
    return db.pragma('wal_checkpoint(RESTART)')[0];
  } finally {
    db.pragma('busy_timeout = 0');
  }
};
const checkpoint = () => {
  try {
    let [result] = db.pragma('wal_checkpoint(PASSIVE)');
    if (result.log >= workerData.restartFrames) result = restart();
    if (result.busy === 0 && result.checkpointed > 0) parentPort.postMessage({ copied: result.checkpointed });
  } catch (err) {
    if (!String(err.code).startsWith('SQLITE_BUSY')) parentPort.postMessage({ error: err.message });
  }
};
const timer = setInterval(checkpoint, workerData.everyMs);
parentPort.on('message', () => {
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.close();
});
`;

export interface Checkpointer {
  /** Runs a last checkpoint and ends the thread. */
  stop(): Promise<void>;
}

/** Starts the checkpoint thread for the store file `file` (dataDir/mssd.sqlite). */
export function startCheckpointer(file: string, log: Logger, everyMs = CHECK_MS, restartFrames = RESTART_FRAMES): Checkpointer {
  const worker = new Worker(THREAD_CODE, {
    eval: true,
    workerData: { file, everyMs, restartFrames, restartWaitMs: RESTART_WAIT_MS, betterSqlite3: require.resolve('better-sqlite3') },
  });
  let failing = false;
  worker.on('message', (message: { copied?: number; error?: string }) => {
    if (message.error !== undefined) {
      // the next run tries again; say it once, not every CHECK_MS
      if (!failing) log.warn({ err: message.error }, 'WAL checkpoint failed; the WAL grows until one succeeds');
      failing = true;
    } else failing = false;
  });
  worker.on('error', (err) => log.error({ err }, 'WAL checkpoint thread failed; the WAL is no longer copied back into the database'));
  worker.unref();
  const ended = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    stop() {
      worker.ref(); // the process waits for the last checkpoint
      worker.postMessage('stop');
      return ended;
    },
  };
}
