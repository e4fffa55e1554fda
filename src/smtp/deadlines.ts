// Deadlines for SMTP connections (issue 15 finding 4). smtp-server only has an idle timer
// (socketTimeout), which every received octet restarts: a client sending one octet a second held
// a connection forever, and 500 such clients filled a listener. On top of it, per connection:
// - limits.preLoginSeconds: from the TCP accept to a successful AUTH (submission) or to the
//   first accepted MAIL FROM (MTA: a peer operator identifies itself by TLS and MAIL FROM);
// - limits.commandSeconds: from the first octet of a command line to its line end;
// - DATA: limits.commandSeconds plus one second per limits.minDataRate octets received, so a
//   message arriving at least at that rate is never cut (the rule of Postfix's
//   smtpd_min_data_rate).
// A cut answers "421 4.4.2" (RFC 5321 section 4.2.3, RFC 3463 X.4.2 "bad connection"), closes the
// connection, and is logged at info with the peer.
//
// smtp-server reads its socket through a pipe; the octets are watched here with a second 'data'
// listener on the socket it reads: the TCP socket until STARTTLS (smtp-server removes every
// listener of it when the upgrade starts), then the TLS socket handed to onSecure. Nothing is
// read on an implicit-TLS socket before its handshake (those octets are TLS records).
import type { Socket } from 'node:net';
import type { SMTPServer, SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import type { Config } from '../config/schema';
import type { Logger } from '../util/log';

const LF = 0x0a;

type Reason = 'login' | 'command' | 'data';

interface WatchContext {
  limits: Config['limits'];
  onDeadline(watch: ConnectionWatch, reason: Reason): void;
}

/** The clocks of one connection. */
export class ConnectionWatch {
  readonly connectedAt = Date.now();
  /** The socket smtp-server reads now, once we watch one. */
  socket: Socket | null = null;
  /** The smtp-server session, known once TLS is up (AUTH and MAIL need TLS here). */
  session: SMTPServerSession | null = null;
  loggedIn = false;
  private lineStartedAt = 0;
  private dataStartedAt = 0;
  dataOctets = 0;
  private timer: NodeJS.Timeout | null = null;
  private due = 0;
  private stopped = false;
  private readonly onChunk = (chunk: Buffer) => this.received(chunk);

  constructor(
    readonly raw: Socket,
    private readonly context: WatchContext,
  ) {
    // smtp-server sets session.user on a successful AUTH: no need to hook onAuth for it.
    this.arm();
  }

  /** Watches the octets smtp-server reads from `socket` from now on. */
  observe(socket: Socket): void {
    if (this.socket && this.socket !== socket) this.socket.off('data', this.onChunk);
    this.socket = socket;
    this.lineStartedAt = 0;
    socket.on('data', this.onChunk);
  }

  /** Whether the watched socket is still the one smtp-server reads (not mid-STARTTLS). */
  get readable(): boolean {
    return this.socket !== null && this.socket.listeners('data').includes(this.onChunk);
  }

  identified(): void {
    this.loggedIn = true;
    this.arm();
  }

  dataStarted(): void {
    this.dataStartedAt = Date.now();
    this.dataOctets = 0;
    this.lineStartedAt = 0;
    this.arm();
  }

  dataEnded(): void {
    this.dataStartedAt = 0;
    this.arm();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.socket?.off('data', this.onChunk);
  }

  private received(chunk: Buffer): void {
    if (this.dataStartedAt) {
      this.dataOctets += chunk.length;
      return; // the DATA deadline only moves later: the timer re-checks when it fires
    }
    // A command line runs from its first octet to its LF (RFC 5321 section 2.3.8).
    const lastLf = chunk.lastIndexOf(LF);
    if (lastLf < 0) {
      if (!this.lineStartedAt) this.lineStartedAt = Date.now();
    } else {
      this.lineStartedAt = lastLf === chunk.length - 1 ? 0 : Date.now();
    }
    this.arm();
  }

  private next(): { at: number; reason: Reason } | null {
    const limits = this.context.limits;
    let next: { at: number; reason: Reason } | null = null;
    const consider = (at: number, reason: Reason) => {
      if (!next || at < next.at) next = { at, reason };
    };
    if (!this.loggedIn && this.session?.user) this.loggedIn = true;
    if (!this.loggedIn) consider(this.connectedAt + limits.preLoginSeconds * 1000, 'login');
    if (this.dataStartedAt) consider(this.dataStartedAt + limits.commandSeconds * 1000 + (this.dataOctets * 1000) / limits.minDataRate, 'data');
    else if (this.lineStartedAt) consider(this.lineStartedAt + limits.commandSeconds * 1000, 'command');
    return next;
  }

  private arm(): void {
    if (this.stopped) return;
    const next = this.next();
    if (!next) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      return;
    }
    if (this.timer && this.due <= next.at) return; // fires first and re-checks
    if (this.timer) clearTimeout(this.timer);
    this.due = next.at;
    this.timer = setTimeout(() => this.fire(), Math.max(0, next.at - Date.now()));
  }

  private fire(): void {
    this.timer = null;
    if (this.stopped) return;
    const next = this.next();
    if (!next) return;
    if (next.at > Date.now()) return this.arm();
    this.context.onDeadline(this, next.reason); // before stop(): it looks at our listener
    this.stop();
  }
}

export interface SmtpDeadlines {
  /** From onSecure: the TLS socket smtp-server reads from now on. */
  secured(socket: Socket, session: SMTPServerSession): void;
  /** An accepted MAIL FROM on the MTA (a successful AUTH is seen in session.user). */
  identified(session: SMTPServerSession): void;
  /** From onData: the DATA deadline runs until the stream ends. */
  data(session: SMTPServerSession, stream: SMTPServerDataStream): void;
  closed(session: SMTPServerSession): void;
}

export function installDeadlines(server: SMTPServer, options: { listener: string; implicitTls: boolean; config: Config; log: Logger }): SmtpDeadlines {
  const { config, log, listener } = options;
  const byRaw = new WeakMap<Socket, ConnectionWatch>();
  const bySession = new Map<string, ConnectionWatch>();

  const onDeadline = (watch: ConnectionWatch, reason: Reason) => {
    const limits = config.limits;
    log.info(
      {
        smtp: listener,
        peer: watch.raw.remoteAddress,
        deadline: reason === 'login' ? 'limits.preLoginSeconds' : reason === 'data' ? 'limits.minDataRate' : 'limits.commandSeconds',
        seconds: reason === 'login' ? limits.preLoginSeconds : limits.commandSeconds,
        received: reason === 'data' ? watch.dataOctets : undefined,
      },
      'connection cut: deadline passed',
    );
    const socket = watch.socket;
    if (!socket || !watch.readable) {
      // Before or during a TLS handshake nothing can be said: drop the connection. smtp-server
      // keeps the TLS socket of a pending implicit handshake; tearing the TCP socket down under
      // it is what its own close() avoids, so the topmost socket goes.
      const pending = (server as unknown as { _pendingSockets?: Map<Socket, Socket> })._pendingSockets?.get(watch.raw);
      (pending ?? watch.raw).destroy();
      return;
    }
    const text =
      reason === 'login'
        ? `Login not completed within ${limits.preLoginSeconds} seconds`
        : reason === 'data'
          ? `Message data slower than ${limits.minDataRate} octets per second`
          : `Command line not completed within ${limits.commandSeconds} seconds`;
    socket.end(`421 4.4.2 ${config.hostname} ${text}, closing connection\r\n`);
    setTimeout(() => socket.destroy(), 2000).unref();
  };

  server.server.on('connection', (raw: Socket) => {
    const watch = new ConnectionWatch(raw, { limits: config.limits, onDeadline });
    byRaw.set(raw, watch);
    // smtp-server pipes the socket into its parser from a setImmediate queued by its own
    // 'connection' listener, which ran before this one: watching from a later setImmediate never
    // makes the socket flow before its parser is attached (no octet can be missed by it).
    if (!options.implicitTls) setImmediate(() => !raw.destroyed && watch.observe(raw));
    raw.once('close', () => watch.stop());
  });

  const watchOf = (session: SMTPServerSession) => bySession.get(session.id);
  return {
    secured(socket, session) {
      const raw = (socket as Socket & { _parent?: Socket })._parent ?? socket;
      const watch = byRaw.get(raw);
      if (!watch) return;
      watch.observe(socket);
      watch.session = session;
      bySession.set(session.id, watch);
    },
    identified(session) {
      watchOf(session)?.identified();
    },
    data(session, stream) {
      const watch = watchOf(session);
      if (!watch) return;
      watch.dataStarted();
      stream.once('end', () => watch.dataEnded());
    },
    closed(session) {
      watchOf(session)?.stop();
      bySession.delete(session.id);
    },
  };
}
