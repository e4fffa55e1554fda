// COPY / UID COPY (RFC 3501 sections 6.4.7 and 6.4.8) and MOVE / UID MOVE (RFC 6851), with the
// COPYUID response code of UIDPLUS (RFC 4315 section 3). The destination is any mailbox the
// person can name, their own or a linked ORG's (R6); a missing one gets NO [TRYCREATE]. A message
// copied or moved into Trash remembers the folder it came from (R11, kept by the store).
import type { Command } from '../protocol/reader';
import { copyMessages, moveMessages, type CopyResult } from '../../store/imap-messages';
import { commitWrite } from '../store-writes';
import { mailboxOwner, messagesUsage } from '../../store/quota';
import { formatSequenceSet } from '../protocol/sequence';
import { expectEnd } from '../protocol/tokens';
import type { ImapSession } from '../session';
import {
  announceChange,
  anyExpunged,
  currentMailbox,
  destinationMailbox,
  expungeIssued,
  isCompletion,
  mailboxRefusal,
  quotaRefusal,
  targetRanges,
  uidsOf,
} from './message-common';
import { no, ok, SELECTED, type CommandHandler, type Completion } from './registry';

/** `COPYUID <uidvalidity> <source UIDs> <destination UIDs>`, both sets in the same order. */
function copyUid(result: CopyResult): string {
  const sources = formatSequenceSet(result.pairs.map((pair) => pair.srcUid));
  const destinations = formatSequenceSet(result.pairs.map((pair) => pair.dstUid));
  return `COPYUID ${result.uidValidity} ${sources} ${destinations}`;
}

async function run(session: ImapSession, command: Command, move: boolean): Promise<Completion> {
  const name = `${command.uid ? 'UID ' : ''}${move ? 'MOVE' : 'COPY'}`;
  // Expunges wait for the end of the command when the set is made of sequence numbers.
  const selected = currentMailbox(session, command.uid);
  const uids = uidsOf(selected, targetRanges(selected, command.args[0], command.uid));
  const destination = destinationMailbox(session, command.args[1]);
  expectEnd(command.args, 2);
  if (isCompletion(destination)) return destination;
  if (move && selected.readOnly) return no('The mailbox is open read-only (EXAMINE): use COPY', 'CANNOT');
  // RFC 2180 section 4.4.1: a COPY naming a message another session expunged fails as a whole.
  if (!command.uid && anyExpunged(selected, uids)) return expungeIssued();
  const present = uids.filter((uid) => !selected.isExpunged(uid));
  if (present.length === 0) return ok(`${name} completed (no messages)`);

  // RFC 9208 section 7.1: what lands in another box counts against that box's quota
  const sourceOwner = mailboxOwner(session.db, selected.mailboxId);
  if (!move || sourceOwner !== destination.ownerAccountId) {
    const overQuota = quotaRefusal(session, destination.ownerAccountId, messagesUsage(session.db, selected.mailboxId, present));
    if (overQuota) return overQuota;
  }

  try {
    if (!move) {
      const result = await commitWrite(session, (db) => copyMessages(db, selected.mailboxId, present, destination.mailboxId));
      if (result.pairs.length > 0) announceChange(session, destination.mailboxId);
      return result.pairs.length > 0 ? ok(`${name} completed`, copyUid(result)) : ok(`${name} completed (no messages)`);
    }
    const result = await commitWrite(session, (db) => moveMessages(db, selected.mailboxId, present, destination.mailboxId));
    if (result.pairs.length === 0) return ok(`${name} completed (no messages)`);
    // RFC 6851 section 4.3: COPYUID in an untagged OK before the EXPUNGEs, which dispatch sends
    // after this handler (flushUpdates with expunges allowed), before the tagged OK.
    session.untagged(`OK [${copyUid(result)}] Moved`);
    selected.markExpunged(result.expunged);
    announceChange(session, destination.mailboxId);
    if (destination.mailboxId !== selected.mailboxId) announceChange(session, selected.mailboxId);
    return ok(`${name} completed`);
  } catch (err) {
    return mailboxRefusal(err);
  }
}

export const copy: CommandHandler = {
  name: 'COPY',
  states: SELECTED,
  run: (session, command) => run(session, command, false),
};

export const move: CommandHandler = {
  name: 'MOVE',
  states: SELECTED,
  run: (session, command) => run(session, command, true),
};
