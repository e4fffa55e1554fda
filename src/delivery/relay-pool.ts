// The relay's connections to other operators' MTAs, with nodemailer's SMTP client: at most
// MAX_CONNECTIONS_PER_PEER open per peer host, kept IDLE_CLOSE_MS after a message and reused (RSET)
// for the next one to the same peer, closed after MAX_MESSAGES_PER_CONNECTION messages. TLS 1.2+
// with this operator's client certificate (R1); with relay.requireTls a peer that offers no
// STARTTLS, or whose certificate does not chain to relay.caFile, fails the connection.
//
// nodemailer gives every recipient of a transaction the same NOTIFY and ORCPT, while RFC 3461
// section 4 has them per recipient: PeerConnection replaces nodemailer's private
// `_getDsnRcptToArgs` and reads its private `_supportedExtensions`. nodemailer is pinned to an
// exact version in package.json for that reason, and test/delivery/relay-pool.test.ts fails when
// those private members change.
import { isIP } from 'node:net';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { encodeXText } from 'nodemailer/lib/shared';
import type { Config } from '../config/schema';
import type { RelayTlsOptions } from '../tls/server-options';
import type { PeerTarget } from './mx';

/** Connections open at the same time to one peer host. */
const MAX_CONNECTIONS_PER_PEER = 8;
/** Messages sent over one connection before it is closed and a new one opened. */
const MAX_MESSAGES_PER_CONNECTION = 100;
/** How long an unused connection stays open for the next message. */
const IDLE_CLOSE_MS = 2_000;


export interface SmtpError extends Error {
  code?: string;
  response?: string;
  responseCode?: number;
  command?: string;
  recipient?: string;
  rejectedErrors?: SmtpError[];
}

/** The private members of nodemailer's SMTPConnection the pool relies on (see the top of this file). */
export interface ConnectionInternals {
  _recipientQueue: string[];
  _supportedExtensions: string[];
  _getDsnRcptToArgs: () => string;
  _socket: unknown;
}

export interface RecipientDsn {
  notify: string | null;
  orcpt: string | null;
}

export class PeerConnection {
  messages = 0;
  broken = false;
  idleTimer: NodeJS.Timeout | null = null;
  /** NOTIFY/ORCPT of the recipients of the transaction under way. */
  dsn = new Map<string, RecipientDsn>();

  constructor(
    readonly key: string,
    readonly target: PeerTarget,
    readonly smtp: SMTPConnection,
  ) {
    // nodemailer gives every recipient of a transaction the same NOTIFY and ORCPT; RFC 3461 has
    // them per recipient, so the RCPT TO parameters are taken from this connection's table.
    const internals = smtp as unknown as ConnectionInternals;
    internals._getDsnRcptToArgs = () => {
      const recipient = internals._recipientQueue[internals._recipientQueue.length - 1];
      const params = recipient === undefined ? undefined : this.dsn.get(recipient);
      if (!params || !internals._supportedExtensions.includes('DSN')) return '';
      const args: string[] = [];
      if (params.notify) args.push(`NOTIFY=${params.notify}`);
      if (params.orcpt) args.push(`ORCPT=${encodeXText(params.orcpt)}`);
      return args.length > 0 ? ` ${args.join(' ')}` : '';
    };
  }

  get offersDsn(): boolean {
    return (this.smtp as unknown as ConnectionInternals)._supportedExtensions.includes('DSN');
  }

  get tlsProtocol(): string | null {
    const socket = (this.smtp as unknown as ConnectionInternals)._socket as { getProtocol?: () => string | null } | null;
    return typeof socket?.getProtocol === 'function' ? socket.getProtocol() : null;
  }
}

export class RelayPool {
  private readonly idle = new Map<string, PeerConnection[]>();
  private readonly open = new Map<string, number>();
  private readonly waiters = new Map<string, Array<() => void>>();
  private readonly all = new Set<PeerConnection>();
  private closed = false;

  constructor(
    private readonly config: Config,
    private readonly tls: RelayTlsOptions,
  ) {}

  async acquire(target: PeerTarget): Promise<PeerConnection> {
    const key = `${target.host}:${target.port}`;
    for (;;) {
      if (this.closed) throw Object.assign(new Error('relay stopping'), { code: 'ESTOPPING' });
      const idle = this.idle.get(key);
      while (idle && idle.length > 0) {
        const connection = idle.pop()!;
        if (connection.idleTimer) clearTimeout(connection.idleTimer);
        connection.idleTimer = null;
        if (!connection.broken && !connection.smtp.destroyed) return connection;
        this.forget(connection);
      }
      if ((this.open.get(key) ?? 0) < MAX_CONNECTIONS_PER_PEER) break;
      await new Promise<void>((resolve) => {
        const list = this.waiters.get(key) ?? [];
        list.push(resolve);
        this.waiters.set(key, list);
      });
    }
    this.open.set(key, (this.open.get(key) ?? 0) + 1);
    try {
      return await this.connect(key, target);
    } catch (err) {
      this.open.set(key, (this.open.get(key) ?? 1) - 1);
      this.wake(key);
      throw err;
    }
  }

  private connect(key: string, target: PeerTarget): Promise<PeerConnection> {
    const requireTls = this.config.relay.requireTls;
    const smtp = new SMTPConnection({
      host: target.host,
      port: target.port,
      name: this.config.hostname,
      secure: false,
      requireTLS: requireTls,
      opportunisticTLS: !requireTls,
      connectionTimeout: 30_000,
      greetingTimeout: 60_000,
      socketTimeout: 10 * 60_000, // RFC 5321 section 4.5.3.2.6: 10 minutes for the end of DATA
      logger: false,
      tls: {
        minVersion: this.tls.minVersion,
        ciphers: this.tls.ciphers,
        ca: this.tls.ca,
        cert: this.tls.cert,
        key: this.tls.key,
        // Without relay.requireTls, TLS is opportunistic: better encrypted unverified than clear.
        rejectUnauthorized: requireTls,
        servername: isIP(target.host) ? undefined : target.host,
      },
    });
    const connection = new PeerConnection(key, target, smtp);
    return new Promise((resolve, reject) => {
      let settled = false;
      // nodemailer reports some failures while connecting (a refused STARTTLS, say) as an
      // 'error' event without ever calling the connect callback: either one settles.
      const fail = (err: unknown) => {
        connection.broken = true;
        if (settled) return;
        settled = true;
        smtp.close();
        reject(err);
      };
      smtp.on('error', fail);
      smtp.once('end', () => {
        connection.broken = true;
        this.dropIdle(connection);
        if (!settled) fail(Object.assign(new Error(`${key} closed the connection`), { code: 'ECONNECTION' }));
      });
      smtp.connect((err) => {
        if (err) return fail(err);
        if (settled) return;
        settled = true;
        this.all.add(connection);
        resolve(connection);
      });
    });
  }

  /** After a send: keep the connection for the next message when it is healthy, else close it. */
  release(connection: PeerConnection, healthy: boolean): void {
    connection.dsn = new Map();
    if (!healthy || this.closed || connection.broken || connection.messages >= MAX_MESSAGES_PER_CONNECTION) {
      this.close(connection);
      return;
    }
    connection.smtp.reset((err) => {
      if (err || this.closed || connection.broken) {
        this.close(connection);
        return;
      }
      const list = this.idle.get(connection.key) ?? [];
      list.push(connection);
      this.idle.set(connection.key, list);
      connection.idleTimer = setTimeout(() => {
        this.dropIdle(connection);
        this.close(connection);
      }, IDLE_CLOSE_MS);
      connection.idleTimer.unref();
      this.wake(connection.key);
    });
  }

  private dropIdle(connection: PeerConnection): void {
    const list = this.idle.get(connection.key);
    const index = list ? list.indexOf(connection) : -1;
    if (list && index >= 0) list.splice(index, 1);
  }

  private close(connection: PeerConnection): void {
    if (connection.idleTimer) clearTimeout(connection.idleTimer);
    connection.idleTimer = null;
    if (!this.all.has(connection)) return;
    connection.broken = true;
    try {
      if (!connection.smtp.destroyed) connection.smtp.quit();
    } catch {
      // already gone
    }
    const closer = setTimeout(() => connection.smtp.close(), 1_000);
    closer.unref();
    this.forget(connection);
  }

  private forget(connection: PeerConnection): void {
    if (!this.all.delete(connection)) return;
    this.open.set(connection.key, Math.max(0, (this.open.get(connection.key) ?? 1) - 1));
    this.wake(connection.key);
  }

  private wake(key: string): void {
    const waiter = this.waiters.get(key)?.shift();
    if (waiter) waiter();
  }

  /** Closes every connection, idle or busy: a busy send fails with a connection error. */
  closeAll(): void {
    this.closed = true;
    for (const connection of [...this.all]) {
      if (connection.idleTimer) clearTimeout(connection.idleTimer);
      connection.broken = true;
      connection.smtp.close();
      this.forget(connection);
    }
    this.idle.clear();
    for (const list of this.waiters.values()) for (const waiter of list.splice(0)) waiter();
  }
}

/** One SMTP transaction on a pooled connection; a connection that dies mid-way fails the send. */
export function sendOn(connection: PeerConnection, envelope: SMTPConnection.Envelope, message: Buffer): Promise<SMTPConnection.SentMessageInfo> {
  return new Promise((resolve, reject) => {
    const smtp = connection.smtp;
    let settled = false;
    const settle = (err: unknown, info?: SMTPConnection.SentMessageInfo) => {
      if (settled) return;
      settled = true;
      smtp.off('error', onError);
      smtp.off('end', onEnd);
      if (err) reject(err);
      else resolve(info!);
    };
    // Whatever nodemailer does with its callback when the connection dies mid-transaction, the
    // attempt ends: the recipients stay pending and are tried again later.
    const onError = (err: unknown) => settle(err);
    const onEnd = () => settle(Object.assign(new Error('the peer closed the connection'), { code: 'ECONNECTION' }));
    smtp.on('error', onError);
    smtp.once('end', onEnd);
    smtp.send(envelope, message, (err, info) => settle(err, info as SMTPConnection.SentMessageInfo));
  });
}
