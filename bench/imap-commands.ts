// Benchmark: what one IMAP command costs the server in CPU time, mssd beside the reference
// Dovecot of ../shared/anchors/, command by command. bench:imap-stress says how fast the whole
// mix runs; this one says where a difference comes from.
//
// One TLS connection per server, the same mailbox content (the first messages of the anchors'
// test.mbox), each command sent COUNT times in pipelined groups of 8. The server's CPU time is
// read from /proc before and after each command kind: mssd runs IMAP in its own process
// (imap.workers 1, so one pid holds everything), Dovecot's cost is the sum of its imap and
// imap-login processes (imap-login carries the TLS).
//
//   npm run build && node dist/bench/imap-commands.js
//   BENCH_COUNT=400 (commands of each kind)  BENCH_MESSAGES=200 (messages in the box)
//   ANCHOR_ROOT=/tmp/mssd-anchors (where setup-anchors.sh keeps Dovecot's files)
//   BENCH_ONLY=FETCH (only the command kinds whose name contains it)
//   BENCH_PROFILE_DIR=/tmp/prof (a V8 CPU profile of mssd)
import { readdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { envNumber, machine, prepare, runCli, startDaemon, stopDaemon, BENCH_PASSWORD } from './lib/harness';
import { mboxMessages, PipelinedClient as Client } from './lib/pipelined-client';

const COUNT = envNumber('BENCH_COUNT', 400);
const MESSAGES = envNumber('BENCH_MESSAGES', 200);
const PIPELINE = 8;
const DOVECOT_PORT = 11993;
const anchors = path.resolve(__dirname, '..', '..', '..', 'shared', 'anchors');

/** CPU time (user + system, seconds) of the given processes, from /proc. */
function cpuSeconds(pids: () => number[]): number {
  const hz = 100;
  let ticks = 0;
  for (const pid of pids()) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // the process ended meanwhile
    }
  }
  return ticks / hz;
}

function processesNamed(names: string[]): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (names.includes(readFileSync(`/proc/${entry}/comm`, 'utf8').trim())) pids.push(Number(entry));
    } catch {
      // gone
    }
  }
  return pids;
}

interface Kind {
  name: string;
  /** The i-th command of this kind (and its literal, for APPEND). */
  command: (i: number) => [string, Buffer?];
}

function kinds(messages: Buffer[]): Kind[] {
  const pick = (i: number) => ((i * 7919) % messages.length) + 1;
  return [
    { name: 'NOOP', command: () => ['NOOP'] },
    { name: 'LIST "" *', command: () => ['LIST "" *'] },
    { name: 'STATUS (MESSAGES UNSEEN RECENT)', command: () => ['STATUS INBOX (MESSAGES UNSEEN RECENT)'] },
    { name: 'FETCH 1:50 (UID FLAGS)', command: () => ['FETCH 1:50 (UID FLAGS)'] },
    { name: 'FETCH 1:50 (ENVELOPE BODYSTRUCTURE)', command: () => ['FETCH 1:50 (ENVELOPE BODYSTRUCTURE)'] },
    { name: 'FETCH 1:50 (BODY.PEEK[HEADER.FIELDS (From Subject)])', command: () => ['FETCH 1:50 (BODY.PEEK[HEADER.FIELDS (From Subject)])'] },
    { name: 'FETCH n (UID BODY.PEEK[])', command: (i) => [`FETCH ${pick(i)} (UID BODY.PEEK[])`] },
    { name: 'STORE n +/-FLAGS (\\Flagged)', command: (i) => [`STORE ${pick(i >> 1)} ${i % 2 ? '-' : '+'}FLAGS (\\Flagged)`] },
    { name: 'APPEND (one message)', command: (i) => ['APPEND INBOX', messages[i % messages.length]] },
    { name: 'STORE +FLAGS (\\Deleted) / EXPUNGE', command: (i) => (i % 2 ? ['EXPUNGE'] : ['STORE 1 +FLAGS (\\Deleted)']) },
  ];
}

interface Measured {
  cpuMicros: number;
  wallMicros: number;
}

async function measure(client: Client, kind: Kind, cpu: () => number): Promise<Measured> {
  const cpuBefore = cpu();
  const started = process.hrtime.bigint();
  for (let i = 0; i < COUNT; i += PIPELINE) {
    const replies: Array<Promise<void>> = [];
    for (let j = i; j < Math.min(COUNT, i + PIPELINE); j++) {
      const [command, literal] = kind.command(j);
      replies.push(client.must(command, literal));
    }
    await Promise.all(replies);
  }
  const wall = Number(process.hrtime.bigint() - started) / 1000;
  // /proc counts in 10 ms ticks: let the last ones land
  await new Promise((resolve) => setTimeout(resolve, 50));
  return { cpuMicros: ((cpu() - cpuBefore) * 1e6) / COUNT, wallMicros: wall / COUNT };
}

async function fill(client: Client, messages: Buffer[]): Promise<void> {
  await client.must('SELECT INBOX');
  await client.send('STORE 1:* +FLAGS.SILENT (\\Deleted)');
  await client.must('EXPUNGE');
  for (const message of messages) await client.must('APPEND INBOX', message);
  await client.must('SELECT INBOX');
}

/** Waits until the server's processes stop using CPU (after a fill, mssd indexes the new bodies for search). */
async function settle(cpu: () => number): Promise<void> {
  let last = cpu();
  for (let quiet = 0; quiet < 3; ) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const now = cpu();
    quiet = now - last < 0.015 ? quiet + 1 : 0;
    last = now;
  }
}

async function run(port: number, user: string, password: string, messages: Buffer[], cpu: () => number): Promise<Map<string, Measured>> {
  const client = await Client.connect(port);
  await client.must(`LOGIN "${user}" "${password}"`);
  await fill(client, messages);
  const results = new Map<string, Measured>();
  const only = process.env.BENCH_ONLY ?? '';
  for (const kind of kinds(messages).filter((candidate) => candidate.name.includes(only))) {
    // a first pass warms caches (and V8's compiler) before the measured one
    await measure(client, kind, () => 0);
    await fill(client, messages);
    await settle(cpu);
    results.set(kind.name, await measure(client, kind, cpu));
    await fill(client, messages);
  }
  await client.must('LOGOUT').catch(() => undefined);
  client.close();
  return results;
}

async function main(): Promise<void> {
  const anchorRoot = process.env.ANCHOR_ROOT ?? path.join(os.tmpdir(), 'mssd-anchors');
  const status = spawnSync('bash', [path.join(anchors, 'setup-anchors.sh'), 'status', anchorRoot]);
  if (status.status !== 0) {
    console.error(`bench:imap-commands: the reference Dovecot is not running; start it with bash ${path.join(anchors, 'setup-anchors.sh')} start ${anchorRoot}`);
    process.exit(1);
  }
  const mbox = path.join(anchorRoot, 'imap', 'test.mbox');
  if (!existsSync(mbox)) throw new Error(`${mbox} is missing`);
  const messages = mboxMessages(mbox, MESSAGES);
  if (messages.length < MESSAGES) throw new Error(`${mbox} holds only ${messages.length} messages (BENCH_MESSAGES=${MESSAGES})`);
  if (COUNT / 2 > MESSAGES) throw new Error('BENCH_COUNT must be at most twice BENCH_MESSAGES (each EXPUNGE removes one)');

  const bench = await prepare({ log: { level: 'info' }, imap: { workers: 1 } });
  try {
    const login = 'commands@bench-hopital.fr';
    runCli(bench, ['account', 'create', '--type', 'PER', '--login', login, '--first-name', 'Bench', '--last-name', 'Commands', '--rpps', '10000000999', '--password-stdin'], `${BENCH_PASSWORD}\n`);
    const device = JSON.parse(runCli(bench, ['device', 'add', login, '--name', 'bench', '--json'])) as { password: string };
    const child = await startDaemon(bench);
    const mssd = await run(bench.ports.imaps, login, device.password, messages, () => cpuSeconds(() => [child.pid!]));
    const dovecot = await run(DOVECOT_PORT, 'testuser99', 'pass', messages, () => cpuSeconds(() => processesNamed(['imap', 'imap-login'])));

    console.log(`CPU time per command (µs), ${COUNT} of each, pipelined by ${PIPELINE}, one TLS connection, ${messages.length} messages in INBOX`);
    console.log(`  ${'command'.padEnd(52)} ${'Dovecot'.padStart(8)} ${'mssd'.padStart(8)} ${'ratio'.padStart(7)}   wall µs (Dovecot | mssd)`);
    for (const [name, b] of mssd) {
      const a = dovecot.get(name) as Measured;
      const ratio = a.cpuMicros > 0 ? (b.cpuMicros / a.cpuMicros).toFixed(2) + 'x' : '-';
      console.log(`  ${name.padEnd(52)} ${a.cpuMicros.toFixed(0).padStart(8)} ${b.cpuMicros.toFixed(0).padStart(8)} ${ratio.padStart(7)}   ${a.wallMicros.toFixed(0)} | ${b.wallMicros.toFixed(0)}`);
    }
    console.log(`machine: ${machine()}`);
  } finally {
    await stopDaemon(bench);
    rmSync(bench.dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
