// STORE and UID STORE (RFC 3501 sections 6.4.6 and 6.4.8): FLAGS, +FLAGS, -FLAGS, .SILENT, with
// the RFC 7162 section 3.1.3 UNCHANGEDSINCE modifier and its MODIFIED response code. System
// flags and keywords (PERMANENTFLAGS \*: Thunderbird's $label1, $MDNSent, Junk..., README
// "Client quirks") are stored;
// \Recent is the server's (parseFlag refuses it).
import { setFlags } from '../../store/flags';
import { commitChange } from '../store-writes';
import type { FlagState } from '../../store/imap-messages';
import { parseStoreArguments } from '../protocol/flags';
import { formatSequenceSet, rangesSize } from '../protocol/sequence';
import { announceFlagChange, currentMailbox, mailboxRefusal, ResponseStream, targetRanges, uidsOf } from './message-common';
import { no, ok, SELECTED, type CommandHandler } from './registry';

export const store: CommandHandler = {
  name: 'STORE',
  states: SELECTED,
  holdsExpunges: (command) => !command.uid,
  async run(session, command) {
    const selected = currentMailbox(session, command.uid);
    const ranges = targetRanges(selected, command.args[0], command.uid);
    const request = parseStoreArguments(command.args.slice(1));
    if (selected.readOnly) return no('The mailbox is open read-only (EXAMINE): flags cannot change', 'CANNOT');
    if (request.unchangedSince !== null) session.enableCondstore(); // RFC 7162 section 3.1: a CONDSTORE enabling command
    const uids = uidsOf(selected, ranges).filter((uid) => !selected.isExpunged(uid));
    if (uids.length === 0) return ok(rangesSize(ranges) === 0 ? 'STORE completed (no messages)' : 'STORE completed');

    let result;
    try {
      // the flags and the openings they record (R9) in one commit
      result = await commitChange(session, (db) => setFlags(db, {
        mailboxId: selected.mailboxId,
        uids,
        mode: request.operation === 'replace' ? 'set' : request.operation,
        flags: request.flags,
        unchangedSince: request.unchangedSince ?? undefined,
      }));
    } catch (err) {
      return mailboxRefusal(err);
    }
    selected.applyFlagStates(result.changed);
    announceFlagChange(session, result);

    // RFC 3501: the new flags of every message, unless .SILENT. RFC 7162 section 3.1.3: with
    // CONDSTORE, a changed message is reported with its new MODSEQ even under .SILENT.
    const condstore = session.condstore;
    const reported: Array<{ state: FlagState; changed: boolean }> = [];
    for (const state of result.changed) reported.push({ state, changed: true });
    if (!request.silent) for (const state of result.unchanged) reported.push({ state, changed: false });
    reported.sort((a, b) => a.state.uid - b.state.uid);
    const out = new ResponseStream(session.io);
    // a keyword new to the mailbox: FLAGS and PERMANENTFLAGS first (RFC 3501 section 7.2.6)
    for (const line of selected.newKeywordLines()) out.write(`${line}\r\n`);
    for (const { state, changed } of reported) {
      const seq = selected.seqOf(state.uid);
      if (seq === 0) continue;
      const items: string[] = [];
      if (command.uid) items.push(`UID ${state.uid}`);
      if (condstore) items.push(`MODSEQ (${selected.modseqs[seq - 1]})`);
      if (!request.silent) items.push(`FLAGS (${selected.flagsAt(seq - 1).join(' ')})`);
      else if (!changed || !condstore) continue;
      out.write(`* ${seq} FETCH (${items.join(' ')})\r\n`);
      if (!(await out.maybeFlush())) break;
    }
    await out.flush();

    if (result.failedUnchangedSince.length > 0) {
      const failed = command.uid
        ? result.failedUnchangedSince
        : result.failedUnchangedSince.map((uid) => selected.seqOf(uid)).filter((seq) => seq > 0);
      return ok('Conditional STORE failed for some messages', `MODIFIED ${formatSequenceSet(failed)}`);
    }
    return ok('STORE completed');
  },
};
