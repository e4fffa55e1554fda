// Benchmark: the IMAP server (DESIGN.md targets: SELECT of 100 000 messages <= 100 ms, UID FETCH
// 1:* (FLAGS) on 100 000 <= 500 ms, IDLE wake-up after an SMTP 250 <= 10 ms, <= 50 KB per idle
// TLS connection). A throw-away daemon (real bin/mssd), boxes filled through the store in one
// transaction before it starts, then a minimal IMAP client over TLS measures:
//   - a box of 10 000 messages: SELECT, FETCH 1:* (FLAGS UID RFC822.SIZE ENVELOPE), FETCH BODY[]
//     of 100 random messages, SEARCH TEXT;
//   - a box of 100 000 messages: SELECT, UID FETCH 1:* (FLAGS), APPEND, STORE \Deleted + EXPUNGE of
//     one message, then bench/imap-search.ts: SEARCH
//     TEXT (rare word, word in 1 %) / BODY / SUBJECT / FROM through the full-text index (issue 12:
//     <= 100 ms), SORT and THREAD of the whole box, median and p95;
//   - IDLE latency from the SMTP 250 (inbound MTA, STARTTLS) to the untagged EXISTS;
//   - daemon RSS per idle TLS connection with 1 000 connections logged in, INBOX selected, in IDLE.
//
//   npm run bench:imap   (BENCH_MESSAGES=10000 BENCH_BIG=100000 BENCH_IDLE_CONNECTIONS=1000)
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { openDatabase, type Db } from '../src/store/database';
import { findBox } from '../src/store/boxes';
import { appendToMailbox } from '../src/store/imap-messages';
import { resolveMailbox } from '../src/store/mailbox-view';
import { issueCertificate } from '../src/tls/certificates';
import { fillSearchBox, measureSearch, searchReport } from './imap-search';
import { BenchImapClient, type CommandResult } from './lib/imap-client';
import { BenchSmtpClient } from './lib/smtp-client';
import { BENCH_PASSWORD, currentRssMiB, envNumber, machine, percentile, prepare, provisionBoxes, startDaemon, stopDaemon } from './lib/harness';
import { generator, WORDS } from './lib/corpus';

const MESSAGES = envNumber('BENCH_MESSAGES', 10_000);
const BIG = envNumber('BENCH_BIG', 100_000);
const IDLE_CONNECTIONS = envNumber('BENCH_IDLE_CONNECTIONS', 1_000);
const RANDOM_BODIES = 100;
const IDLE_SAMPLES = 50;
/** Messages in the INBOX of the boxes the idle connections select. */
const IDLE_BOX_MESSAGES = envNumber('BENCH_IDLE_BOX_MESSAGES', 100);
const IDLE_BOXES = 10;

/** The fictional peer operator of config/listeblanche-exemple.xml. */
const PEER_DOMAIN = 'hopital-fictif.mssante.fr';
const PEER_DN = { CN: 'mx.operateur-fictif.fr', OU: '00000000000001', O: 'Operateur Fictif', ST: 'Paris (75)', C: 'FR' };
const NEEDLE = 'pneumothorax';

function benchMessage(index: number, to: string, random: () => number, approxBytes: number): Buffer {
  const sender = `dr.expediteur${index % 50}@${PEER_DOMAIN}`;
  const lines: string[] = [];
  let size = 0;
  while (size < approxBytes) {
    const words: string[] = [];
    for (let w = 0; w < 12; w++) words.push(WORDS[Math.floor(random() * WORDS.length)]);
    if (index % 100 === 7 && lines.length === 3) words.push(NEEDLE);
    const line = words.join(' ');
    lines.push(line);
    size += line.length + 2;
  }
  return Buffer.from(
    [
      `From: Dr Expéditeur ${index % 50} <${sender}>`,
      `To: <${to}>`,
      `Subject: Compte rendu n° ${index}`,
      `Date: ${new Date(Date.UTC(2026, 10, 1) + index * 60_000).toUTCString()}`,
      `Message-ID: <bench-${index}@${PEER_DOMAIN}>`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
      '',
      ...lines,
      '',
    ].join('\r\n'),
    'utf8',
  );
}

/** Fills a box's INBOX through the store, in one transaction; returns the seconds it took. */
function fill(db: Db, address: string, count: number, approxBytes: number, seed: number): number {
  const start = performance.now();
  const box = findBox(db, address);
  if (!box) throw new Error(`no box ${address}`);
  const inbox = resolveMailbox(db, box.accountId, 'INBOX');
  if (!inbox) throw new Error(`no INBOX for ${address}`);
  const random = generator(seed);
  const now = Date.now();
  db.transaction(() => {
    for (let i = 0; i < count; i++) {
      // a third already read, a few flagged: what a real INBOX looks like
      const flags = i % 3 === 0 ? ['\\Seen'] : i % 17 === 0 ? ['\\Flagged', '$label1'] : [];
      appendToMailbox(db, inbox.mailboxId, benchMessage(i, address, random, approxBytes), flags, now - (count - i) * 60_000, now);
    }
  })();
  return (performance.now() - start) / 1000;
}

const round = (value: number, digits = 1) => Number(value.toFixed(digits));

async function login(port: number, ca: string, user: string): Promise<BenchImapClient> {
  const client = await BenchImapClient.connect('127.0.0.1', port, ca);
  await client.command(`LOGIN "${user}" "${BENCH_PASSWORD}"`);
  return client;
}

async function median(times: number, run: () => Promise<CommandResult>): Promise<{ first: number; median: number; last: CommandResult }> {
  const samples: number[] = [];
  let last!: CommandResult;
  for (let i = 0; i < times; i++) {
    last = await run();
    samples.push(last.ms);
  }
  const first = samples[0];
  samples.sort((a, b) => a - b);
  return { first, median: samples[Math.floor(samples.length / 2)], last };
}

async function main(): Promise<void> {
  const bench = await prepare({
    log: { level: 'info' }, // the harness waits for the "mssd ready" info line
    limits: { maxConnections: IDLE_CONNECTIONS + 200, maxConnectionsPerIp: IDLE_CONNECTIONS + 200, maxConnectionsPerAccount: IDLE_CONNECTIONS + 200 },
    // Memory per connection is read from the RSS of the daemon's pid: keep the connections there
    // rather than in IMAP worker processes (imap.workers, src/imap/workers.ts).
    imap: { workers: 1 },
  });
  const boxes = provisionBoxes(bench, 2 + IDLE_BOXES);
  const [mediumBox, bigBox, ...idleBoxes] = boxes;
  const logins = boxes.map((_, i) => `user${i}@bench-hopital.fr`);

  const db = openDatabase(bench.dataDir);
  const fillMedium = fill(db, mediumBox, MESSAGES, 3000, 1);
  const fillBig = fillSearchBox(db, bigBox, BIG);
  idleBoxes.forEach((box, i) => fill(db, box, IDLE_BOX_MESSAGES, 1000, 10 + i));
  db.close();
  console.log(`filled ${MESSAGES} messages in ${fillMedium.toFixed(1)} s, ${BIG} in ${fillBig.toFixed(1)} s`);

  await startDaemon(bench);
  const ca = readFileSync(path.join(bench.dataDir, 'tls', 'dev-ca.pem'), 'utf8');
  const caKey = readFileSync(path.join(bench.dataDir, 'tls', 'dev-ca.key'), 'utf8');
  const port = bench.ports.imaps;

  // --- 10 000 messages
  const medium = await login(port, ca, logins[0]);
  const select = await median(5, () => medium.command('SELECT INBOX'));
  const fetchAll = await median(3, () => medium.command('FETCH 1:* (FLAGS UID RFC822.SIZE ENVELOPE)'));
  if (fetchAll.last.untagged < MESSAGES) throw new Error(`FETCH returned ${fetchAll.last.untagged} responses`);
  const random = generator(99);
  const bodyTimes: number[] = [];
  let bodyBytes = 0;
  const bodiesStart = performance.now();
  for (let i = 0; i < RANDOM_BODIES; i++) {
    const seq = 1 + Math.floor(random() * MESSAGES);
    const result = await medium.command(`FETCH ${seq} BODY[]`);
    bodyTimes.push(result.ms);
    bodyBytes += result.bytes;
  }
  const bodiesTotal = performance.now() - bodiesStart;
  bodyTimes.sort((a, b) => a - b);
  const search = await median(3, () => medium.command(`SEARCH TEXT ${NEEDLE}`, { keep: true }));
  const matches = search.last.lines[0].split(' ').length - 2;
  await medium.command('LOGOUT', { strict: false });
  medium.close();

  // --- 100 000 messages
  const big = await login(port, ca, logins[1]);
  const bigSelect = await median(5, () => big.command('SELECT INBOX'));
  const bigFetch = await median(5, () => big.command('UID FETCH 1:* (FLAGS)'));
  if (bigFetch.last.untagged < BIG) throw new Error(`UID FETCH returned ${bigFetch.last.untagged} responses`);
  // Writes whose cost must not grow with the mailbox (migration 018): APPEND checks the QUOTA,
  // EXPUNGE looks for the messages flagged \Deleted, and the session's sync reads what changed.
  const note = 'From: Dr Martin <martin@chu.mssante.fr>\r\nSubject: Compte rendu\r\n\r\nRAS.\r\n';
  const bigAppend = await median(21, () => big.command(`APPEND INBOX {${Buffer.byteLength(note)}+}\r\n${note}`));
  const bigExpunge = await median(21, async () => {
    await big.command('STORE 1 +FLAGS.SILENT (\\Deleted)');
    return big.command('EXPUNGE');
  });
  await big.command('LOGOUT', { strict: false });
  big.close();
  // full-text index, SORT and THREAD (bench/imap-search.ts)
  const bigSearch = await measureSearch(port, ca, logins[1], BIG);

  // --- IDLE latency: SMTP 250 to untagged EXISTS
  const watcher = await login(port, ca, logins[2]);
  await watcher.command('SELECT INBOX');
  const idling = await watcher.idle();
  let lastExists = 0;
  let existsWaiter: (() => void) | null = null;
  watcher.onUntagged = (line, at) => {
    if (/^\* \d+ EXISTS$/.test(line)) {
      lastExists = at;
      existsWaiter?.();
    }
  };
  const clientCert = issueCertificate({ certPem: ca, keyPem: caKey }, { subject: PEER_DN, usage: 'client', days: 1 });
  const smtp = await BenchSmtpClient.connect('127.0.0.1', bench.ports.smtp, { helo: 'mx.operateur-fictif.fr', tls: { ca, cert: clientCert.certPem, key: clientCert.keyPem } });
  const idleLatencies: number[] = [];
  /** From the client's end of DATA (".") to the EXISTS: the whole path, commit included. */
  const afterDataEnd: number[] = [];
  for (let i = 0; i < IDLE_SAMPLES; i++) {
    lastExists = 0;
    const exists = new Promise<void>((resolve) => (existsWaiter = resolve));
    const dataReplyMs = await smtp.send(`dr.bench@${PEER_DOMAIN}`, idleBoxes[0], benchMessage(MESSAGES + i, idleBoxes[0], random, 2000));
    const acknowledged = performance.now();
    await exists;
    existsWaiter = null;
    idleLatencies.push(lastExists - acknowledged);
    afterDataEnd.push(lastExists - (acknowledged - dataReplyMs));
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await smtp.quit();
  await idling.done();
  watcher.close();
  idleLatencies.sort((a, b) => a - b);
  afterDataEnd.sort((a, b) => a - b);

  // --- memory per idle TLS connection, in a freshly started daemon (what the boxes above made
  // the heap grow to would otherwise be reused and hide the cost).
  await stopDaemon(bench);
  const fresh = await startDaemon(bench);
  // Logins first run concurrently on a few connections that
  // are then closed: scrypt (8 MiB per password check, on libuv's 4 threads) leaves the C
  // allocator's per-thread arenas grown once for all, which is not a per-connection cost.
  const openIdlers = async (count: number): Promise<BenchImapClient[]> => {
    const clients: BenchImapClient[] = [];
    for (let batch = 0; batch < count; batch += 50) {
      const group = await Promise.all(
        Array.from({ length: Math.min(50, count - batch) }, async (_, j) => {
          const client = await login(port, ca, logins[2 + ((batch + j) % IDLE_BOXES)]);
          await client.command('SELECT INBOX');
          await client.idle();
          return client;
        }),
      );
      clients.push(...group);
    }
    return clients;
  };
  for (const client of await openIdlers(50)) client.close();
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const rssBefore = currentRssMiB(fresh.pid!);
  const idleStart = performance.now();
  const idlers = await openIdlers(IDLE_CONNECTIONS);
  const openSeconds = (performance.now() - idleStart) / 1000;
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const rssAfter = currentRssMiB(fresh.pid!);
  const perConnectionKiB = ((rssAfter - rssBefore) * 1024) / IDLE_CONNECTIONS;
  // the same connections still open, after a wake-up of all of them by one delivery (2 s later)
  const wakeSmtp = await BenchSmtpClient.connect('127.0.0.1', bench.ports.smtp, { helo: 'mx.operateur-fictif.fr', tls: { ca, cert: clientCert.certPem, key: clientCert.keyPem } });
  for (const box of idleBoxes) await wakeSmtp.send(`dr.bench@${PEER_DOMAIN}`, box, benchMessage(MESSAGES + IDLE_SAMPLES, box, random, 2000));
  await wakeSmtp.quit();
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const rssAfterWake = currentRssMiB(fresh.pid!);
  for (const client of idlers) client.close();
  await stopDaemon(bench);

  const result = {
    benchmark: 'imap',
    machine: machine(),
    box10k: {
      messages: MESSAGES,
      selectMs: { first: round(select.first), median: round(select.median) },
      fetchAllEnvelopeMs: { first: round(fetchAll.first), median: round(fetchAll.median), megabytes: round(fetchAll.last.bytes / 2 ** 20, 2) },
      fetchBody100Random: { totalMs: round(bodiesTotal), p50Ms: round(percentile(bodyTimes, 50), 2), p99Ms: round(percentile(bodyTimes, 99), 2), kilobytes: Math.round(bodyBytes / 1024) },
      searchTextMs: { first: round(search.first), median: round(search.median), matches },
    },
    box100k: {
      messages: BIG,
      selectMs: { first: round(bigSelect.first), median: round(bigSelect.median) },
      uidFetchFlagsMs: { first: round(bigFetch.first), median: round(bigFetch.median), megabytes: round(bigFetch.last.bytes / 2 ** 20, 2) },
      appendMs: { first: round(bigAppend.first, 2), median: round(bigAppend.median, 2) },
      expungeOneMs: { first: round(bigExpunge.first, 2), median: round(bigExpunge.median, 2) },
      search: bigSearch,
    },
    idleExistsAfterSmtp250Ms: { samples: IDLE_SAMPLES, p50: round(percentile(idleLatencies, 50), 2), p99: round(percentile(idleLatencies, 99), 2), max: round(idleLatencies[idleLatencies.length - 1], 2) },
    idleExistsAfterDataEndMs: { p50: round(percentile(afterDataEnd, 50), 2), p99: round(percentile(afterDataEnd, 99), 2), max: round(afterDataEnd[afterDataEnd.length - 1], 2) },
    idleConnections: {
      count: IDLE_CONNECTIONS,
      inboxMessages: IDLE_BOX_MESSAGES,
      openSeconds: round(openSeconds),
      daemonRssMiB: { before: round(rssBefore), after: round(rssAfter), afterWakingAll: round(rssAfterWake) },
      perConnectionKiB: round(perConnectionKiB),
      perConnectionAfterWakeKiB: round(((rssAfterWake - rssBefore) * 1024) / IDLE_CONNECTIONS),
    },
  };
  console.log(`imap on ${result.machine}`);
  console.log(`  ${MESSAGES} messages: SELECT ${result.box10k.selectMs.first} ms first (claims \\Recent), ${result.box10k.selectMs.median} ms median`);
  console.log(`  ${MESSAGES} messages: FETCH 1:* (FLAGS UID RFC822.SIZE ENVELOPE) ${result.box10k.fetchAllEnvelopeMs.median} ms median (${result.box10k.fetchAllEnvelopeMs.megabytes} MiB)`);
  console.log(`  ${MESSAGES} messages: FETCH n BODY[] of ${RANDOM_BODIES} random messages ${result.box10k.fetchBody100Random.totalMs} ms in all, p50 ${result.box10k.fetchBody100Random.p50Ms} ms, p99 ${result.box10k.fetchBody100Random.p99Ms} ms`);
  console.log(`  ${MESSAGES} messages: SEARCH TEXT ${result.box10k.searchTextMs.median} ms median (${matches} matches)`);
  console.log(`  ${BIG} messages: SELECT ${result.box100k.selectMs.first} ms first, ${result.box100k.selectMs.median} ms median (target <= 100 ms)`);
  console.log(`  ${BIG} messages: UID FETCH 1:* (FLAGS) ${result.box100k.uidFetchFlagsMs.median} ms median (target <= 500 ms)`);
  console.log(`  ${BIG} messages: APPEND ${result.box100k.appendMs.median} ms median, EXPUNGE of one message (after its STORE) ${result.box100k.expungeOneMs.median} ms median`);
  for (const line of searchReport(bigSearch)) console.log(line);
  console.log(
    `  IDLE: SMTP 250 to untagged EXISTS p50 ${result.idleExistsAfterSmtp250Ms.p50} ms, p99 ${result.idleExistsAfterSmtp250Ms.p99} ms ` +
      `(negative: the EXISTS arrives before the 250; target <= 10 ms); end of DATA to EXISTS p50 ${result.idleExistsAfterDataEndMs.p50} ms, p99 ${result.idleExistsAfterDataEndMs.p99} ms`,
  );
  console.log(`  ${IDLE_CONNECTIONS} TLS connections in IDLE: daemon RSS ${result.idleConnections.daemonRssMiB.before} -> ${result.idleConnections.daemonRssMiB.after} MiB, ${result.idleConnections.perConnectionKiB} KiB each (target <= 50 KB); ${result.idleConnections.perConnectionAfterWakeKiB} KiB each after one delivery woke them all`);
  console.log(JSON.stringify(result));
  await (await import('./imap-idle.js')).benchIdleConnections(); // 1 000 and 10 000 connections in IDLE, each in a fresh daemon
}

main().catch((err) => {
  console.error(`bench failed: ${(err as Error).stack ?? (err as Error).message}`);
  process.exitCode = 1;
});
