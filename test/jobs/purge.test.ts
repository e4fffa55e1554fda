// The retention job (R10) in process: every folder of every box, the wake-up of the sessions that
// have a touched mailbox selected (what an IMAP client in IDLE sees), the housekeeping of audit
// rows, job runs and finished queue entries, and a run stopped halfway then finished by the next.
import t from 'tap';
import { EventEmitter } from 'node:events';
import { runJob } from '../../src/jobs/job';
import { purgeJob, retentionCounts, runRetention } from '../../src/jobs/purge';
import { SelectedMailbox } from '../../src/imap/selected';
import { enqueueOutbound } from '../../src/store/queue';
import { recentJobRuns } from '../../src/store/job-runs';
import { purgeExpired } from '../../src/store/purge';
import { addAccount, addMailbox, addMessage, count, DAY, freshDb, memoryLogger, tempDir, testConfig } from './fixtures';

const NOW = new Date('2026-11-22T02:30:00Z');
const ago = (days: number, extraMs = 0) => NOW.getTime() - days * DAY - extraMs;

t.test('every folder of every box: gone at 90 days, kept at 89; sessions woken per touched mailbox', async (t) => {
  const dir = tempDir();
  const db = freshDb(t, dir);
  const config = testConfig(dir);
  const per = addAccount(db, 'PER', 'jean@hopital.fr');
  const org = addAccount(db, 'ORG', 'pharmacie@hopital.fr');
  const boxes = {
    inbox: addMailbox(db, per, 'INBOX'),
    sent: addMailbox(db, per, 'Envoyés', '\\Sent'),
    drafts: addMailbox(db, per, 'Brouillons', '\\Drafts'),
    trash: addMailbox(db, per, 'Corbeille', '\\Trash'),
    folder: addMailbox(db, per, 'Patients/Martin'),
    orgInbox: addMailbox(db, org, 'INBOX'),
    orgFolder: addMailbox(db, org, 'Ordonnances'),
  };
  for (const id of Object.values(boxes)) {
    addMessage(db, id, ago(90), 'shared old body'); // exactly 90 days: expired
    addMessage(db, id, ago(89, -1), `recent ${id}`); // 89 days: kept
  }
  // A session has INBOX selected, as an IMAP client in IDLE would.
  const selected = SelectedMailbox.open(db, boxes.inbox, 'INBOX', false)!;
  t.equal(selected.exists, 2);

  const changes = new EventEmitter();
  const woken: number[] = [];
  changes.on('mailbox-changed', (id: number) => {
    woken.push(id);
    if (id === boxes.inbox) t.same(selected.sync({ allowExpunge: true, condstore: false }).lines.filter((l) => /EXPUNGE/.test(l)), ['* 1 EXPUNGE']);
  });
  const report = await runRetention(db, config, {
    now: NOW,
    dryRun: false,
    source: 'test',
    batchSize: 3,
    notifyMailboxChanged: (id) => changes.emit('mailbox-changed', id),
  });
  t.equal(report.messages.total, 7);
  t.equal(report.messages.batches, 3, 'batches of 3');
  t.same(report.messages.boxes.map((b) => [b.box, b.total]), [['jean@hopital.fr', 5], ['pharmacie@hopital.fr', 2]]);
  t.same([...new Set(woken)].sort((a, b) => a - b), Object.values(boxes).sort((a, b) => a - b), 'every touched mailbox announced');
  t.equal(selected.exists, 1, 'the session saw the expunge');
  t.equal(count(db, 'SELECT COUNT(*) AS n FROM messages'), 7, 'the 89-day messages stay');
  t.equal(count(db, `SELECT COUNT(*) AS n FROM bodies WHERE content = 'shared old body'`), 0, 'the shared body is freed');
  t.same(retentionCounts(report), {
    now: NOW.toISOString(),
    cutoff: new Date(ago(90)).toISOString(),
    messages: 7,
    boxes: 2,
    batches: 3,
    auditRows: 0,
    jobRuns: 0,
    queueEntries: 0,
    expungedRows: 0, // the expunges just made are history a resynchronising client may need
  });
});

t.test('housekeeping: audit rows and job runs after auditDays, finished queue entries after queueDays', async (t) => {
  const dir = tempDir();
  const db = freshDb(t, dir);
  const config = testConfig(dir, (c) => {
    c.retention.auditDays = 365;
    c.retention.queueDays = 30;
  });
  const audit = db.prepare(`INSERT INTO audit (at, event, outcome) VALUES (?, 'smtp', 'delivered')`);
  for (let i = 0; i < 1200; i++) audit.run(ago(366));
  audit.run(ago(364));
  db.prepare(`INSERT INTO job_runs (job, started_at, finished_at, outcome) VALUES ('purge', ?, ?, 'ok')`).run(ago(400), ago(400));
  db.prepare(`INSERT INTO job_runs (job, started_at, finished_at, outcome) VALUES ('purge', ?, ?, 'ok')`).run(ago(10), ago(10));
  const entry = (queueId: string, createdDaysAgo: number, done: boolean, body: string) => {
    enqueueOutbound(db, { kind: 'relay', mailFrom: 'a@x.fr', recipients: [{ address: 'b@y.fr' }], body: { content: Buffer.from(body) }, queueId, now: ago(createdDaysAgo) });
    if (done) db.prepare(`UPDATE outbound_queue SET status = 'done' WHERE queue_id = ?`).run(queueId);
  };
  entry('OLDDONE1', 31, true, 'old done body');
  entry('NEWDONE1', 29, true, 'new done body');
  entry('OLDQUEUED', 31, false, 'still queued body');

  const dry = await runRetention(db, config, { now: NOW, dryRun: true, source: 'test' });
  t.same([dry.housekeeping.auditRows, dry.housekeeping.jobRuns, dry.housekeeping.queueEntries], [1200, 1, 1]);
  t.equal(count(db, 'SELECT COUNT(*) AS n FROM audit'), 1201, 'dry run deletes nothing');

  const report = await runRetention(db, config, { now: NOW, dryRun: false, source: 'test' });
  t.same([report.housekeeping.auditRows, report.housekeeping.jobRuns, report.housekeeping.queueEntries], [1200, 1, 1]);
  t.equal(count(db, `SELECT COUNT(*) AS n FROM audit WHERE event = 'smtp'`), 1, 'the recent audit row stays');
  t.equal(count(db, `SELECT COUNT(*) AS n FROM audit WHERE event = 'purge'`), 1, 'the purge itself is audited');
  t.equal(count(db, 'SELECT COUNT(*) AS n FROM job_runs'), 1);
  t.same(db.prepare('SELECT queue_id FROM outbound_queue ORDER BY queue_id').pluck().all(), ['NEWDONE1', 'OLDQUEUED']);
  t.equal(count(db, `SELECT COUNT(*) AS n FROM bodies WHERE content = 'old done body'`), 0, 'its body is released');
  t.equal(count(db, 'SELECT COUNT(*) AS n FROM outbound_recipients'), 2, 'its recipients go with it');
});

t.test('a run stopped between two batches keeps whole messages; the next run finishes', async (t) => {
  const dir = tempDir();
  const db = freshDb(t, dir);
  const config = testConfig(dir);
  const { log } = memoryLogger();
  const box = addMailbox(db, addAccount(db, 'PER', 'jean@hopital.fr'), 'INBOX');
  for (let i = 0; i < 1000; i++) addMessage(db, box, ago(100), `old ${i % 10}`);
  addMessage(db, box, ago(1), 'recent');

  const controller = new AbortController();
  let batches = 0;
  const job = purgeJob({
    config,
    db,
    log,
    notifyMailboxChanged: () => {
      if (++batches === 2) controller.abort();
    },
  });
  const first = await runJob(job, { db, log, trigger: 'schedule', now: NOW, signal: controller.signal });
  t.equal(first.status, 'interrupted');
  const left = count(db, 'SELECT COUNT(*) AS n FROM messages');
  t.ok(left < 1001 && left > 1, `the two committed batches stay deleted (${1001 - left} messages), the rest is left`);
  const refs = count(db, 'SELECT COALESCE(SUM(refcount), 0) AS n FROM bodies');
  t.equal(refs, left, 'body references match the messages left: nothing half-deleted');
  t.equal(count(db, `SELECT COUNT(*) AS n FROM audit WHERE event = 'purge' AND outcome = 'interrupted'`), 1);

  const second = await runJob(job, { db, log, trigger: 'schedule', now: NOW });
  t.equal(second.status, 'ok');
  t.equal(count(db, 'SELECT COUNT(*) AS n FROM messages'), 1);
  t.equal(count(db, 'SELECT COALESCE(SUM(refcount), 0) AS n FROM bodies'), 1);
  t.same(recentJobRuns(db, { job: 'purge' }).map((r) => r.outcome).reverse(), ['interrupted', 'ok']);
  t.match(recentJobRuns(db, { job: 'purge' })[0].counts, { trigger: 'schedule', messages: left - 1 });
});

t.test('paced purge: batch sizes follow the time budget, with pauses between batches', async (t) => {
  const dir = tempDir();
  const db = freshDb(t, dir);
  const box = addMailbox(db, addAccount(db, 'PER', 'jean@hopital.fr'), 'INBOX');
  db.transaction(() => {
    for (let i = 0; i < 3000; i++) addMessage(db, box, ago(100), `old ${i % 7}`);
  })();
  let batches = 0;
  const started = Date.now();
  const report = await purgeExpired(db, {
    now: NOW,
    retentionDays: 90,
    dryRun: false,
    batchSize: 500,
    pacing: { batchMs: 2, share: 0.5 },
    onBatch: () => {
      batches++;
    },
  });
  t.equal(report.total, 3000);
  t.equal(count(db, 'SELECT COUNT(*) AS n FROM messages'), 0);
  t.ok(batches >= 6, `${batches} batches: none larger than 500, the first of 50`);
  t.ok(Date.now() - started >= batches, 'a pause of at least 1 ms after each batch');
});
