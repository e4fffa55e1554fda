// RENAME (RFC 3501 section 6.3.5), children included; renaming INBOX moves its messages to a new
// mailbox and leaves INBOX empty. A rename never crosses boxes (personal ↔ ORG): the store says
// so with NO [CANNOT]. Sessions that had a renamed mailbox selected see it closed when its
// UIDVALIDITY had to change, and keep it otherwise (same mailbox, new name).
import { renameUserMailbox, type RenamedMailbox } from '../../store/imap-mailboxes';
import { expectEnd } from '../protocol/tokens';
import { mailboxArgument, refusal } from './mailbox-args';
import { AUTHENTICATED, ok, type CommandHandler } from './registry';

export const rename: CommandHandler = {
  name: 'RENAME',
  states: AUTHENTICATED,
  run(session, command) {
    const from = mailboxArgument(command.args[0], 'existing mailbox name');
    const to = mailboxArgument(command.args[1], 'new mailbox name');
    expectEnd(command.args, 2);
    let renamed: RenamedMailbox;
    try {
      renamed = renameUserMailbox(session.db, session.user!.accountId, from.name, to.name);
    } catch (err) {
      // Which name a refusal is about: the source when it is missing, otherwise the target.
      return refusal(err, err instanceof Error && /no such mailbox/.test(err.message) ? from.name : to.name);
    }
    for (const row of renamed.renamed) session.services.changes.emit('mailbox-changed', row.mailboxId);
    if (renamed.inbox) {
      session.services.changes.emit('mailbox-changed', renamed.inbox.mailboxId);
      return ok(`RENAME completed; INBOX stays, its ${renamed.inbox.moved.pairs.length} message(s) moved to the new mailbox`);
    }
    return ok('RENAME completed');
  },
};
