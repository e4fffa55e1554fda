// Changes made to the database by another process (an operator running `mssd purge` while the
// daemon serves IMAP, for instance) do not go through the daemon's own notifications. SQLite's
// data_version changes whenever another connection commits (https://sqlite.org/pragma.html
// #pragma_data_version); polling it is cheap, and tells the daemon when to resynchronise.
import type { Db } from './database';

export interface ExternalChangeWatcher {
  stop(): void;
}

/** Calls `onChange` (at most once per `intervalMs`) after another connection committed. */
export function watchExternalChanges(db: Db, onChange: () => void, intervalMs = 500): ExternalChangeWatcher {
  const version = db.prepare('PRAGMA data_version').pluck();
  let last = version.get() as number;
  const timer = setInterval(() => {
    const current = version.get() as number;
    if (current !== last) {
      last = current;
      onChange();
    }
  }, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
