// Benchmark: inbound MTA ingest (DESIGN.md targets: >= 1 000 msg/s, DATA reply p99 <= 30 ms).
// N concurrent STARTTLS connections with an operator client certificate deliver 20 KB messages
// to local boxes for a bounded time; every 250 means the message is durable in a mailbox.
//
//   npm run bench:smtp            (BENCH_CONNECTIONS=10 BENCH_SECONDS=20 BENCH_SIZE=20480)
import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { issueCertificate } from '../src/tls/certificates';
import { BenchSmtpClient } from './lib/smtp-client';
import { envNumber, machine, peakRssMiB, percentile, prepare, provisionBoxes, startDaemon, stopDaemon } from './lib/harness';

const CONNECTIONS = envNumber('BENCH_CONNECTIONS', 10);
const SECONDS = envNumber('BENCH_SECONDS', 20);
const WARMUP_SECONDS = 2;
const SIZE = envNumber('BENCH_SIZE', 20 * 1024);
const BOXES = envNumber('BENCH_BOXES', 10);

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
  let acknowledged = 0;
  const startedAt = Date.now();
  const measureFrom = startedAt + WARMUP_SECONDS * 1000;
  const deadline = measureFrom + SECONDS * 1000;
  let measuredCount = 0;
  await Promise.all(
    clients.map(async (client, c) => {
      for (let n = 0; Date.now() < deadline; n++) {
        const to = boxes[(c + n) % boxes.length];
        const ms = await client.send(`dr.bench@${PEER_DOMAIN}`, to, messageOfSize(c * 1_000_000 + n, to));
        acknowledged++;
        if (Date.now() >= measureFrom) {
          latencies.push(ms);
          measuredCount++;
        }
      }
      await client.quit();
    }),
  );
  const elapsed = (Date.now() - measureFrom) / 1000;
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
