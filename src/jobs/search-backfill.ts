// After migration 010, the bodies stored earlier are added to the SEARCH index in the background,
// a batch at a time between other work; SEARCH reads every message until it is done
// (src/store/search-index.ts). Not a scheduled job: it runs once after start and ends by itself.
import { backfillSearchIndex } from '../store/search-index';
import type { Db } from '../store/database';
import type { Logger } from '../util/log';

export function startSearchBackfill(db: Db, log: Logger): { stop(): void } {
  let stopped = false;
  let indexed = 0;
  const step = (): void => {
    if (stopped) return;
    try {
      const done = backfillSearchIndex(db);
      indexed += done;
      if (done === 0) {
        if (indexed > 0) log.info({ indexed }, 'search index backfilled');
        return;
      }
    } catch (err) {
      log.warn({ err }, 'search index backfill paused; SEARCH reads messages directly meanwhile');
      return;
    }
    setTimeout(step, 10).unref();
  };
  setImmediate(step);
  return {
    stop() {
      stopped = true;
    },
  };
}
