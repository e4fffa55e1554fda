// SELECT and EXAMINE (RFC 3501 sections 6.3.1, 6.3.2) with the CONDSTORE select parameter and
// HIGHESTMODSEQ (RFC 7162 sections 3.1.2, 3.1.8), the QRESYNC select parameter (section 3.2.5,
// see ../qresync.ts) and the CLOSED response code (section 3.2.11).
//
// Decisions:
// - A SELECT or EXAMINE while a mailbox is selected first closes that mailbox, without
//   expunging, and says so with "* OK [CLOSED]" before anything about the new one; when the new
//   one cannot be opened, the session stays in the authenticated state (RFC 3501 section 6.3.1).
// - A name that does not resolve (missing, \Noselect, an ORG box the person is not or no longer
//   linked to) gets NO [NONEXISTENT] with the same words in every case (R6: nothing to learn).
// - Every count describes the session's own view (EXISTS, UNSEEN's sequence number, RECENT:
//   the messages this session shows with \Recent; EXAMINE shows them too without claiming them),
//   HIGHESTMODSEQ is the value that view is up to date with, never a later one a client could
//   take as "already seen". UIDNEXT is the store's when the view was read, or above the last UID
//   of the view: a message delivered meanwhile reaches the client as EXISTS right after.
// - FLAGS and PERMANENTFLAGS list the system flags and the keywords already used in the mailbox
//   (Thunderbird reads its tags from there, README "Client quirks"); \* lets a client create
//   keywords (issue 3).
// - EXAMINE answers PERMANENTFLAGS () as in the RFC's example: nothing can be changed.
import { resolveMailbox } from '../../store/mailbox-view';
import { FLAG_BITS } from '../../store/messages';
import { badSyntax } from '../protocol/errors';
import { describeToken, expectEnd, expectList, isWord, type Token } from '../protocol/tokens';
import { parseQresyncParameters, vanishedEarlierLine, vanishedSince, type QresyncParameters } from '../qresync';
import { SelectedMailbox } from '../selected';
import type { ImapSession } from '../session';
import { mailboxArgument, nonexistent } from './mailbox-args';
import { AUTHENTICATED, type CommandHandler, type Completion } from './registry';

const SEEN = FLAG_BITS['\\Seen'];

function open(session: ImapSession, args: readonly Token[], readOnly: boolean): Completion {
  const mailbox = mailboxArgument(args[0]);
  let condstore = false;
  let qresync: QresyncParameters | null = null;
  if (args.length > 1) {
    // select-params (RFC 4466 section 2.1): "(" select-param *(SP select-param) ")"
    const params = expectList(args[1], 'select parameters such as (CONDSTORE)');
    for (let i = 0; i < params.length; i++) {
      const param = params[i];
      if (isWord(param, 'CONDSTORE')) {
        condstore = true;
      } else if (isWord(param, 'QRESYNC')) {
        // RFC 7162 section 3.2.5: BAD unless ENABLE QRESYNC came first.
        if (!session.qresync) throw badSyntax('QRESYNC needs ENABLE QRESYNC first (RFC 7162 section 3.2.5)');
        qresync = parseQresyncParameters(params[++i]);
        condstore = true;
      } else {
        throw badSyntax(`Unknown select parameter ${describeToken(param)}; this server knows (CONDSTORE) and (QRESYNC (...))`);
      }
    }
  }
  expectEnd(args, 2);

  if (session.selected) {
    session.deselect();
    session.untagged('OK [CLOSED] Previous mailbox closed');
  }
  if (condstore) session.enabled.add('CONDSTORE');

  const resolved = resolveMailbox(session.db, session.user!.accountId, mailbox.name);
  if (!resolved) return nonexistent(mailbox.name);
  const selected = SelectedMailbox.open(session.db, resolved.mailboxId, resolved.viewName, readOnly);
  if (!selected) return nonexistent(mailbox.name);
  const lastUid = selected.exists > 0 ? selected.uids[selected.exists - 1] : 0;
  const uidNext = Math.max(selected.uidNextAtOpen, lastUid + 1);
  let firstUnseen = 0;
  for (let i = 0; i < selected.exists; i++) {
    if ((selected.flagBits[i] & SEEN) === 0) {
      firstUnseen = i + 1;
      break;
    }
  }

  for (const line of selected.flagsLines()) session.io.write(`${line}\r\n`);
  session.untagged(`${selected.exists} EXISTS`);
  session.untagged(`${selected.recent.size} RECENT`);
  if (firstUnseen > 0) session.untagged(`OK [UNSEEN ${firstUnseen}] First message not yet read`);
  session.untagged(`OK [UIDVALIDITY ${selected.uidValidity}] UIDs valid`);
  session.untagged(`OK [UIDNEXT ${uidNext}] Predicted next UID`);
  session.untagged(`OK [HIGHESTMODSEQ ${selected.knownModseq}] Highest modification sequence`);
  // RFC 7162 section 3.2.5: what changed since the client's MODSEQ, when its UIDVALIDITY holds.
  if (qresync && qresync.uidValidity === selected.uidValidity) resynchronise(session, selected, qresync);

  session.selected = selected;
  session.state = 'selected';
  return readOnly
    ? { status: 'OK', code: 'READ-ONLY', text: 'EXAMINE completed, mailbox open read-only' }
    : { status: 'OK', code: 'READ-WRITE', text: 'SELECT completed' };
}

/**
 * VANISHED (EARLIER) for the known UIDs expunged since the client's MODSEQ, then a FETCH (UID,
 * FLAGS, MODSEQ) for every message changed or added since (RFC 7162 section 3.2.5).
 */
function resynchronise(session: ImapSession, selected: SelectedMailbox, qresync: QresyncParameters): void {
  const vanished = vanishedEarlierLine(vanishedSince(session.db, selected, qresync.modseq, qresync.knownUids));
  if (vanished) session.io.write(`${vanished}\r\n`);
  for (let i = 0; i < selected.exists; i++) {
    if (selected.modseqs[i] > qresync.modseq) session.io.write(`${selected.fetchFlagsLine(i, true)}\r\n`);
  }
}

export const select: CommandHandler = {
  name: 'SELECT',
  states: AUTHENTICATED,
  run(session, command) {
    return open(session, command.args, false);
  },
};

export const examine: CommandHandler = {
  name: 'EXAMINE',
  states: AUTHENTICATED,
  run(session, command) {
    return open(session, command.args, true);
  },
};
