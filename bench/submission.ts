// Benchmark: authenticated TLS submission (STARTTLS + AUTH PLAIN) of 20 KB messages by N
// concurrent clients, in two phases:
//   local  — every message to a local box: a 250 means it is durable in the mailbox;
//   remote — every message to a peer operator's domain: a 250 means it is durable in the outbound
//            queue; the relay worker then sends it over mutual TLS to a local sink acting as the
//            peer (relay.smarthost). Measured: time from our 250 to the sink's receipt. At full
//            speed the queue grows (submission outruns relay), so that delay is mostly backlog;
//   paced  — one client submitting to the peer at BENCH_PACED_RATE msg/s (default 20), the delay
//            from 250 to the peer's receipt when the relay keeps up.
// Prints the machine, messages/s, DATA reply p50/p99, and the relay delay p50/p99/max.
//
//   npm run bench:submission      (BENCH_CONNECTIONS=10 BENCH_SECONDS=10 BENCH_SIZE=20480)
import Database from 'better-sqlite3';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { SMTPServer } from 'smtp-server';
import { createCertificateAuthority, issueCertificate } from '../src/tls/certificates';
import { BenchSmtpClient } from './lib/smtp-client';
import { BENCH_PASSWORD, envNumber, machine, peakRssMiB, percentile, prepare, provisionBoxes, startDaemon, stopDaemon } from './lib/harness';

const CONNECTIONS = envNumber('BENCH_CONNECTIONS', 10);
const SECONDS = envNumber('BENCH_SECONDS', 10);
const WARMUP_SECONDS = 2;
const SIZE = envNumber('BENCH_SIZE', 20 * 1024);
const BOXES = envNumber('BENCH_BOXES', 10);
const PACED_RATE = envNumber('BENCH_PACED_RATE', 20);

/** The fictional peer operator of config/listeblanche-exemple.xml (in the trust space). */
const PEER_DOMAIN = 'hopital-fictif.mssante.fr';

function messageOfSize(id: string, from: string, to: string): Buffer {
  const head =
    `From: <${from}>\r\nTo: <${to}>\r\nSubject: bench ${id}\r\nMessage-ID: <${id}>\r\nDate: ${new Date().toUTCString()}\r\n` +
    'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nX-MSS-MES: FIN\r\n\r\n';
  const line = 'Compte rendu de consultation: examen clinique sans particularité, suite au cabinet.\r\n';
  const lines = Math.max(1, Math.floor((SIZE - head.length) / line.length));
  return Buffer.from(head + line.repeat(lines));
}

interface Sink {
  port: number;
  received: Map<string, number>;
  close(): Promise<void>;
}

/** The peer operator: TLS with a client-certificate check, counts what it receives. */
async function startSink(pki: { ca: { certPem: string }; server: { certPem: string; keyPem: string } }): Promise<Sink> {
  const received = new Map<string, number>();
  const server = new SMTPServer({
    secure: false,
    key: pki.server.keyPem,
    cert: pki.server.certPem,
    ca: pki.ca.certPem,
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: 'TLSv1.2',
    authOptional: true,
    disabledCommands: ['AUTH'],
    logger: false,
    onData(stream, _session, callback) {
      let head = '';
      stream.on('data', (chunk: Buffer) => {
        if (head.length < 4096) head += chunk.toString('latin1', 0, Math.min(chunk.length, 4096));
      });
      stream.on('end', () => {
        const id = /^Message-ID: <([^>]+)>/im.exec(head)?.[1];
        if (id) received.set(id, Date.now());
        callback(null, 'ok');
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.server.address() as { port: number }).port,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

interface PhaseResult {
  messagesPerSecond: number;
  dataReplyMs: { p50: number; p99: number; max: number };
  acknowledged: number;
  acknowledgedAt: Map<string, number>;
}

async function phase(name: string, clients: BenchSmtpClient[], senders: string[], recipientOf: (c: number, n: number) => string, paceMs = 0): Promise<PhaseResult> {
  const latencies: number[] = [];
  const acknowledgedAt = new Map<string, number>();
  let acknowledged = 0;
  let measured = 0;
  const measureFrom = Date.now() + WARMUP_SECONDS * 1000;
  const deadline = measureFrom + SECONDS * 1000;
  await Promise.all(
    clients.map(async (client, c) => {
      for (let n = 0; Date.now() < deadline; n++) {
        const id = `${name}-${c}-${n}-${Date.now()}@bench.client`;
        const to = recipientOf(c, n);
        const started = Date.now();
        const ms = await client.send(senders[c], to, messageOfSize(id, senders[c], to));
        acknowledgedAt.set(id, Date.now());
        acknowledged++;
        if (Date.now() >= measureFrom) {
          latencies.push(ms);
          measured++;
        }
        if (paceMs > 0) await new Promise((resolve) => setTimeout(resolve, Math.max(0, paceMs - (Date.now() - started))));
      }
    }),
  );
  const elapsed = (Date.now() - measureFrom) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    messagesPerSecond: Math.round(measured / elapsed),
    dataReplyMs: { p50: round(percentile(latencies, 50)), p99: round(percentile(latencies, 99)), max: round(latencies[latencies.length - 1]) },
    acknowledged,
    acknowledgedAt,
  };
}

const round = (n: number) => Number(n.toFixed(2));

async function main(): Promise<void> {
  const ca = createCertificateAuthority({ CN: 'Bench IGC-Sante CA', C: 'FR' }, 1);
  const sinkCert = issueCertificate(ca, { subject: { CN: 'mx.peer.bench' }, altNames: ['127.0.0.1'], usage: 'server', days: 1 });
  const relayCert = issueCertificate(ca, { subject: { CN: 'mx.bench.mssante.fr', O: 'Bench', C: 'FR' }, usage: 'client', days: 1 });
  const sink = await startSink({ ca, server: sinkCert });

  const bench = await prepare({ log: { level: 'info' } });
  const files = { ca: path.join(bench.dir, 'ca.pem'), cert: path.join(bench.dir, 'relay.pem'), key: path.join(bench.dir, 'relay.key') };
  writeFileSync(files.ca, ca.certPem);
  writeFileSync(files.cert, relayCert.certPem);
  writeFileSync(files.key, relayCert.keyPem);
  // prepare() wrote the config; add the relay towards the sink.
  const config = JSON.parse((await import('node:fs')).readFileSync(bench.configFile, 'utf8')) as Record<string, unknown>;
  config.relay = { smarthost: { host: '127.0.0.1', port: sink.port }, caFile: files.ca, certFile: files.cert, keyFile: files.key, retryDelays: ['1s'], maxAge: '1h' };
  writeFileSync(bench.configFile, JSON.stringify(config));

  const boxes = provisionBoxes(bench, BOXES);
  const logins = boxes.map((_, i) => `user${i}@bench-hopital.fr`);
  const daemon = await startDaemon(bench);
  const caPem = (await import('node:fs')).readFileSync(path.join(bench.dataDir, 'tls', 'dev-ca.pem'), 'utf8');
  const connectAll = () =>
    Promise.all(
      Array.from({ length: CONNECTIONS }, (_, c) =>
        BenchSmtpClient.connect('127.0.0.1', bench.ports.submission, {
          helo: 'poste-de-travail.bench',
          tls: { ca: caPem },
          auth: { user: logins[c % logins.length], pass: BENCH_PASSWORD },
        }),
      ),
    );
  const senders = Array.from({ length: CONNECTIONS }, (_, c) => boxes[c % boxes.length]);

  let clients = await connectAll();
  const local = await phase('local', clients, senders, (c, n) => boxes[(c + n + 1) % boxes.length]);
  await Promise.all(clients.map((client) => client.quit()));

  clients = await connectAll();
  const remote = await phase('remote', clients, senders, (c, n) => `dr.bench${(c + n) % 50}@${PEER_DOMAIN}`);
  await Promise.all(clients.map((client) => client.quit()));
  const drain = async (acknowledgedAt: Map<string, number>) => {
    const started = Date.now();
    while ([...acknowledgedAt.keys()].some((id) => !sink.received.has(id)) && Date.now() - started < 120_000) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const seconds = (Date.now() - started) / 1000;
    const delays: number[] = [];
    let lost = 0;
    for (const [id, at] of acknowledgedAt) {
      const receivedAt = sink.received.get(id);
      if (receivedAt === undefined) lost++;
      else delays.push(Math.max(0, receivedAt - at));
    }
    delays.sort((a, b) => a - b);
    return { seconds, delays, lost };
  };
  const { seconds: drainSeconds, delays, lost: lostRemote } = await drain(remote.acknowledgedAt);

  clients = await connectAll();
  await Promise.all(clients.slice(1).map((client) => client.quit()));
  const paced = await phase('paced', clients.slice(0, 1), senders, (_c, n) => `dr.bench${n % 50}@${PEER_DOMAIN}`, 1000 / PACED_RATE);
  await clients[0].quit();
  const { delays: pacedDelays, lost: lostPaced } = await drain(paced.acknowledgedAt);
  const lost = lostRemote + lostPaced;
  const rss = peakRssMiB(daemon.pid!);
  await stopDaemon(bench);
  await sink.close();

  const db = new Database(path.join(bench.dataDir, 'mssd.sqlite'), { readonly: true });
  const stored = (db.prepare(`SELECT COUNT(*) AS n FROM messages m JOIN mailboxes mb ON mb.id = m.mailbox_id WHERE mb.name = 'INBOX'`).get() as { n: number }).n;
  const queued = (db.prepare('SELECT COUNT(*) AS n FROM outbound_queue').get() as { n: number }).n;
  db.close();

  const result = {
    benchmark: 'submission',
    machine: machine(),
    connections: CONNECTIONS,
    messageBytes: SIZE,
    secondsPerPhase: SECONDS,
    local: { messagesPerSecond: local.messagesPerSecond, dataReplyMs: local.dataReplyMs, acknowledged: local.acknowledged, storedInMailboxes: stored },
    remote: {
      messagesPerSecond: remote.messagesPerSecond,
      dataReplyMs: remote.dataReplyMs,
      acknowledged: remote.acknowledged,
      receivedByPeer: delays.length,
      fromOur250ToPeerMs: { p50: round(percentile(delays, 50)), p99: round(percentile(delays, 99)), max: round(delays[delays.length - 1] ?? NaN) },
      drainSecondsAfterLastSubmission: round(drainSeconds),
    },
    paced: {
      messagesPerSecond: paced.messagesPerSecond,
      dataReplyMs: paced.dataReplyMs,
      fromOur250ToPeerMs: { p50: round(percentile(pacedDelays, 50)), p99: round(percentile(pacedDelays, 99)), max: round(pacedDelays[pacedDelays.length - 1] ?? NaN) },
    },
    stillQueued: queued,
    daemonPeakRssMiB: round(rss),
  };
  console.log(`submission on ${result.machine}`);
  console.log(`  ${CONNECTIONS} clients, STARTTLS + AUTH PLAIN, ${SIZE} byte messages, ${SECONDS} s per phase after ${WARMUP_SECONDS} s warm-up`);
  console.log(`  local:  ${local.messagesPerSecond} msg/s durable in the mailbox; DATA reply p50 ${local.dataReplyMs.p50} ms, p99 ${local.dataReplyMs.p99} ms, max ${local.dataReplyMs.max} ms`);
  console.log(`  remote: ${remote.messagesPerSecond} msg/s durable in the queue; DATA reply p50 ${remote.dataReplyMs.p50} ms, p99 ${remote.dataReplyMs.p99} ms, max ${remote.dataReplyMs.max} ms`);
  console.log(
    `          our 250 -> peer's receipt p50 ${result.remote.fromOur250ToPeerMs.p50} ms, p99 ${result.remote.fromOur250ToPeerMs.p99} ms, max ${result.remote.fromOur250ToPeerMs.max} ms; ` +
      `queue drained ${result.remote.drainSecondsAfterLastSubmission} s after the last 250`,
  );
  console.log(
    `  paced:  1 client at ${result.paced.messagesPerSecond} msg/s to the peer; DATA reply p99 ${paced.dataReplyMs.p99} ms; ` +
      `our 250 -> peer's receipt p50 ${result.paced.fromOur250ToPeerMs.p50} ms, p99 ${result.paced.fromOur250ToPeerMs.p99} ms, max ${result.paced.fromOur250ToPeerMs.max} ms`,
  );
  console.log(
    `  daemon peak RSS ${result.daemonPeakRssMiB} MiB; ${local.acknowledged} + ${remote.acknowledged} + ${paced.acknowledged} acknowledged, ` +
      `${stored} in mailboxes, ${delays.length + pacedDelays.length} at the peer, ${queued} left in the queue`,
  );
  console.log(JSON.stringify(result));
  if (stored !== local.acknowledged || lost > 0) {
    console.error(`LOST MESSAGES: local ${local.acknowledged} acknowledged / ${stored} stored; remote ${lost} never reached the peer`);
    process.exitCode = 1;
  }
}

main().catch((err) => {
  console.error(`bench failed: ${(err as Error).stack ?? err}`);
  process.exitCode = 1;
});
