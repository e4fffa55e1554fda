// Composition root: wires the config, the store, TLS, the trust space, the router and the
// protocol front ends together, and owns the process lifecycle (start, reload, stop).
import type { Server } from 'node:net';
import type { SMTPServer } from 'smtp-server';
import { configFileFromEnv, loadConfig } from './config/load';
import type { Config } from './config/schema';
import { OutboundWorker } from './delivery/outbound';
import { NoticeSender } from './delivery/notices';
import { Router } from './delivery/router';
import type { TrustSpace } from './policy/trustspace';
import { loadAllowlist } from './jobs/allowlist';
import type { AllowlistReload } from './jobs/services';
import { createScheduler } from './jobs/registry';
import { startSearchIndexer } from './jobs/search-indexer';
import { forkSearchIndexer, isSearchIndexerProcess, serveSearchIndexer } from './jobs/search-indexer-process';
import type { Scheduler } from './jobs/scheduler';
import { createImapServers, type ImapServers } from './imap/server';
import { imapWorkerCount, isImapWorker, serveImapWorker, startImapWorkers, type ImapWorkerPool } from './imap/workers';
import { modseqsInUse } from './imap/views-in-use';
import { createMta } from './smtp/mta';
import { createSubmission } from './smtp/submission';
import { Authenticator } from './auth/authenticator';
import { TokenVerifier } from './auth/oauth';
import { throttleOptions } from './auth/throttle';
import { CommitBatcher } from './store/commit-batcher';
import { watchExternalChanges } from './store/external-changes';
import { MailboxChanges } from './store/mailbox-changes';
import { startCheckpointer, type Checkpointer } from './store/checkpointer';
import { migrate, openDatabase, storeCreatedAt, type Db } from './store/database';
import { relayTlsOptions, serverTlsOptions } from './tls/server-options';
import { createPortal, type Portal } from './web/portal/server';
import { acquireInstanceLock, type InstanceLock } from './util/instance-lock';
import { createLogger, type Logger } from './util/log';
import { noMetrics, type Metrics } from './util/metrics';
import { notifySystemdReady } from './util/systemd';
import { lastJobSuccesses } from './store/job-runs';
import { PrometheusMetrics } from './web/admin/metrics';
import { startAdminServer, storeWriteProblem, type AdminServer } from './web/admin/server';
import { listenOn } from './util/listen';

export interface Daemon {
  config: Config;
  db: Db;
  log: Logger;
  router: Router;
  authenticator: Authenticator;
  outbound: OutboundWorker;
  /** Sends reception, digest and opening notices through notifications.smtp (R9). */
  notices: NoticeSender;
  /** Bound addresses of the enabled listeners, e.g. { smtp: '127.0.0.1:2525' }. */
  listening: Record<string, string>;
  /** The protocol listeners by config key (GET /readyz checks each is listening). */
  servers: Record<string, Server>;
  /** What GET /metrics exposes (no-op when listen.admin is off). */
  metrics: Metrics;
  /** Re-reads the allowlist; throws, keeping the previous one, when the new one is unusable. */
  reloadTrustSpace(): AllowlistReload;
  /** Scheduled jobs (src/jobs/registry.ts); `scheduler.trigger(name)` runs one now. */
  scheduler: Scheduler;
  stop(): Promise<void>;
}

function closeSmtp(server: SMTPServer): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

export interface DaemonOptions {
  /** IMAP worker processes to fork (src/imap/workers.ts); 0 = IMAP in this process. */
  imapWorkers?: number;
  /** Run the search indexer in a process of its own at the lowest priority (src/jobs/search-indexer-process.ts). */
  searchIndexerProcess?: boolean;
}

export async function startDaemon(config: Config, log: Logger = createLogger(config.log.level), options: DaemonOptions = {}): Promise<Daemon> {
  let lock: InstanceLock | undefined;
  /** IMAP worker processes, when imap.workers asks for them (stopped again if the start fails). */
  let imapWorkers: ImapWorkerPool | undefined;
  let db: Db | undefined;
  let checkpointer: Checkpointer | undefined;
  /** Every protocol listener, for GET /readyz (and closed again if the start fails). */
  const servers: Record<string, Server> = {};
  try {
    const { mkdirSync, statSync } = await import('node:fs');
    mkdirSync(config.dataDir, { recursive: true });
    lock = await acquireInstanceLock(config.dataDir);
    db = openDatabase(config.dataDir, { externalCheckpoints: true });
    const applied = migrate(db);
    if (applied.length > 0) log.info({ migrations: applied }, 'database migrated');
    // WAL checkpoints for this process and the IMAP workers, off every event loop.
    checkpointer = startCheckpointer(db.name, log);

    const tls = serverTlsOptions(config);
    const relayTls = relayTlsOptions(config);
    if (tls.development) {
      log.warn({ caFile: tls.caFile }, `development certificates in use; clients must trust the CA in ${tls.caFile}`);
    }

    // Age of the allowlist in force, for mssd_allowlist_age_seconds: its file's mtime at load.
    let allowlistFileTime: number | null = null;
    const noteAllowlistFile = () => {
      try {
        allowlistFileTime = statSync(config.trustSpace.allowlistFile).mtimeMs;
      } catch {
        allowlistFileTime = null;
      }
    };
    let trustSpace: TrustSpace = loadAllowlist(config);
    noteAllowlistFile();
    log.info({ file: config.trustSpace.allowlistFile, domains: trustSpace.domainCount, dns: trustSpace.dnCount }, 'trust space loaded');
    const reloadTrustSpace = (): AllowlistReload => {
      try {
        const next = loadAllowlist(config);
        const diff = next.diff(trustSpace);
        trustSpace = next;
        noteAllowlistFile();
        log.info(
          { domains: next.domainCount, dns: next.dnCount, ...diff.counts, domainsAddedList: diff.domainsAdded.slice(0, 20), domainsRemovedList: diff.domainsRemoved.slice(0, 20) },
          'trust space reloaded',
        );
        return { domains: next.domainCount, dns: next.dnCount, counts: diff.counts };
      } catch (err) {
        log.error({ err: (err as Error).message }, 'trust space reload refused; the previous list stays in force');
        throw err;
      }
    };

    const prometheus =
      config.listen.admin.port === 0
        ? undefined
        : new PrometheusMetrics({
            db,
            dataDir: config.dataDir,
            allowlistFileTime: () => allowlistFileTime,
            certificates: { server: tls.cert, relay: relayTls.cert },
          });
    const metrics: Metrics = prometheus ?? noMetrics;
    const batcher = new CommitBatcher(db);
    // Committed changes, announced to IMAP sessions (IDLE) and the notice sender.
    const changes = new MailboxChanges();
    const router = new Router(db, batcher, config, changes, () => trustSpace);
    // One authenticator for every protocol, so that login throttling counts all attempts.
    const authenticator = new Authenticator(db, log, {
      passwordLogins: config.auth.passwordLogins,
      tokens: TokenVerifier.fromConfig(config),
      throttle: throttleOptions(config),
      batcher,
    });
    authenticator.onOutcome = (protocol, outcome) => metrics.login(protocol, outcome);
    const outbound = new OutboundWorker({ config, log, db, batcher, router, tls: relayTls });
    router.onQueued = () => outbound.kick();
    router.log = log;
    const notices = new NoticeSender({ config, log, db, batcher });
    changes.on('notices-queued', () => notices.kick());
    const smtpServers: SMTPServer[] = [];
    const listening: Record<string, string> = {};
    if (config.listen.smtp.port !== 0) {
      const mta = createMta({ config, log, router, batcher, trustSpace: () => trustSpace, tls, metrics });
      listening.smtp = await listenOn(mta.server, 'listen.smtp', config.listen.smtp);
      servers.smtp = mta.server;
      smtpServers.push(mta);
    }
    for (const mode of ['submission', 'submissions'] as const) {
      if (config.listen[mode].port === 0) continue;
      const submission = createSubmission({ config, log, router, batcher, authenticator, tls, metrics }, mode);
      listening[mode] = await listenOn(submission.server, `listen.${mode}`, config.listen[mode]);
      servers[mode] = submission.server;
      smtpServers.push(submission);
    }
    let imapServers: ImapServers | undefined;
    const wantsImap = config.listen.imap.port !== 0 || config.listen.imaps.port !== 0;
    if (wantsImap && (options.imapWorkers ?? 0) > 1) {
      imapWorkers = await startImapWorkers({ config, log, authenticator, changes, metrics }, options.imapWorkers!);
      Object.assign(listening, imapWorkers.listening);
      Object.assign(servers, imapWorkers.servers);
    } else if (wantsImap) {
      imapServers = createImapServers({ config, db, log, authenticator, changes, metrics, batcher }, tls);
      if (config.listen.imap.port !== 0) {
        listening.imap = await listenOn(imapServers.imap, 'listen.imap', config.listen.imap);
        servers.imap = imapServers.imap;
      }
      if (config.listen.imaps.port !== 0) {
        listening.imaps = await listenOn(imapServers.imaps, 'listen.imaps', config.listen.imaps);
        servers.imaps = imapServers.imaps;
      }
    }
    let portal: Portal | undefined;
    if (config.listen.https.port !== 0) {
      portal = createPortal(
        { config, db, log, authenticator, batcher, changes, trustSpace: () => trustSpace, listening },
        tls,
      );
      listening.https = await portal.listen();
      servers.https = portal.app.server;
    }
    // Last listener: the admin endpoints (before any timer starts, so a failure here leaves
    // nothing running).
    let stoppingNow = false;
    let admin: AdminServer | undefined;
    if (prometheus) {
      admin = await startAdminServer(config.listen.admin, {
        db,
        dataDir: config.dataDir,
        log,
        metrics: prometheus,
        listeners: () => servers,
        allowlistProblem: () => (trustSpace.domainCount > 0 ? undefined : 'allowlist not loaded (no domain)'),
        stopping: () => stoppingNow,
      });
      listening.admin = admin.address;
    }
    // Another process (the CLI's purge, say) committed: let IMAP sessions look again, and cut the
    // sessions of a device it revoked or an account it suspended (R16).
    const externalChanges = watchExternalChanges(db, () => {
      changes.emit('mailbox-changed', null);
      authenticator.recheckSessions();
    });
    outbound.start();
    notices.start();
    // Scheduled jobs start once everything they touch is serving.
    const scheduler = createScheduler({
      config,
      db,
      log,
      notifyMailboxChanged: (mailboxId) => changes.emit('mailbox-changed', mailboxId),
      reloadTrustSpace,
      noticesQueued: () => notices.kick(),
      expungedInUse: () => modseqsInUse(imapServers?.connections ?? []),
    }, { onRunFinished: (job, outcome) => metrics.jobRun(job, outcome.status, 'durationMs' in outcome ? outcome.durationMs / 1000 : 0) });
    prometheus?.knownJobs(scheduler.jobNames());
    scheduler.start();
    // Runs the daemon owes from while it was stopped (the purge above all).
    scheduler.catchUp(lastJobSuccesses(db), storeCreatedAt(db));
    // SEARCH index, after the fact (migration 014): one indexer for the whole daemon
    const searchIndexer = options.searchIndexerProcess ? forkSearchIndexer(log) : startSearchIndexer(db, log);
    log.info({ listening, dataDir: config.dataDir, pid: process.pid }, 'mssd ready');
    const readyDb = db;
    const systemd = notifySystemdReady(log, () => storeWriteProblem(readyDb, config.dataDir) === undefined);

    const openDb = db;
    const heldLock = lock;
    let stopping: Promise<void> | undefined;
    return {
      config,
      db,
      log,
      router,
      authenticator,
      outbound,
      notices,
      listening,
      servers,
      metrics,
      reloadTrustSpace,
      scheduler,
      stop() {
        stopping ??= (async () => {
          log.info({ graceSeconds: config.limits.shutdownGraceSeconds }, 'mssd stopping: no new connections, finishing transactions in flight');
          stoppingNow = true;
          systemd.stop();
          externalChanges.stop();
          // The relay takes no new work from now; its attempts under way share the grace period
          // with the sessions, and their bookkeeping is written before the store closes.
          // A running job stops at its next safe point (a purge between two batches) within the
          // same grace period.
          // All at once: the IMAP workers must learn that the daemon is stopping before a SIGTERM
          // sent to the whole process group (systemd) ends them, or they would be restarted.
          await Promise.all([
            searchIndexer.stop(),
            ...smtpServers.map(closeSmtp),
            imapServers?.close(),
            imapWorkers?.stop(config.limits.shutdownGraceSeconds * 1000),
            portal?.close(),
            outbound.stop(config.limits.shutdownGraceSeconds * 1000),
            notices.stop(config.limits.shutdownGraceSeconds * 1000),
            scheduler.stop(config.limits.shutdownGraceSeconds * 1000),
          ]);
          // Let the last group commit run before closing the database.
          await new Promise((resolve) => setImmediate(resolve));
          while (batcher.queued > 0) await new Promise((resolve) => setTimeout(resolve, 5));
          await admin?.close();
          batcher.close();
          await checkpointer?.stop();
          openDb.close();
          await heldLock.release();
          log.info('mssd stopped');
        })();
        return stopping;
      },
    };
  } catch (err) {
    await imapWorkers?.stop(0);
    for (const server of Object.values(servers)) server.close();
    await checkpointer?.stop();
    db?.close();
    await lock?.release();
    throw err;
  }
}

/** `mssd serve`: runs until SIGTERM/SIGINT, reloads the allowlist on SIGHUP. */
export async function serve(configFile?: string): Promise<void> {
  const config = loadConfig(configFile ?? configFileFromEnv());
  const log = createLogger(config.log.level);
  if (isImapWorker()) return serveImapWorker(config, log.child({ imapWorker: process.pid }));
  if (isSearchIndexerProcess()) return serveSearchIndexer(config, log.child({ searchIndexer: process.pid }));
  const daemon = await startDaemon(config, log, { imapWorkers: imapWorkerCount(config), searchIndexerProcess: true });
  // SIGHUP refreshes the allowlist now (download when configured, then reload), as its schedule does.
  process.on('SIGHUP', () => void daemon.scheduler.trigger('allowlist', 'sighup'));
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      log.info({ signal }, 'signal received');
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      // A second signal while stopping ends the process at once.
      process.once('SIGTERM', () => process.exit(1));
      process.once('SIGINT', () => process.exit(1));
      daemon.stop().then(resolve, (err) => {
        log.error({ err }, 'error while stopping');
        resolve();
      });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
