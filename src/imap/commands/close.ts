// CLOSE (RFC 3501 section 6.4.2) and UNSELECT (RFC 3691): back to the authenticated state.
// CLOSE first removes the messages flagged \Deleted when the mailbox is open read-write, with no
// untagged EXPUNGE (the client is leaving the mailbox); UNSELECT and a read-only CLOSE remove
// nothing. An ORG mailbox whose access was withdrawn meanwhile (R6) is left without touching it.
import { expungeMessages } from '../../store/imap-messages';
import { commitChange } from '../store-writes';
import { expectEnd } from '../protocol/tokens';
import { ok, SELECTED, type CommandHandler } from './registry';

export const close: CommandHandler = {
  name: 'CLOSE',
  states: SELECTED,
  async run(session, command) {
    expectEnd(command.args, 0);
    const selected = session.selected!;
    session.deselect();
    if (selected.readOnly || !session.canStillAccess(selected.mailboxId)) return ok('CLOSE completed');
    const removed = await commitChange(session, (db) => expungeMessages(db, selected.mailboxId));
    if (removed.length > 0) session.services.changes.emit('mailbox-changed', selected.mailboxId);
    return ok(removed.length > 0 ? `CLOSE completed, ${removed.length} deleted message(s) removed` : 'CLOSE completed');
  },
};

export const unselect: CommandHandler = {
  name: 'UNSELECT',
  states: SELECTED,
  run(session, command) {
    expectEnd(command.args, 0);
    session.deselect();
    return ok('UNSELECT completed');
  },
};
