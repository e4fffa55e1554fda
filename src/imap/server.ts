// The IMAP listeners: listen.imap (cleartext until STARTTLS; no login before TLS, RFC 3501
// section 6.2.3 LOGINDISABLED) and listen.imaps (implicit TLS, RFC 8314). Limits connections per
// client address, and wakes sessions in IDLE when their mailbox changes (RFC 2177).
import net from 'node:net';
import tls from 'node:tls';
import { hardenedTlsOptions } from '../tls/server-options';
import { ConnectionLimiter } from '../util/connection-limits';
import { NoiseLog } from '../util/connection-noise';
import { commandHandlers } from './commands';
import { ImapConnection } from './connection';
import { IdleWatchers } from './idle-watchers';
import { InactivitySweep } from './inactivity';
import type { ImapServices } from './session';

export interface ImapTls {
  key: string;
  cert: string;
}

/**
 * Admission of new connections (limits.maxConnections, limits.maxConnectionsPerIp): counted in
 * this process, or by the main process for all IMAP workers (src/imap/workers.ts).
 */
export interface ConnectionGate {
  admit(address: string): boolean | Promise<boolean>;
  leave(address: string): void;
}

export interface ImapServers {
  imap: net.Server;
  imaps: tls.Server;
  /** Connections open now (for shutdown and tests). */
  readonly connections: ReadonlySet<ImapConnection>;
  /** Stops accepting, says BYE to every session and closes them. */
  close(): Promise<void>;
}

export function createImapServers(
  shared: Omit<ImapServices, 'accountSessions' | 'idleWatchers'> & Partial<Pick<ImapServices, 'accountSessions' | 'idleWatchers'>>,
  material: ImapTls,
  sharedGate?: ConnectionGate,
): ImapServers {
  const services: ImapServices = {
    ...shared,
    accountSessions: shared.accountSessions ?? new ConnectionLimiter(shared.config.limits.maxConnectionsPerAccount),
    idleWatchers: shared.idleWatchers ?? new IdleWatchers(),
  };
  const tlsOptions = { ...hardenedTlsOptions(), key: material.key, cert: material.cert };
  const secureContext = tls.createSecureContext(tlsOptions);
  const handlers = commandHandlers();
  const perAddress = new ConnectionLimiter(services.config.limits.maxConnectionsPerIp);
  const connections = new Set<ImapConnection>();
  const inactivity = new InactivitySweep();
  const noise = { imap: new NoiseLog(services.log, { imap: 'imap' }), imaps: new NoiseLog(services.log, { imap: 'imaps' }) };

  const gate: ConnectionGate = sharedGate ?? {
    admit: (address) => connections.size < services.config.limits.maxConnections && perAddress.tryAcquire(address),
    leave: (address) => perAddress.release(address),
  };

  const accept = (socket: net.Socket, secure: boolean) => {
    const address = socket.remoteAddress ?? 'unknown';
    const admitted = gate.admit(address);
    if (admitted === true || admitted === false) return open(socket, secure, address, admitted);
    socket.pause(); // nothing is read before the greeting
    admitted.then(
      (ok) => {
        if (socket.destroyed) {
          if (ok) gate.leave(address); // the client left while the main process answered
          return;
        }
        socket.resume();
        open(socket, secure, address, ok);
      },
      () => socket.destroy(),
    );
  };

  const open = (socket: net.Socket, secure: boolean, address: string, admitted: boolean) => {
    if (!admitted) {
      socket.end('* BYE Too many connections from your address; try again later\r\n');
      noise[secure ? 'imaps' : 'imap'].report('connection-limit', { peer: address });
      services.metrics?.connectionRefused(secure ? 'imaps' : 'imap');
      return;
    }
    const connection = new ImapConnection(socket, secure, {
      services,
      handlers,
      secureContext,
      inactivity,
      onClose: (session) => {
        connections.delete(connection);
        services.metrics?.imapConnection(-1);
        gate.leave(address);
        if (session.user) services.accountSessions.release(String(session.user.accountId));
        session.unregister?.();
      },
    });
    connections.add(connection);
    services.metrics?.imapConnection(1);
    connection.greet();
  };

  const imap = net.createServer((socket) => accept(socket, false));
  // The implicit TLS handshake gets one command's time (limits.commandSeconds); the pre-login
  // deadline starts once it is done (src/imap/connection.ts).
  const handshakeTimeout = services.config.limits.commandSeconds * 1000;
  const imaps = tls.createServer({ ...tlsOptions, handshakeTimeout }, (socket) => accept(socket, true));
  // A failed handshake is the client's problem: one quiet, rate-limited line. Node reports a
  // handshake timeout here but leaves the socket open: close it, or a client that never speaks
  // holds a slot for good.
  imaps.on('tlsClientError', (err: NodeJS.ErrnoException, socket: tls.TLSSocket) => {
    if (err.code === 'ERR_TLS_HANDSHAKE_TIMEOUT') {
      services.log.info({ imap: 'handshake', peer: socket.remoteAddress, deadline: 'limits.commandSeconds', seconds: services.config.limits.commandSeconds }, 'connection cut: deadline passed');
    } else {
      noise.imaps.reportError(err, { peer: socket.remoteAddress }) || noise.imaps.report('tls-failed', { peer: socket.remoteAddress, reason: err.message.split('\n')[0] });
    }
    socket.destroy();
  });

  // New mail, flag changes and expunges reach sessions in IDLE at once (only those idling on
  // that mailbox); others at their next command. mailboxId null means "something changed, look
  // again" (another process committed).
  services.changes.on('mailbox-changed', (mailboxId: number | null) => services.idleWatchers.wake(mailboxId));

  return {
    imap,
    imaps,
    connections,
    async close() {
      const closed = Promise.all([
        new Promise((resolve) => imap.close(resolve)),
        new Promise((resolve) => imaps.close(resolve)),
      ]);
      for (const connection of connections) {
        connection.write('* BYE Server shutting down; please reconnect shortly\r\n');
        connection.close();
      }
      await closed;
    },
  };
}
