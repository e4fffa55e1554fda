// The admin listener (`listen.admin`, DESIGN.md "Admin endpoints"): GET /healthz, GET /readyz and
// GET /metrics for load balancers, systemd and Prometheus. Plain HTTP: it is meant for loopback
// (the default, 127.0.0.1:2900) or a management network; it exposes no personal data (counts and
// outcomes only) and takes no input. Bound to another address, it says so in the log at start,
// so the operator firewalls it.
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Listener } from '../../config/schema';
import type { Db } from '../../store/database';
import { probeWrite } from '../../store/health';
import type { Logger } from '../../util/log';
import { OperatorError } from '../../util/operator-error';
import type { PrometheusMetrics } from './metrics';

/** Something /readyz checks: undefined when fine, else the reason (one short sentence). */
export type ReadinessCheck = () => string | undefined;

export interface AdminDeps {
  db: Db;
  dataDir: string;
  log: Logger;
  metrics: PrometheusMetrics;
  /** Listeners that must be up, by config key ('smtp', 'imaps', …). */
  listeners(): Record<string, { listening: boolean }>;
  /** Undefined once the allowlist is loaded, else why not. */
  allowlistProblem(): string | undefined;
  /** True from the start of the shutdown. */
  stopping(): boolean;
}

/** Why the store cannot take writes, or undefined when it can. */
export function storeWriteProblem(db: Db, dataDir: string): string | undefined {
  // What a restart needs (the files stay writable: chmod, a read-only remount)…
  for (const file of [dataDir, path.join(dataDir, 'mssd.sqlite'), path.join(dataDir, 'mssd.sqlite-wal')]) {
    try {
      accessSync(file, constants.W_OK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && file.endsWith('-wal')) continue; // checkpointed away: fine
      return `store not writable: ${file}: ${code ?? (err as Error).message}`;
    }
  }
  // …and what serving needs now: a real commit (disk full, I/O error, locked database).
  try {
    probeWrite(db);
  } catch (err) {
    return `store not writable: ${(err as Error).message}`;
  }
  return undefined;
}

export function readinessProblems(deps: AdminDeps): string[] {
  const problems: string[] = [];
  if (deps.stopping()) problems.push('stopping');
  const store = storeWriteProblem(deps.db, deps.dataDir);
  if (store) problems.push(store);
  for (const [name, server] of Object.entries(deps.listeners())) {
    if (!server.listening) problems.push(`listener ${name} is not listening`);
  }
  const allowlist = deps.allowlistProblem();
  if (allowlist) problems.push(allowlist);
  return problems;
}

const LOOPBACK = /^(127\.|::1$|localhost$)/;

export interface AdminServer {
  /** host:port it listens on. */
  address: string;
  close(): Promise<void>;
}

export async function startAdminServer(listener: Listener, deps: AdminDeps): Promise<AdminServer> {
  // Limits: the endpoints take no body and answer at once; a slow or stuck client is cut.
  const app: FastifyInstance = Fastify({
    logger: false,
    return503OnClosing: true,
    bodyLimit: 1024,
    connectionTimeout: 30_000,
    requestTimeout: 10_000,
    keepAliveTimeout: 10_000,
  });
  app.get('/healthz', async (_request, reply) => reply.type('text/plain; charset=utf-8').send('ok\n'));
  // Logged when the answer changes, not at every poll of a load balancer.
  let lastAnswer = 'ready';
  app.get('/readyz', async (_request, reply) => {
    const problems = readinessProblems(deps);
    const answer = problems.length === 0 ? 'ready' : problems.join('; ');
    if (answer !== lastAnswer) {
      if (problems.length === 0) deps.log.info({ admin: 'readyz' }, 'ready again');
      else deps.log.warn({ admin: 'readyz', problems }, 'not ready');
      lastAnswer = answer;
    }
    if (problems.length === 0) return reply.type('text/plain; charset=utf-8').send('ready\n');
    return reply.code(503).type('text/plain; charset=utf-8').send(`not ready: ${problems.join('; ')}\n`);
  });
  app.get('/metrics', async (_request, reply) => {
    const { contentType, body } = await deps.metrics.exposition();
    return reply.type(contentType).send(body);
  });
  let bound: string;
  try {
    bound = await app.listen({ host: listener.host, port: listener.port });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'EADDRINUSE' ? 'address already in use' : code === 'EACCES' ? 'permission denied (ports below 1024 need privileges)' : (err as Error).message;
    throw new OperatorError(`cannot listen on listen.admin ${listener.host}:${listener.port}: ${reason}`);
  }
  const address = app.server.address();
  const text = typeof address === 'object' && address ? `${address.address}:${address.port}` : bound;
  if (!LOOPBACK.test(listener.host)) {
    deps.log.warn({ admin: text }, 'admin endpoints listen beyond loopback over plain HTTP: restrict access to them (firewall, management network)');
  }
  return { address: text, close: () => app.close() };
}
