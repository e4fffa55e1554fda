// The audit trail: who sent what to whom, when, with what outcome. Never a message body.
import type { CommitBatcher } from './commit-batcher';
import { cachedStatement, type Db } from './database';

export interface AuditRecord {
  event: string;
  source?: string | null;
  queueId?: string | null;
  peer?: string | null;
  authLogin?: string | null;
  mailFrom?: string | null;
  recipients?: string[];
  messageId?: string | null;
  size?: number | null;
  outcome: string;
  detail?: string | null;
}

export function insertAudit(db: Db, record: AuditRecord, at = Date.now()): void {
  cachedStatement(
    db,
    `INSERT INTO audit (at, event, source, queue_id, peer, auth_login, mail_from, recipients, message_id, size,
       outcome, detail)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    at,
    record.event,
    record.source ?? null,
    record.queueId ?? null,
    record.peer ?? null,
    record.authLogin ?? null,
    record.mailFrom ?? null,
    record.recipients ? JSON.stringify(record.recipients) : null,
    record.messageId ?? null,
    record.size ?? null,
    record.outcome,
    record.detail ?? null,
  );
}

/** Records an audit row with the next group commit, without making the caller wait for it. */
export function recordAudit(batcher: CommitBatcher, record: AuditRecord, onError: (err: unknown) => void): void {
  const at = Date.now();
  batcher.run((db) => insertAudit(db, record, at)).catch(onError);
}
