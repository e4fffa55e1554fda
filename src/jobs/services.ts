// What jobs may use. The daemon passes everything; the CLI passes the config, the store and a
// logger, and the jobs do without the rest (the daemon notices the CLI's commits by itself, see
// src/store/external-changes.ts).
import type { Config } from '../config/schema';
import type { TrustSpaceDiff } from '../policy/trustspace';
import type { Db } from '../store/database';
import type { Logger } from '../util/log';
import type { Job } from './job';

/** What a reload changed, as the daemon's reloadTrustSpace reports it. */
export interface AllowlistReload {
  domains: number;
  dns: number;
  counts: TrustSpaceDiff['counts'];
}

export interface JobServices {
  config: Config;
  db: Db;
  log: Logger;
  /** Wakes the IMAP sessions of this process that have `mailboxId` selected (IDLE sees it at once). */
  notifyMailboxChanged?: (mailboxId: number) => void;
  /** Re-reads the allowlist into the running daemon; throws (keeping the old list) when refused. */
  reloadTrustSpace?: () => AllowlistReload;
  /** Wakes the daemon's notice sender (R9) after a job queued notices. */
  noticesQueued?: () => void;
  /** Per mailbox, the lowest MODSEQ an open IMAP session is synchronised to (expunge history). */
  expungedInUse?: () => ReadonlyMap<number, number>;
}

/** Builds a job from the services; the registry (src/jobs/registry.ts) lists these. */
export type JobFactory = (services: JobServices) => Job<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
