// When a cron expression fires: the next tick after an instant, in a time zone. node-cron
// computes it (its TimeMatcher, the code that drives its own timers) but exports it only to
// itself; it is loaded from the package's shared bundle so that the times we compute are exactly
// those node-cron fires at.
import path from 'node:path';

interface TimeMatcherLike {
  getNextMatch(date: Date): Date;
}
type TimeMatcherClass = new (pattern: string, timezone?: string) => TimeMatcherLike;

let matcherClass: TimeMatcherClass | undefined;

function timeMatcher(): TimeMatcherClass {
  if (!matcherClass) {
    const shared = path.join(path.dirname(require.resolve('node-cron')), '_shared.cjs');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    matcherClass = (require(shared) as { TimeMatcher: TimeMatcherClass }).TimeMatcher;
    if (typeof matcherClass !== 'function') throw new Error('node-cron no longer provides TimeMatcher');
  }
  return matcherClass;
}

/** The first instant strictly after `after` at which `expression` fires in `timezone`. */
export function nextTick(expression: string, timezone: string, after: Date): Date {
  const Matcher = timeMatcher();
  return new Matcher(expression, timezone).getNextMatch(after);
}

/**
 * Whether a run is owed: the schedule fired at least once after `lastRun` and up to `now`
 * (the daemon was stopped then, or the run failed).
 */
export function missedTick(expression: string, timezone: string, lastRun: Date, now: Date): Date | null {
  const tick = nextTick(expression, timezone, lastRun);
  return tick.getTime() <= now.getTime() ? tick : null;
}
