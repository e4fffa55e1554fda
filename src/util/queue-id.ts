import { randomBytes } from 'node:crypto';

/** A short id, sortable by time, that names one SMTP transaction in logs, headers and the queue. */
export function newQueueId(): string {
  return Date.now().toString(36).toUpperCase() + randomBytes(4).toString('hex').toUpperCase();
}
