// What the monthly activity report (src/report/monthly.ts, `mssd report monthly`) reads: counts
// over a period [from, to), never an address or a subject leaves this file.
import type { Db } from './database';

export interface Count { key: string[]; n: number }

/**
 * Messages by direction and BAL type of the local party, one per (message, direction, type):
 * - `received`: accepted by the MTA from another operator, by the type of the local recipient box;
 * - `internal`: submitted and delivered to a local box, by the type of the sending box;
 * - `sent`: submitted to another operator's address (queued outbound), by the sending box's type;
 * - `patient`: submitted to a patient address (`patientDomain`), by the sending box's type.
 * The sending box is the box of the envelope sender (an ORG when a member sends as it), else the
 * authenticated login's box.
 */
export function messageCounts(db: Db, from: number, to: number, patientDomain: string): Count[] {
  const rows = db
    .prepare(
      `WITH period AS (SELECT * FROM deliveries WHERE received_at >= @from AND received_at < @to),
       sender AS (
         SELECT d.id, COALESCE(
           (SELECT a.type FROM addresses ad JOIN accounts a ON a.id = ad.account_id WHERE ad.address = d.mail_from),
           (SELECT a.type FROM accounts a WHERE a.login = d.auth_login), '?') AS type
         FROM period d WHERE d.source = 'submission'),
       parties AS (
         SELECT DISTINCT 'received' AS direction, COALESCE(a.type, '?') AS type, d.id
         FROM period d JOIN delivery_recipients r ON r.delivery_id = d.id LEFT JOIN accounts a ON a.id = r.account_id
         WHERE d.source = 'mta' AND r.outcome = 'delivered'
         UNION
         SELECT DISTINCT CASE
             WHEN r.account_id IS NOT NULL THEN 'internal'
             WHEN lower(substr(r.address, instr(r.address, '@') + 1)) = lower(@patientDomain) THEN 'patient'
             ELSE 'sent' END, s.type, d.id
         FROM period d JOIN sender s ON s.id = d.id JOIN delivery_recipients r ON r.delivery_id = d.id)
       SELECT direction, type, COUNT(*) AS n FROM parties GROUP BY direction, type ORDER BY direction, type`,
    )
    .all({ from, to, patientDomain }) as Array<{ direction: string; type: string; n: number }>;
  return rows.map((row) => ({ key: [row.direction, row.type], n: row.n }));
}

/**
 * Boxes by type and status as they stood at `to`: boxes created before it, with the status and
 * type they had then — the current ones, unless the audit trail shows a later change (then the
 * `from` of the first change after `to`).
 */
export function boxCountsAt(db: Db, to: number): Count[] {
  const rows = db
    .prepare(
      `WITH later AS (
         SELECT au.id, au.at, au.outcome, json_extract(au.detail, '$.box') AS box, json_extract(au.detail, '$.from') AS was
         FROM audit au WHERE au.event = 'account' AND au.at >= @to AND au.outcome IN ('validated', 'suspended', 'type-changed')
           AND json_valid(au.detail))
       SELECT
         COALESCE((SELECT l.was FROM later l WHERE l.box = a.login AND l.outcome = 'type-changed' ORDER BY l.at, l.id LIMIT 1), a.type) AS type,
         COALESCE((SELECT l.was FROM later l WHERE l.box = a.login AND l.outcome IN ('validated', 'suspended') ORDER BY l.at, l.id LIMIT 1), a.status) AS status,
         COUNT(*) AS n
       FROM accounts a WHERE a.created_at < @to GROUP BY 1, 2 ORDER BY 1, 2`,
    )
    .all({ to }) as Array<{ type: string; status: string; n: number }>;
  return rows.map((row) => ({ key: [row.type, row.status], n: row.n }));
}

/** Boxes created in the period, by type at creation (the audit row, else the box's type). */
export function boxesCreated(db: Db, from: number, to: number): Count[] {
  const rows = db
    .prepare(
      `SELECT COALESCE(
         (SELECT json_extract(au.detail, '$.type') FROM audit au WHERE au.event = 'account' AND au.outcome = 'created'
            AND json_valid(au.detail) AND json_extract(au.detail, '$.box') = a.login ORDER BY au.id LIMIT 1), a.type) AS type,
         COUNT(*) AS n
       FROM accounts a WHERE a.created_at >= @from AND a.created_at < @to GROUP BY 1 ORDER BY 1`,
    )
    .all({ from, to }) as Array<{ type: string; n: number }>;
  return rows.map((row) => ({ key: [row.type], n: row.n }));
}

/** Boxes closed (suspended) in the period, by their type now. */
export function boxesClosed(db: Db, from: number, to: number): Count[] {
  const rows = db
    .prepare(
      `SELECT COALESCE(a.type, '?') AS type, COUNT(DISTINCT au.id) AS n
       FROM audit au LEFT JOIN accounts a ON a.login = json_extract(au.detail, '$.box')
       WHERE au.event = 'account' AND au.outcome = 'suspended' AND au.at >= @from AND au.at < @to AND json_valid(au.detail)
       GROUP BY 1 ORDER BY 1`,
    )
    .all({ from, to }) as Array<{ type: string; n: number }>;
  return rows.map((row) => ({ key: [row.type], n: row.n }));
}

/**
 * Logins (audit event 'login', the format agreed in COMMON.md): by protocol (`source`), method
 * (`detail.method`) and whether they succeeded.
 */
export function loginCounts(db: Db, from: number, to: number): Count[] {
  const rows = db
    .prepare(
      `SELECT COALESCE(source, '?') AS protocol,
              COALESCE(CASE WHEN json_valid(detail) THEN json_extract(detail, '$.method') END, '?') AS method,
              CASE WHEN outcome = 'ok' THEN 'ok' ELSE 'failed' END AS result, COUNT(*) AS n
       FROM audit WHERE event = 'login' AND at >= @from AND at < @to GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
    )
    .all({ from, to }) as Array<{ protocol: string; method: string; result: string; n: number }>;
  return rows.map((row) => ({ key: [row.protocol, row.method, row.result], n: row.n }));
}

/** Notices handed to the notification relay (audit event 'notice', outcome 'sent'), by kind. */
export function noticeCounts(db: Db, from: number, to: number): Count[] {
  const rows = db
    .prepare(
      `SELECT COALESCE(source, '?') AS kind, COUNT(*) AS n FROM audit
       WHERE event = 'notice' AND outcome = 'sent' AND at >= @from AND at < @to GROUP BY 1 ORDER BY 1`,
    )
    .all({ from, to }) as Array<{ kind: string; n: number }>;
  return rows.map((row) => ({ key: [row.kind], n: row.n }));
}
