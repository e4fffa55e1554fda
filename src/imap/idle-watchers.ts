// Sessions in IDLE (RFC 2177), by the mailbox they have selected: a committed change to one
// mailbox wakes only that mailbox's sessions (one map lookup, whatever the number of
// connections: 10 000 idle sessions on one node cost nothing until their own mailbox changes).
// A change of unknown extent (mailboxId null: another process committed, an ORG link changed)
// wakes every idle session, which then looks at the store itself.
import type { ImapSession } from './session';

export class IdleWatchers {
  private readonly byMailbox = new Map<number, Set<ImapSession>>();

  /** From IDLE's continuation until DONE (or the connection's end). */
  add(mailboxId: number, session: ImapSession): void {
    let sessions = this.byMailbox.get(mailboxId);
    if (!sessions) this.byMailbox.set(mailboxId, (sessions = new Set()));
    sessions.add(session);
  }

  remove(mailboxId: number, session: ImapSession): void {
    const sessions = this.byMailbox.get(mailboxId);
    if (!sessions) return;
    sessions.delete(session);
    if (sessions.size === 0) this.byMailbox.delete(mailboxId);
  }

  /**
   * After a commit to `mailboxId` (null: unknown, every mailbox): each session idling on it sends
   * its client what changed (EXISTS, FETCH, EXPUNGE) at once.
   */
  wake(mailboxId: number | null): void {
    // a copy: a wake-up may end a session (a revoked ORG link) and so change the sets
    const sessions: ImapSession[] = [];
    if (mailboxId !== null) sessions.push(...(this.byMailbox.get(mailboxId) ?? []));
    else for (const watching of this.byMailbox.values()) sessions.push(...watching);
    for (const session of sessions) session.flushUpdates(true);
  }

  /** How many sessions idle now (for tests and metrics). */
  get size(): number {
    let count = 0;
    for (const sessions of this.byMailbox.values()) count += sessions.size;
    return count;
  }
}
