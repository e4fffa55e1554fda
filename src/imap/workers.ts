// The IMAP front end on every core (issue 12). One Node process runs JavaScript on one core; an
// IMAP server under load spends its time in TLS, parsing and SQLite reads, all of it on that one
// event loop. With `imap.workers` > 1 the main process forks that many IMAP worker processes,
// each with its own connection to the same WAL database, where readers never wait for writers.
//
// The main process listens and hands each new connection, before a byte is read, to the worker
// that has the fewest open connections (the socket travels over the IPC channel). node:cluster's
// own round-robin dealing looks at no load: imaptest's 10 connections came out 7 and 3 on two
// workers, the first worker saturated its core while the other idled a third of its time.
//
// The main process keeps SMTP, the portal, the jobs and everything that must be counted once:
// - logins (throttling, audit rows, login metrics) are decided by its authenticator: a worker
//   asks it for every LOGIN/AUTHENTICATE;
// - connection limits (limits.maxConnections, maxConnectionsPerIp, maxConnectionsPerAccount):
//   a worker asks before greeting and before entering the authenticated state, and says when a
//   connection ends; a worker that dies gives its counts back;
// - mailbox changes: a commit in any process is announced at once to the workers with a session
//   in IDLE on that mailbox, so it wakes for a message delivered by SMTP or appended through
//   another worker. Only IDLE needs the news: any other session reads what changed from the store
//   at its next command. Each worker says which mailboxes its sessions idle on, and the main
//   process tells every worker which mailboxes are watched elsewhere, so a worker sends nothing
//   for the others (imaptest's command mix: 5-9 % less CPU per command than one IPC message
//   per write and per turn's metrics).
//   PRAGMA data_version (src/store/external-changes.ts) stays the safety net for the CLI and for
//   an IDLE that began while a change was on its way (woken within its 500 ms);
// - revocations: a device revoked in the portal cuts the sessions in every worker;
// - metrics: the workers' IMAP counters are added to the main process's /metrics, sent in
//   batches every METRICS_BATCH_MS.
// Messages are JSON over the cluster's IPC channel; none carries a password back.
import cluster, { type Worker } from 'node:cluster';
import net from 'node:net';
import os from 'node:os';
import type { AuthResult } from '../auth/authenticator';
import { Authenticator } from '../auth/authenticator';
import { TokenVerifier } from '../auth/oauth';
import { throttleOptions } from '../auth/throttle';
import type { Config } from '../config/schema';
import { CommitBatcher } from '../store/commit-batcher';
import { openDatabase } from '../store/database';
import { watchExternalChanges } from '../store/external-changes';
import { MailboxChanges } from '../store/mailbox-changes';
import { serverTlsOptions } from '../tls/server-options';
import { ConnectionLimiter } from '../util/connection-limits';
import { listenOn } from '../util/listen';
import type { Logger } from '../util/log';
import type { Metrics } from '../util/metrics';
import { OperatorError } from '../util/operator-error';
import { IdleWatchers } from './idle-watchers';
import { createImapServers, type ConnectionGate } from './server';

/** How many IMAP worker processes `imap.workers` asks for; 0 or 1 = none (IMAP in the main process). */
export function imapWorkerCount(config: Config): number {
  const wanted = config.imap.workers === 0 ? os.availableParallelism() : config.imap.workers;
  return wanted > 1 ? wanted : 0;
}

type MetricName = 'imapConnection' | 'imapCommand' | 'connectionRefused';

/** A MailboxChanges event: its name and arguments. */
type ChangeEvent = [string, unknown[]];

/** How long a worker's metric calls wait to be sent in one batch (what /metrics may lag behind). */
const METRICS_BATCH_MS = 100;

/**
 * Collects items (change events, metric calls) and hands them over together: once per turn of
 * the event loop (a group commit's changes), or after `delayMs`; one IPC message for all of them.
 */
function batched<T>(deliver: (list: T[]) => void, delayMs?: number): (item: T) => void {
  let list: T[] = [];
  const due = () => {
    const items = list;
    list = [];
    deliver(items);
  };
  return (item) => {
    if (list.length === 0) {
      if (delayMs === undefined) setImmediate(due);
      else setTimeout(due, delayMs);
    }
    list.push(item);
  };
}

/** The mailbox a 'mailbox-changed' event names; undefined for other events and for null (every mailbox). */
function changedMailbox(name: string, args: unknown[]): number | undefined {
  return name === 'mailbox-changed' && typeof args[0] === 'number' ? args[0] : undefined;
}

/** Worker -> main process. */
type WorkerMessage =
  | { t: 'ready' }
  | { t: 'events'; list: ChangeEvent[] }
  /** This worker's first session idling on a mailbox (true), or its last one left (false). */
  | { t: 'watch'; mailboxId: number; watching: boolean }
  | { t: 'auth'; id: number; kind: 'password' | 'token'; args: [string | null, string, string] }
  | { t: 'admit'; id: number; address: string }
  | { t: 'leave'; address: string }
  | { t: 'release'; key: string }
  /** A connection the main process handed over has closed. */
  | { t: 'gone' }
  | { t: 'metrics'; calls: Array<[MetricName, unknown[]]> };

/** Main process -> worker. */
type PrimaryMessage =
  | { t: 'events'; list: ChangeEvent[] }
  | { t: 'auth'; id: number; result?: AuthResult; slot?: boolean; error?: string }
  | { t: 'admit'; id: number; ok: boolean }
  | { t: 'recheck'; accountId?: number }
  /** Whether a session of another worker idles on that mailbox now. */
  | { t: 'watched'; mailboxId: number; elsewhere: boolean }
  /** Comes with a client's socket, not read yet: serve it as `listener` does. */
  | { t: 'connection'; listener: ImapListener }
  | { t: 'stop' };

type ImapListener = 'imap' | 'imaps';

export interface ImapWorkerPool {
  /** Bound addresses, as the in-process listeners report them. */
  listening: Record<string, string>;
  /** The main process's listeners (GET /readyz checks each is listening). */
  servers: Partial<Record<ImapListener, net.Server>>;
  /** Says BYE in every worker and waits for them to end. */
  stop(graceMs: number): Promise<void>;
}

interface PrimaryServices {
  config: Config;
  log: Logger;
  authenticator: Authenticator;
  changes: MailboxChanges;
  metrics: Metrics;
}

/** What the main process counts for one worker, given back when it dies. */
interface WorkerCounts {
  addresses: Map<string, number>;
  accounts: Map<string, number>;
  /** Connections handed to it that have not closed yet (which worker gets the next one). */
  connections: number;
  /** It said it is ready (a worker still starting gets no connection). */
  ready: boolean;
}

/**
 * Which workers have a session in IDLE on which mailbox, and so which changes each must hear;
 * tells each worker whether a mailbox is watched by another one, when that changes.
 */
export class IdleInterest {
  private readonly watchers = new Map<number, Set<Worker>>();

  constructor(private readonly tell: (worker: Worker, message: PrimaryMessage) => void) {}

  /** The workers to send a change of `mailboxId` to. */
  watching(mailboxId: number): ReadonlySet<Worker> | undefined {
    return this.watchers.get(mailboxId);
  }

  set(worker: Worker, mailboxId: number, watching: boolean, workers: Iterable<Worker>): void {
    const before = this.watchers.get(mailboxId) ?? new Set<Worker>();
    const after = new Set(before);
    if (watching) after.add(worker);
    else after.delete(worker);
    if (after.size > 0) this.watchers.set(mailboxId, after);
    else this.watchers.delete(mailboxId);
    for (const other of workers) {
      if (other === worker) continue;
      const elsewhere = [...after].some((w) => w !== other);
      if ([...before].some((w) => w !== other) !== elsewhere) this.tell(other, { t: 'watched', mailboxId, elsewhere });
    }
  }

  /** What a new worker must know: every mailbox watched by the others. */
  introduce(worker: Worker): void {
    for (const mailboxId of this.watchers.keys()) this.tell(worker, { t: 'watched', mailboxId, elsewhere: true });
  }

  /** A worker ended: its sessions watch nothing any more. */
  forget(worker: Worker, workers: Iterable<Worker>): void {
    for (const [mailboxId, set] of [...this.watchers]) if (set.has(worker)) this.set(worker, mailboxId, false, workers);
  }
}

function bump(map: Map<string, number>, key: string, delta: number): void {
  const next = (map.get(key) ?? 0) + delta;
  if (next <= 0) map.delete(key);
  else map.set(key, next);
}

/** Main process: forks `count` IMAP workers and resolves once each listens. */
export async function startImapWorkers(services: PrimaryServices, count: number): Promise<ImapWorkerPool> {
  const { config, log, authenticator, changes, metrics } = services;
  const perAddress = new ConnectionLimiter(config.limits.maxConnectionsPerIp);
  const perAccount = new ConnectionLimiter(config.limits.maxConnectionsPerAccount);
  let open = 0;
  const counts = new Map<Worker, WorkerCounts>();
  let stopping = false;
  /** The worker whose event is being re-emitted here (not sent back to it). */
  let origin: Worker | null = null;

  const send = (worker: Worker, message: PrimaryMessage) => {
    // A worker that ends while the message is on its way: EPIPE comes to the callback (its 'exit'
    // handler does what is needed), not as an 'error' event that would crash the main process.
    if (worker.isConnected()) worker.send(message, (err: Error | null) => err && log.debug({ err: err.message }, 'message to an IMAP worker that was ending'));
  };
  const broadcast = (message: PrimaryMessage, except: Worker | null = null) => {
    for (const worker of counts.keys()) if (worker !== except) send(worker, message);
  };

  // Every change committed here (SMTP delivery, portal, jobs) or re-emitted from a worker reaches
  // the other workers that have a session in IDLE on that mailbox (every worker for other events
  // and for "look again at everything"), a batch per worker and turn.
  const interest = new IdleInterest(send);
  const eventsFor = new Map<Worker, (event: ChangeEvent) => void>();
  const emit = changes.emit.bind(changes);
  changes.emit = (name: string | symbol, ...args: unknown[]) => {
    if (typeof name === 'string') {
      const mailboxId = changedMailbox(name, args);
      const recipients = mailboxId === undefined ? counts.keys() : (interest.watching(mailboxId) ?? []);
      for (const worker of recipients) {
        if (worker === origin) continue;
        let queue = eventsFor.get(worker);
        if (!queue) {
          queue = batched<ChangeEvent>((list) => send(worker, { t: 'events', list }));
          eventsFor.set(worker, queue);
        }
        queue([name, args]);
      }
    }
    return emit(name, ...args);
  };
  const recheck = authenticator.recheckSessions.bind(authenticator);
  // A revocation here (portal, CLI through the admin endpoints) names its account: cut in every
  // worker too. The periodic recheck after external commits runs in each worker by itself.
  authenticator.recheckSessions = (accountId?: number) => {
    if (accountId !== undefined) broadcast({ t: 'recheck', accountId });
    return recheck(accountId);
  };

  const onMessage = async (worker: Worker, message: WorkerMessage) => {
    const mine = counts.get(worker);
    if (!mine) return;
    switch (message.t) {
      case 'events':
        origin = worker;
        try {
          for (const [name, args] of message.list) changes.emit(name, ...args);
        } finally {
          origin = null;
        }
        return;
      case 'watch':
        interest.set(worker, message.mailboxId, message.watching, counts.keys());
        return;
      case 'admit': {
        const ok = open < config.limits.maxConnections && perAddress.tryAcquire(message.address);
        if (ok) {
          open++;
          bump(mine.addresses, message.address, 1);
        }
        send(worker, { t: 'admit', id: message.id, ok });
        return;
      }
      case 'leave':
        if (!mine.addresses.has(message.address)) return;
        open--;
        perAddress.release(message.address);
        bump(mine.addresses, message.address, -1);
        return;
      case 'release':
        if (!mine.accounts.has(message.key)) return;
        perAccount.release(message.key);
        bump(mine.accounts, message.key, -1);
        return;
      case 'gone':
        if (mine.connections > 0) mine.connections--;
        return;
      case 'auth': {
        const [login, secret, peer] = message.args;
        try {
          const result =
            message.kind === 'token'
              ? await authenticator.authenticateToken(login, secret, peer, 'imap')
              : await authenticator.authenticate(login ?? '', secret, peer, 'imap');
          let slot: boolean | undefined;
          if (result.ok) {
            const key = String(result.account.accountId);
            slot = perAccount.tryAcquire(key);
            if (slot) bump(mine.accounts, key, 1);
          }
          send(worker, { t: 'auth', id: message.id, result, slot });
        } catch (err) {
          log.error({ err, imapWorker: worker.id }, 'imap worker login check failed');
          send(worker, { t: 'auth', id: message.id, error: (err as Error).message });
        }
        return;
      }
      case 'metrics':
        for (const [name, args] of message.calls) (metrics[name] as (...a: unknown[]) => void)(...args);
        return;
      default:
        return;
    }
  };

  const giveBack = (worker: Worker) => {
    eventsFor.delete(worker);
    interest.forget(worker, counts.keys());
    const mine = counts.get(worker);
    if (!mine) return;
    for (const [address, n] of mine.addresses) for (let i = 0; i < n; i++) perAddress.release(address);
    for (const [key, n] of mine.accounts) for (let i = 0; i < n; i++) perAccount.release(key);
    const connections = [...mine.addresses.values()].reduce((a, b) => a + b, 0);
    open -= connections;
    // Its connections are gone with it: the gauge of /metrics must not keep counting them.
    for (let i = 0; i < connections; i++) metrics.imapConnection(-1);
    counts.delete(worker);
  };

  const fork = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const worker = cluster.fork({ MSSD_IMAP_WORKER: '1' });
      const mine: WorkerCounts = { addresses: new Map(), accounts: new Map(), connections: 0, ready: false };
      counts.set(worker, mine);
      worker.on('message', (message: WorkerMessage) => {
        if (message.t === 'ready') {
          mine.ready = true;
          interest.introduce(worker);
          resolve();
        } else {
          void onMessage(worker, message);
        }
      });
      worker.once('exit', (code, signal) => {
        giveBack(worker);
        if (!mine.ready) return reject(new OperatorError(`imap worker exited at start (${signal ?? code})`));
        if (stopping) return;
        // A worker that died took its sessions with it; the others keep serving. Start another.
        log.error({ imapWorker: worker.id, code, signal }, 'imap worker died; starting another');
        fork().catch((err: Error) => log.error({ err: err.message }, 'imap worker could not be restarted'));
      });
    });

  /** The ready worker with the fewest open connections (the first of them on a tie). */
  const leastBusy = (): Worker | undefined => {
    let best: Worker | undefined;
    for (const [worker, mine] of counts) {
      if (!mine.ready || !worker.isConnected()) continue;
      if (!best || mine.connections < counts.get(best)!.connections) best = worker;
    }
    return best;
  };
  const handOff = (listener: ImapListener, socket: net.Socket) => {
    const worker = leastBusy();
    if (!worker || stopping) {
      // every worker is being restarted: the client tries again
      socket.destroy();
      return;
    }
    const mine = counts.get(worker)!;
    mine.connections++;
    // The socket is closed here once sent; the worker reads it from the first byte.
    worker.send({ t: 'connection', listener } satisfies PrimaryMessage, socket, (err: Error | null) => {
      if (!err) return;
      mine.connections--;
      socket.destroy();
      log.debug({ err: err.message, imapWorker: worker.id }, 'connection for an IMAP worker that was ending');
    });
  };

  const listening: Record<string, string> = {};
  const servers: Partial<Record<ImapListener, net.Server>> = {};
  try {
    // cluster.fork re-runs this program (bin/mssd serve --config ...) with MSSD_IMAP_WORKER set.
    await Promise.all(Array.from({ length: count }, fork));
    for (const key of ['imap', 'imaps'] as const) {
      if (config.listen[key].port === 0) continue;
      const server = net.createServer({ pauseOnConnect: true }, (socket) => handOff(key, socket));
      servers[key] = server;
      listening[key] = await listenOn(server, `listen.${key}`, config.listen[key]);
    }
  } catch (err) {
    stopping = true;
    for (const server of Object.values(servers)) server.close();
    for (const worker of counts.keys()) worker.kill();
    throw err;
  }
  log.info({ workers: count }, 'imap workers ready');

  return {
    listening,
    servers,
    async stop(graceMs) {
      stopping = true;
      for (const server of Object.values(servers)) server.close();
      const workers = [...counts.keys()];
      await Promise.all(
        workers.map(
          (worker) =>
            new Promise<void>((resolve) => {
              if (worker.isDead()) return resolve();
              const timer = setTimeout(() => worker.kill('SIGKILL'), graceMs + 2000);
              worker.once('exit', () => {
                clearTimeout(timer);
                resolve();
              });
              send(worker, { t: 'stop' });
            }),
        ),
      );
    },
  };
}

/** True in a process forked by startImapWorkers. */
export function isImapWorker(): boolean {
  return cluster.isWorker && process.env.MSSD_IMAP_WORKER === '1';
}

/** Worker process: serves IMAP until the main process says stop (or goes away). */
export async function serveImapWorker(config: Config, log: Logger): Promise<void> {
  const toPrimary = (message: WorkerMessage) => {
    if (process.connected) process.send!(message);
  };
  const pending = new Map<number, (message: PrimaryMessage) => void>();
  let nextId = 1;
  const ask = <T extends PrimaryMessage>(message: WorkerMessage & { id: number }): Promise<T> =>
    new Promise((resolve) => {
      pending.set(message.id, resolve as (message: PrimaryMessage) => void);
      toPrimary(message);
    });

  const db = openDatabase(config.dataDir, { externalCheckpoints: true }); // the main process's thread checkpoints
  const tls = serverTlsOptions(config); // the main process created the development certificates
  const batcher = new CommitBatcher(db);

  // Changes committed here are announced locally and, through the main process, to the workers
  // whose sessions idle on that mailbox (all of them for other events).
  const changes = new MailboxChanges();
  const emitLocally = changes.emit.bind(changes);
  const toOthers = batched<ChangeEvent>((list) => toPrimary({ t: 'events', list }));
  /** Mailboxes a session of another worker idles on (the main process keeps us told). */
  const watchedElsewhere = new Set<number>();
  changes.emit = (name: string | symbol, ...args: unknown[]) => {
    if (typeof name === 'string') {
      const mailboxId = changedMailbox(name, args);
      if (mailboxId === undefined || watchedElsewhere.has(mailboxId)) toOthers([name, args]);
    }
    return emitLocally(name, ...args);
  };
  const idleWatchers = new IdleWatchers((mailboxId, watching) => toPrimary({ t: 'watch', mailboxId, watching }));

  // Password and token checks run in the main process (one throttle, one audit trail); the
  // account's session slot is taken there at the same time.
  const authenticator = new Authenticator(db, log, {
    passwordLogins: config.auth.passwordLogins,
    tokens: TokenVerifier.fromConfig(config),
    throttle: throttleOptions(config),
    batcher,
  });
  const granted = new Map<string, boolean[]>();
  const remoteCheck = async (kind: 'password' | 'token', login: string | null, secret: string, peer: string): Promise<AuthResult> => {
    const reply = await ask<Extract<PrimaryMessage, { t: 'auth' }>>({ t: 'auth', id: nextId++, kind, args: [login, secret, peer] });
    if (reply.error !== undefined || !reply.result) throw new Error(reply.error ?? 'no answer from the main process');
    if (reply.result.ok) {
      const key = String(reply.result.account.accountId);
      granted.set(key, [...(granted.get(key) ?? []), reply.slot === true]);
    }
    return reply.result;
  };
  authenticator.authenticate = (login, password, peer) => remoteCheck('password', login, password, peer);
  authenticator.authenticateToken = (login, token, peer) => remoteCheck('token', login, token, peer);
  const accountSessions = {
    /** The answer the main process gave with this account's login (see remoteCheck). */
    tryAcquire(key: string): boolean {
      const answers = granted.get(key) ?? [];
      const answer = answers.shift() ?? false;
      if (answers.length === 0) granted.delete(key);
      return answer;
    },
    release: (key: string) => toPrimary({ t: 'release', key }),
  };
  const gate: ConnectionGate = {
    admit: async (address) => (await ask<Extract<PrimaryMessage, { t: 'admit' }>>({ t: 'admit', id: nextId++, address })).ok,
    leave: (address) => toPrimary({ t: 'leave', address }),
  };

  // IMAP counters go to the main process's /metrics, a batch every METRICS_BATCH_MS.
  const toMetrics = batched<[MetricName, unknown[]]>((calls) => toPrimary({ t: 'metrics', calls }), METRICS_BATCH_MS);
  const record = (name: MetricName) => (...args: unknown[]) => toMetrics([name, args]);
  const nothing = () => undefined;
  const metrics: Metrics = {
    smtpMessage: nothing,
    login: nothing,
    jobRun: nothing,
    imapConnection: record('imapConnection'),
    imapCommand: record('imapCommand'),
    connectionRefused: record('connectionRefused'),
  };

  // These servers never listen: the main process hands them their connections ('connection').
  const servers = createImapServers({ config, db, log, authenticator, changes, metrics, batcher, accountSessions, idleWatchers }, tls, gate);

  // Another process (the CLI) committed: look again, and cut sessions whose device was revoked.
  const external = watchExternalChanges(db, () => {
    emitLocally('mailbox-changed', null);
    authenticator.recheckSessions();
  });

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    external.stop();
    await servers.close();
    await new Promise((resolve) => setImmediate(resolve));
    while (batcher.queued > 0) await new Promise((resolve) => setTimeout(resolve, 5));
    batcher.close();
    db.close();
    process.exit(0);
  };
  process.on('message', (message: PrimaryMessage, handle?: net.Socket) => {
    switch (message.t) {
      case 'connection':
        if (!handle) return;
        if (stopped) {
          handle.destroy();
          return;
        }
        handle.once('close', () => toPrimary({ t: 'gone' }));
        // what the server's own listening socket would have done with it
        servers[message.listener].emit('connection', handle);
        return;
      case 'events':
        for (const [name, args] of message.list) emitLocally(name, ...args);
        return;
      case 'recheck':
        authenticator.recheckSessions(message.accountId);
        return;
      case 'watched':
        if (message.elsewhere) watchedElsewhere.add(message.mailboxId);
        else watchedElsewhere.delete(message.mailboxId);
        return;
      case 'stop':
        void stop();
        return;
      default: {
        const resolve = pending.get(message.id);
        pending.delete(message.id);
        resolve?.(message);
      }
    }
  });
  // The main process coordinates shutdown; a terminal's Ctrl-C reaches the whole group.
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => void stop());
  // The main process is gone (even killed with SIGKILL): nothing may keep serving without it.
  process.on('disconnect', () => void stop());
  toPrimary({ t: 'ready' });
}
