// STATUS (RFC 3501 section 6.3.10) with HIGHESTMODSEQ (RFC 7162 section 3.1.3). The same data
// answers LIST ... RETURN (STATUS (...)) (RFC 5819), through statusResponse().
//
// Decisions:
// - Items: MESSAGES, RECENT, UIDNEXT, UIDVALIDITY, UNSEEN, HIGHESTMODSEQ, and SIZE (RFC 8438,
//   STATUS=SIZE: the sum of RFC822.SIZE, a counter the mailbox row keeps, migration 018).
// - STATUS HIGHESTMODSEQ is a CONDSTORE enabling command (RFC 7162 section 3.1).
// - The mailbox name in the response is the name as the client sent it, so that it can match
//   the answer to its question whatever case it used for INBOX.
// - STATUS of the selected mailbox answers from the store, as another session would see it
//   (section 6.3.10 lets a client do it and warns the numbers may differ from its own view).
//   While the session's view is in step with the store, the view counts the same messages and
//   flags (selected.ts statusFromView): only the mailbox row is read then, not every message.
import { mailboxSize, mailboxStatus, mailboxStatusHead, type MailboxStatus } from '../../store/imap-mailboxes';
import { MailboxError } from '../../store/mailbox-view';
import { resolveMailbox } from '../../store/mailbox-view';
import { string } from '../protocol/encode';
import { badSyntax } from '../protocol/errors';
import { describeToken, expectEnd, expectList, type Token } from '../protocol/tokens';
import type { ImapSession } from '../session';
import { mailboxArgument, nonexistent, refusal } from './mailbox-args';
import { AUTHENTICATED, ok, type CommandHandler } from './registry';

const STATUS_ITEMS = ['MESSAGES', 'RECENT', 'UIDNEXT', 'UIDVALIDITY', 'UNSEEN', 'HIGHESTMODSEQ', 'SIZE'] as const;
export type StatusItem = (typeof STATUS_ITEMS)[number];

/** The status-att list of STATUS or of LIST's RETURN (STATUS (...)): at least one, no repeats. */
export function parseStatusItems(token: Token | undefined): StatusItem[] {
  const items = expectList(token, 'a list of status items such as (MESSAGES UNSEEN)');
  if (items.length === 0) throw badSyntax('STATUS needs at least one item, e.g. (MESSAGES UNSEEN)');
  const wanted: StatusItem[] = [];
  for (const item of items) {
    const word = item.type === 'atom' ? item.value.toUpperCase() : '';
    if (!(STATUS_ITEMS as readonly string[]).includes(word)) {
      throw badSyntax(`Unknown STATUS item ${describeToken(item)}; use ${STATUS_ITEMS.join(', ')}`);
    }
    if (!wanted.includes(word as StatusItem)) wanted.push(word as StatusItem);
  }
  return wanted;
}

function itemValue(status: MailboxStatus & { size: number }, item: StatusItem): number {
  switch (item) {
    case 'MESSAGES':
      return status.messages;
    case 'RECENT':
      return status.recent;
    case 'UIDNEXT':
      return status.uidnext;
    case 'UIDVALIDITY':
      return status.uidvalidity;
    case 'UNSEEN':
      return status.unseen;
    case 'HIGHESTMODSEQ':
      return status.highestmodseq;
    case 'SIZE':
      return status.size;
  }
}

/** The store's STATUS numbers of a mailbox; from the session's view when it is that mailbox's and in step. */
function storeStatus(session: ImapSession, mailboxId: number): MailboxStatus {
  const selected = session.selected;
  if (selected?.mailboxId !== mailboxId) return mailboxStatus(session.db, mailboxId);
  const head = mailboxStatusHead(session.db, mailboxId);
  if (!head) throw new MailboxError('NONEXISTENT', 'the mailbox no longer exists');
  return selected.statusFromView(head) ?? mailboxStatus(session.db, mailboxId);
}

/** `* STATUS name (ITEM n ...)` for a mailbox row; `wireName` as it goes on the wire. */
export function statusResponse(session: ImapSession, mailboxId: number, wireName: string, items: readonly StatusItem[]): string {
  if (items.includes('HIGHESTMODSEQ')) session.enableCondstore();
  const status = { ...storeStatus(session, mailboxId), size: items.includes('SIZE') ? mailboxSize(session.db, mailboxId) : 0 };
  return `STATUS ${string(wireName)} (${items.map((item) => `${item} ${itemValue(status, item)}`).join(' ')})`;
}

export const status: CommandHandler = {
  name: 'STATUS',
  states: AUTHENTICATED,
  run(session, command) {
    const mailbox = mailboxArgument(command.args[0]);
    const items = parseStatusItems(command.args[1]);
    expectEnd(command.args, 2);
    const resolved = resolveMailbox(session.db, session.user!.accountId, mailbox.name);
    if (!resolved) return nonexistent(mailbox.name);
    try {
      session.untagged(statusResponse(session, resolved.mailboxId, mailbox.wire, items));
    } catch (err) {
      return refusal(err, mailbox.name); // deleted between the two reads
    }
    return ok('STATUS completed');
  },
};
