// Benchmark: many IMAP connections in IDLE (issue 12 item 5; DESIGN.md targets: <= 40 KiB per
// idle TLS connection after a wake-up with 1 000 in IDLE; 10 000 in IDLE on one node, each woken
// within 1 s of a delivery to its box; IDLE wake-up after an SMTP 250 <= 10 ms p99).
//
// For each connection count (1 000, then 10 000) a fresh daemon (the real bin/mssd) runs in a
// child process with --expose-gc and bench/lib/memory-probe preloaded, so that its memory is
// measured apart after a full GC (RSS, PSS, V8 heap). Raw TLS client sockets from 127.0.0.2…
// log in with device passwords (SHA-256, no scrypt: 10 000 logins stay cheap), SELECT INBOX and
// IDLE. Then one message is delivered by SMTP to each box, and the time from each SMTP 250 to
// the untagged EXISTS on every connection of that box is recorded; memory is measured again.
// Per connection = (memory with the connections - memory before them) / connections.
//
//   npm run bench:imap-idle   (BENCH_IDLE_COUNTS=1000,10000 BENCH_IDLE_BOXES=100;
//   BENCH_HEAP_SNAPSHOT_DIR=/tmp/snap writes V8 heap snapshots of the daemon before, idle, woken)
// bench/imap.ts runs it at the end of `npm run bench:imap`.
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { createDevicePassword } from '../src/auth/devices';
import { createPersonAccount } from '../src/store/accounts';
import { appendToMailbox } from '../src/store/imap-messages';
import { resolveMailbox } from '../src/store/mailbox-view';
import { migrate, openDatabase } from '../src/store/database';
import { issueCertificate } from '../src/tls/certificates';
import { machine, percentile, prepare, untilReady, type BenchDaemon } from './lib/harness';
import type { MemoryProbe } from './lib/memory-probe';
import { BenchSmtpClient } from './lib/smtp-client';

const PEER_DOMAIN = 'hopital-fictif.mssante.fr';
const PEER_DN = { CN: 'mx.operateur-fictif.fr', OU: '00000000000001', O: 'Operateur Fictif', ST: 'Paris (75)', C: 'FR' };
/** Source addresses the client sockets spread over (the per-address limit is set above N / this). */
const SOURCE_ADDRESSES = 10;
/** Connections being opened at once. */
const OPENING_AT_ONCE = 100;
/** A run stops by itself after this long: 60 s, and 12 ms per connection (opening them dominates). */
const limitMs = (connections: number) => 60_000 + 12 * connections;
/** The daemon of the run in progress, killed if the run overstays. */
let running: ChildProcess | null = null;

const root = path.resolve(__dirname, '..', '..');
const mssd = path.join(root, 'bin', 'mssd');
const probeScript = path.join(__dirname, 'lib', 'memory-probe.js');

export interface IdleRunResult {
  connections: number;
  boxes: number;
  openSeconds: number;
  memory: { before: MemoryProbe; idle: MemoryProbe; afterWake: MemoryProbe };
  /** heap: V8 heap used; external: memory V8 objects hold outside it (typed arrays, buffers). */
  /** RSS per connection measured before the forced GC (garbage still in the heap, as bench/imap.ts measures). */
  withoutGcKiB: { rss: number; rssAfterWake: number };
  perConnectionKiB: { rss: number; pss: number; heap: number; external: number; rssAfterWake: number; pssAfterWake: number; heapAfterWake: number; externalAfterWake: number };
  /** From each SMTP 250 as the client reads it (negative: the EXISTS came first), and from the end of DATA. */
  wake: { woken: number; p50Ms: number; p99Ms: number; maxMs: number; allWithinOneSecond: boolean; deliverySeconds: number; fromDataEnd: { p50Ms: number; p99Ms: number; maxMs: number } };
}

/** One raw TLS client connection: greeting, LOGIN, SELECT INBOX, IDLE, then EXISTS watching. */
class IdleClient {
  private buffer = '';
  private step = 0;
  private ready!: () => void;
  private failed!: (err: Error) => void;
  readonly idling: Promise<void>;
  /** performance.now() of the first untagged EXISTS after IDLE began (0: none yet). */
  existsAt = 0;

  constructor(
    private readonly socket: tls.TLSSocket,
    private readonly login: string,
    private readonly password: string,
  ) {
    this.idling = new Promise<void>((resolve, reject) => {
      this.ready = resolve;
      this.failed = reject;
    });
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => this.feed(chunk));
    socket.on('error', (err) => this.failed(err));
    socket.on('close', () => this.failed(new Error(`connection of ${login} closed at step ${this.step}`)));
  }

  private feed(chunk: string): void {
    this.buffer += chunk;
    let newline: number;
    while ((newline = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, newline).trimEnd();
      this.buffer = this.buffer.slice(newline + 1);
      this.onLine(line);
    }
  }

  private onLine(line: string): void {
    switch (this.step) {
      case 0: // greeting
        if (!line.startsWith('* OK')) return this.failed(new Error(`greeting: ${line}`));
        this.step = 1;
        this.socket.write(`a LOGIN "${this.login}" "${this.password}"\r\n`);
        return;
      case 1:
        if (line.startsWith('* ')) return;
        if (!line.startsWith('a OK')) return this.failed(new Error(`LOGIN: ${line}`));
        this.step = 2;
        this.socket.write('b SELECT INBOX\r\n');
        return;
      case 2:
        if (line.startsWith('* ')) return;
        if (!line.startsWith('b OK')) return this.failed(new Error(`SELECT: ${line}`));
        this.step = 3;
        this.socket.write('c IDLE\r\n');
        return;
      case 3:
        if (!line.startsWith('+')) return this.failed(new Error(`IDLE: ${line}`));
        this.step = 4;
        this.ready();
        return;
      default:
        if (this.existsAt === 0 && / EXISTS$/.test(line)) this.existsAt = performance.now();
    }
  }

  close(): void {
    this.socket.removeAllListeners('close');
    this.socket.removeAllListeners('error');
    this.socket.on('error', () => undefined);
    this.socket.destroy();
  }
}

/** The daemon with the memory probe preloaded and a raised open-file limit. */
async function startProbedDaemon(bench: BenchDaemon): Promise<ChildProcess> {
  const hard = Number(spawnSync('bash', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).stdout.trim()) || 65536;
  // fork gives the IPC channel; bash raises the soft limit and execs node (the channel's fd stays).
  const child = fork(mssd, ['serve', '--config', bench.configFile], {
    execPath: 'bash',
    execArgv: ['-c', `ulimit -n ${hard}; exec "${process.execPath}" --expose-gc --require "${probeScript}" "$@"`, 'node'],
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  bench.child = child;
  running = child;
  await untilReady(child);
  return child;
}

function probe(child: ChildProcess, gc = true): Promise<MemoryProbe> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('memory probe did not answer')), 10_000);
    child.once('message', (message) => {
      clearTimeout(timer);
      resolve(message as MemoryProbe);
    });
    child.send(gc ? 'probe' : 'probe-no-gc');
  });
}

/** With BENCH_HEAP_SNAPSHOT_DIR set, a heap snapshot of the daemon named after `label`. */
async function snapshot(child: ChildProcess, label: string): Promise<void> {
  const dir = process.env.BENCH_HEAP_SNAPSHOT_DIR;
  if (!dir) return;
  await new Promise<void>((resolve) => {
    child.once('message', () => resolve());
    child.send(`snapshot:${path.join(dir, `${label}.heapsnapshot`)}`);
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** Messages in each box's INBOX before the connections open. */
const BOX_MESSAGES = 100;

function benchMessage(to: string, subject: string): Buffer {
  return Buffer.from(
    `From: Dr Bench <dr.bench@${PEER_DOMAIN}>\r\nTo: <${to}>\r\nSubject: ${subject}\r\nMessage-ID: <${Math.random().toString(36).slice(2)}@${PEER_DOMAIN}>\r\n` +
      `Date: ${new Date().toUTCString()}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n` +
      'Bonjour, voici le compte rendu de la consultation de ce jour.\r\n'.repeat(15),
    'utf8',
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const kib = (octets: number, count: number) => Number((octets / 1024 / count).toFixed(1));

/** Opens `count` connections (OPENING_AT_ONCE at a time) spread over the logins and addresses. */
async function openIdlers(port: number, ca: string, logins: { login: string; password: string }[], count: number, offset: number): Promise<{ client: IdleClient; box: number }[]> {
  const opened: { client: IdleClient; box: number }[] = [];
  let session: Buffer | undefined;
  let next = 0;
  const openOne = async (i: number) => {
    const box = (offset + i) % logins.length;
    const localAddress = `127.0.0.${2 + ((offset + i) % SOURCE_ADDRESSES)}`;
    // TLS session resumption from the second connection on: the client's handshakes stay cheap,
    // the server keeps what a resumed connection costs it (the same as a full one once open).
    const socket = tls.connect({ socket: net.connect({ host: '127.0.0.1', port, localAddress }), ca, servername: 'localhost', minVersion: 'TLSv1.2', session });
    socket.once('session', (value: Buffer) => (session ??= value));
    const client = new IdleClient(socket, logins[box].login, logins[box].password);
    await client.idling;
    opened.push({ client, box });
  };
  const worker = async () => {
    while (next < count) await openOne(next++);
  };
  await Promise.all(Array.from({ length: Math.min(OPENING_AT_ONCE, count) }, worker));
  return opened;
}

export async function runIdleConnections(connections: number, boxes: number): Promise<IdleRunResult> {
  const perAddress = Math.ceil((connections + 100) / SOURCE_ADDRESSES) + 100;
  const bench = await prepare({
    log: { level: 'info' },
    limits: { maxConnections: connections + 500, maxConnectionsPerIp: perAddress, maxConnectionsPerAccount: Math.ceil(connections / boxes) + 100 },
    // IMAP in the daemon's own process, where the memory probe is (not in imap.workers processes)
    imap: { workers: 1 },
  });
  // Boxes and one device password each, straight through the store (the CLI would spawn a process per box).
  const db = openDatabase(bench.dataDir);
  migrate(db);
  const logins: { login: string; password: string; address: string }[] = [];
  for (let i = 0; i < boxes; i++) {
    const account = createPersonAccount(db, { mssante: ['bench.mssante.fr'] }, { type: 'PER', login: `idle${i}@bench-hopital.fr`, firstName: 'Idle', lastName: `Bench${i}`, rpps: String(10000000100 + i), mssanteAddress: `idle.bench${i}@bench.mssante.fr` });
    const device = createDevicePassword(db, account.id, 'bench');
    logins.push({ login: account.login, password: device.password, address: `idle.bench${i}@bench.mssante.fr` });
    // an INBOX of BOX_MESSAGES messages, as bench/imap.ts's idle boxes (the view costs per message)
    const inbox = resolveMailbox(db, account.id, 'INBOX')!;
    const now = Date.now();
    db.transaction(() => {
      for (let m = 0; m < BOX_MESSAGES; m++) appendToMailbox(db, inbox.mailboxId, benchMessage(logins[i].address, `Compte rendu ${m}`), m % 3 === 0 ? ['\\Seen'] : [], now - (BOX_MESSAGES - m) * 60_000, now);
    })();
  }
  db.close();

  const child = await startProbedDaemon(bench);
  const ca = readFileSync(path.join(bench.dataDir, 'tls', 'dev-ca.pem'), 'utf8');
  const caKey = readFileSync(path.join(bench.dataDir, 'tls', 'dev-ca.key'), 'utf8');
  const port = bench.ports.imaps;
  let idlers: { client: IdleClient; box: number }[] = [];
  try {
    const clientCert = issueCertificate({ certPem: ca, keyPem: caKey }, { subject: PEER_DN, usage: 'client', days: 1 });
    const smtp = await BenchSmtpClient.connect('127.0.0.1', bench.ports.smtp, { helo: 'mx.operateur-fictif.fr', tls: { ca, cert: clientCert.certPem, key: clientCert.keyPem } });
    /** One delivery to each box; the times each SMTP 250 was read and each DATA ended. */
    const deliverToEachBox = async (subject: string) => {
      const acknowledgedAt: number[] = [];
      const dataEndAt: number[] = [];
      for (let box = 0; box < boxes; box++) {
        const replyMs = await smtp.send(`dr.bench@${PEER_DOMAIN}`, logins[box].address, benchMessage(logins[box].address, `${subject} ${box}`));
        acknowledgedAt[box] = performance.now();
        dataEndAt[box] = acknowledgedAt[box] - replyMs;
      }
      return { acknowledgedAt, dataEndAt };
    };
    // Warm-up: code paths compiled (the wake-up's too), pools and caches filled once, then closed:
    // what stays is not a per-connection cost.
    const warmers = await openIdlers(port, ca, logins, Math.min(100, connections), 0);
    await deliverToEachBox('Premier');
    await sleep(500);
    for (const { client } of warmers) client.close();
    await sleep(1000);
    const beforeNoGc = await probe(child, false);
    const before = await probe(child);
    await snapshot(child, 'before');
    const started = performance.now();
    idlers = await openIdlers(port, ca, logins, connections, 0);
    const openSeconds = (performance.now() - started) / 1000;
    await sleep(1000);
    const idleNoGc = await probe(child, false);
    const idle = await probe(child);
    await snapshot(child, `idle-${connections}`);

    // One delivery to each box; every connection of that box must see its EXISTS.
    const deliveryStart = performance.now();
    const { acknowledgedAt, dataEndAt } = await deliverToEachBox('Réveil');
    const deliverySeconds = (performance.now() - deliveryStart) / 1000;
    await smtp.quit();
    const waitUntil = performance.now() + 10_000;
    while (idlers.some(({ client }) => client.existsAt === 0) && performance.now() < waitUntil) await sleep(50);
    const latencies = idlers.filter(({ client }) => client.existsAt > 0).map(({ client, box }) => client.existsAt - acknowledgedAt[box]);
    latencies.sort((a, b) => a - b);
    const fromDataEnd = idlers.filter(({ client }) => client.existsAt > 0).map(({ client, box }) => client.existsAt - dataEndAt[box]);
    fromDataEnd.sort((a, b) => a - b);
    await sleep(1000);
    const afterWakeNoGc = await probe(child, false);
    const afterWake = await probe(child);
    await snapshot(child, `woken-${connections}`);
    const round = (value: number) => Number(value.toFixed(2));
    return {
      connections,
      boxes,
      openSeconds: Number(openSeconds.toFixed(1)),
      memory: { before, idle, afterWake },
      perConnectionKiB: {
        rss: kib(idle.rss - before.rss, connections),
        pss: kib(idle.pss - before.pss, connections),
        heap: kib(idle.heapUsed - before.heapUsed, connections),
        external: kib(idle.external - before.external, connections),
        rssAfterWake: kib(afterWake.rss - before.rss, connections),
        pssAfterWake: kib(afterWake.pss - before.pss, connections),
        heapAfterWake: kib(afterWake.heapUsed - before.heapUsed, connections),
        externalAfterWake: kib(afterWake.external - before.external, connections),
      },
      withoutGcKiB: { rss: kib(idleNoGc.rss - beforeNoGc.rss, connections), rssAfterWake: kib(afterWakeNoGc.rss - beforeNoGc.rss, connections) },
      wake: {
        woken: latencies.length,
        p50Ms: round(percentile(latencies, 50)),
        p99Ms: round(percentile(latencies, 99)),
        maxMs: round(latencies[latencies.length - 1] ?? NaN),
        allWithinOneSecond: latencies.length === connections && (latencies[latencies.length - 1] ?? Infinity) <= 1000,
        fromDataEnd: { p50Ms: round(percentile(fromDataEnd, 50)), p99Ms: round(percentile(fromDataEnd, 99)), maxMs: round(fromDataEnd[fromDataEnd.length - 1] ?? NaN) },
        deliverySeconds: Number(deliverySeconds.toFixed(2)),
      },
    };
  } finally {
    for (const { client } of idlers) client.close();
    await stop(child);
    running = null;
  }
}

/** Runs every count in BENCH_IDLE_COUNTS and prints the figures; bench/imap.ts calls it too. */
export async function benchIdleConnections(): Promise<IdleRunResult[]> {
  const counts = (process.env.BENCH_IDLE_COUNTS ?? '1000,10000').split(',').map(Number).filter((n) => n > 0);
  const boxes = Number(process.env.BENCH_IDLE_BOXES ?? 100);
  const results: IdleRunResult[] = [];
  let deadline: NodeJS.Timeout | undefined;
  try {
    for (const count of counts) {
      deadline = setTimeout(() => {
        console.error(`bench:imap-idle stopped: ${count} connections took over ${limitMs(count) / 1000} s (a loaded machine?)`);
        running?.kill('SIGKILL');
        process.exit(2);
      }, limitMs(count));
      const result = await runIdleConnections(count, Math.min(boxes, count));
      clearTimeout(deadline);
      results.push(result);
      const m = result.memory;
      const mib = (octets: number) => (octets / 2 ** 20).toFixed(1);
      console.log(`imap-idle on ${machine()}`);
      console.log(
        `  ${count} TLS connections in IDLE over ${result.boxes} boxes (opened in ${result.openSeconds} s): ` +
          `RSS ${mib(m.before.rss)} -> ${mib(m.idle.rss)} -> ${mib(m.afterWake.rss)} MiB after the wake-up; ` +
          `per connection RSS ${result.perConnectionKiB.rss} KiB idle, ${result.perConnectionKiB.rssAfterWake} KiB after a wake-up (target <= 40 KiB); ` +
          `PSS ${result.perConnectionKiB.pss} / ${result.perConnectionKiB.pssAfterWake} KiB; V8 heap ${result.perConnectionKiB.heap} / ${result.perConnectionKiB.heapAfterWake} KiB, ` +
          `external ${result.perConnectionKiB.external} / ${result.perConnectionKiB.externalAfterWake} KiB; ` +
          `RSS before the forced GC ${result.withoutGcKiB.rss} / ${result.withoutGcKiB.rssAfterWake} KiB`,
      );
      console.log(
        `  wake-up: ${result.wake.woken}/${count} woken, SMTP 250 -> EXISTS p50 ${result.wake.p50Ms} ms, p99 ${result.wake.p99Ms} ms, max ${result.wake.maxMs} ms ` +
          `(${result.wake.allWithinOneSecond ? 'all' : 'NOT all'} within 1 s; negative: the EXISTS arrived before the 250); end of DATA -> EXISTS p50 ${result.wake.fromDataEnd.p50Ms} ms, ` +
          `p99 ${result.wake.fromDataEnd.p99Ms} ms, max ${result.wake.fromDataEnd.maxMs} ms; ${result.boxes} deliveries took ${result.wake.deliverySeconds} s`,
      );
      console.log(JSON.stringify({ benchmark: 'imap-idle', ...result }));
    }
  } finally {
    clearTimeout(deadline);
    running?.kill('SIGKILL');
  }
  return results;
}

if (require.main === module) {
  benchIdleConnections().catch((err) => {
    console.error(`bench failed: ${(err as Error).stack ?? (err as Error).message}`);
    process.exitCode = 1;
  });
}
