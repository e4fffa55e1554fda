// The daily digest (R9, `schedules.digest`): for every active box whose owner asked for it
// (notify_daily), one notice to its login address (an ORG: its contact address) saying whether
// new mail arrived in the 24 hours before the run, and how many messages. The notices are rows of
// `notices`, sent by the daemon's notice sender like the others (src/delivery/notices.ts): a
// relay that is down delays them, the job itself does not wait for it.
//
// One digest per box and local day (`schedules.timezone`): a second run the same day (a restart,
// a run by hand) queues nothing new. The job also forgets notices sent longer ago than the
// messages they speak of are kept (retention.days).
import type { Config } from '../config/schema';
import { deliveriesPerBox, digestBoxes } from '../store/box-rules';
import type { Db } from '../store/database';
import { deleteOldNotices, hasDigestNotice, insertNotice } from '../store/notices';
import type { Job } from './job';
import type { JobServices } from './services';

const DAY_MS = 86_400_000;

export interface DigestReport {
  /** Boxes that asked for a digest. */
  boxes: number;
  /** Digest notices queued by this run. */
  queued: number;
  /** Of those, digests that announce new mail. */
  withMail: number;
  /** Boxes whose digest of the day was already queued. */
  alreadyQueued: number;
  /** Old sent notices forgotten. */
  forgotten: number;
}

/** The local day of `at` in `timeZone`, YYYY-MM-DD. */
export function localDay(at: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}

export function runDigest(db: Db, config: Config, now: Date): DigestReport {
  const until = now.getTime();
  const since = until - DAY_MS;
  const day = localDay(now, config.schedules.timezone);
  const report: DigestReport = { boxes: 0, queued: 0, withMail: 0, alreadyQueued: 0, forgotten: 0 };
  db.transaction(() => {
    const counts = deliveriesPerBox(db, since, until);
    for (const box of digestBoxes(db)) {
      report.boxes++;
      if (hasDigestNotice(db, box.accountId, box.login, day)) {
        report.alreadyQueued++;
        continue;
      }
      const count = counts.get(box.accountId) ?? 0;
      insertNotice(db, { kind: 'digest', accountId: box.accountId, recipient: box.login, payload: { box: box.address, day, count, since, until }, at: until });
      report.queued++;
      if (count > 0) report.withMail++;
    }
    report.forgotten = deleteOldNotices(db, until - (config.retention.days + 1) * DAY_MS);
  }).immediate();
  return report;
}

export function digestJob(services: JobServices): Job<DigestReport> {
  return {
    name: 'digest',
    schedule: services.config.schedules.digest,
    run: async (ctx) => {
      const report = runDigest(services.db, services.config, ctx.now);
      if (report.queued > 0) services.noticesQueued?.();
      return report;
    },
  };
}
