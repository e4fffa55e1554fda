// What follows an opening (R9), once IMAP has recorded that a local recipient box opened a message
// for the first time (src/imap/commands/opening-hook.ts):
//
// - when a local box sent it (through submission), the sender sees the status on their copy in
//   their \Sent folder, matched by Message-ID: keyword `$MSSOpenedSome` while some local recipients
//   have opened it, `$MSSOpenedAll` (and no longer `$MSSOpenedSome`) once all have. The copies are
//   looked for in the Sent folders of the box the message was sent as (an ORG box when sent as it)
//   and of the person who sent it. A flag change takes a new MODSEQ (RFC 7162) like any STORE, and
//   the caller wakes the IMAP sessions that have those folders selected;
// - when every local recipient has opened it and the sending box asked for it (notify_opening), one
//   opening notice to the box's login address (an ORG: its contact address), queued once per
//   message however many times the status is computed again.
//
// Recipients at other operators never count: their opening cannot be known ("unknown").
import { boxRulesOf } from '../store/box-rules';
import { findBox } from '../store/boxes';
import type { Db } from '../store/database';
import { fetchMessages, flagNames, storeFlags } from '../store/imap-messages';
import { hasOpeningNotice, insertNotice } from '../store/notices';
import { openingStatus, sentCopies, submittedMessage } from '../store/openings';

export const OPENED_SOME = '$MSSOpenedSome';
export const OPENED_ALL = '$MSSOpenedAll';

export interface OpeningEffects {
  /** Mailboxes whose messages changed flags (IMAP sessions to wake). */
  mailboxes: number[];
  /** An opening notice was queued. */
  notices: boolean;
}

/** Inside the caller's transaction, right after an opening of `messageId` was recorded. */
export function applyOpening(db: Db, messageId: string, at: number): OpeningEffects {
  const effects: OpeningEffects = { mailboxes: [], notices: false };
  const sent = submittedMessage(db, messageId);
  if (!sent || sent.mailFrom === '') return effects;
  const status = openingStatus(db, messageId);
  if (!status || status.local.length === 0 || status.status === 'none') return effects;
  const senderBox = findBox(db, sent.mailFrom);
  if (!senderBox) return effects;

  const owners = new Set([senderBox.accountId]);
  const author = sent.authLogin === null ? undefined : findBox(db, sent.authLogin);
  if (author) owners.add(author.accountId);
  for (const [mailboxId, uids] of sentCopies(db, [...owners], messageId)) {
    let changed = 0;
    if (status.status === 'some') {
      changed = storeFlags(db, mailboxId, uids, 'add', [OPENED_SOME]).changed.length;
    } else {
      // "Some" becomes "all" in one change per message (one MODSEQ, one FETCH for IDLE sessions).
      for (const message of fetchMessages(db, mailboxId, uids)) {
        const keywords = [...message.keywords.filter((keyword) => keyword !== OPENED_SOME && keyword !== OPENED_ALL), OPENED_ALL];
        changed += storeFlags(db, mailboxId, [message.uid], 'set', flagNames(message.flags, keywords)).changed.length;
      }
    }
    if (changed > 0) effects.mailboxes.push(mailboxId);
  }

  if (status.status === 'all') {
    const rules = boxRulesOf(db, senderBox.accountId, at);
    if (rules && rules.status === 'active' && rules.notifyOpening && !hasOpeningNotice(db, rules.accountId, status.messageId)) {
      insertNotice(db, {
        kind: 'opening',
        accountId: rules.accountId,
        recipient: rules.login,
        payload: { box: rules.address, messageId: status.messageId, sentAt: sent.receivedAt, recipients: status.local.length, openedAt: at },
        at,
      });
      effects.notices = true;
    }
  }
  return effects;
}
