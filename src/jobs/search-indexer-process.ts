// The search indexer at the lowest CPU priority (issue 12). Indexing a body in the trigram index
// costs a few milliseconds of CPU; in the main process it shared a core with SMTP, the logins and
// the IMAP workers at the same priority, so a burst of deliveries or APPENDs slowed every session
// while its bodies were indexed. `mssd serve` runs the indexer loop (src/jobs/search-indexer.ts)
// in a process of its own, forked at nice 19: it gets the CPU the sessions leave. Under load the
// index lags, which only costs speed (SEARCH decodes the bodies not indexed yet: migration 014),
// and it catches up once the load passes.
//
// The process is a cluster worker of the main process (it never listens), with its own
// connection to the store; it stops when told to, and when the main process goes away. The daemon
// started in-process (tests, `startDaemon` without this option) keeps the loop in its own process.
import cluster, { type Worker } from 'node:cluster';
import os from 'node:os';
import type { Config } from '../config/schema';
import { openDatabase } from '../store/database';
import type { Logger } from '../util/log';
import { startSearchIndexer } from './search-indexer';

/** os.setPriority's lowest priority (nice 19). */
const LOWEST_PRIORITY = 19;
/** Before starting another indexer process when one died. */
const RESTART_MS = 1000;
/** How long stop() waits for the process to end by itself. */
const STOP_WAIT_MS = 5000;

/** True in the process forked by forkSearchIndexer. */
export function isSearchIndexerProcess(): boolean {
  return cluster.isWorker && process.env.MSSD_SEARCH_INDEXER === '1';
}

/** Indexer process: runs the loop until the main process says stop or goes away. */
export function serveSearchIndexer(config: Config, log: Logger): void {
  const db = openDatabase(config.dataDir, { externalCheckpoints: true }); // the main process's thread checkpoints
  const indexer = startSearchIndexer(db, log);
  const stop = () => {
    indexer.stop();
    db.close();
    process.exit(0);
  };
  process.on('message', (message) => {
    if (message === 'stop') stop();
  });
  process.on('SIGINT', () => undefined); // the main process coordinates shutdown
  process.on('SIGTERM', stop);
  process.on('disconnect', stop);
}

export interface SearchIndexerProcess {
  /** Asks the indexer process to stop and waits until it has ended. */
  stop(): Promise<void>;
}

/** Main process: forks the indexer process at the lowest priority and starts another if it dies. */
export function forkSearchIndexer(log: Logger): SearchIndexerProcess {
  let stopping = false;
  let current: Worker | null = null;
  let restartTimer: NodeJS.Timeout | undefined;
  const start = () => {
    const worker = cluster.fork({ MSSD_SEARCH_INDEXER: '1' });
    current = worker;
    try {
      os.setPriority(worker.process.pid!, LOWEST_PRIORITY);
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'search indexer runs at normal priority');
    }
    worker.once('exit', (code, signal) => {
      current = null;
      if (stopping) return;
      log.error({ code, signal }, 'search indexer process died; starting another');
      restartTimer = setTimeout(start, RESTART_MS);
    });
  };
  start();
  return {
    async stop() {
      stopping = true;
      clearTimeout(restartTimer);
      const worker = current;
      if (!worker || worker.isDead()) return;
      const ended = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      // With a callback, a channel that closed meanwhile (the process got the same SIGTERM and is
      // ending) reports EPIPE here instead of as an 'error' event that would crash this process.
      if (worker.isConnected()) worker.send('stop', (err: Error | null) => err && worker.kill());
      else worker.kill();
      // one that started too recently to listen for 'stop' is ended by a signal
      const late = setTimeout(() => worker.kill(), STOP_WAIT_MS);
      await ended;
      clearTimeout(late);
    },
  };
}
