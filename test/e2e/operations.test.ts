// Issue 13 on the real daemon: the admin endpoints (metrics that move with real traffic, /readyz
// going 503 when the store turns read-only or a listener is down), an online backup taken while
// messages are being delivered and restored into a fresh data directory whose daemon serves every
// message of the backup, `mssd verify` finding a corrupted body, and a daemon started after a
// missed purge tick purging at once.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, chmodSync, constants, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { loadConfig } from '../../src/config/load';
import { startDaemon as startInProcess } from '../../src/daemon';
import { openDatabase } from '../../src/store/database';
import { createLogger } from '../../src/util/log';
import { cli, createPer, freePort, makeEnv, mssdBin, startDaemon, TEST_PASSWORD, type TestEnv } from '../helpers/daemon';
import { deliver, imapClient, peerOperator, textMessage } from '../helpers/imap';
import { addMessage, count, DAY } from '../jobs/fixtures';

async function get(env: TestEnv, urlPath: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${env.ports.admin}${urlPath}`);
  return { status: response.status, body: await response.text() };
}

/** The value of one sample of the Prometheus text, 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = (match[2] ?? '').split(',').filter((part) => part !== '');
    if (wanted.every((label) => have.includes(label))) return Number(match[3]);
  }
  return 0;
}

async function metrics(env: TestEnv): Promise<string> {
  const response = await get(env, '/metrics');
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
  return response.body;
}

const waitFor = async (what: string, check: () => boolean | Promise<boolean>, ms = 15_000) => {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
};

t.test('metrics move with real traffic: deliveries, refusals, logins, IMAP, the outbound queue', async (t) => {
  // The relay's smarthost is a closed port: a message to a peer operator stays in the queue.
  const env = await makeEnv({ relay: { smarthost: { host: '127.0.0.1', port: await freePort() }, requireTls: true } });
  const alice = createPer(env, 'Alice', 'Martin', '10000000001');
  const daemon = await startDaemon(env);
  t.teardown(() => daemon.stop());

  t.same(await get(env, '/healthz'), { status: 200, body: 'ok\n' });
  t.same(await get(env, '/readyz'), { status: 200, body: 'ready\n' });
  const before = await metrics(env);
  for (const name of ['mssd_smtp_messages_total', 'mssd_logins_total', 'mssd_imap_connections', 'mssd_queue_messages', 'mssd_notices_pending', 'mssd_job_runs_total', 'nodejs_eventloop_lag_seconds', 'process_resident_memory_bytes']) {
    t.match(before, new RegExp(`^${name}[ {]`, 'm'), `${name} is exposed`);
  }
  t.equal(sample(before, 'mssd_smtp_messages_total', { listener: 'mta', outcome: 'delivered' }), 0);

  // Three messages through the MTA, one refused recipient.
  const peer = peerOperator(env);
  for (let i = 0; i < 3; i++) {
    await deliver(env, `dr.peer@${peer.domain}`, [alice.mssante], textMessage(`dr.peer@${peer.domain}`, alice.mssante, `compte rendu ${i}`, `texte ${i}`, `m${i}@peer.example`), peer.cert);
  }
  await t.rejects(
    deliver(env, `dr.peer@${peer.domain}`, ['personne@mssd-test.mssante.fr'], textMessage(`dr.peer@${peer.domain}`, 'personne@mssd-test.mssante.fr', 'x', 'x', 'x@peer.example'), peer.cert),
  );

  // IMAP: one good login that stays connected, one wrong password.
  const client = imapClient(env, alice.login);
  client.on('error', () => undefined);
  await client.connect();
  await client.mailboxOpen('INBOX');
  const wrong = imapClient(env, alice.login, 'Mauvais-mot-de-passe-1!');
  wrong.on('error', () => undefined);
  await t.rejects(wrong.connect());

  // Submission to a peer operator: accepted, then waiting in the queue (its relay is down).
  const submission = nodemailer.createTransport({
    host: '127.0.0.1', port: env.ports.submission, requireTLS: true,
    tls: { ca: readFileSync(env.caFile) }, auth: { user: alice.login, pass: TEST_PASSWORD },
  });
  await submission.sendMail({ from: alice.mssante, to: `dr.peer@${peer.domain}`, subject: 'avis', text: 'bonjour' });
  submission.close();

  let after = '';
  // IMAP workers send their counters in batches (every 100 ms): wait for the SELECT too.
  await waitFor('the queue gauge and the IMAP counters', async () => {
    after = await metrics(env);
    return sample(after, 'mssd_queue_messages') === 1 && sample(after, 'mssd_imap_commands_total', { command: 'SELECT', status: 'OK' }) >= 1;
  });
  t.equal(sample(after, 'mssd_smtp_messages_total', { listener: 'mta', outcome: 'delivered' }), 3, 'three deliveries on the MTA');
  t.ok(sample(after, 'mssd_smtp_messages_total', { listener: 'mta', outcome: 'refused' }) >= 1, 'the unknown recipient counted as refused');
  t.equal(sample(after, 'mssd_smtp_messages_total', { listener: 'submission', outcome: 'delivered' }), 1, 'one submission');
  t.equal(sample(after, 'mssd_smtp_data_seconds_count', { listener: 'mta' }), 3, 'DATA latency observed for each delivery');
  t.equal(sample(after, 'mssd_logins_total', { protocol: 'imap', outcome: 'ok' }), 1);
  t.equal(sample(after, 'mssd_logins_total', { protocol: 'imap', outcome: 'invalid-credentials' }), 1);
  // The label is the protocol name the submission server gives the authenticator: 'smtp' before
  // the auth-devices rewrite, 'submission' (the audit's name, COMMON.md) after it.
  t.equal(sample(after, 'mssd_logins_total', { protocol: 'submission', outcome: 'ok' }) + sample(after, 'mssd_logins_total', { protocol: 'smtp', outcome: 'ok' }), 1);
  t.equal(sample(after, 'mssd_imap_connections'), 1, 'the connected client is counted');
  t.ok(sample(after, 'mssd_imap_commands_total', { command: 'SELECT', status: 'OK' }) >= 1, 'SELECT counted by name');
  t.ok(sample(after, 'mssd_queue_oldest_age_seconds') >= 0);
  t.ok(sample(after, 'mssd_database_bytes') > 0);
  t.ok(sample(after, 'mssd_certificate_expiry_timestamp_seconds', { certificate: 'server' }) > Date.now() / 1000, 'server certificate expiry');
  t.notOk(/@/.test(after.split('\n').filter((line) => !line.startsWith('#')).join('\n')), 'no address in any label');

  await client.logout();
  await waitFor('the connection gauge to drop', async () => sample(await metrics(env), 'mssd_imap_connections') === 0);
});

/** Makes a file unwritable even for root (chattr +i) when chmod is not enough; returns the undo. */
function makeReadOnly(file: string): (() => void) | null {
  chmodSync(file, 0o444);
  try {
    accessSync(file, constants.W_OK);
  } catch {
    return () => chmodSync(file, 0o644);
  }
  // root: permission bits do not stop it; the immutable attribute does.
  chmodSync(file, 0o644);
  const made = spawnSync('chattr', ['+i', file]);
  if (made.status !== 0) return null;
  return () => void spawnSync('chattr', ['-i', file]);
}

t.test('/readyz answers 503 with the reason while the database file is read-only, 200 again after', async (t) => {
  const env = await makeEnv();
  createPer(env, 'Alice', 'Martin', '10000000001');
  const daemon = await startDaemon(env);
  t.teardown(() => daemon.stop());
  t.equal((await get(env, '/readyz')).status, 200);
  const file = path.join(env.dataDir, 'mssd.sqlite');
  const undo = makeReadOnly(file);
  if (!undo) {
    t.skip('this file system can make a file read-only neither by chmod (running as root) nor by chattr +i', () => undefined);
    return;
  }
  try {
    const refused = await get(env, '/readyz');
    t.equal(refused.status, 503);
    t.match(refused.body, /^not ready: store not writable: .*mssd\.sqlite: E(ACCES|PERM)/);
    t.equal((await get(env, '/healthz')).status, 200, 'the process itself is alive');
  } finally {
    undo();
  }
  t.same(await get(env, '/readyz'), { status: 200, body: 'ready\n' });
});

t.test('/readyz answers 503 naming a listener that is down', async (t) => {
  const env = await makeEnv();
  const daemon = await startInProcess(loadConfig(env.configFile), createLogger('silent'));
  t.teardown(() => daemon.stop());
  t.equal((await get(env, '/readyz')).status, 200);
  await new Promise((resolve) => daemon.servers.imaps.close(resolve));
  const refused = await get(env, '/readyz');
  t.equal(refused.status, 503);
  t.equal(refused.body, 'not ready: listener imaps is not listening\n');
});

t.test('listen.admin on a port already taken: one line, exit 1, nothing left running', async (t) => {
  const env = await makeEnv();
  const taken = net.createServer();
  await new Promise<void>((resolve) => taken.listen(env.ports.admin, '127.0.0.1', resolve));
  t.teardown(() => taken.close());
  const result = spawnSync(process.execPath, [mssdBin, 'serve', '--config', env.configFile], { encoding: 'utf8', timeout: 60_000 });
  t.equal(result.status, 1, 'exits by itself, with 1');
  t.equal(result.stderr, `mssd: cannot listen on listen.admin 127.0.0.1:${env.ports.admin}: address already in use\n`);
});

t.test('backup while messages are delivered; restore into a fresh data directory; verify finds a corrupted body', async (t) => {
  const env = await makeEnv();
  const alice = createPer(env, 'Alice', 'Martin', '10000000001');
  const daemon = await startDaemon(env);
  const peer = peerOperator(env);

  // Four senders over the MTA, until the backup is over (at most 300 messages each); each 250 is
  // recorded with its time.
  const acknowledged: Array<{ subject: string; at: number }> = [];
  let backupDone = false;
  const sender = async (n: number) => {
    const transport = nodemailer.createTransport({
      host: '127.0.0.1', port: env.ports.smtp, requireTLS: true, pool: true, maxConnections: 1,
      tls: { ca: readFileSync(env.caFile), cert: peer.cert.certPem, key: peer.cert.keyPem },
    });
    try {
      for (let i = 0; i < 300 && !backupDone; i++) {
        const subject = `sauvegarde ${n}-${i}`;
        await transport.sendMail({
          envelope: { from: `dr.peer@${peer.domain}`, to: [alice.mssante] },
          raw: textMessage(`dr.peer@${peer.domain}`, alice.mssante, subject, `corps ${subject} ${'é'.repeat(200)}`, `${n}-${i}@peer.example`),
        });
        acknowledged.push({ subject, at: Date.now() });
      }
    } finally {
      transport.close();
    }
  };
  const senders = Promise.all([0, 1, 2, 3].map(sender));
  await waitFor('some deliveries', () => acknowledged.length >= 20, 60_000);

  const dest = path.join(env.dir, 'backup-1');
  const backupStarted = Date.now();
  const backup = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [mssdBin, 'backup', dest, '--json', '--config', env.configFile], { cwd: os.tmpdir() });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
  backupDone = true;
  await senders;
  t.equal(backup.code, 0, backup.stderr);
  const manifest = JSON.parse(backup.stdout) as { counts: { messages: number }; sha256: string };
  const ackedBefore = acknowledged.filter((entry) => entry.at < backupStarted);
  t.ok(manifest.counts.messages >= ackedBefore.length, `the backup holds every message acknowledged before it started (${manifest.counts.messages} ≥ ${ackedBefore.length})`);
  t.comment(`${acknowledged.length} messages acknowledged in all, ${manifest.counts.messages} in the backup's snapshot`);

  // Restore is refused while a daemon runs on the data directory, and into a non-empty one.
  const running = cli(env, ['restore', dest]);
  t.equal(running.status, 1);
  t.match(running.stderr, /^mssd: restore: a daemon is running on .*; stop it first/);
  t.equal(running.stderr.trim().split('\n').length, 1, 'one line');
  await daemon.stop();
  const notEmpty = cli(env, ['restore', dest]);
  t.equal(notEmpty.status, 1);
  t.match(notEmpty.stderr, /^mssd: restore: the data directory .* is not empty/);

  // A fresh data directory: restore, start, read everything over IMAP.
  const fresh = await makeEnv();
  const restored = cli(fresh, ['restore', dest]);
  t.equal(restored.status, 0, restored.stderr);
  t.match(restored.stdout, new RegExp(`restored ${manifest.counts.messages} messages`));
  const second = await startDaemon(fresh);
  t.teardown(() => second.stop());
  const client = imapClient(fresh, alice.login);
  client.on('error', () => undefined);
  await client.connect();
  const lock = await client.getMailboxLock('INBOX');
  const subjects = new Set<string>();
  try {
    for await (const message of client.fetch('1:*', { envelope: true, source: true })) {
      const subject = message.envelope?.subject ?? '';
      subjects.add(subject);
      if (!message.source!.toString('utf8').includes(`corps ${subject} ${'é'.repeat(200)}`)) t.fail(`message ${subject} is not whole`);
    }
  } finally {
    lock.release();
  }
  await client.logout();
  t.equal(subjects.size, manifest.counts.messages, 'the restored daemon serves every message of the backup');
  t.same(ackedBefore.filter((entry) => !subjects.has(entry.subject)), [], 'no message acknowledged before the backup is missing');

  // verify: the restored store is sound; a body altered on disk is found.
  await second.stop();
  const sound = cli(fresh, ['verify']);
  t.equal(sound.status, 0, sound.stderr);
  t.match(sound.stdout, /verify: ok/);
  const db = openDatabase(fresh.dataDir);
  const victim = db.prepare('SELECT hash FROM bodies ORDER BY rowid LIMIT 1').get() as { hash: string };
  db.prepare(`UPDATE bodies SET content = CAST(replace(CAST(content AS TEXT), 'corps', 'CORPS') AS BLOB) WHERE hash = ?`).run(victim.hash);
  db.close();
  const damaged = cli(fresh, ['verify']);
  t.equal(damaged.status, 1);
  t.match(damaged.stdout, new RegExp(`problem: body-hash ${victim.hash}: content hashes to [0-9a-f]{64}`));
  t.equal(damaged.stderr, 'mssd: verify: 1 problem(s) found\n');
  // A damaged backup is not restored.
  const dest2 = path.join(fresh.dir, 'backup-damaged');
  t.equal(cli(fresh, ['backup', dest2]).status, 0);
  const third = await makeEnv();
  const refused = cli(third, ['restore', dest2]);
  t.equal(refused.status, 1);
  t.match(refused.stderr, /^mssd: restore: the backup is damaged \(1 problem\(s\), first: body-hash/);
});

t.test('a daemon started after a missed purge tick purges at once; one started after an on-time purge does not', async (t) => {
  const env = await makeEnv();
  const alice = createPer(env, 'Alice', 'Martin', '10000000001');
  const db = openDatabase(env.dataDir);
  const inbox = (db.prepare(`SELECT m.id FROM mailboxes m JOIN accounts a ON a.id = m.account_id WHERE a.login = ? AND m.name = 'INBOX'`).get(alice.login) as { id: number }).id;
  const now = Date.now();
  addMessage(db, inbox, now - 100 * DAY, 'expiré');
  addMessage(db, inbox, now - DAY, 'récent');
  // The last purge ran two days ago: the daemon was stopped at its last 03:30 tick. The other
  // jobs ran just now.
  const run = db.prepare(`INSERT INTO job_runs (job, started_at, finished_at, outcome, counts) VALUES (?, ?, ?, 'ok', '{}')`);
  run.run('purge', now - 2 * DAY, now - 2 * DAY + 1000);
  for (const job of ['directory', 'allowlist', 'digest']) run.run(job, now, now + 1);
  db.close();

  const daemon = await startDaemon(env);
  await waitFor('the catch-up purge', () => daemon.logs().some((line) => line.msg === 'job finished' && line.job === 'purge'), 30_000);
  const started = daemon.logs().filter((line) => line.msg === 'job started');
  t.same(started.map((line) => [line.job, line.trigger]), [['purge', 'catch-up']], 'only the purge, marked as a catch-up');
  const finished = daemon.logs().find((line) => line.msg === 'job finished' && line.job === 'purge') as { counts: { messages: number } };
  t.equal(finished.counts.messages, 1, 'the expired message went');
  await daemon.stop();

  const check = openDatabase(env.dataDir);
  t.equal(count(check, 'SELECT COUNT(*) AS n FROM messages WHERE mailbox_id = ?', inbox), 1);
  check.close();

  // Started again: the purge is up to date, nothing is owed (the catch-up decision is taken
  // before "mssd ready").
  const again = await startDaemon(env);
  t.teardown(() => again.stop());
  t.notOk(again.logs().some((line) => String(line.msg).startsWith('job missed its scheduled time')), 'nothing owed');

  // `mssd jobs list` shows when each job runs next.
  const listed = cli(env, ['jobs', 'list', '--json']).json<{ next: Record<string, string> }>();
  t.same(Object.keys(listed.next).sort(), ['allowlist', 'digest', 'directory', 'purge']);
  t.ok(Date.parse(listed.next.purge) > Date.now(), 'the next purge is in the future');
});

t.test('Type=notify: READY=1 once serving, then WATCHDOG=1, then STOPPING=1 (through systemd-notify)', async (t) => {
  const which = spawnSync('sh', ['-c', 'command -v systemd-notify && command -v python3']);
  if (which.status !== 0) {
    t.skip('systemd-notify or python3 is not installed here', () => undefined);
    return;
  }
  const env = await makeEnv();
  const socketPath = path.join(env.dir, 'notify.sock');
  // A stand-in for systemd's notification socket: prints each datagram on one line.
  const receiver = spawn('python3', ['-c', [
    'import socket, sys',
    's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
    `s.bind(${JSON.stringify(socketPath)})`,
    'print("listening", flush=True)',
    'while True:',
    '    print(repr(s.recv(4096).decode()), flush=True)',
  ].join('\n')]);
  t.teardown(() => receiver.kill());
  let received = '';
  receiver.stdout.on('data', (chunk: Buffer) => (received += chunk.toString()));
  await waitFor('the receiver', () => received.includes('listening'));
  process.env.NOTIFY_SOCKET = socketPath;
  process.env.WATCHDOG_USEC = '2000000';
  let daemon;
  try {
    daemon = await startDaemon(env);
  } finally {
    delete process.env.NOTIFY_SOCKET;
    delete process.env.WATCHDOG_USEC;
  }
  const pid = daemon.process.pid;
  await waitFor('READY=1', () => received.includes(`READY=1\\nSTATUS=serving\\nMAINPID=${pid}`));
  await waitFor('WATCHDOG=1', () => received.includes(`MAINPID=${pid}\\nWATCHDOG=1`));
  await daemon.stop();
  await waitFor('STOPPING=1', () => received.includes(`MAINPID=${pid}\\nSTOPPING=1`));
  t.pass('READY, WATCHDOG and STOPPING reached the notification socket');
});
