// Benchmark: full-text SEARCH, SORT and THREAD on a big mailbox (issue 12: SEARCH TEXT/BODY/
// SUBJECT on 100 000 messages <= 100 ms). Used by bench/imap.ts for its 100 000-message box, and
// runnable alone (a throw-away daemon, one box):
//
//   npm run build && node dist/bench/imap-search.js   (BENCH_BIG=100000)
//
// The box: threads of five messages (a first message, then replies with References), 50
// senders, ~400 octets of French medical words each; "pneumothorax" in 1 % of the messages,
// "mésothéliome" in 1 of 10 000. Filled through the store (appendManyToMailbox), in batches of
// one transaction each, before the daemon starts.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { findBox } from '../src/store/boxes';
import { openDatabase, type Db } from '../src/store/database';
import { indexPendingBodies } from '../src/store/search-index';
import { appendManyToMailbox, prepareAppend, type AppendInput } from '../src/store/imap-messages';
import { resolveMailbox } from '../src/store/mailbox-view';
import { BenchImapClient, type CommandResult } from './lib/imap-client';
import { BENCH_PASSWORD, envNumber, machine, percentile, prepare, provisionBoxes, startDaemon, stopDaemon, type BenchDaemon } from './lib/harness';
import { generator, WORDS } from './lib/corpus';

const PEER_DOMAIN = 'hopital-fictif.mssante.fr';
/** In 1 % of the messages. */
export const COMMON_WORD = 'pneumothorax';
/** In 1 message of 10 000 (written with its accents, searched without). */
const RARE_WORD = 'mésothéliome';
const THREAD_LENGTH = 5;
const FILL_BATCH = 2000;

function searchMessage(index: number, to: string, random: () => number): Buffer {
  const thread = Math.floor(index / THREAD_LENGTH);
  const first = thread * THREAD_LENGTH;
  const sender = `dr.expediteur${index % 50}@${PEER_DOMAIN}`;
  const lines: string[] = [];
  for (let size = 0; size < 400; ) {
    const words: string[] = [];
    for (let w = 0; w < 12; w++) words.push(WORDS[Math.floor(random() * WORDS.length)]);
    if (lines.length === 2 && index % 100 === 7) words.push(COMMON_WORD);
    if (lines.length === 1 && index % 10_000 === 4242) words.push(RARE_WORD);
    const line = words.join(' ');
    lines.push(line);
    size += line.length + 2;
  }
  const references = Array.from({ length: index - first }, (_, i) => `<bench-${first + i}@${PEER_DOMAIN}>`);
  return Buffer.from(
    [
      `From: Dr Expéditeur ${index % 50} <${sender}>`,
      `To: <${to}>`,
      `Subject: ${index === first ? '' : 'Re: '}Compte rendu n° ${thread}`,
      // a few hours of jitter so that DATE and ARRIVAL differ
      `Date: ${new Date(Date.UTC(2026, 10, 1) + index * 60_000 + Math.floor(random() * 4) * 3_600_000).toUTCString()}`,
      `Message-ID: <bench-${index}@${PEER_DOMAIN}>`,
      ...(references.length > 0 ? [`References: ${references.join(' ')}`] : []),
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

/** Fills a box's INBOX through the store, FILL_BATCH messages per transaction; returns seconds. */
export function fillSearchBox(db: Db, address: string, count: number, seed = 2): number {
  const start = performance.now();
  const box = findBox(db, address);
  if (!box) throw new Error(`no box ${address}`);
  const inbox = resolveMailbox(db, box.accountId, 'INBOX');
  if (!inbox) throw new Error(`no INBOX for ${address}`);
  const random = generator(seed);
  const now = Date.now();
  // 256 MiB of page cache while filling: the B-trees of 100 000 messages and their index entries
  // then stay in memory instead of spilling to the WAL in the middle of each batch
  const cacheSize = db.pragma('cache_size', { simple: true }) as number;
  db.pragma('cache_size = -262144');
  for (let from = 0; from < count; from += FILL_BATCH) {
    const batch: AppendInput[] = [];
    for (let i = from; i < Math.min(count, from + FILL_BATCH); i++) {
      // a third already read, a few flagged: what a real INBOX looks like
      const flags = i % 3 === 0 ? ['\\Seen'] : i % 17 === 0 ? ['\\Flagged', '$label1'] : [];
      batch.push({ raw: searchMessage(i, address, random), flags, internalDate: now - (count - i) * 60_000 });
    }
    appendManyToMailbox(db, inbox.mailboxId, batch.map(prepareAppend), now);
  }
  // The daemon indexes bodies for SEARCH after the fact (src/jobs/search-indexer.ts); a store
  // that has been running holds them indexed, so the fill indexes them all before measuring.
  for (;;) {
    const step = indexPendingBodies(db, 1_000);
    if (step && !step.more) break;
  }
  db.pragma(`cache_size = ${cacheSize}`);
  return (performance.now() - start) / 1000;
}

const round = (value: number, digits = 1) => Number(value.toFixed(digits));

interface Timing {
  medianMs: number;
  p95Ms: number;
  /** Numbers in the answer (matches, or messages in a SORT/THREAD). */
  count: number;
}

async function timed(client: BenchImapClient, command: string, runs: number): Promise<Timing> {
  const samples: number[] = [];
  let last!: CommandResult;
  for (let i = 0; i < runs; i++) {
    last = await client.command(command, { keep: true });
    samples.push(last.ms);
  }
  samples.sort((a, b) => a - b);
  if (process.env.BENCH_VERBOSE) console.error(`${command}: ${samples.map((ms) => ms.toFixed(0)).join(' ')} ms`);
  const answer = last.lines[0] ?? '';
  return { medianMs: round(percentile(samples, 50)), p95Ms: round(percentile(samples, 95)), count: (answer.match(/\d+/g) ?? []).length };
}

export interface SearchBenchResult {
  messages: number;
  runs: number;
  searchTextRare: Timing;
  searchTextCommon: Timing;
  searchBodyCommon: Timing;
  searchSubject: Timing;
  searchFrom: Timing;
  sortDate: Timing;
  sortSubject: Timing;
  threadReferences: Timing;
  threadOrderedSubject: Timing;
}

/** SEARCH, SORT and THREAD over IMAPS on the box `login` owns (INBOX of `messages`). */
export async function measureSearch(port: number, ca: string, login: string, messages: number, runs = 11): Promise<SearchBenchResult> {
  const client = await BenchImapClient.connect('127.0.0.1', port, ca);
  await client.command(`LOGIN "${login}" "${BENCH_PASSWORD}"`);
  await client.command('SELECT INBOX');
  const heavy = 3; // SORT and THREAD of the whole box: seconds each on a loaded machine
  const result: SearchBenchResult = {
    messages,
    runs,
    searchTextRare: await timed(client, 'SEARCH CHARSET UTF-8 TEXT mesotheliome', runs),
    searchTextCommon: await timed(client, `SEARCH TEXT ${COMMON_WORD}`, runs),
    searchBodyCommon: await timed(client, `SEARCH BODY ${COMMON_WORD}`, runs),
    searchSubject: await timed(client, 'SEARCH CHARSET UTF-8 SUBJECT "n° 4242"', runs),
    searchFrom: await timed(client, 'SEARCH FROM "expediteur 7 "', runs),
    sortDate: await timed(client, 'SORT (DATE) UTF-8 ALL', heavy),
    sortSubject: await timed(client, 'SORT (SUBJECT) UTF-8 ALL', heavy),
    threadReferences: await timed(client, 'THREAD REFERENCES UTF-8 ALL', heavy),
    threadOrderedSubject: await timed(client, 'THREAD ORDEREDSUBJECT UTF-8 ALL', heavy),
  };
  await client.command('LOGOUT', { strict: false });
  client.close();
  if (result.searchTextCommon.count < messages / 100 - 1) throw new Error(`SEARCH TEXT ${COMMON_WORD} found ${result.searchTextCommon.count}`);
  if (result.sortDate.count !== messages) throw new Error(`SORT returned ${result.sortDate.count} of ${messages}`);
  return result;
}

/** The lines bench/imap.ts and this file print. */
export function searchReport(result: SearchBenchResult): string[] {
  const line = (what: string, timing: Timing, unit: string) =>
    `  ${result.messages} messages: ${what} median ${timing.medianMs} ms, p95 ${timing.p95Ms} ms (${timing.count} ${unit})`;
  return [
    line('SEARCH TEXT rare word (accent folded)', result.searchTextRare, 'matches; target <= 100 ms'),
    line(`SEARCH TEXT word in 1 % of messages`, result.searchTextCommon, 'matches; target <= 100 ms'),
    line(`SEARCH BODY word in 1 % of messages`, result.searchBodyCommon, 'matches; target <= 100 ms'),
    line('SEARCH SUBJECT "n° 4242"', result.searchSubject, 'matches; target <= 100 ms'),
    line('SEARCH FROM "expediteur 7 " (2 %)', result.searchFrom, 'matches'),
    line('SORT (DATE) ALL', result.sortDate, 'messages'),
    line('SORT (SUBJECT) ALL', result.sortSubject, 'messages'),
    line('THREAD REFERENCES ALL', result.threadReferences, 'numbers'),
    line('THREAD ORDEREDSUBJECT ALL', result.threadOrderedSubject, 'numbers'),
  ];
}

/** A store this bench filled before (BENCH_SEARCH_DIR=/tmp/mssd-bench-…): measured again without refilling. */
function reuse(dir: string): BenchDaemon {
  const configFile = path.join(dir, 'mssd.json');
  const config = JSON.parse(readFileSync(configFile, 'utf8')) as { dataDir: string; listen: Record<string, { port: number }> };
  const ports = Object.fromEntries(Object.entries(config.listen).map(([name, { port }]) => [name, port])) as BenchDaemon['ports'];
  return { dir, dataDir: config.dataDir, configFile, ports };
}

async function main(): Promise<void> {
  const count = envNumber('BENCH_BIG', 100_000);
  let bench: BenchDaemon;
  let fillSeconds = 0;
  if (process.env.BENCH_SEARCH_DIR) {
    bench = reuse(process.env.BENCH_SEARCH_DIR);
  } else {
    bench = await prepare({ log: { level: 'info' } });
    const [box] = provisionBoxes(bench, 1);
    const db = openDatabase(bench.dataDir);
    fillSeconds = fillSearchBox(db, box, count);
    db.close();
    console.log(`filled ${count} messages in ${fillSeconds.toFixed(1)} s (store: ${bench.dir}; BENCH_SEARCH_DIR=${bench.dir} measures it again)`);
  }
  await startDaemon(bench);
  const ca = readFileSync(path.join(bench.dataDir, 'tls', 'dev-ca.pem'), 'utf8');
  try {
    const result = await measureSearch(bench.ports.imaps, ca, 'user0@bench-hopital.fr', count, envNumber('BENCH_RUNS', 11));
    console.log(`imap search on ${machine()}`);
    for (const line of searchReport(result)) console.log(line);
    console.log(JSON.stringify({ benchmark: 'imap-search', machine: machine(), fillSeconds: round(fillSeconds), ...result }));
  } finally {
    await stopDaemon(bench);
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(`bench failed: ${(err as Error).stack ?? (err as Error).message}`);
    process.exitCode = 1;
  });
}
