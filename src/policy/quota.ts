// Box quotas (RFC 9208 QUOTA, issue 12): whether adding messages to a box stays within its limits.
// Pure: the caller reads the usage from the store and the limits from the config.

export interface QuotaLimits {
  /** Octets for all the folders of a box; 0 = no limit (limits.quotaStorageBytes). */
  storageBytes: number;
  /** Messages for all the folders of a box; 0 = no limit (limits.quotaMessages). */
  messages: number;
}

export interface QuotaUsage {
  bytes: number;
  messages: number;
}

export type QuotaResource = 'STORAGE' | 'MESSAGE';

/**
 * The resource that `adding` would take past its limit, or null when it fits. A box exactly at
 * its limit refuses any further message; an empty addition only fails when the box is already
 * over (a limit lowered after the fact).
 */
export function quotaExceeded(usage: QuotaUsage, limits: QuotaLimits, adding: QuotaUsage): QuotaResource | null {
  if (limits.storageBytes > 0 && usage.bytes + adding.bytes > limits.storageBytes) return 'STORAGE';
  if (limits.messages > 0 && usage.messages + adding.messages > limits.messages) return 'MESSAGE';
  return null;
}

/** Whether a box is full: not even a one-octet message would fit (SMTP RCPT answers 452 4.2.2). */
export function quotaFull(usage: QuotaUsage, limits: QuotaLimits): boolean {
  return quotaExceeded(usage, limits, { bytes: 1, messages: 1 }) !== null;
}

/** RFC 9208 section 5.1 STORAGE is in units of 1024 octets, rounded up. */
export function storageUnits(bytes: number): number {
  return Math.ceil(bytes / 1024);
}
