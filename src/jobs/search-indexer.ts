// The background SEARCH indexer (migration 014; Dovecot's fts likewise indexes after delivery):
// storing a body for a mailbox message only lists it as pending, and this loop indexes pending
// bodies shortly after, whoever stored them (SMTP delivery, submission, IMAP APPEND in this
// process or in an IMAP worker: it watches the table, not the callers). Bodies stored before the
// index existed are pending the same way. It runs in the daemon's main process only (IMAP workers
// never start it: src/daemon.ts serve()), one batch at a time between other work:
// - a body is indexed once it has been stored SETTLE_MS: a message expunged before (imaptest's
//   mix, a draft saved again, a copy moved on) costs no indexing at all;
// - a batch stops after BATCH_MS (at least one body), so a request waits at most about that long
//   for the event loop or for the write lock;
// - after a batch, PAUSE_MS before the next, so indexing a backlog never takes a whole core from
//   the sessions;
// - when nothing is pending, the table is looked at again every IDLE_MS;
// - when another process holds the write lock, it tries again LOCKED_MS later instead of waiting.
// SEARCH is exact meanwhile (pending bodies are decoded), so the lag is only a matter of speed.
import { indexPendingBodies } from '../store/search-index';
import type { Db } from '../store/database';
import type { Logger } from '../util/log';

const SETTLE_MS = 2000;
const BATCH_MS = 4;
const PAUSE_MS = 4;
const IDLE_MS = 50;
const LOCKED_MS = 2;

export interface SearchIndexer {
  stop(): void;
}

export function startSearchIndexer(db: Db, log: Logger): SearchIndexer {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let indexed = 0;
  const schedule = (ms: number): void => {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(step, ms);
    timer.unref();
  };
  const step = (): void => {
    timer = undefined;
    if (stopped) return;
    let next = IDLE_MS;
    try {
      const run = indexPendingBodies(db, BATCH_MS, Date.now() - SETTLE_MS);
      if (run === null) next = LOCKED_MS;
      else {
        indexed += run.indexed;
        if (run.more) next = PAUSE_MS;
        else if (indexed > 0) {
          log.debug({ indexed }, 'search index caught up');
          indexed = 0;
        }
      }
    } catch (err) {
      // SEARCH stays exact (it decodes pending bodies); try again later
      log.warn({ err }, 'search indexing paused; SEARCH decodes the messages not indexed yet meanwhile');
      next = 10 * IDLE_MS;
    }
    schedule(next);
  };
  log.info({ pid: process.pid }, 'search indexer started');
  schedule(0);
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
