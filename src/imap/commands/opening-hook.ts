// R9 opening status: the hook every command that sets \Seen calls (STORE, and FETCH of a body
// without PEEK). It records the first opening of each message by the box that holds it; the
// opening notification to the sender (when every local recipient has opened) is a later issue's,
// and belongs here: after recordOpening() returned true.
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
 * Never fails the IMAP command: a failure is logged.
 */
export function recordOpeningsOnSeen(session: ImapSession, mailboxId: number, messages: readonly NewlySeen[]): void {
  const withId = messages.filter((message) => message.messageId !== null && message.messageId.trim() !== '');
  const user = session.user;
  const selected = session.selected;
  if (withId.length === 0 || !user || !selected || selected.mailboxId !== mailboxId) return;
  try {
    const resolved = resolveMailbox(session.db, user.accountId, selected.name);
    if (!resolved || resolved.mailboxId !== mailboxId) return; // renamed meanwhile: owner unknown here
    const now = Date.now();
    session.db.transaction(() => {
      for (const message of withId) recordOpening(session.db, message.messageId as string, resolved.ownerAccountId, now);
    })();
  } catch (err) {
    session.log.warn({ imap: session.id, err }, 'could not record message openings');
  }
}
