// R10 with the real daemon: messages of every folder and of ORG boxes purged at 90 days and kept
// at 89 by `mssd purge --now` while the daemon serves; an IMAP client in IDLE sees the EXPUNGE
// (from the CLI's purge, and from the daemon's own scheduled purge); a purge killed halfway is
// finished by the next run, with nothing half-deleted.
import t from 'tap';
import { answered } from '../helpers/tap';
import { spawn } from 'node:child_process';
import os from 'node:os';
import { ImapFlow } from 'imapflow';
import { readFileSync } from 'node:fs';
import { openDatabase, type Db } from '../../src/store/database';
import { findMailbox } from '../../src/store/mailboxes';
import { issueCertificate } from '../../src/tls/certificates';
import { cli, createPer, makeEnv, mssdBin, readCa, startDaemon, TEST_PASSWORD, type TestEnv } from '../helpers/daemon';
import { luhnCompleted, peerDomain } from '../helpers/fixtures';
import { addMailbox, addMessage, count, DAY } from '../jobs/fixtures';
import nodemailer from 'nodemailer';

function openStore(t: { teardown(fn: () => void): void }, env: TestEnv): Db {
  const db = openDatabase(env.dataDir);
  t.teardown(() => db.close());
  return db;
}

function accountId(db: Db, login: string): number {
  return (db.prepare('SELECT id FROM accounts WHERE login = ?').get(login) as { id: number }).id;
}

function imapClient(env: TestEnv, user: string): ImapFlow {
  const client = new ImapFlow({
    host: '127.0.0.1',
    port: env.ports.imaps,
    secure: true,
    tls: { ca: readFileSync(env.caFile) },
    auth: { user, pass: TEST_PASSWORD },
    logger: false,
  });
  client.on('error', () => undefined);
  return client;
}

/** Resolves with the first EXPUNGE the client reports for `path`, or rejects after `ms`. */
function nextExpunge(client: ImapFlow, path: string, ms: number): Promise<{ seq: number; at: number }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no EXPUNGE within ${ms} ms`)), ms);
    client.on('expunge', (event: { path: string; seq: number }) => {
      if (event.path !== path) return;
      clearTimeout(timer);
      resolve({ seq: event.seq, at: Date.now() });
    });
  });
}

const waitFor = async (what: string, check: () => boolean, ms = 10_000) => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

t.test('retention with the daemon running: every folder, ORG boxes, 90 vs 89 days, IDLE, interruption', async (t) => {
  const env = await makeEnv();
  const alice = createPer(env, 'Alice', 'Martin', '10000000001');
  const org = cli(env, [
    'org', 'create', '--login', 'pharmacie@hopital-test.fr', '--address', 'pharmacie@mssd-test.mssante.fr',
    '--name', 'Pharmacie centrale', '--finess', luhnCompleted('75000001'), '--responsible-rpps', '10000000001',
  ]);
  t.equal(org.status, 0, org.stderr);
  t.equal(cli(env, ['org', 'add-member', 'pharmacie@mssd-test.mssante.fr', alice.login]).status, 0);
  const daemon = await startDaemon(env);
  t.teardown(() => daemon.stop());
  const db = openStore(t, env);

  const now = Date.now();
  const expired = now - 90 * DAY - 60_000;
  const kept = now - 89 * DAY;
  const aliceId = accountId(db, alice.login);
  const orgId = accountId(db, 'pharmacie@hopital-test.fr');
  const folders: Array<[string, number]> = [
    ...['INBOX', 'Envoyés', 'Brouillons', 'Corbeille'].map((name) => [`${alice.login} ${name}`, findMailbox(db, aliceId, name)!.id] as [string, number]),
    [`${alice.login} Patients/Martin`, addMailbox(db, aliceId, 'Patients/Martin')],
    ['ORG INBOX', findMailbox(db, orgId, 'INBOX')!.id],
    ['ORG Ordonnances', addMailbox(db, orgId, 'Ordonnances')],
  ];
  for (const [, id] of folders) {
    addMessage(db, id, expired, 'corps partagé expiré');
    addMessage(db, id, kept, `corps récent ${id}`);
  }

  // A message that really came through the MTA, then aged: it goes with its parsed metadata.
  const peer = peerDomain();
  const cert = issueCertificate(readCa(env), { subject: peer.dnFields, usage: 'client', days: 2 });
  const transport = nodemailer.createTransport({
    host: '127.0.0.1', port: env.ports.smtp, requireTLS: true,
    tls: { ca: readFileSync(env.caFile), cert: cert.certPem, key: cert.keyPem },
  });
  await transport.sendMail({
    envelope: { from: `dr.peer@${peer.domain}`, to: [alice.mssante] },
    raw: `From: <dr.peer@${peer.domain}>\r\nTo: <${alice.mssante}>\r\nSubject: vieux compte rendu\r\nMessage-ID: <vieux@peer.example>\r\n\r\nrésultats\r\n`,
  });
  transport.close();
  db.prepare(`UPDATE messages SET arrived_at = ? WHERE message_id = 'vieux@peer.example'`).run(expired);
  const inboxId = folders[0][1];
  t.equal(count(db, 'SELECT COUNT(*) AS n FROM messages WHERE mailbox_id = ?', inboxId), 3);

  // Alice reads her INBOX in IDLE while the operator purges from the command line.
  const client = imapClient(env, alice.login);
  t.teardown(() => client.logout().catch(() => client.close()));
  await client.connect();
  const inbox = await client.mailboxOpen('INBOX');
  t.equal(inbox.exists, 3);
  const expunges: number[] = [];
  client.on('expunge', (event: { path: string; seq: number }) => event.path === 'INBOX' && expunges.push(event.seq));
  void client.idle();

  await t.test('mssd purge --dry-run counts without deleting', async (t) => {
    const dry = cli(env, ['purge', '--dry-run', '--now', new Date(now).toISOString(), '--json']);
    t.equal(dry.status, 0, dry.stderr);
    const report = dry.json<{ total: number; dryRun: boolean }>();
    t.same([report.total, report.dryRun], [8, true]);
    t.equal(count(db, 'SELECT COUNT(*) AS n FROM messages'), 15);
  });

  await t.test('mssd purge --now deletes at 90 days in every folder and ORG box, keeps 89', async (t) => {
    const run = cli(env, ['purge', '--now', new Date(now).toISOString()]);
    t.equal(run.status, 0, run.stderr);
    t.match(run.stdout, new RegExp(`${alice.login.replace(/\./g, '\\.')}: 6 \\(`));
    t.match(run.stdout, /INBOX 2/);
    t.match(run.stdout, /Patients\/Martin 1/);
    t.match(run.stdout, /pharmacie@hopital-test\.fr: 2 \(INBOX 1, Ordonnances 1\)/);
    t.match(run.stdout, /deleted 8 message\(s\)/);
    t.match(run.stdout, /deleted 0 finished queue entries/);
    for (const [name, id] of folders) {
      t.same(db.prepare('SELECT arrived_at FROM messages WHERE mailbox_id = ?').pluck().all(id), [kept], `${name}: only the 89-day message left`);
    }
    t.equal(count(db, `SELECT COUNT(*) AS n FROM bodies WHERE content = CAST('corps partagé expiré' AS BLOB)`), 0, 'the shared body is freed');
    t.equal(count(db, `SELECT COUNT(*) AS n FROM messages WHERE message_id = 'vieux@peer.example'`), 0);
    const audit = db.prepare(`SELECT source, outcome, detail FROM audit WHERE event = 'purge'`).get() as { source: string; outcome: string; detail: string };
    t.same([audit.source, audit.outcome], ['cli', 'ok']);
    t.notMatch(audit.detail, /résultats|vieux compte rendu/, 'the audit keeps counts, never content');
    const runs = cli(env, ['jobs', 'list', '--job', 'purge', '--json']).json<{ runs: Array<{ outcome: string; counts: Record<string, unknown> }> }>();
    t.match(runs.runs[0], { outcome: 'ok', counts: { trigger: 'cli', messages: 8 } });
  });

  await t.test('the IMAP client in IDLE sees the EXPUNGEs', async (t) => {
    await waitFor('two EXPUNGEs in INBOX', () => expunges.length >= 2);
    t.equal(expunges.length, 2);
    const status = answered(await client.status('INBOX', { messages: true }), 'STATUS INBOX');
    t.equal(status.messages, 1);
  });

  await t.test('a purge killed halfway is finished by the next run; nothing is half-deleted', async (t) => {
    const box = addMailbox(db, aliceId, 'Archives');
    const insert = db.transaction(() => {
      for (let i = 0; i < 60_000; i++) addMessage(db, box, expired - i, `archive ${i % 50}`);
    });
    insert();
    const total = count(db, 'SELECT COUNT(*) AS n FROM messages');
    const child = spawn(process.execPath, [mssdBin, 'purge', '--now', new Date(now).toISOString(), '--config', env.configFile], { cwd: os.tmpdir(), stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await waitFor('the purge to commit a first batch', () => count(db, 'SELECT COUNT(*) AS n FROM messages') < total, 30_000);
    child.kill('SIGKILL');
    t.equal(await exited, null, 'killed before it finished');
    const left = count(db, 'SELECT COUNT(*) AS n FROM messages WHERE mailbox_id = ?', box);
    t.ok(left > 0 && left < 60_000, `killed halfway (${left} of 60000 left)`);
    t.equal((db.pragma('integrity_check', { simple: true }) as string), 'ok');
    t.equal(
      count(db, 'SELECT COALESCE(SUM(refcount), 0) AS n FROM bodies'),
      count(db, 'SELECT COUNT(*) AS n FROM messages') + count(db, 'SELECT COUNT(*) AS n FROM outbound_queue'),
      'every body reference belongs to a whole message or queue entry',
    );
    t.equal(count(db, 'SELECT COUNT(*) AS n FROM messages m LEFT JOIN bodies b ON b.hash = m.body_hash WHERE b.hash IS NULL'), 0);
    t.equal(count(db, `SELECT COUNT(*) AS n FROM job_runs WHERE job = 'purge' AND outcome = 'running'`), 1, 'the killed run left its row');

    const resumed = cli(env, ['purge', '--now', new Date(now).toISOString(), '--json']);
    t.equal(resumed.status, 0, resumed.stderr);
    t.equal(resumed.json<{ total: number }>().total, left, 'the next run deletes the rest');
    t.equal(count(db, 'SELECT COUNT(*) AS n FROM messages WHERE mailbox_id = ?', box), 0);
    t.same(
      db.prepare(`SELECT outcome FROM job_runs WHERE job = 'purge' ORDER BY id`).pluck().all(),
      ['ok', 'abandoned', 'ok'],
      'the dead run was taken over, not waited for',
    );
  });

  await t.test('the daemon refuses nothing meanwhile and is still serving', async (t) => {
    t.equal(daemon.process.exitCode, null);
    const noop = await client.noop().then(() => true, () => false);
    t.ok(noop);
  });
});

t.test('the daemon\'s own scheduled jobs: the purge wakes IDLE at once, publication and allowlist run on time', async (t) => {
  const env = await makeEnv({
    schedules: { purge: '* * * * * *', directory: '*/2 * * * * *', allowlist: '*/2 * * * * *', timezone: 'Europe/Paris' },
  });
  const bob = createPer(env, 'Bob', 'Durand', '10000000002');
  const daemon = await startDaemon(env);
  t.teardown(() => daemon.stop());
  const db = openStore(t, env);
  const inboxId = findMailbox(db, accountId(db, bob.login), 'INBOX')!.id;
  addMessage(db, inboxId, Date.now() - 89 * DAY, 'à garder');

  const client = imapClient(env, bob.login);
  t.teardown(() => client.logout().catch(() => client.close()));
  await client.connect();
  await client.mailboxOpen('INBOX');
  const sawExists = new Promise<void>((resolve) => client.on('exists', () => resolve()));
  void client.idle();

  // A message about to expire appears (another process writes it; the session is told within
  // half a second), then, once it is 90 days old, the daemon's own purge removes it: only the
  // purge's own wake-up can tell the session, since the daemon does not watch its own commits.
  addMessage(db, inboxId, Date.now() - 90 * DAY + 2500, 'bientôt périmé');
  await sawExists;
  const expunged = nextExpunge(client, 'INBOX', 10_000);
  const event = await expunged;
  t.equal(event.seq, 2);
  const findRun = () =>
    db
      .prepare(`SELECT finished_at, counts FROM job_runs WHERE job = 'purge' AND outcome = 'ok' AND counts LIKE '%"messages":1,%'`)
      .get() as { finished_at: number; counts: string } | undefined;
  await waitFor('the purge run to be recorded', () => findRun() !== undefined);
  const run = findRun()!;
  t.match(JSON.parse(run.counts), { trigger: 'schedule', messages: 1 });
  // The session is told after the batch commits, before the run even ends (housekeeping, record).
  t.ok(event.at <= run.finished_at + 100, `EXPUNGE arrived ${event.at - run.finished_at} ms after the run ended`);
  t.equal(count(db, 'SELECT COUNT(*) AS n FROM messages WHERE mailbox_id = ?', inboxId), 1);

  await waitFor('a scheduled publication', () => count(db, `SELECT COUNT(*) AS n FROM job_runs WHERE job = 'directory' AND outcome = 'ok'`) > 0);
  await waitFor('a scheduled allowlist refresh', () => count(db, `SELECT COUNT(*) AS n FROM job_runs WHERE job = 'allowlist' AND outcome = 'ok'`) > 0);
  t.ok(daemon.logs().some((l) => l.msg === 'scheduler started' && (l as { timezone?: string }).timezone === 'Europe/Paris'));
  t.ok(daemon.logs().some((l) => l.msg === 'job finished' && l.job === 'directory'));

  // Shutdown waits for jobs and stops cleanly.
  t.equal(await daemon.stop('SIGTERM'), 0);
  t.ok(daemon.logs().some((l) => l.msg === 'mssd stopped'));
  t.equal(count(db, `SELECT COUNT(*) AS n FROM job_runs WHERE outcome = 'running'`), 0, 'no run left half-recorded');
});
