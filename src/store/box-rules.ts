// What the router reads about a box when a message lands in it (R7–R9): which rules apply
// (forwards, an automatic reply in force, reception notices), who gets the notices, and the senders
// already answered by the automatic reply. The settings themselves are written by the operator
// through src/store/accounts.ts; this module only reads them, plus autoreply_log.
import type { BoxStatus, BoxType } from '../policy/box-types';
import { cachedStatement, type Db } from './database';

export interface BoxRules {
  accountId: number;
  type: BoxType;
  status: BoxStatus;
  login: string;
  /** The address the box is known by: its (first) MSSanté address, else its login (MED). */
  address: string;
  notifyEach: boolean;
  notifyOpening: boolean;
  hasForwards: boolean;
  /** An automatic reply is set and `now` lies between its start and end. */
  autoreplyActive: boolean;
  /** ORG only: some active member asked for the ORG's reception notices. */
  memberNotices: boolean;
}

interface RulesRow {
  type: BoxType;
  status: BoxStatus;
  login: string;
  address: string | null;
  notify_each: number;
  notify_opening: number;
  has_forwards: number;
  autoreply_active: number;
  member_notices: number;
}

/** One indexed query per box and delivery: the hot path pays nothing more for boxes without rules. */
export function boxRulesOf(db: Db, accountId: number, now: number): BoxRules | undefined {
  const row = cachedStatement(
    db,
    `SELECT a.type, a.status, a.login, a.notify_each, a.notify_opening,
            (SELECT MIN(ad.address) FROM addresses ad WHERE ad.account_id = a.id AND ad.kind = 'mssante') AS address,
            EXISTS (SELECT 1 FROM forwards f WHERE f.account_id = a.id) AS has_forwards,
            EXISTS (SELECT 1 FROM autoreplies r WHERE r.account_id = a.id AND r.start_at <= @now AND r.end_at > @now) AS autoreply_active,
            EXISTS (SELECT 1 FROM org_members m JOIN accounts p ON p.id = m.member_id
                    WHERE m.org_id = a.id AND m.notify = 1 AND p.status = 'active') AS member_notices
     FROM accounts a WHERE a.id = @id`,
  ).get({ id: accountId, now }) as RulesRow | undefined;
  if (!row) return undefined;
  return {
    accountId,
    type: row.type,
    status: row.status,
    login: row.login,
    address: row.address ?? row.login,
    notifyEach: row.notify_each === 1,
    notifyOpening: row.notify_opening === 1,
    hasForwards: row.has_forwards === 1,
    autoreplyActive: row.autoreply_active === 1,
    memberNotices: row.member_notices === 1,
  };
}

/**
 * Who is told of a reception in a box (R9): the box's login when its owner asked (notify_each; for
 * an ORG the login is its contact address), and for an ORG each active linked person whose own
 * switch for this ORG is on, at their login.
 */
export function receptionNoticeRecipients(db: Db, rules: BoxRules): string[] {
  const recipients: string[] = [];
  if (rules.notifyEach) recipients.push(rules.login);
  if (rules.type === 'ORG' && rules.memberNotices) {
    const members = cachedStatement(
      db,
      `SELECT p.login FROM org_members m JOIN accounts p ON p.id = m.member_id
       WHERE m.org_id = ? AND m.notify = 1 AND p.status = 'active' ORDER BY p.login`,
    ).all(rules.accountId) as Array<{ login: string }>;
    for (const { login } of members) {
      if (!recipients.some((other) => other.toLowerCase() === login.toLowerCase())) recipients.push(login);
    }
  }
  return recipients;
}

/** Every address of a box, lower case (login and MSSanté addresses). */
export function boxAddresses(db: Db, accountId: number): string[] {
  return (cachedStatement(db, 'SELECT address FROM addresses WHERE account_id = ?').all(accountId) as Array<{ address: string }>).map((row) =>
    row.address.toLowerCase(),
  );
}

/** When the automatic reply of a box last answered `sender`, or null. */
export function autoreplySentAt(db: Db, accountId: number, sender: string): number | null {
  const row = cachedStatement(db, 'SELECT sent_at FROM autoreply_log WHERE account_id = ? AND sender = ?').get(accountId, sender) as
    | { sent_at: number }
    | undefined;
  return row?.sent_at ?? null;
}

/** Remembers that the automatic reply of a box answered `sender` at `at` (RFC 3834 section 2). */
export function recordAutoreplySent(db: Db, accountId: number, sender: string, at: number): void {
  cachedStatement(
    db,
    `INSERT INTO autoreply_log (account_id, sender, sent_at) VALUES (?, ?, ?)
     ON CONFLICT(account_id, sender) DO UPDATE SET sent_at = excluded.sent_at`,
  ).run(accountId, sender, at);
}

/** The boxes whose owner asked for a daily digest (R9), active ones only. */
export function digestBoxes(db: Db): BoxRules[] {
  const ids = db.prepare(`SELECT id FROM accounts WHERE notify_daily = 1 AND status = 'active' ORDER BY id`).all() as Array<{ id: number }>;
  return ids.map(({ id }) => boxRulesOf(db, id, Date.now())).filter((rules): rules is BoxRules => rules !== undefined);
}

/**
 * How many messages were delivered into each box between `since` (excluded) and `until`
 * (included), from the deliveries recorded: one scan of that period's deliveries for all boxes.
 */
export function deliveriesPerBox(db: Db, since: number, until: number): Map<number, number> {
  const rows = db
    .prepare(
      `SELECT r.account_id AS accountId, COUNT(DISTINCT d.id) AS n
       FROM deliveries d JOIN delivery_recipients r ON r.delivery_id = d.id
       WHERE d.received_at > ? AND d.received_at <= ? AND r.account_id IS NOT NULL AND r.outcome = 'delivered'
       GROUP BY r.account_id`,
    )
    .all(since, until) as Array<{ accountId: number; n: number }>;
  return new Map(rows.map((row) => [row.accountId, row.n]));
}
