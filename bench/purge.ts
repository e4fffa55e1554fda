// Benchmark: the retention purge inside the daemon (DESIGN.md target: purge of 1 M messages, half
// expired, while no SMTP/IMAP request waits more than 50 ms).
//
// 1 000 000 messages are written straight into SQLite (a few boxes, tiny shared bodies), half of
// them 100 days old. The daemon starts with `schedules.purge` set to fire a few seconds later, so
// the purge runs in the daemon's own event loop, as it does every night. Meanwhile two probes
// measure every request: SMTP (one STARTTLS connection with an operator certificate delivering
// small messages one after the other: MAIL+RCPT+DATA pipelined, then the end of DATA) and IMAP (one
// TLS session alternating SELECT INBOX of a small folder and NOOP). Figures are split into before
// the purge (baseline) and during it.
//
//   npm run bench:purge          (BENCH_MESSAGES=1000000 BENCH_BOXES=5)
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { issueCertificate } from '../src/tls/certificates';
import { BENCH_PASSWORD, envNumber, machine, peakRssMiB, percentile, prepare, provisionBoxes, startDaemon, stopDaemon } from './lib/harness';
import { BenchSmtpClient } from './lib/smtp-client';

const MESSAGES = envNumber('BENCH_MESSAGES', 1_000_000);
const BOXES = envNumber('BENCH_BOXES', 5);
/** Seconds between the daemon's start and the scheduled purge: the baseline window. */
const LEAD_SECONDS = envNumber('BENCH_LEAD_SECONDS', 12);
const DAY = 86_400_000;

/** The fictional peer operator of config/listeblanche-exemple.xml. */
const PEER_DOMAIN = 'hopital-fictif.mssante.fr';
const PEER_DN = { CN: 'mx.operateur-fictif.fr', OU: '00000000000001', O: 'Operateur Fictif', ST: 'Paris (75)', C: 'FR' };

interface Sample {
  at: number;
  ms: number;
}

/** Writes MESSAGES messages into the data boxes' INBOX (half expired), as the store would. */
function populate(dataDir: string, logins: string[]): { expired: number; kept: number; seconds: number } {
  const started = Date.now();
  const db = new Database(path.join(dataDir, 'mssd.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const now = Date.now();
  const bodies = Array.from({ length: 64 }, (_, i) => {
    const content = Buffer.from(`From: <dr.bench@${PEER_DOMAIN}>\r\nSubject: compte rendu ${i}\r\n\r\nexamen sans particularité ${i}\r\n`);
    return { hash: createHash('sha256').update(content).digest('hex'), content };
  });
  const refcounts = new Array<number>(bodies.length).fill(0);
  const addBody = db.prepare('INSERT INTO bodies (hash, size, refcount, content, created_at) VALUES (?, ?, 0, ?, ?)');
  db.transaction(() => bodies.forEach((body) => addBody.run(body.hash, body.content.length, body.content, now)))();
  const mailboxes = logins.map((login) =>
    (db.prepare(`SELECT mb.id FROM mailboxes mb JOIN accounts a ON a.id = mb.account_id WHERE a.login = ? AND mb.name = 'INBOX'`).get(login) as { id: number }).id,
  );
  const insert = db.prepare(
    `INSERT INTO messages (mailbox_id, uid, modseq, flags, internal_date, arrived_at, size, body_hash, message_id, envelope, structure)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '{}', '{}')`,
  );
  const perBox = Math.ceil(MESSAGES / mailboxes.length);
  let expired = 0;
  let kept = 0;
  let written = 0;
  for (const mailboxId of mailboxes) {
    const count = Math.min(perBox, MESSAGES - written);
    const chunk = 50_000;
    for (let from = 0; from < count; from += chunk) {
      db.transaction(() => {
        for (let i = from; i < Math.min(count, from + chunk); i++) {
          // Older first, as mail arrives: the first half of each box is 100 to 190 days old.
          const old = i < count / 2;
          const arrivedAt = old ? now - 190 * DAY + Math.floor((i / count) * 2 * 90 * DAY) : now - 80 * DAY + Math.floor(((i - count / 2) / count) * 2 * 79 * DAY);
          const b = (i * 7 + mailboxId) % bodies.length;
          refcounts[b]++;
          insert.run(mailboxId, i + 1, i + 1, i % 3 === 0 ? 1 : 0, arrivedAt, arrivedAt, bodies[b].content.length, bodies[b].hash, `bench-${mailboxId}-${i}@peer.example`);
          if (old) expired++;
          else kept++;
        }
      })();
    }
    db.prepare('UPDATE mailboxes SET uidnext = ?, highestmodseq = ? WHERE id = ?').run(count + 1, count + 1, mailboxId);
    written += count;
  }
  const setRefcount = db.prepare('UPDATE bodies SET refcount = ? WHERE hash = ?');
  db.transaction(() => bodies.forEach((body, i) => setRefcount.run(refcounts[i], body.hash)))();
  db.prepare('DELETE FROM bodies WHERE refcount = 0').run();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return { expired, kept, seconds: (Date.now() - started) / 1000 };
}

/** A cron expression (6 fields, UTC) that fires once, at `at`. */
function cronAt(at: Date): string {
  return `${at.getUTCSeconds()} ${at.getUTCMinutes()} ${at.getUTCHours()} ${at.getUTCDate()} ${at.getUTCMonth() + 1} *`;
}

/** Just enough IMAP: tagged commands over implicit TLS, timing each until its tagged reply. */
class ProbeImap {
  private buffer = '';
  private waiting: { tag: string; resolve: (line: string) => void } | null = null;
  private tag = 0;
  private greeted!: () => void;
  readonly greeting = new Promise<void>((resolve) => (this.greeted = resolve));
  private constructor(private readonly socket: tls.TLSSocket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      let newline: number;
      while ((newline = this.buffer.indexOf('\r\n')) >= 0) {
        const line = this.buffer.slice(0, newline);
        this.buffer = this.buffer.slice(newline + 2);
        if (line.startsWith('* OK')) this.greeted();
        if (this.waiting && line.startsWith(`${this.waiting.tag} `)) {
          const { resolve } = this.waiting;
          this.waiting = null;
          resolve(line);
        }
      }
    });
  }

  static async connect(port: number, ca: string): Promise<ProbeImap> {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca, minVersion: 'TLSv1.2' });
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('error', reject);
    });
    const client = new ProbeImap(socket);
    await client.greeting;
    return client;
  }

  async command(text: string): Promise<number> {
    const tag = `p${++this.tag}`;
    const started = process.hrtime.bigint();
    const done = new Promise<string>((resolve) => (this.waiting = { tag, resolve }));
    this.socket.write(`${tag} ${text}\r\n`);
    const line = await done;
    if (!line.startsWith(`${tag} OK`)) throw new Error(`${text}: ${line}`);
    return Number(process.hrtime.bigint() - started) / 1e6;
  }

  close(): void {
    this.socket.end('z LOGOUT\r\n');
  }
}

const TARGET_MS = 50;

function stats(samples: Sample[]) {
  const sorted = samples.map((s) => s.ms).sort((a, b) => a - b);
  const round = (n: number) => Number(n.toFixed(1));
  return {
    n: sorted.length,
    p50: round(percentile(sorted, 50)),
    p99: round(percentile(sorted, 99)),
    p999: round(percentile(sorted, 99.9)),
    max: round(sorted[sorted.length - 1] ?? NaN),
    over50ms: sorted.filter((ms) => ms > TARGET_MS).length,
  };
}

async function main(): Promise<void> {
  const bench = await prepare({ log: { level: 'info' } });
  const logins = provisionBoxes(bench, BOXES + 1).map((_, i) => `user${i}@bench-hopital.fr`);
  // user0 receives the SMTP probe's messages and its INBOX is what the IMAP probe selects (small,
  // so the SELECT measures waiting, not the size of a folder); user1..N hold the data.
  const dataBoxes = logins.slice(1);
  process.stdout.write(`writing ${MESSAGES} messages into ${dataBoxes.length} boxes... `);
  const populated = populate(bench.dataDir, dataBoxes);
  console.log(`${populated.seconds.toFixed(1)} s (${populated.expired} expired, ${populated.kept} recent)`);

  const purgeAt = new Date(Date.now() + LEAD_SECONDS * 1000);
  const config = JSON.parse(readFileSync(bench.configFile, 'utf8')) as Record<string, unknown>;
  writeFileSync(bench.configFile, JSON.stringify({ ...config, schedules: { purge: cronAt(purgeAt), timezone: 'UTC' } }));
  const daemon = await startDaemon(bench);
  const caPem = readFileSync(path.join(bench.dataDir, 'tls', 'dev-ca.pem'), 'utf8');
  const ca = { certPem: caPem, keyPem: readFileSync(path.join(bench.dataDir, 'tls', 'dev-ca.key'), 'utf8') };
  const clientCert = issueCertificate(ca, { subject: PEER_DN, usage: 'client', days: 1 });

  const smtp = await BenchSmtpClient.connect('127.0.0.1', bench.ports.smtp, {
    helo: 'mx.operateur-fictif.fr',
    tls: { ca: caPem, cert: clientCert.certPem, key: clientCert.keyPem },
  });
  const imap = await ProbeImap.connect(bench.ports.imaps, caPem);
  await imap.command(`LOGIN user0@bench-hopital.fr "${BENCH_PASSWORD}"`);

  // The first requests warm the daemon up (TLS, JIT, caches): not part of the baseline.
  const warmedUpAt = Date.now() + 2000;
  const smtpTransaction: Sample[] = [];
  const smtpDataReply: Sample[] = [];
  const imapCommands: Sample[] = [];
  let stop = false;
  const smtpLoop = (async () => {
    for (let n = 0; !stop; n++) {
      const body = Buffer.from(`From: <dr.bench@${PEER_DOMAIN}>\r\nTo: <user.bench0@bench.mssante.fr>\r\nSubject: sonde ${n}\r\nMessage-ID: <probe-${n}@${PEER_DOMAIN}>\r\n\r\nsonde de latence\r\n`);
      const started = process.hrtime.bigint();
      const dataMs = await smtp.send(`dr.bench@${PEER_DOMAIN}`, 'user.bench0@bench.mssante.fr', body);
      const at = Date.now();
      smtpTransaction.push({ at, ms: Number(process.hrtime.bigint() - started) / 1e6 });
      smtpDataReply.push({ at, ms: dataMs });
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  const imapLoop = (async () => {
    for (let n = 0; !stop; n++) {
      const ms = await imap.command(n % 2 === 0 ? 'SELECT INBOX' : 'NOOP');
      imapCommands.push({ at: Date.now(), ms });
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();

  // Wait for the scheduled purge to start and finish (read from job_runs, as an operator would).
  const db = new Database(path.join(bench.dataDir, 'mssd.sqlite'), { readonly: true });
  let run: { started_at: number; finished_at: number | null; outcome: string; counts: string } | undefined;
  const deadline = Date.now() + (LEAD_SECONDS + 3600) * 1000;
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    run = db.prepare(`SELECT started_at, finished_at, outcome, counts FROM job_runs WHERE job = 'purge' ORDER BY id DESC LIMIT 1`).get() as typeof run;
    if (run && run.outcome !== 'running') break;
  }
  await new Promise((resolve) => setTimeout(resolve, 2000));
  stop = true;
  await Promise.all([smtpLoop, imapLoop]);
  await smtp.quit();
  imap.close();
  const rss = peakRssMiB(daemon.pid!);
  const left = (db.prepare('SELECT COUNT(*) AS n FROM messages').get() as { n: number }).n;
  const stillExpired = (db.prepare('SELECT COUNT(*) AS n FROM messages WHERE arrived_at <= ?').get(Date.now() - 90 * DAY) as { n: number }).n;
  db.close();
  await stopDaemon(bench);
  if (!run || run.outcome !== 'ok' || run.finished_at === null) throw new Error(`the purge did not finish: ${JSON.stringify(run)}`);

  const counts = JSON.parse(run.counts) as { messages: number; batches: number };
  const seconds = (run.finished_at - run.started_at) / 1000;
  const before = (samples: Sample[]) => samples.filter((s) => s.at >= warmedUpAt && s.at < run!.started_at);
  const during = (samples: Sample[]) => samples.filter((s) => s.at >= run!.started_at && s.at <= run!.finished_at! + 50);
  const result = {
    benchmark: 'purge',
    machine: machine(),
    messages: MESSAGES,
    expired: populated.expired,
    purged: counts.messages,
    batches: counts.batches,
    purgeSeconds: Number(seconds.toFixed(1)),
    purgedPerSecond: Math.round(counts.messages / seconds),
    leftAfter: left,
    stillExpired,
    smtpTransactionMs: { before: stats(before(smtpTransaction)), during: stats(during(smtpTransaction)) },
    smtpDataReplyMs: { before: stats(before(smtpDataReply)), during: stats(during(smtpDataReply)) },
    imapCommandMs: { before: stats(before(imapCommands)), during: stats(during(imapCommands)) },
    daemonPeakRssMiB: Number(rss.toFixed(1)),
  };
  const worst = Math.max(result.smtpTransactionMs.during.max, result.imapCommandMs.during.max);
  // When did the slow requests happen, in seconds from the start of the purge?
  const slow = [...during(smtpTransaction).map((s) => ['smtp', s] as const), ...during(imapCommands).map((s) => ['imap', s] as const)]
    .filter(([, s]) => s.ms > TARGET_MS)
    .map(([what, s]) => `${what} ${s.ms.toFixed(0)} ms at +${((s.at - run!.started_at) / 1000).toFixed(1)} s`);
  console.log(`purge on ${result.machine}`);
  console.log(`  ${MESSAGES} messages in ${dataBoxes.length} boxes, ${populated.expired} expired; purged by the daemon's scheduled job in ${result.purgeSeconds} s (${result.purgedPerSecond} msg/s, ${result.batches} batches)`);
  const line = (name: string, s: { before: ReturnType<typeof stats>; during: ReturnType<typeof stats> }) =>
    console.log(
      `  ${name}: during the purge n=${s.during.n} p50 ${s.during.p50} ms, p99 ${s.during.p99} ms, p99.9 ${s.during.p999} ms, max ${s.during.max} ms, ${s.during.over50ms} over ${TARGET_MS} ms` +
        ` (before, n=${s.before.n}: p99 ${s.before.p99} ms, max ${s.before.max} ms)`,
    );
  line('SMTP transaction (MAIL+RCPT+DATA, end of DATA)', result.smtpTransactionMs);
  line('SMTP DATA reply', result.smtpDataReplyMs);
  line('IMAP SELECT/NOOP', result.imapCommandMs);
  console.log(`  worst SMTP/IMAP request during the purge: ${worst.toFixed(1)} ms (target: none > ${TARGET_MS} ms)${slow.length ? `; slow: ${slow.join(', ')}` : ''}`);
  console.log(`  ${left} messages left, ${stillExpired} expired left; daemon peak RSS ${result.daemonPeakRssMiB} MiB`);
  console.log(JSON.stringify(result));
  if (stillExpired !== 0 || counts.messages !== populated.expired) {
    console.error(`PURGE INCOMPLETE: ${counts.messages} purged of ${populated.expired}, ${stillExpired} expired left`);
    process.exitCode = 1;
  }
}

main().catch((err) => {
  console.error(`bench failed: ${(err as Error).message}`);
  process.exitCode = 1;
});
