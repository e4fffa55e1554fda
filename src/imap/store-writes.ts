// IMAP writes share the daemon's group commit (src/store/commit-batcher.ts), as the MTA's do:
// with synchronous=FULL each commit waits for the disk, and a commit of its own per STORE,
// APPEND or EXPUNGE made every other session wait for that flush too. The writes of one turn of
// the event loop now share one flush. A command that stores messages (APPEND, COPY, MOVE)
// answers only once its write is durable (R14: an APPEND's OK means the message is on disk); flag
// changes and expunges answer at the commit (commitChange below).
import type { Db } from '../store/database';
import type { ImapSession } from './session';

// Pipelined commands (RFC 3501 section 5.5) need not wait for that flush: once the commit is
// made, the connection holds every answer written from then on until the flush has returned
// (SessionIo.holdOutputUntil), and the command's handler, then the client's next command, go on
// from the committed state meanwhile. No OK reaches the client before its write is on disk; a
// client's STORE, EXPUNGE and APPEND sent together share flushes instead of waiting for one each.

/**
 * Runs `work` in the next group commit; resolves once committed (the session's answers then wait
 * for the flush), or once durable where the connection cannot hold its answers.
 */
export async function commitWrite<T>(session: ImapSession, work: (db: Db) => T): Promise<T> {
  const result = await committed(session, work);
  session.selected?.dropPrimedHead(); // the command's own change goes with its answer
  return result;
}

async function committed<T>(session: ImapSession, work: (db: Db) => T): Promise<T> {
  const batcher = session.services.batcher;
  if (!batcher) return work(session.db);
  if (!session.io.holdOutputUntil) return batcher.run(work);
  const { result, durable } = await batcher.runCommitted(work);
  session.io.holdOutputUntil(durable);
  return result;
}

/**
 * Runs a change that brings no message in (flags, expunges) in the next group commit; resolves
 * once committed, without waiting for the disk (CommitBatcher.runUnflushed: durable with the next
 * flush, within a second; as Dovecot's mail_fsync=optimized). Messages themselves (APPEND, COPY,
 * MOVE) go through commitWrite.
 */
export async function commitChange<T>(session: ImapSession, work: (db: Db) => T): Promise<T> {
  const batcher = session.services.batcher;
  const result = batcher ? await batcher.runUnflushed(work) : work(session.db);
  session.selected?.dropPrimedHead(); // the command's own change goes with its answer
  return result;
}
