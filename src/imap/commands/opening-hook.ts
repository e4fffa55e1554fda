// R9 opening status: the hook every command that sets \Seen calls (STORE, and FETCH of a body
// without PEEK). It records the first opening of each message by the box that holds it, then lets
// src/delivery/openings.ts update the sender's view (keywords on their Sent copy, the opening
// notice once every local recipient has opened it), and wakes the IMAP sessions and the notice
// sender once that is committed.
import { applyOpening } from '../../delivery/openings';
import { resolveMailbox } from '../../store/mailbox-view';
import { recordOpening } from '../../store/openings';
import type { ImapSession } from '../session';

export interface NewlySeen {
  uid: number;
  messageId: string | null;
}

/**
 * Records that the box owning mailbox `mailboxId` opened these messages (only those with a
 * Message-ID can be matched to their delivery). The owner is the person, or the ORG box whose
 * shared folder they work in (R6): the opening is the box's, whoever of its members read it.
 * Never fails the IMAP command: a failure is logged. What follows an opening runs in a savepoint
 * of its own: when it fails, the opening itself is still recorded.
 */
export function recordOpeningsOnSeen(session: ImapSession, mailboxId: number, messages: readonly NewlySeen[]): void {
  const withId = messages.filter((message) => message.messageId !== null && message.messageId.trim() !== '');
  const user = session.user;
  const selected = session.selected;
  if (withId.length === 0 || !user || !selected || selected.mailboxId !== mailboxId) return;
  const changed = new Set<number>();
  let notices = false;
  try {
    const resolved = resolveMailbox(session.db, user.accountId, selected.name);
    if (!resolved || resolved.mailboxId !== mailboxId) return; // renamed meanwhile: owner unknown here
    const now = Date.now();
    const db = session.db;
    db.transaction(() => {
      for (const message of withId) {
        const messageId = message.messageId as string;
        if (!recordOpening(db, messageId, resolved.ownerAccountId, now)) continue;
        try {
          const effects = db.transaction(() => applyOpening(db, messageId, now))();
          for (const id of effects.mailboxes) changed.add(id);
          notices ||= effects.notices;
        } catch (err) {
          session.log.warn({ imap: session.id, messageId, err }, 'opening recorded, but the sender could not be told');
        }
      }
    })();
  } catch (err) {
    session.log.warn({ imap: session.id, err }, 'could not record message openings');
    return;
  }
  if (changed.size === 0 && !notices) return;
  // STORE and FETCH call this inside their own transaction (the flags and the openings commit
  // together): the other sessions and the notice sender hear of it once that has committed.
  setImmediate(() => {
    for (const id of changed) session.services.changes.emit('mailbox-changed', id);
    if (notices) session.services.changes.emit('notices-queued');
  });
}
