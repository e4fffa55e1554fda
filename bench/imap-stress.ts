// Benchmark: imaptest's stress load against mssd and against the reference Dovecot 2.3 of
// ../shared/anchors/ (DESIGN.md "Targets": >= 1.0x Dovecot on both mixes, both over TLS).
//
// Both servers get the same load: imaptest clients=10 users=1-10 with the anchors' test.mbox,
// over implicit TLS (Dovecot 127.0.0.1:11993, mssd a throw-away daemon on a free port), in two
// mixes: full login ... logout cycles, and the command mix without logins (logout=0). The runs
// alternate A B A B (A = Dovecot, B = mssd) because these machines are noisy; the ratios compare
// the sums of both runs of each server.
//
//   IMAPTEST=/path/to/imaptest npm run bench:imap-stress
//   BENCH_SECS=20 (seconds per run)  BENCH_ROUNDS=2 (A B pairs per mix)  BENCH_MIXES=cycles,commands
//   BENCH_WARMUP_SECS=10 (an unmeasured run of each mix on each server first; 0: none)
//   ANCHOR_ROOT=/tmp/mssd-anchors (where setup-anchors.sh keeps Dovecot's files)
//   BENCH_PROFILE_DIR=/tmp/prof (a V8 CPU profile of every mssd process)
//   BENCH_CREDENTIAL=device|password (how imaptest logs in to mssd; default device)
//   BENCH_IMAP_WORKERS=N (mssd's imap.workers; default: the config's default, one per core)
//   BENCH_RAW_DIR=/tmp/raw (keeps imaptest's whole output of each run there: its per-second lines)
//
// Warm-up: before the measured rounds of a mix, each server runs that mix once, unmeasured. The
// figures are of servers in their steady state, as operators run them for months: a Node process
// spends its first seconds compiling its hot code (V8's optimising compiler), and the fresh store
// starts with empty mailboxes, where Dovecot's anchor keeps its mailboxes between benchmarks.
//
// Credentials: mail programs log in to mssd with device passwords (R16, issue 11: a 120-bit
// random secret, one SHA-256 to check), and that is what imaptest uses by default, from a
// userfile (one testuserN:password line per user, picked at random like users=1-10). The
// anchor's Dovecot keeps {PLAIN} passwords. BENCH_CREDENTIAL=password logs in with the box
// password instead: each login then costs a deliberate ~40 ms scrypt (src/policy/password.ts),
// which bounds the full-cycle mix on two cores whatever the IMAP engine does.
//
// imaptest is never part of this repository: build it with ../shared/anchors/build-imaptest.sh.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { envNumber, machine, prepare, runCli, startDaemon, stopDaemon, BENCH_PASSWORD, type BenchDaemon } from './lib/harness';
import { mboxMessages, PipelinedClient } from './lib/pipelined-client';

const repoRoot = path.resolve(__dirname, '..', '..');
const anchors = path.resolve(repoRoot, '..', 'shared', 'anchors');
const SECS = envNumber('BENCH_SECS', 20);
const ROUNDS = envNumber('BENCH_ROUNDS', 2);
const WARMUP_SECS = process.env.BENCH_WARMUP_SECS === '0' ? 0 : envNumber('BENCH_WARMUP_SECS', 10);
const CLIENTS = 10;
const USERS = 10;
const DOVECOT_PORT = 11993;
const LOGIN_DOMAIN = 'bench-hopital.fr';

interface Mix {
  name: 'cycles' | 'commands';
  title: string;
  args: string[];
}

const MIXES: Mix[] = [
  { name: 'cycles', title: 'full cycles (login ... logout)', args: [] },
  { name: 'commands', title: 'command mix without logins (logout=0)', args: ['logout=0'] },
];

interface RunResult {
  /** Commands completed in the run, by imaptest's column name (Logi, Sele, Fetc...). */
  totals: Map<string, number>;
  /** imaptest's "Error:" lines: a server that errors must not look fast. */
  errors: number;
  firstErrors: string[];
}

function fail(message: string): never {
  console.error(`bench:imap-stress: ${message}`);
  process.exit(1);
}

function imaptestPath(): string {
  const value = process.env.IMAPTEST;
  if (!value) {
    fail(
      'IMAPTEST is not set. Build imaptest (dovecot/imaptest, branch release-2.3) with\n' +
        `  bash ${path.relative(process.cwd(), path.join(anchors, 'build-imaptest.sh'))} MIRROR OUT\n` +
        '(MIRROR: a git clone of dovecot/imaptest), then run IMAPTEST=OUT/imaptest.sh npm run bench:imap-stress',
    );
  }
  if (!existsSync(value)) fail(`IMAPTEST=${value}: no such file`);
  return value;
}

/** Parses imaptest's "Totals:" block: a line of column names, percentages, then the counts. */
export function parseTotals(output: string): Map<string, number> {
  const lines = output.split('\n');
  const at = lines.findIndex((line) => line.trim() === 'Totals:');
  if (at < 0) throw new Error(`no "Totals:" in imaptest's output:\n${output.slice(-2000)}`);
  const names = lines[at + 1].trim().split(/\s+/);
  for (const line of lines.slice(at + 2)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length === names.length && fields.every((field) => /^\d+$/.test(field))) {
      return new Map(names.map((name, i) => [name, Number(fields[i])]));
    }
  }
  throw new Error(`no counts under imaptest's "Totals:":\n${output.slice(-2000)}`);
}

function runImaptest(imaptest: string, target: string[], mbox: string, mix: Mix, label: string, secs = SECS): Promise<RunResult> {
  const args = [...target, `mbox=${mbox}`, `clients=${CLIENTS}`, `users=1-${USERS}`, `secs=${secs},10`, ...mix.args];
  return new Promise((resolve, reject) => {
    const child = spawn(imaptest, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    // imaptest stops by itself after secs + the logout wait; never let a stuck run hang the bench.
    const timer = setTimeout(() => child.kill('SIGKILL'), (secs + 60) * 1000);
    child.once('error', reject);
    child.once('exit', () => {
      clearTimeout(timer);
      const rawDir = process.env.BENCH_RAW_DIR;
      if (rawDir) {
        mkdirSync(rawDir, { recursive: true });
        writeFileSync(path.join(rawDir, `${label}.txt`), output);
      }
      try {
        const errorLines = output.split('\n').filter((line) => /Error:/.test(line));
        resolve({ totals: parseTotals(output), errors: errorLines.length, firstErrors: errorLines.slice(0, 3) });
      } catch (err) {
        reject(err);
      }
    });
  });
}

/** Starts the reference Dovecot (installing it from Debian when missing); true if this run started it. */
function startAnchors(anchorRoot: string): boolean {
  const script = path.join(anchors, 'setup-anchors.sh');
  if (!existsSync(script)) fail(`${script} is missing: the anchors live beside the repository (../shared/anchors/)`);
  const status = spawnSync('bash', [script, 'status', anchorRoot], { encoding: 'utf8' });
  if (status.status === 0) return false;
  console.log(`starting the reference Dovecot (bash ${script} start ${anchorRoot}; installs dovecot from Debian if missing)`);
  // The daemons it starts inherit its output: a pipe would stay open after the script ends (and
  // spawnSync would wait for them), so the output goes to a file.
  mkdirSync(anchorRoot, { recursive: true });
  const logFile = path.join(anchorRoot, 'setup-anchors.log');
  const log = openSync(logFile, 'w');
  const started = spawnSync('bash', [script, 'start', anchorRoot], { stdio: ['ignore', log, log] });
  closeSync(log);
  if (started.status !== 0) fail(`setup-anchors.sh start failed:\n${readFileSync(logFile, 'utf8')}`);
  return true;
}

function stopAnchors(anchorRoot: string): void {
  spawnSync('bash', [path.join(anchors, 'setup-anchors.sh'), 'stop', anchorRoot], { stdio: 'ignore' });
}

/** Creates testuser1..10 and returns imaptest's login arguments for the chosen credential. */
/** imaptest's arguments for logging in to mssd, and each test user's login and secret. */
interface TestUsers {
  imaptestArgs: string[];
  credentials: Array<{ login: string; secret: string }>;
}

function provisionTestUsers(bench: BenchDaemon, credential: 'device' | 'password'): TestUsers {
  const lines: string[] = [];
  const credentials: TestUsers['credentials'] = [];
  for (let i = 1; i <= USERS; i++) {
    const login = `testuser${i}@${LOGIN_DOMAIN}`;
    runCli(
      bench,
      ['account', 'create', '--type', 'PER', '--login', login, '--first-name', 'Test', '--last-name', `User${i}`, '--rpps', String(10000000200 + i), '--password-stdin'],
      `${BENCH_PASSWORD}\n`,
    );
    if (credential === 'device') {
      const device = JSON.parse(runCli(bench, ['device', 'add', login, '--name', 'imaptest', '--json'])) as { password: string };
      lines.push(`${login}:${device.password}`);
      credentials.push({ login, secret: device.password });
    } else {
      credentials.push({ login, secret: BENCH_PASSWORD });
    }
  }
  if (credential === 'password') return { imaptestArgs: [`user=testuser%d@${LOGIN_DOMAIN}`, `pass=${BENCH_PASSWORD}`], credentials };
  const userfile = path.join(bench.dir, 'imaptest-users');
  writeFileSync(userfile, lines.join('\n') + '\n', { mode: 0o600 });
  // imaptest insists on a user template; the userfile takes precedence when picking logins.
  return { imaptestArgs: [`userfile=${userfile}`, `user=testuser%d@${LOGIN_DOMAIN}`], credentials };
}

/**
 * Both servers start from mailboxes of the same size. The anchor's Dovecot keeps its test users'
 * INBOXes between runs (about 34 messages each: where imaptest's appends and expunges level off);
 * a fresh mssd store has them empty, and the warm-up fills only those of the users it happens to
 * pick (imaptest skips the commands that need a message while a mailbox is empty). Each mssd
 * INBOX gets as many messages of test.mbox as Dovecot's INBOX of the same user holds.
 */
async function fillLikeDovecot(mssdPort: number, users: TestUsers, mbox: string): Promise<number[]> {
  const sizes = await inboxSizes(DOVECOT_PORT, dovecotCredentials(users));
  const messages = mboxMessages(mbox, 300);
  for (const [i, { login, secret }] of users.credentials.entries()) {
    const mssd = await PipelinedClient.connect(mssdPort);
    await mssd.must(`LOGIN "${login}" "${secret}"`);
    for (let n = 0; n < sizes[i]; n++) await mssd.must('APPEND INBOX', messages[n % messages.length]);
    mssd.close();
  }
  return sizes;
}

/** Dovecot's logins for the same test users. */
function dovecotCredentials(users: TestUsers): TestUsers['credentials'] {
  return users.credentials.map((_, i) => ({ login: `testuser${i + 1}`, secret: 'pass' }));
}

/** How many messages each test user's INBOX holds on the server at `port` (STATUS). */
async function inboxSizes(port: number, credentials: TestUsers['credentials']): Promise<number[]> {
  const sizes: number[] = [];
  for (const { login, secret } of credentials) {
    const client = await PipelinedClient.connect(port);
    await client.must(`LOGIN "${login}" "${secret}"`);
    const status: string[] = [];
    client.untagged = status;
    await client.must('STATUS INBOX (MESSAGES)');
    client.close();
    sizes.push(Number(/MESSAGES (\d+)/.exec(status.join(' '))?.[1] ?? 0));
  }
  return sizes;
}

function sumRuns(runs: RunResult[]): Map<string, number> {
  const sum = new Map<string, number>();
  for (const run of runs) for (const [name, count] of run.totals) sum.set(name, (sum.get(name) ?? 0) + count);
  return sum;
}

function report(mix: Mix, dovecot: RunResult[], mssd: RunResult[]): string[] {
  const a = sumRuns(dovecot);
  const b = sumRuns(mssd);
  const lines = [`${mix.title}: commands completed in ${dovecot.length} x ${SECS} s per server`];
  lines.push(`  ${'command'.padEnd(8)} ${'Dovecot'.padStart(9)} ${'mssd'.padStart(9)}  mssd/Dovecot   (per run: Dovecot | mssd)`);
  let allA = 0;
  let allB = 0;
  for (const name of new Set([...a.keys(), ...b.keys()])) {
    const countA = a.get(name) ?? 0;
    const countB = b.get(name) ?? 0;
    allA += countA;
    allB += countB;
    const ratio = countA > 0 ? (countB / countA).toFixed(2) + 'x' : '-';
    const perRun = `${dovecot.map((run) => run.totals.get(name) ?? 0).join(' ')} | ${mssd.map((run) => run.totals.get(name) ?? 0).join(' ')}`;
    lines.push(`  ${name.padEnd(8)} ${String(countA).padStart(9)} ${String(countB).padStart(9)}  ${ratio.padStart(12)}   (${perRun})`);
  }
  lines.push(`  ${'all'.padEnd(8)} ${String(allA).padStart(9)} ${String(allB).padStart(9)}  ${allA > 0 ? (allB / allA).toFixed(2).padStart(11) + 'x' : '-'.padStart(12)}`);
  const errorsA = dovecot.reduce((n, run) => n + run.errors, 0);
  const errorsB = mssd.reduce((n, run) => n + run.errors, 0);
  lines.push(`  imaptest errors: Dovecot ${errorsA}, mssd ${errorsB}`);
  for (const line of [...dovecot, ...mssd].flatMap((run) => run.firstErrors).slice(0, 5)) lines.push(`    ${line.trim().slice(0, 200)}`);
  return lines;
}

async function main(): Promise<void> {
  const imaptest = imaptestPath();
  const anchorRoot = process.env.ANCHOR_ROOT ?? path.join(os.tmpdir(), 'mssd-anchors');
  const mixes = (process.env.BENCH_MIXES ?? 'cycles,commands').split(',').map((name) => {
    const mix = MIXES.find((candidate) => candidate.name === name.trim());
    if (!mix) fail(`BENCH_MIXES: unknown mix "${name}" (cycles, commands)`);
    return mix;
  });
  // BENCH_SERVERS=mssd skips Dovecot (to profile mssd alone); the ratios then print as '-'.
  const servers = (process.env.BENCH_SERVERS ?? 'dovecot,mssd').split(',').filter((name): name is 'dovecot' | 'mssd' => name === 'dovecot' || name === 'mssd');
  const startedAnchors = startAnchors(anchorRoot);
  const mbox = path.join(anchorRoot, 'imap', 'test.mbox');
  let bench: BenchDaemon | undefined;
  const cleanUp = async () => {
    if (bench) {
      await stopDaemon(bench);
      rmSync(bench.dir, { recursive: true, force: true });
      bench = undefined;
    }
    if (startedAnchors) stopAnchors(anchorRoot);
  };
  process.once('SIGINT', () => void cleanUp().then(() => process.exit(130)));
  try {
    bench = await prepare({
      log: { level: 'info' }, // the harness waits for the "mssd ready" info line
      limits: { maxConnectionsPerIp: 200, maxConnectionsPerAccount: 50 },
      ...(process.env.BENCH_IMAP_WORKERS ? { imap: { workers: envNumber('BENCH_IMAP_WORKERS', 0) } } : {}),
    });
    const credential = process.env.BENCH_CREDENTIAL ?? 'device';
    if (credential !== 'device' && credential !== 'password') fail(`BENCH_CREDENTIAL must be device or password, got ${credential}`);
    const testUsers = provisionTestUsers(bench, credential);
    await startDaemon(bench);
    const sizes = await fillLikeDovecot(bench.ports.imaps, testUsers, mbox);
    console.log(`  INBOX of testuser1..${USERS} on both servers: ${sizes.join(' ')} messages`);
    const targets = {
      dovecot: ['host=127.0.0.1', `port=${DOVECOT_PORT}`, 'ssl=any-cert', 'user=testuser%d', 'pass=pass'],
      mssd: ['host=127.0.0.1', `port=${bench.ports.imaps}`, 'ssl=any-cert', ...testUsers.imaptestArgs],
    };
    const loadBefore = os.loadavg();
    const output: string[] = [];
    for (const mix of mixes) {
      const runs = { dovecot: [] as RunResult[], mssd: [] as RunResult[] };
      // the mixes change the INBOXes: both servers' sizes before this one, to compare like with like
      const before = { dovecot: dovecotCredentials(testUsers), mssd: testUsers.credentials };
      for (const server of servers) {
        const port = server === 'dovecot' ? DOVECOT_PORT : bench.ports.imaps;
        console.log(`  ${mix.name}: INBOX sizes on ${server.padEnd(7)} before the mix: ${(await inboxSizes(port, before[server])).join(' ')}`);
      }
      if (WARMUP_SECS > 0) {
        for (const server of servers) {
          const warmup = await runImaptest(imaptest, targets[server], mbox, mix, `${mix.name}-warmup-${server}`, WARMUP_SECS);
          console.log(`  ${mix.name} warm-up ${server.padEnd(7)}: ${[...warmup.totals.values()].reduce((n, count) => n + count, 0)} commands (not counted)`);
        }
      }
      for (let round = 0; round < ROUNDS; round++) {
        for (const server of servers) {
          const result = await runImaptest(imaptest, targets[server], mbox, mix, `${mix.name}-${round + 1}-${server}`);
          runs[server].push(result);
          const all = [...result.totals.values()].reduce((n, count) => n + count, 0);
          console.log(`  ${mix.name} round ${round + 1} ${server.padEnd(7)}: ${all} commands, ${result.errors} errors`);
        }
      }
      output.push(...report(mix, runs.dovecot, runs.mssd));
    }
    const loadAfter = os.loadavg();
    console.log('');
    console.log(`imaptest stress, clients=${CLIENTS} users=1-${USERS} secs=${SECS}, both over TLS, A B A B (A = Dovecot 127.0.0.1:${DOVECOT_PORT}, B = mssd)`);
    console.log(WARMUP_SECS > 0 ? `each mix run unmeasured for ${WARMUP_SECS} s on each server first (warm-up)` : 'no warm-up run (BENCH_WARMUP_SECS=0)');
    console.log(`mssd logins: ${credential === 'device' ? 'device passwords (one SHA-256 per login)' : 'box passwords (one scrypt per login)'}; Dovecot: {PLAIN} passwords`);
    for (const line of output) console.log(line);
    console.log(`machine: ${machine()}`);
    console.log(`load average before ${loadBefore.map((n) => n.toFixed(2)).join(' ')}, after ${loadAfter.map((n) => n.toFixed(2)).join(' ')}`);
  } finally {
    await cleanUp();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
