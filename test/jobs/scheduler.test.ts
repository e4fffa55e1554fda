// The scheduler and the job runner, ticked by hand with a clock of our own: no overlap (in this
// process and across processes through job_runs), failures recorded and retried at the next tick,
// job_runs rows and log lines, a stop that waits for a safe point.
import t from 'tap';
import { JobInterrupted, runJob, throwIfAborted, type Job, type JobContext } from '../../src/jobs/job';
import { nodeCronFactory, Scheduler, type CronFactory } from '../../src/jobs/scheduler';
import { createJobs } from '../../src/jobs/registry';
import { recentJobRuns, type JobRun } from '../../src/store/job-runs';
import { freshDb, memoryLogger, testConfig, tempDir } from './fixtures';

/** A cron that never fires by itself: `tick(name)` plays the part of a matching cron time. */
function manualCron(): { cron: CronFactory; tick(name: string): void; registered: Array<{ expression: string; timezone: string; name: string }>; stopped: string[] } {
  const ticks = new Map<string, () => void>();
  const registered: Array<{ expression: string; timezone: string; name: string }> = [];
  const stopped: string[] = [];
  return {
    registered,
    stopped,
    cron: (expression, timezone, onTick, name) => {
      registered.push({ expression, timezone, name });
      ticks.set(name, onTick);
      return { stop: () => stopped.push(name) };
    },
    tick: (name) => ticks.get(name)!(),
  };
}

/** A clock that moves only when told to. */
function manualClock(start = Date.parse('2026-11-22T02:00:00Z')) {
  let now = start;
  return { clock: () => new Date(now), advance: (ms: number) => (now += ms), get now() { return now; } };
}

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const runsOf = (db: Parameters<typeof recentJobRuns>[0], job: string): JobRun[] => recentJobRuns(db, { job }).reverse();

/** Lets pending promise callbacks run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

t.test('a job never overlaps itself: a tick while it runs is skipped, and the run is recorded', async (t) => {
  const db = freshDb(t);
  const { log, lines } = memoryLogger();
  const time = manualClock();
  const gate = deferred();
  let calls = 0;
  const job: Job<{ deleted: number }> = {
    name: 'slow',
    schedule: '*/5 * * * *',
    async run(ctx) {
      calls++;
      ctx.progress({ step: 1 });
      await gate.promise;
      time.advance(1500);
      return { deleted: 7 };
    },
  };
  const { cron, tick, registered } = manualCron();
  const scheduler = new Scheduler({ db, log, jobs: [job], timezone: 'Europe/Paris', cron, clock: time.clock });
  scheduler.start();
  t.same(registered, [{ expression: '*/5 * * * *', timezone: 'Europe/Paris', name: 'slow' }]);

  tick('slow');
  await settle();
  t.ok(scheduler.isRunning('slow'));
  const running = runsOf(db, 'slow');
  t.equal(running.length, 1);
  t.equal(running[0].outcome, 'running');
  t.equal(running[0].startedAt, time.now);
  t.equal(running[0].finishedAt, null);

  tick('slow');
  const second = await scheduler.trigger('slow', 'manual');
  t.equal(second.status, 'skipped', 'a second run while the first is under way steps aside');
  t.equal(calls, 1);
  t.equal(runsOf(db, 'slow').length, 1, 'no row for a skipped tick');
  t.ok(lines.some((l) => l.msg === 'job run skipped: the same job is still running' && l.job === 'slow'));

  gate.resolve();
  while (scheduler.isRunning('slow')) await settle();
  const [done] = runsOf(db, 'slow');
  t.equal(done.outcome, 'ok');
  t.equal(done.finishedAt! - done.startedAt, 1500, 'duration from the clock');
  t.same(done.counts, { trigger: 'schedule', deleted: 7 });
  t.equal(done.error, null);
  const started = lines.find((l) => l.msg === 'job started');
  const finished = lines.find((l) => l.msg === 'job finished');
  t.match(started, { job: 'slow', runId: done.id, trigger: 'schedule' });
  t.match(finished, { job: 'slow', runId: done.id, outcome: 'ok', durationMs: 1500, counts: { deleted: 7 } });

  tick('slow');
  while (scheduler.isRunning('slow')) await settle();
  t.equal(calls, 2, 'the next tick runs again');
  await scheduler.stop();
});

t.test('a failed run is recorded, logged, never thrown, and retried at the next tick', async (t) => {
  const db = freshDb(t);
  const { log, lines } = memoryLogger();
  const time = manualClock();
  let attempt = 0;
  const job: Job = {
    name: 'flaky',
    schedule: '0 2 * * *',
    async run(ctx) {
      attempt++;
      ctx.progress({ done: attempt * 10 });
      if (attempt === 1) throw new Error('endpoint unreachable\nsecond line');
      return { done: 20 };
    },
  };
  const { cron, tick } = manualCron();
  const scheduler = new Scheduler({ db, log, jobs: [job], timezone: 'UTC', cron, clock: time.clock });
  scheduler.start();
  tick('flaky');
  while (!scheduler.isRunning('flaky')) await settle();
  while (scheduler.isRunning('flaky')) await settle();
  let runs = runsOf(db, 'flaky');
  t.equal(runs.length, 1);
  t.equal(runs[0].outcome, 'failed');
  t.equal(runs[0].error, 'endpoint unreachable', 'one line');
  t.same(runs[0].counts, { trigger: 'schedule', done: 10 }, 'progress so far is kept');
  t.ok(lines.some((l) => l.msg === 'job failed; it runs again at its next scheduled time' && l.err === 'endpoint unreachable'));

  time.advance(86_400_000);
  tick('flaky');
  while (!scheduler.isRunning('flaky')) await settle();
  while (scheduler.isRunning('flaky')) await settle();
  runs = runsOf(db, 'flaky');
  t.same(runs.map((r) => r.outcome), ['failed', 'ok']);
  t.same(runs[1].counts, { trigger: 'schedule', done: 20 });
  await scheduler.stop();
});

t.test('across processes: a live run elsewhere blocks, a dead or silent one is taken over', async (t) => {
  const db = freshDb(t);
  const { log } = memoryLogger();
  const time = manualClock();
  const gate = deferred();
  const job = (name: string): Job => ({ name, schedule: '* * * * *', run: async () => ({ n: await gate.promise.then(() => 1) }) });

  // "Another process" holds the job (the CLI running `mssd purge` while the daemon ticks).
  const first = runJob(job('purge'), { db, log, trigger: 'cli', clock: time.clock, holder: 'host-a:111', isHolderAlive: () => true });
  await settle();
  const blocked = await runJob(job('purge'), { db, log, trigger: 'schedule', clock: time.clock, holder: 'host-a:222', isHolderAlive: () => true });
  t.equal(blocked.status, 'skipped');
  if (blocked.status === 'skipped') t.equal(blocked.busy?.id, runsOf(db, 'purge')[0].id);
  gate.resolve();
  t.equal((await first).status, 'ok');

  // A holder that died (its pid is gone): taken over at once.
  db.prepare(`INSERT INTO job_runs (job, started_at, outcome, counts) VALUES ('directory', ?, 'running', ?)`).run(
    time.now,
    JSON.stringify({ holder: 'host-a:999', heartbeatAt: time.now }),
  );
  const afterDeath = await runJob(job('directory'), { db, log, trigger: 'schedule', clock: time.clock, holder: 'host-a:222', isHolderAlive: (h) => h !== 'host-a:999' });
  t.equal(afterDeath.status, 'ok');
  t.same(runsOf(db, 'directory').map((r) => r.outcome), ['abandoned', 'ok']);
  t.match(runsOf(db, 'directory')[0].error, /host-a:999 stopped without finishing/);

  // A holder that looks alive but stopped beating for longer than the bound: taken over too.
  db.prepare(`INSERT INTO job_runs (job, started_at, outcome, counts) VALUES ('allowlist', ?, 'running', ?)`).run(
    time.now,
    JSON.stringify({ holder: 'other-host:5', heartbeatAt: time.now }),
  );
  const tooEarly = await runJob(job('allowlist'), { db, log, trigger: 'schedule', clock: time.clock, staleAfterMs: 60_000 });
  t.equal(tooEarly.status, 'skipped', 'within the staleness bound the other run counts as alive');
  time.advance(61_000);
  const late = await runJob(job('allowlist'), { db, log, trigger: 'schedule', clock: time.clock, staleAfterMs: 60_000 });
  t.equal(late.status, 'ok');
  t.same(runsOf(db, 'allowlist').map((r) => r.outcome), ['abandoned', 'ok']);
});

t.test('a running job refreshes its heartbeat with its progress', async (t) => {
  const db = freshDb(t);
  const { log } = memoryLogger();
  const gate = deferred();
  const run = runJob(
    { name: 'beat', schedule: '* * * * *', run: async (ctx) => { ctx.progress({ batches: 3 }); await gate.promise; return {}; } },
    { db, log, trigger: 'manual', heartbeatMs: 20, holder: 'me:1' },
  );
  await new Promise((resolve) => setTimeout(resolve, 80));
  const [row] = runsOf(db, 'beat');
  t.match(row.counts, { holder: 'me:1', heartbeatAt: Number, progress: { trigger: 'manual', batches: 3 } });
  t.ok((row.counts!.heartbeatAt as number) > row.startedAt, 'heartbeat moved on');
  gate.resolve();
  await run;
});

t.test('stop() stops the ticks and waits for a running job to reach a safe point', async (t) => {
  const db = freshDb(t);
  const { log, lines } = memoryLogger();
  let batches = 0;
  const job: Job = {
    name: 'batches',
    schedule: '* * * * *',
    async run(ctx: JobContext) {
      for (;;) {
        batches++;
        ctx.progress({ batches });
        await new Promise((resolve) => setTimeout(resolve, 5));
        throwIfAborted(ctx.signal);
      }
    },
  };
  const { cron, tick, stopped } = manualCron();
  const scheduler = new Scheduler({ db, log, jobs: [job], timezone: 'Europe/Paris', cron });
  scheduler.start();
  tick('batches');
  await new Promise((resolve) => setTimeout(resolve, 30));
  await scheduler.stop(5_000);
  t.same(stopped, ['batches'], 'cron task stopped');
  t.notOk(scheduler.isRunning('batches'));
  const [row] = runsOf(db, 'batches');
  t.equal(row.outcome, 'interrupted');
  t.match(row.error, /interrupted/);
  t.ok((row.counts!.batches as number) >= 1);
  t.ok(lines.some((l) => l.msg === 'job interrupted; the next run finishes the work'));
  const after = await scheduler.trigger('batches');
  t.equal(after.status, 'skipped', 'no new run once stopping');
  t.ok(new JobInterrupted() instanceof Error);
});

t.test('the registry builds every job with its configured schedule and the configured time zone', async (t) => {
  const dir = tempDir();
  const db = freshDb(t, dir);
  const { log } = memoryLogger();
  const config = testConfig(dir, (c) => {
    c.schedules.purge = '1 1 * * *';
    c.schedules.directory = '2 2 * * *';
    c.schedules.allowlist = '3 3 * * *';
    c.schedules.digest = '4 4 * * *';
    c.schedules.timezone = 'America/Cayenne';
  });
  const jobs = createJobs({ config, db, log });
  t.same(jobs.map((j) => [j.name, j.schedule]), [['purge', '1 1 * * *'], ['directory', '2 2 * * *'], ['allowlist', '3 3 * * *'], ['digest', '4 4 * * *']]);
  const { cron, registered } = manualCron();
  const scheduler = new Scheduler({ db, log, jobs, timezone: config.schedules.timezone, cron });
  scheduler.start();
  t.same(registered.map((r) => r.timezone), ['America/Cayenne', 'America/Cayenne', 'America/Cayenne', 'America/Cayenne']);
  t.throws(() => new Scheduler({ db, log, jobs: [...jobs, jobs[0]], timezone: 'UTC', cron }), /two jobs named purge/);
  await t.rejects(scheduler.trigger('nope'), /unknown job nope/);
  await scheduler.stop();
});

t.test('node-cron adapter: ticks on a six-field expression and stops', async (t) => {
  const { log } = memoryLogger();
  let ticks = 0;
  const ticked = new Promise<void>((resolve) => {
    const handle = nodeCronFactory(log)('* * * * * *', 'Europe/Paris', () => {
      ticks++;
      handle.stop();
      resolve();
    }, 'smoke');
  });
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([ticked, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('no tick within 3 s')), 3000)))]);
  clearTimeout(timer);
  t.equal(ticks, 1);
});

t.test('catch-up at start: a job whose schedule fired since its last success runs once, one after the other, the purge first', async (t) => {
  const db = freshDb(t);
  const { log } = memoryLogger();
  // 2026-11-22 12:00 in Paris; the purge is due at 03:30, the digest at 07:00, the report at 23:00.
  const time = manualClock(Date.parse('2026-11-22T11:00:00Z'));
  const order: string[] = [];
  const gate = deferred();
  const job = (name: string, schedule: string, wait = false): Job => ({
    name,
    schedule,
    async run() {
      order.push(`${name} start`);
      if (wait) await gate.promise;
      order.push(`${name} end`);
      return {};
    },
  });
  const { cron } = manualCron();
  const scheduler = new Scheduler({
    db,
    log,
    jobs: [job('purge', '30 3 * * *', true), job('digest', '0 7 * * *'), job('report', '0 23 * * *')],
    timezone: 'Europe/Paris',
    cron,
    clock: time.clock,
  });
  scheduler.start();
  const lastSuccess = new Map([
    ['purge', Date.parse('2026-11-20T03:00:00Z')], // missed 21 and 22 November: runs once
    ['digest', Date.parse('2026-11-22T06:05:00Z')], // ran at 07:05 Paris today: up to date
  ]);
  // 'report' never ran: counted from the store's creation, yesterday at 23:30 Paris, after its tick.
  const owed = scheduler.catchUp(lastSuccess, Date.parse('2026-11-21T22:30:00Z'));
  t.same(owed, ['purge']);
  await settle();
  t.same(order, ['purge start']);
  gate.resolve();
  await settle();
  await settle();
  t.same(order, ['purge start', 'purge end']);
  t.same(runsOf(db, 'purge').map((run) => [run.outcome, run.counts?.trigger]), [['ok', 'catch-up']]);

  // A store created before yesterday's 23:00 owes the report too, which waits for the purge.
  const later = new Scheduler({ db, log, jobs: [job('purge', '30 3 * * *'), job('report', '0 23 * * *')], timezone: 'Europe/Paris', cron, clock: time.clock });
  order.length = 0;
  t.same(later.catchUp(new Map([['purge', Date.parse('2026-11-20T03:00:00Z')]]), Date.parse('2026-11-21T21:00:00Z')), ['purge', 'report']);
  for (let i = 0; i < 6; i++) await settle();
  t.same(order, ['purge start', 'purge end', 'report start', 'report end'], 'one after the other');
  await scheduler.stop();
  await later.stop();
});
