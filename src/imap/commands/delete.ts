// DELETE (RFC 3501 section 6.3.4). The store applies R11: the folder's messages go back to the
// INBOX of the same box (a personal folder to the person's INBOX, an ORG folder to the ORG's),
// with new UIDs there; INBOX and the special folders (Envoyés, Brouillons, Corbeille) cannot be
// deleted; a folder with children is deleted and its name stays as a \Noselect node.
// Sessions that had the folder selected see it gone at their next command ([CLOSED]); sessions
// in IDLE on it or on the INBOX are woken.
import { deleteUserMailbox, type DeletedMailbox } from '../../store/imap-mailboxes';
import { expectEnd } from '../protocol/tokens';
import { isSharedName, mailboxArgument, refusal } from './mailbox-args';
import { AUTHENTICATED, ok, type CommandHandler } from './registry';

export const deleteCommand: CommandHandler = {
  name: 'DELETE',
  states: AUTHENTICATED,
  run(session, command) {
    const mailbox = mailboxArgument(command.args[0]);
    expectEnd(command.args, 1);
    let deleted: DeletedMailbox;
    try {
      deleted = deleteUserMailbox(session.db, session.user!.accountId, mailbox.name);
    } catch (err) {
      return refusal(err, mailbox.name);
    }
    session.services.changes.emit('mailbox-changed', deleted.mailboxId);
    const moved = deleted.moved.pairs.length;
    if (moved === 0) return ok('DELETE completed');
    session.services.changes.emit('mailbox-changed', deleted.inboxMailboxId);
    const inbox = isSharedName(mailbox.name) ? "the shared box's INBOX" : 'INBOX';
    return ok(`DELETE completed; its ${moved} message(s) were moved back to ${inbox}`);
  },
};
