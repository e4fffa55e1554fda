// IMAP writes share the daemon's group commit (src/store/commit-batcher.ts), as the MTA's do:
// with synchronous=FULL each commit waits for the disk, and a commit of its own per STORE,
// APPEND or EXPUNGE made every other session wait for that flush too. The writes of one turn of
// the event loop now share one flush, and each command answers only once its own write is
// durable (R14: an APPEND's OK means the message is on disk).
import type { Db } from '../store/database';
import type { ImapSession } from './session';

/** Runs `work` in the next group commit; resolves (or rejects) once that commit is done. */
export function commitWrite<T>(session: ImapSession, work: (db: Db) => T): Promise<T> {
  const batcher = session.services.batcher;
  if (!batcher) return new Promise((resolve) => resolve(work(session.db)));
  return batcher.run(work);
}
