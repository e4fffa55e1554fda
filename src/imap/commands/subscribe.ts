// SUBSCRIBE and UNSUBSCRIBE (RFC 3501 sections 6.3.6, 6.3.7). Subscriptions of the personal
// namespace are kept by name and outlive DELETE and RENAME of the mailbox (store/subscriptions.ts);
// subscriptions to ORG mailboxes are kept per member (R6: each member chooses what their client
// shows). CREATE does not subscribe: clients that show only subscribed folders subscribe what
// they create (Thunderbird, Outlook, imapflow); INBOX and the special folders are subscribed
// from the start.
//
// Decisions: SUBSCRIBE to a name that does not exist is refused (NO [NONEXISTENT]; section 6.3.6
// allows it), so that a typo does not leave a folder in the client's tree that cannot be
// opened. UNSUBSCRIBE of a name that is neither subscribed nor a mailbox answers OK: the client's aim (not subscribed)
// holds, and Thunderbird unsubscribes folders it has just deleted (README "Client quirks").
import { setMailboxSubscribed } from '../../store/imap-mailboxes';
import { MailboxError } from '../../store/mailbox-view';
import { expectEnd } from '../protocol/tokens';
import { mailboxArgument, refusal } from './mailbox-args';
import { AUTHENTICATED, ok, type CommandHandler } from './registry';

export const subscribe: CommandHandler = {
  name: 'SUBSCRIBE',
  states: AUTHENTICATED,
  run(session, command) {
    const mailbox = mailboxArgument(command.args[0]);
    expectEnd(command.args, 1);
    try {
      setMailboxSubscribed(session.db, session.user!.accountId, mailbox.name, true);
    } catch (err) {
      return refusal(err, mailbox.name);
    }
    return ok('SUBSCRIBE completed');
  },
};

export const unsubscribe: CommandHandler = {
  name: 'UNSUBSCRIBE',
  states: AUTHENTICATED,
  run(session, command) {
    const mailbox = mailboxArgument(command.args[0]);
    expectEnd(command.args, 1);
    try {
      setMailboxSubscribed(session.db, session.user!.accountId, mailbox.name, false);
    } catch (err) {
      if (err instanceof MailboxError && err.code === 'NONEXISTENT') return ok('UNSUBSCRIBE completed (the name was not subscribed)');
      return refusal(err, mailbox.name);
    }
    return ok('UNSUBSCRIBE completed');
  },
};
