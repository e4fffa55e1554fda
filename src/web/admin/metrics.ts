// The Prometheus side of src/util/metrics.ts: one prom-client Registry per daemon (never the
// global one, so that several daemons in one test process keep their own figures), the counters
// and histograms the code reports into, and the gauges read from the store and the files at each
// scrape (queue, notices, jobs, database size, allowlist age, certificate expiry). Metric names
// and labels are part of the operator's contract (DESIGN.md "Admin endpoints"); no label ever
// carries an address, a login or a peer.
import { X509Certificate } from 'node:crypto';
import { statSync } from 'node:fs';
import path from 'node:path';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Db } from '../../store/database';
import { lastJobSuccesses } from '../../store/job-runs';
import { pendingNoticeCount } from '../../store/notices';
import { queueStats } from '../../store/queue';
import type { Metrics, SmtpListenerName, SmtpOutcome } from '../../util/metrics';

/** What the scrape-time gauges read. */
export interface MetricsSources {
  db: Db;
  dataDir: string;
  /** mtime (ms) of the allowlist file in force, or null before the first load. */
  allowlistFileTime(): number | null;
  /** PEM certificates whose expiry is watched, by name ('server', 'relay'). */
  certificates: Record<string, string | undefined>;
  /** Wall clock (tests). */
  now?: () => number;
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

function expiryOf(pem: string): number | null {
  try {
    return Date.parse(new X509Certificate(pem).validTo);
  } catch {
    return null;
  }
}

export class PrometheusMetrics implements Metrics {
  readonly registry = new Registry();
  private readonly smtpMessages: Counter<'listener' | 'outcome'>;
  private readonly smtpData: Histogram<'listener'>;
  private readonly refused: Counter<'listener'>;
  private readonly logins: Counter<'protocol' | 'outcome'>;
  private readonly imapConnections: Gauge;
  private readonly imapCommands: Counter<'command' | 'status'>;
  private readonly imapCommandSeconds: Histogram<'command'>;
  private readonly jobRuns: Counter<'job' | 'outcome'>;
  private readonly jobSeconds: Histogram<'job'>;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    const now = sources.now ?? Date.now;
    // Node's process metrics and event-loop lag (nodejs_eventloop_lag_seconds, _p99…).
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 10 });

    this.smtpMessages = new Counter({
      name: 'mssd_smtp_messages_total',
      help: 'SMTP message transactions by listener (mta, submission, submissions) and outcome (delivered, refused, failed)',
      labelNames: ['listener', 'outcome'],
      registers,
    });
    this.smtpData = new Histogram({
      name: 'mssd_smtp_data_seconds',
      help: 'From the end of DATA to the reply (the durable commit, R14), by listener',
      labelNames: ['listener'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.refused = new Counter({
      name: 'mssd_connections_refused_total',
      help: 'Connections refused over the connection limits, by listener',
      labelNames: ['listener'],
      registers,
    });
    this.logins = new Counter({
      name: 'mssd_logins_total',
      help: 'Logins by protocol and outcome (ok, or the reason of the refusal)',
      labelNames: ['protocol', 'outcome'],
      registers,
    });
    this.imapConnections = new Gauge({ name: 'mssd_imap_connections', help: 'IMAP connections open now', registers });
    this.imapCommands = new Counter({
      name: 'mssd_imap_commands_total',
      help: 'IMAP commands by name and completion status (OK, NO, BAD)',
      labelNames: ['command', 'status'],
      registers,
    });
    this.imapCommandSeconds = new Histogram({
      name: 'mssd_imap_command_seconds',
      help: 'IMAP command duration by name (IDLE excluded: it lasts as long as the client wants)',
      labelNames: ['command'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.jobRuns = new Counter({
      name: 'mssd_job_runs_total',
      help: 'Scheduled job runs by job and outcome (ok, failed, interrupted, skipped)',
      labelNames: ['job', 'outcome'],
      registers,
    });
    this.jobSeconds = new Histogram({
      name: 'mssd_job_duration_seconds',
      help: 'Duration of finished job runs',
      labelNames: ['job'],
      buckets: [0.01, 0.1, 1, 10, 60, 300, 1800, 3600],
      registers,
    });

    // Series a dashboard expects from the first scrape, at 0 until something happens.
    for (const listener of ['mta', 'submission', 'submissions']) {
      for (const outcome of ['delivered', 'refused', 'failed']) this.smtpMessages.inc({ listener, outcome }, 0);
    }
    // Protocol names as in the audit rows (COMMON.md): 'imap', 'submission'.
    for (const protocol of ['imap', 'submission']) this.logins.inc({ protocol, outcome: 'ok' }, 0);

    // Scrape-time gauges.
    const { db } = sources;
    new Gauge({
      name: 'mssd_queue_messages',
      help: 'Outbound queue entries waiting for a relay attempt',
      registers,
      collect() {
        this.set(queueStats(db).messages);
      },
    });
    new Gauge({
      name: 'mssd_queue_oldest_age_seconds',
      help: 'Age of the oldest waiting outbound queue entry (0 when the queue is empty)',
      registers,
      collect() {
        const oldest = queueStats(db).oldestCreatedAt;
        this.set(oldest === null ? 0 : Math.max(0, (now() - oldest) / 1000));
      },
    });
    new Gauge({
      name: 'mssd_notices_pending',
      help: 'Reception, digest and opening notices (R9) not yet accepted by the notification relay',
      registers,
      collect() {
        this.set(pendingNoticeCount(db));
      },
    });
    new Gauge({
      name: 'mssd_job_last_success_timestamp_seconds',
      help: 'Start of the last successful run of each job (job_runs; runs by mssd CLI included)',
      labelNames: ['job'],
      registers,
      collect() {
        for (const [job, at] of lastJobSuccesses(db)) this.set({ job }, at / 1000);
      },
    });
    const databaseFile = path.join(sources.dataDir, 'mssd.sqlite');
    new Gauge({
      name: 'mssd_database_bytes',
      help: 'Size of the SQLite database file (message bodies included)',
      registers,
      collect() {
        this.set(fileSize(databaseFile));
      },
    });
    new Gauge({
      name: 'mssd_database_wal_bytes',
      help: 'Size of the SQLite write-ahead log',
      registers,
      collect() {
        this.set(fileSize(`${databaseFile}-wal`));
      },
    });
    new Gauge({
      name: 'mssd_allowlist_age_seconds',
      help: 'Age of the allowlist file in force (since its last modification, i.e. its download)',
      registers,
      collect() {
        const at = sources.allowlistFileTime();
        if (at !== null) this.set(Math.max(0, (now() - at) / 1000));
      },
    });
    const expiries = Object.entries(sources.certificates)
      .filter((entry): entry is [string, string] => typeof entry[1] === 'string' && entry[1] !== '')
      .map(([name, pem]) => [name, expiryOf(pem)] as const);
    new Gauge({
      name: 'mssd_certificate_expiry_timestamp_seconds',
      help: 'notAfter of the certificates in use (server: tls.certFile or development; relay: relay.certFile)',
      labelNames: ['certificate'],
      registers,
      collect() {
        for (const [certificate, at] of expiries) if (at !== null) this.set({ certificate }, at / 1000);
      },
    });
  }

  /** Starts the run counters of these jobs at 0, so that dashboards see them before a run. */
  knownJobs(names: string[]): void {
    for (const job of names) for (const outcome of ['ok', 'failed']) this.jobRuns.inc({ job, outcome }, 0);
  }

  smtpMessage(listener: SmtpListenerName, outcome: SmtpOutcome, dataSeconds?: number): void {
    this.smtpMessages.inc({ listener, outcome });
    if (dataSeconds !== undefined) this.smtpData.observe({ listener }, dataSeconds);
  }

  connectionRefused(listener: string): void {
    this.refused.inc({ listener });
  }

  login(protocol: string, outcome: string): void {
    this.logins.inc({ protocol, outcome });
  }

  imapConnection(delta: 1 | -1): void {
    this.imapConnections.inc(delta);
  }

  imapCommand(name: string, status: string, seconds: number): void {
    this.imapCommands.inc({ command: name, status });
    if (name !== 'IDLE') this.imapCommandSeconds.observe({ command: name }, seconds);
  }

  jobRun(job: string, outcome: string, seconds: number): void {
    this.jobRuns.inc({ job, outcome });
    if (outcome !== 'skipped') this.jobSeconds.observe({ job }, seconds);
  }

  /** The Prometheus text exposition of every metric. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
