// Sessions in IDLE (RFC 2177), by the mailbox they have selected: a committed change to one
// mailbox wakes only that mailbox's sessions (one map lookup, whatever the number of
// connections: 10 000 idle sessions on one node cost nothing until their own mailbox changes).
// A change of unknown extent (mailboxId null: another process committed, an ORG link changed)
// wakes every idle session, which then looks at the store itself. Wake-ups run on the next turn
// of the event loop, once per mailbox however many commits touched it meanwhile: the SMTP 250 or
// the tagged OK of the command that committed goes out first instead of waiting for the sessions
// it wakes (100 sessions on one INBOX took 16 ms of the 250's time), and a burst of deliveries to
// one box reads the store once per session, not once per message.
import type { ImapSession } from './session';

export class IdleWatchers {
  /**
   * `onWatching`, if given, hears when a mailbox gets its first idling session (true) and loses
   * its last (false): IMAP workers tell the main process, so that other processes send them only
   * the changes someone here waits for (src/imap/workers.ts).
   */
  constructor(private readonly onWatching?: (mailboxId: number, watching: boolean) => void) {}

  private readonly byMailbox = new Map<number, Set<ImapSession>>();
  /** Mailboxes changed since the last wake-up ran; `everything` after a change of unknown extent. */
  private readonly changed = new Set<number>();
  private everything = false;
  private scheduled = false;

  /** From IDLE's continuation until DONE (or the connection's end). */
  add(mailboxId: number, session: ImapSession): void {
    let sessions = this.byMailbox.get(mailboxId);
    if (!sessions) {
      this.byMailbox.set(mailboxId, (sessions = new Set()));
      this.onWatching?.(mailboxId, true);
    }
    sessions.add(session);
  }

  remove(mailboxId: number, session: ImapSession): void {
    const sessions = this.byMailbox.get(mailboxId);
    if (!sessions) return;
    sessions.delete(session);
    if (sessions.size === 0) {
      this.byMailbox.delete(mailboxId);
      this.onWatching?.(mailboxId, false);
    }
  }

  /**
   * After a commit to `mailboxId` (null: unknown, every mailbox): each session idling on it sends
   * its client what changed (EXISTS, FETCH, EXPUNGE) at once.
   */
  wake(mailboxId: number | null): void {
    if (mailboxId === null) this.everything = true;
    else this.changed.add(mailboxId);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.runWakeUps());
  }

  private runWakeUps(): void {
    this.scheduled = false;
    const mailboxes = this.everything ? [...this.byMailbox.keys()] : [...this.changed];
    this.everything = false;
    this.changed.clear();
    // a copy first: a wake-up may end a session (a revoked ORG link) and so change the sets
    const sessions: ImapSession[] = [];
    for (const mailboxId of mailboxes) sessions.push(...(this.byMailbox.get(mailboxId) ?? []));
    for (const session of sessions) if (session.idling) session.idleUpdate();
  }

  /** How many sessions idle now (for tests and metrics). */
  get size(): number {
    let count = 0;
    for (const sessions of this.byMailbox.values()) count += sessions.size;
    return count;
  }
}
