// Benchmark: inbound MTA ingest (DESIGN.md targets: >= 1 000 msg/s, DATA reply p99 <= 30 ms).
// N concurrent STARTTLS connections with an operator client certificate deliver 20 KB messages
// to local boxes for a bounded time; every 250 means the message is durable in a mailbox.
//
//   npm run bench:smtp            (BENCH_CONNECTIONS=10 BENCH_SECONDS=20 BENCH_SIZE=20480)
//
// BENCH_BACKUP=1: `mssd backup` runs again and again in another process during the measured
// time, as an operator's nightly timer would while mail arrives (issue 13); the DATA replies
// that ended while a backup ran are reported apart, with the worst one.
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { issueCertificate } from '../src/tls/certificates';
import { BenchSmtpClient } from './lib/smtp-client';
import { envNumber, machine, peakRssMiB, percentile, prepare, provisionBoxes, startDaemon, stopDaemon } from './lib/harness';

const CONNECTIONS = envNumber('BENCH_CONNECTIONS', 10);
const SECONDS = envNumber('BENCH_SECONDS', 20);
const WARMUP_SECONDS = 2;
const SIZE = envNumber('BENCH_SIZE', 20 * 1024);
const BOXES = envNumber('BENCH_BOXES', 10);
const BACKUP = process.env.BENCH_BACKUP === '1';
const mssdBin = path.resolve(__dirname, '..', '..', 'bin', 'mssd');

interface BackupRun {
  start: number;
  end: number;
  bytes: number;
  messages: number;
}

/** `mssd backup` into fresh directories, one after the other, until `deadline`. */
async function backupLoop(configFile: string, dir: string, from: number, deadline: number): Promise<BackupRun[]> {
  const runs: BackupRun[] = [];
  while (Date.now() < from) await new Promise((resolve) => setTimeout(resolve, 50));
  for (let i = 0; Date.now() < deadline; i++) {
    const dest = path.join(dir, `backup-${i}`);
    const start = Date.now();
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, [mssdBin, 'backup', dest, '--json', '--config', configFile]);
      let out = '';
      let err = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
      child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`mssd backup exited ${code}: ${err}`))));
    });
    const manifest = JSON.parse(output) as { bytes: number; counts: { messages: number } };
    runs.push({ start, end: Date.now(), bytes: manifest.bytes, messages: manifest.counts.messages });
    rmSync(dest, { recursive: true, force: true });
  }
  return runs;
}

/** The fictional peer operator of config/listeblanche-exemple.xml. */
const PEER_DOMAIN = 'hopital-fictif.mssante.fr';
const PEER_DN = { CN: 'mx.operateur-fictif.fr', OU: '00000000000001', O: 'Operateur Fictif', ST: 'Paris (75)', C: 'FR' };

function messageOfSize(index: number, to: string): Buffer {
  const head =
    `From: <dr.bench@${PEER_DOMAIN}>\r\nTo: <${to}>\r\nSubject: bench ${index}\r\n` +
    `Message-ID: <bench-${index}-${Date.now()}@${PEER_DOMAIN}>\r\nDate: ${new Date().toUTCString()}\r\n` +
    'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n';
  const line = 'Compte rendu de consultation: examen clinique sans particularité, suite au cabinet.\r\n';
  const lines = Math.max(1, Math.floor((SIZE - head.length) / line.length));
  return Buffer.from(head + line.repeat(lines));
}

async function main(): Promise<void> {
  const bench = await prepare({ log: { level: 'info' } });
  const boxes = provisionBoxes(bench, BOXES);
  const daemon = await startDaemon(bench);
  const ca = {
    certPem: readFileSync(path.join(bench.dataDir, 'tls', 'dev-ca.pem'), 'utf8'),
    keyPem: readFileSync(path.join(bench.dataDir, 'tls', 'dev-ca.key'), 'utf8'),
  };
  const clientCert = issueCertificate(ca, { subject: PEER_DN, usage: 'client', days: 1 });
  const clients = await Promise.all(
    Array.from({ length: CONNECTIONS }, () =>
      BenchSmtpClient.connect('127.0.0.1', bench.ports.smtp, {
        helo: 'mx.operateur-fictif.fr',
        tls: { ca: ca.certPem, cert: clientCert.certPem, key: clientCert.keyPem },
      }),
    ),
  );

  const latencies: number[] = [];
  /** [end of the reply, latency] of every measured request. */
  const timed: Array<[number, number]> = [];
  let acknowledged = 0;
  const startedAt = Date.now();
  const measureFrom = startedAt + WARMUP_SECONDS * 1000;
  const deadline = measureFrom + SECONDS * 1000;
  let measuredCount = 0;
  const backups = BACKUP ? backupLoop(bench.configFile, bench.dir, measureFrom, deadline) : Promise.resolve([]);
  await Promise.all(
    clients.map(async (client, c) => {
      for (let n = 0; Date.now() < deadline; n++) {
        const to = boxes[(c + n) % boxes.length];
        const ms = await client.send(`dr.bench@${PEER_DOMAIN}`, to, messageOfSize(c * 1_000_000 + n, to));
        acknowledged++;
        if (Date.now() >= measureFrom) {
          latencies.push(ms);
          timed.push([Date.now(), ms]);
          measuredCount++;
        }
      }
      await client.quit();
    }),
  );
  const elapsed = (Date.now() - measureFrom) / 1000;
  const backupRuns = await backups;
  const rss = peakRssMiB(daemon.pid!);
  await stopDaemon(bench);

  const db = new Database(path.join(bench.dataDir, 'mssd.sqlite'), { readonly: true });
  const stored = (db.prepare('SELECT COUNT(*) AS n FROM messages').get() as { n: number }).n;
  db.close();

  latencies.sort((a, b) => a - b);
  const result = {
    benchmark: 'smtp-ingest',
    machine: machine(),
    connections: CONNECTIONS,
    messageBytes: SIZE,
    seconds: Number(elapsed.toFixed(1)),
    messagesPerSecond: Math.round(measuredCount / elapsed),
    dataReplyMs: { p50: Number(percentile(latencies, 50).toFixed(2)), p99: Number(percentile(latencies, 99).toFixed(2)), max: Number(latencies[latencies.length - 1].toFixed(2)) },
    daemonPeakRssMiB: Number(rss.toFixed(1)),
    acknowledged,
    storedInMailboxes: stored,
  };
  console.log(`smtp-ingest on ${result.machine}`);
  console.log(`  ${CONNECTIONS} STARTTLS connections, ${SIZE} byte messages, ${result.seconds} s measured after ${WARMUP_SECONDS} s warm-up`);
  console.log(`  ${result.messagesPerSecond} msg/s durable; DATA reply p50 ${result.dataReplyMs.p50} ms, p99 ${result.dataReplyMs.p99} ms, max ${result.dataReplyMs.max} ms`);
  console.log(`  daemon peak RSS ${result.daemonPeakRssMiB} MiB; ${acknowledged} acknowledged, ${stored} stored`);
  if (BACKUP) {
    const during = timed.filter(([end, ms]) => backupRuns.some((run) => end - ms <= run.end && end >= run.start)).map(([, ms]) => ms).sort((a, b) => a - b);
    const worst = timed.reduce((a, b) => (b[1] > a[1] ? b : a), [0, 0]);
    const worstDuringBackup = backupRuns.some((run) => worst[0] - worst[1] <= run.end && worst[0] >= run.start);
    const backupSeconds = backupRuns.map((run) => (run.end - run.start) / 1000);
    Object.assign(result, {
      backups: backupRuns.length,
      backupSeconds,
      backupMiB: backupRuns.map((run) => Number((run.bytes / 1048576).toFixed(1))),
      duringBackup: { requests: during.length, p50: Number(percentile(during, 50).toFixed(2)), p99: Number(percentile(during, 99).toFixed(2)), max: Number((during[during.length - 1] ?? 0).toFixed(2)), over50ms: during.filter((ms) => ms > 50).length },
      worstRequest: { ms: Number(worst[1].toFixed(2)), duringBackup: worstDuringBackup },
    });
    console.log(`  ${backupRuns.length} backups during the run (${backupSeconds.map((x) => x.toFixed(1)).join(', ')} s; last ${(backupRuns.at(-1)?.bytes ?? 0) / 1048576 | 0} MiB)`);
    console.log(`  DATA replies during a backup: ${during.length}, p50 ${percentile(during, 50).toFixed(2)} ms, p99 ${percentile(during, 99).toFixed(2)} ms, max ${(during[during.length - 1] ?? 0).toFixed(2)} ms, ${during.filter((ms) => ms > 50).length} over 50 ms; worst request of the run ${worst[1].toFixed(2)} ms (${worstDuringBackup ? 'during' : 'outside'} a backup)`);
  }
  console.log(JSON.stringify(result));
  if (stored !== acknowledged) {
    console.error(`LOST MESSAGES: ${acknowledged} acknowledged but ${stored} stored`);
    process.exitCode = 1;
  }
}

main().catch((err) => {
  console.error(`bench failed: ${(err as Error).message}`);
  process.exitCode = 1;
});
