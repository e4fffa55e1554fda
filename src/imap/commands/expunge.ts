// EXPUNGE (RFC 3501 section 6.4.3) and UID EXPUNGE (RFC 4315 section 2.1): removes the messages
// flagged \Deleted (UID EXPUNGE: only those of its UID set). The EXPUNGE responses are sent by
// the session right after the command (dispatch's flushUpdates), highest sequence number first,
// together with any expunge another session made.
import { expungeMessages } from '../../store/imap-messages';
import { commitChange } from '../store-writes';
import { expectEnd } from '../protocol/tokens';
import { announceChange, currentMailbox, mailboxRefusal, targetRanges, uidsOf } from './message-common';
import { no, ok, SELECTED, type CommandHandler } from './registry';

export const expunge: CommandHandler = {
  name: 'EXPUNGE',
  states: SELECTED,
  async run(session, command) {
    const selected = currentMailbox(session, true);
    let uids: number[] | undefined;
    if (command.uid) {
      uids = uidsOf(selected, targetRanges(selected, command.args[0], true));
      expectEnd(command.args, 1);
    } else {
      expectEnd(command.args, 0);
    }
    if (selected.readOnly) return no('The mailbox is open read-only (EXAMINE): nothing can be expunged', 'CANNOT');
    if (uids !== undefined && uids.length === 0) return ok('UID EXPUNGE completed (no messages)');
    // currentMailbox has just synchronised the view with the store: with no \Deleted message
    // there, this EXPUNGE takes place at that moment and removes nothing, without a write (nor
    // a disk flush) of its own.
    if (!selected.hasDeleted(uids)) return ok(`${command.uid ? 'UID ' : ''}EXPUNGE completed`);
    let removed: number[];
    try {
      removed = await commitChange(session, (db) => expungeMessages(db, selected.mailboxId, uids));
    } catch (err) {
      return mailboxRefusal(err);
    }
    if (removed.length > 0) {
      selected.markExpunged(removed);
      announceChange(session, selected.mailboxId);
    }
    return ok(`${command.uid ? 'UID ' : ''}EXPUNGE completed`);
  },
};
