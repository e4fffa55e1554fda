// Opening status (R9): which local recipients of a message have opened it. The first \Seen of a
// message by a recipient box is recorded when its flags are set (src/store/flags.ts);
// `mssd message status` and the opening notification read the status back. Only local recipients
// can be known: remote ones are reported as 'unknown'.
//
// What follows an opening, once a local recipient box opened a message for the first time
// (applyOpening):
//
// - when a local box sent it (through submission), the sender sees the status on their copy in
//   their \Sent folder, matched by Message-ID: keyword `$MSSOpenedSome` while some local recipients
//   have opened it, `$MSSOpenedAll` (and no longer `$MSSOpenedSome`) once all have. The copies are
//   looked for in the Sent folders of the box the message was sent as (an ORG box when sent as it)
//   and of the person who sent it. A flag change takes a new MODSEQ (RFC 7162) like any STORE, and
//   the caller wakes the IMAP sessions that have those folders selected once it has committed;
// - when every local recipient has opened it and the sending box asked for it (notify_opening), one
//   opening notice to the box's login address (an ORG: its contact address), queued once per
//   message however many times the status is computed again (the notice sender, woken after the
//   commit, sends it).
//
// Recipients at other operators never count: their opening cannot be known ("unknown").
import { boxRulesOf } from './box-rules';
import { findBox } from './boxes';
import { cachedStatement, type Db } from './database';
import { fetchMessages, flagNames, storeFlags } from './imap-messages';
import { hasOpeningNotice, insertNotice } from './notices';

export const OPENED_SOME = '$MSSOpenedSome';
export const OPENED_ALL = '$MSSOpenedAll';

/** The Message-ID without its angle brackets (RFC 5322 section 3.6.4 msg-id: "<" id ">"). */
export function bareMessageId(messageId: string): string {
  const trimmed = messageId.trim();
  return trimmed.startsWith('<') && trimmed.endsWith('>') ? trimmed.slice(1, -1).trim() : trimmed;
}

/** Both spellings a Message-ID may have been stored under: with and without angle brackets. */
function spellings(messageId: string): [string, string] {
  const bare = bareMessageId(messageId);
  return [bare, `<${bare}>`];
}

/**
 * Records that `accountId` opened the message; only the first opening counts. Returns true when
 * this call recorded it (the caller may then check whether every recipient has now opened it).
 * The Message-ID is stored in its bracketed form.
 */
export function recordOpening(db: Db, messageId: string, accountId: number, at: number): boolean {
  const [bare, bracketed] = spellings(messageId);
  if (bare === '') throw new Error('empty Message-ID');
  // An opening already stored under the bare spelling counts as the same one.
  const existing = cachedStatement(db, 'SELECT 1 FROM openings WHERE message_id IN (?, ?) AND account_id = ?')
    .get(bare, bracketed, accountId);
  if (existing) return false;
  return (
    cachedStatement(db, 'INSERT OR IGNORE INTO openings (message_id, account_id, opened_at) VALUES (?, ?, ?)')
      .run(bracketed, accountId, at).changes === 1
  );
}

export type OpeningSummary = 'none' | 'some' | 'all';

export interface LocalRecipientOpening {
  address: string;
  accountId: number;
  login: string;
  /** Milliseconds since the epoch; null while unopened. */
  openedAt: number | null;
}

export interface OpeningStatus {
  messageId: string;
  sender: string;
  receivedAt: number;
  /** Over local recipients: none, some or all of them have opened the message. */
  status: OpeningSummary;
  local: LocalRecipientOpening[];
  /** Recipients of other operators: their opening cannot be known. */
  remote: Array<{ address: string; status: 'unknown' }>;
}

/**
 * The opening status of a message, from its deliveries (every accepted SMTP transaction that
 * carried this Message-ID) and the openings recorded; undefined when no delivery carries it.
 * Copies this server wrote itself (source 'internal': a forward's copy to another box) do not
 * count: their recipients are not recipients the sender chose.
 */
export function openingStatus(db: Db, messageId: string): OpeningStatus | undefined {
  const [bare, bracketed] = spellings(messageId);
  if (bare === '') return undefined;
  const delivery = db
    .prepare(
      `SELECT MIN(received_at) AS receivedAt, COUNT(*) AS n,
              (SELECT mail_from FROM deliveries WHERE message_id IN (@bare, @bracketed) AND source <> 'internal'
               ORDER BY received_at, id LIMIT 1) AS sender
       FROM deliveries WHERE message_id IN (@bare, @bracketed) AND source <> 'internal'`,
    )
    .get({ bare, bracketed }) as { receivedAt: number | null; n: number; sender: string | null };
  if (delivery.n === 0) return undefined;

  // A box counts once however many of its addresses (login, MSSanté) the message was sent to.
  const local = db
    .prepare(
      `SELECT MIN(r.address) AS address, r.account_id AS accountId, a.login,
              (SELECT MIN(o.opened_at) FROM openings o WHERE o.account_id = r.account_id AND o.message_id IN (@bare, @bracketed))
                AS openedAt
       FROM delivery_recipients r JOIN deliveries d ON d.id = r.delivery_id JOIN accounts a ON a.id = r.account_id
       WHERE d.message_id IN (@bare, @bracketed) AND d.source <> 'internal' AND r.account_id IS NOT NULL
       GROUP BY r.account_id ORDER BY address`,
    )
    .all({ bare, bracketed }) as LocalRecipientOpening[];
  const remote = db
    .prepare(
      `SELECT DISTINCT r.address FROM delivery_recipients r JOIN deliveries d ON d.id = r.delivery_id
       WHERE d.message_id IN (@bare, @bracketed) AND d.source <> 'internal' AND r.account_id IS NULL ORDER BY r.address`,
    )
    .all({ bare, bracketed }) as Array<{ address: string }>;

  const opened = local.filter((rcpt) => rcpt.openedAt !== null).length;
  const status: OpeningSummary = opened === 0 ? 'none' : opened === local.length ? 'all' : 'some';
  return {
    messageId: bracketed,
    sender: delivery.sender ?? '',
    receivedAt: delivery.receivedAt ?? 0,
    status,
    local,
    remote: remote.map(({ address }) => ({ address, status: 'unknown' as const })),
  };
}

/** The submission that sent a message from a local box: who sent it, as whom, and when. */
export interface SubmittedMessage {
  mailFrom: string;
  authLogin: string | null;
  receivedAt: number;
}

/** The first submission (source 'submission') that carried this Message-ID, if any. */
export function submittedMessage(db: Db, messageId: string): SubmittedMessage | undefined {
  const [bare, bracketed] = spellings(messageId);
  return cachedStatement(
    db,
    `SELECT mail_from AS mailFrom, auth_login AS authLogin, received_at AS receivedAt FROM deliveries
     WHERE message_id IN (?, ?) AND source = 'submission' ORDER BY id LIMIT 1`,
  ).get(bare, bracketed) as SubmittedMessage | undefined;
}

/** The copies of a message (by Message-ID) in the \Sent folders of these boxes, per mailbox. */
export function sentCopies(db: Db, accountIds: readonly number[], messageId: string): Map<number, number[]> {
  const [bare, bracketed] = spellings(messageId);
  const rows = cachedStatement(
    db,
    `SELECT m.mailbox_id AS mailboxId, m.uid FROM messages m JOIN mailboxes mb ON mb.id = m.mailbox_id
     WHERE m.message_id IN (?, ?) AND mb.special_use = '\\Sent' AND mb.account_id IN (SELECT value FROM json_each(?))
     ORDER BY m.mailbox_id, m.uid`,
  ).all(bare, bracketed, JSON.stringify(accountIds)) as Array<{ mailboxId: number; uid: number }>;
  const copies = new Map<number, number[]>();
  for (const row of rows) copies.set(row.mailboxId, [...(copies.get(row.mailboxId) ?? []), row.uid]);
  return copies;
}

// ---------------------------------------------------------------------------------------------
// What follows an opening

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
