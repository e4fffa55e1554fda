// What the open IMAP sessions still need of the expunge history (src/store/expunged-history.ts):
// per selected mailbox, the lowest MODSEQ a session's view is synchronised to. Rows above it
// must stay until that session has caught up (it does at its next command or IDLE wake-up).
import type { ImapConnection } from './connection';

export function modseqsInUse(connections: Iterable<ImapConnection>): Map<number, number> {
  const inUse = new Map<number, number>();
  for (const connection of connections) {
    const selected = connection.session.selected;
    if (!selected) continue;
    const known = inUse.get(selected.mailboxId);
    if (known === undefined || selected.knownModseq < known) inUse.set(selected.mailboxId, selected.knownModseq);
  }
  return inUse;
}
