// The rules of a box (R7–R9) and what the router reads of them when a message lands in it. The
// operator writes forwards (R7) and the automatic reply (R8) here (`mssd forward …`,
// `mssd autoreply …`); the router reads which rules apply (forwards, an automatic reply in force,
// reception notices), who gets the notices, and the senders already answered by the automatic
// reply (autoreply_log).
import type { BoxStatus, BoxType } from '../policy/box-types';
import { findBox } from './boxes';
import { cachedStatement, type Db } from './database';
import { auditAccountChange as audit, checkAddressSyntax, getAccount, refuse, requiredText, type ChangeSource } from './accounts';
import { domainOf } from '../policy/identity';

// ---------------------------------------------------------------------------------------------
// Forwards (R7)

/** Whether R1 lets mail leave towards a domain (supplied by the caller from the trust space). */
export type DestinationCheck = (domain: string) => boolean;

export interface ForwardRules {
  isAllowedDomain: DestinationCheck;
  /** trustSpace.patientDomain: refused as a forward target (a patient never gets a box's mail). */
  patientDomain: string;
}

/**
 * Adds a forward. The target must be a valid address that R1 allows — a local box, or a domain
 * the trust-space check accepts — and not an address of the box itself. A MED box may forward
 * only to local boxes (R2). The patient domain is refused: a patient is written to one message at
 * a time, never sent a copy of a professional's mail (R4).
 */
export function addForward(db: Db, boxAddress: string, target: string, rules: ForwardRules, source: ChangeSource = 'cli'): void {
  checkAddressSyntax('forward target', target);
  db.transaction(() => {
    const account = getAccount(db, boxAddress);
    const targetBox = findBox(db, target);
    if (targetBox?.accountId === account.id) {
      refuse(`${target} is an address of this box: a box cannot forward to itself`);
    }
    const domain = domainOf(target);
    if (!targetBox) {
      if (domain === rules.patientDomain.toLowerCase()) refuse(`forwarding to a patient address (${domain}) is not allowed (R4)`);
      if (account.type === 'MED') refuse(`a MED box may forward only to local boxes (R2): ${target} is not one`);
      if (!rules.isAllowedDomain(domain)) refuse(`${domain} is outside the MSSanté trust space (R1): forward refused`);
    }
    const exists = db.prepare('SELECT 1 FROM forwards WHERE account_id = ? AND target = ?').get(account.id, target);
    if (exists) refuse(`${account.login} already forwards to ${target}`);
    db.prepare('INSERT INTO forwards (account_id, target, created_at) VALUES (?, ?, ?)').run(account.id, target, Date.now());
    audit(db, account.login, 'forward-added', { target }, source);
  }).immediate();
}

export function removeForward(db: Db, boxAddress: string, target: string, source: ChangeSource = 'cli'): void {
  db.transaction(() => {
    const account = getAccount(db, boxAddress);
    const result = db.prepare('DELETE FROM forwards WHERE account_id = ? AND target = ?').run(account.id, target);
    if (result.changes === 0) refuse(`${account.login} does not forward to ${target}`);
    audit(db, account.login, 'forward-removed', { target }, source);
  }).immediate();
}

export function listForwards(db: Db, accountId: number): string[] {
  return (
    db.prepare('SELECT target FROM forwards WHERE account_id = ? ORDER BY target').all(accountId) as Array<{
      target: string;
    }>
  ).map((row) => row.target);
}

// ---------------------------------------------------------------------------------------------
// Automatic replies (R8)

export interface Autoreply {
  startAt: number;
  endAt: number;
  subject: string;
  body: string;
}

export const MAX_AUTOREPLY_BODY_BYTES = 64 * 1024;

/**
 * Sets (or replaces) the automatic reply of a box. A new period starts afresh: the senders already
 * answered are forgotten (RFC 3834 section 2: once per sender per period).
 */
export function setAutoreply(db: Db, boxAddress: string, reply: Autoreply, now = Date.now(), source: ChangeSource = 'cli'): void {
  if (!Number.isFinite(reply.startAt) || !Number.isFinite(reply.endAt)) refuse('invalid automatic reply dates');
  if (reply.endAt <= reply.startAt) refuse('the automatic reply must end after it starts');
  if (reply.endAt <= now) refuse('the automatic reply would end in the past');
  const subject = requiredText('subject', reply.subject, 200);
  if (reply.body.trim() === '') refuse('the automatic reply body is empty');
  if (Buffer.byteLength(reply.body, 'utf8') > MAX_AUTOREPLY_BODY_BYTES) {
    refuse(`the automatic reply body is larger than ${MAX_AUTOREPLY_BODY_BYTES / 1024} KiB`);
  }
  db.transaction(() => {
    const account = getAccount(db, boxAddress);
    db.prepare(
      `INSERT INTO autoreplies (account_id, start_at, end_at, subject, body, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT(account_id) DO UPDATE SET start_at = excluded.start_at, end_at = excluded.end_at,
         subject = excluded.subject, body = excluded.body, updated_at = excluded.updated_at`,
    ).run(account.id, reply.startAt, reply.endAt, subject, reply.body, now);
    db.prepare('DELETE FROM autoreply_log WHERE account_id = ?').run(account.id);
    audit(db, account.login, 'autoreply-set', { start: reply.startAt, end: reply.endAt }, source);
  }).immediate();
}

/** Removes the automatic reply of a box; returns false when it had none (not an error). */
export function clearAutoreply(db: Db, boxAddress: string, source: ChangeSource = 'cli'): boolean {
  return db.transaction(() => {
    const account = getAccount(db, boxAddress);
    const result = db.prepare('DELETE FROM autoreplies WHERE account_id = ?').run(account.id);
    db.prepare('DELETE FROM autoreply_log WHERE account_id = ?').run(account.id);
    if (result.changes > 0) audit(db, account.login, 'autoreply-cleared', {}, source);
    return result.changes > 0;
  }).immediate();
}

export function getAutoreply(db: Db, accountId: number): Autoreply | null {
  const row = db
    .prepare('SELECT start_at, end_at, subject, body FROM autoreplies WHERE account_id = ?')
    .get(accountId) as { start_at: number; end_at: number; subject: string; body: string } | undefined;
  return row ? { startAt: row.start_at, endAt: row.end_at, subject: row.subject, body: row.body } : null;
}

// ---------------------------------------------------------------------------------------------
// At delivery (read by the router)

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
