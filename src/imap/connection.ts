// One client connection: bytes in through the command reader, commands run one at a time in
// order (pipelined commands wait in the reader), responses out, STARTTLS (RFC 3501 section
// 6.2.1, RFC 2595), the inactivity timers of RFC 3501 section 5.4 (one shared sweep for all
// connections, src/imap/inactivity.ts), and deadlines (issue 15): the idle timer restarts at
// every octet, so a client sending one octet a second was never cut.
// - limits.preLoginSeconds: from the greeting to a successful login;
// - limits.commandSeconds: from the first octet of a command (or of a line a command waits for,
//   AUTHENTICATE, IDLE's DONE) to its end, plus one second per limits.minDataRate octets
//   received meanwhile (an APPEND literal at least at that rate is never cut).
// Both run only while the client owes us input: a command we are still executing never counts.
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import tls from 'node:tls';
import { DeflateChannel } from './compression';
import { runCommand } from './dispatch';
import type { CommandHandler } from './commands/registry';
import type { Inactive, InactivitySweep } from './inactivity';
import { CommandReader, type Command, type RawLine, type ReaderError } from './protocol/reader';
import { ImapSession, type ImapServices, type SessionIo } from './session';

/** RFC 3501 section 5.4: an authenticated client may stay idle at least 30 minutes. */
export const AUTHENTICATED_IDLE_MS = 30 * 60_000 + 30_000;
/** Before login there is no reason to wait long. */
export const UNAUTHENTICATED_IDLE_MS = 60_000;
const uncork = (socket: Socket) => socket.uncork();

/** Stop reading when this much input waits unprocessed (pipelined floods). */
const MAX_BUFFERED = 1024 * 1024;
/** Answers of pipelined commands held for one write (write()) are sent once they reach this size. */
const MAX_HELD_OUTPUT = 64 * 1024;
/** Answers held for a flush past which a command waits (waitForDrain) instead of producing more. */
const MAX_HELD_FOR_FLUSH = 1024 * 1024;

export interface ConnectionOptions {
  services: ImapServices;
  handlers: ReadonlyMap<string, CommandHandler>;
  secureContext: tls.SecureContext;
  /** The listener's one sweep for the inactivity timers (src/imap/inactivity.ts). */
  inactivity: InactivitySweep;
  /** Called once the connection is gone (for connection counting). */
  onClose: (session: ImapSession) => void;
}

/** The connection a socket feeds: socket events go to shared functions, not per-socket closures. */
const CONNECTION = Symbol('imap connection');
type OwnedSocket = Socket & { [CONNECTION]?: ImapConnection };

export class ImapConnection implements SessionIo, Inactive {
  private socket: Socket;
  private reader: CommandReader;
  private busy = false;
  /** The socket stays corked for the answers of commands the client pipelined (write()). */
  private holdingOutput = false;
  /** Commits whose flush has not returned yet: what is written meanwhile waits (holdOutputUntil). */
  private flushesAwaited = 0;
  private heldForFlush: Array<string | Buffer> = [];
  private heldForFlushBytes = 0;
  /** Commands waiting for the held answers to leave (waitForDrain past MAX_HELD_FOR_FLUSH). */
  private flushWaiters: Array<() => void> = [];
  /** close() came while answers were held: it runs once they are sent. */
  private closeAfterFlush = false;
  /** COMPRESS succeeded while answers were held: deflate starts once they are sent. */
  private compressAfterFlush = false;
  private closed = false;
  /** close() was called: finish writing, read nothing more. */
  private closing = false;
  private lineWaiter: ((line: RawLine | ReaderError | null) => void) | null = null;
  private upgrading = false;
  private readonly peer: string;
  private readonly connectedAt = Date.now();
  /** When the command being received started (0: none), and octets received since. */
  private commandStartedAt = 0;
  private commandOctets = 0;
  /** One timer for both deadlines, due at `deadlineDue`; it re-checks when it fires. */
  private deadlineTimer: NodeJS.Timeout | null = null;
  private deadlineDue = 0;
  /** Date.now() of the last octet read or written: the inactivity timers (RFC 3501 section 5.4). */
  lastActivity = Date.now();
  /** COMPRESS=DEFLATE (RFC 4978) once started: every octet in and out goes through it. */
  private compression: DeflateChannel | null = null;
  readonly session: ImapSession;
  secure: boolean;

  constructor(
    socket: Socket,
    secure: boolean,
    private readonly options: ConnectionOptions,
  ) {
    this.socket = socket;
    this.secure = secure;
    this.reader = this.newReader();
    const peer = socket.remoteAddress ?? 'unknown';
    this.peer = peer;
    this.session = new ImapSession(options.services, this, peer, randomBytes(4).toString('hex'));
    socket.setNoDelay(true);
    this.attach(socket);
    options.inactivity.add(this);
    this.armDeadline();
  }

  private newReader(): CommandReader {
    // UTF-8 in quoted strings: RFC 9051 section 4.3 allows it and clients send it (Python's
    // imaplib: SEARCH CHARSET UTF-8 TEXT "glycémie"); invalid UTF-8 is still a BAD.
    return new CommandReader({ maxLiteralSize: this.options.services.config.limits.maxMessageBytes, utf8QuotedStrings: true });
  }

  private attach(socket: OwnedSocket): void {
    socket[CONNECTION] = this;
    socket.on('data', ImapConnection.onSocketData);
    socket.on('error', ImapConnection.onSocketGone);
    socket.on('close', ImapConnection.onSocketGone);
  }

  private static onSocketData(this: OwnedSocket, chunk: Buffer): void {
    this[CONNECTION]?.onData(chunk);
  }

  private static onSocketGone(this: OwnedSocket): void {
    this[CONNECTION]?.destroy();
  }

  /** RFC 3501 section 5.4: 30 minutes once logged in (RFC 2177's IDLE included), 1 before. */
  inactivityLimitMs(): number {
    return this.session.state === 'not-authenticated' ? UNAUTHENTICATED_IDLE_MS : AUTHENTICATED_IDLE_MS;
  }

  closeInactive(): void {
    this.write('* BYE Autologout: idle for too long\r\n');
    this.close();
  }

  greet(): void {
    const host = this.options.services.config.hostname;
    this.write(`* OK [CAPABILITY ${this.session.capabilities().join(' ')}] ${host} mssd IMAP4rev1 ready\r\n`);
  }

  private onData(chunk: Buffer): void {
    if (this.closed || this.closing || this.upgrading) return;
    this.lastActivity = Date.now();
    if (this.commandStartedAt) this.commandOctets += chunk.length;
    if (this.compression) this.compression.receive(chunk);
    else this.onPlainData(chunk);
  }

  /** Client octets in clear (inflated when COMPRESS is on): the same reader and limits either way. */
  private onPlainData(chunk: Buffer): void {
    if (this.closed || this.closing) return;
    this.reader.push(chunk);
    if (this.reader.buffered > MAX_BUFFERED) {
      this.socket.pause();
      this.compression?.pause();
    }
    this.pump();
  }

  private pump(): void {
    this.pumpEvents();
    if (!this.busy || this.lineWaiter) this.releaseOutput(); // input ran dry, or a command waits for the client
    this.watchDeadlines();
  }

  /** Processes reader events until a command is running or input runs out. */
  private pumpEvents(): void {
    if (this.closed || this.closing) return;
    if (this.lineWaiter) {
      const line = this.reader.nextLine();
      if (line) {
        const waiter = this.lineWaiter;
        this.lineWaiter = null;
        waiter(line);
      }
      return;
    }
    if (this.busy) return;
    for (;;) {
      const event = this.reader.next();
      if (!event) break;
      if (event.type === 'continue') {
        this.write('+ Ready for literal data\r\n'); // RFC 3501 section 7.5
        continue;
      }
      if (event.type === 'error') {
        const code = event.code ? `[${event.code}] ` : '';
        this.write(`${event.tag ?? '*'} ${event.kind} ${code}${event.text}\r\n`);
        if (event.fatal) {
          this.write('* BYE Cannot follow the input any more\r\n');
          this.close();
          return;
        }
        continue;
      }
      this.busy = true;
      void this.execute(event);
      // A command still running once the ones already due ran (it awaits a commit, a body...)
      // must not keep earlier answers held: checked after this turn's microtasks.
      if (this.holdingOutput || this.reader.buffered > 0) setImmediate(ImapConnection.releaseIfWaiting, this);
      return;
    }
    if (this.reader.closed) this.close();
  }

  /** Runs one command, then reads on (one method, not a chain of closures held during IDLE). */
  private async execute(command: Command): Promise<void> {
    try {
      const completion = await runCommand(this.session, command, this.options.handlers);
      if (completion.after) await completion.after();
    } catch (err) {
      this.session.log.error({ imap: this.session.id, err }, 'imap connection error');
      this.close();
    }
    this.busy = false;
    if (this.reader.buffered <= MAX_BUFFERED && !this.closed && !this.upgrading) {
      this.socket.resume();
      this.compression?.resume();
    }
    setImmediate(ImapConnection.pumpLater, this);
  }

  private static pumpLater(connection: ImapConnection): void {
    connection.pump();
  }

  /** Whether we wait for the client: no command running, or one waiting for a line. */
  private waitingForClient(): boolean {
    return !this.busy || this.lineWaiter !== null;
  }

  /** Starts or stops the command clock after the reader has been drained, and arms the timer. */
  private watchDeadlines(): void {
    if (this.closed || this.closing) return;
    if (this.waitingForClient() && this.reader.midCommand) {
      if (!this.commandStartedAt) {
        this.commandStartedAt = Date.now();
        this.commandOctets = 0;
      }
    } else {
      this.commandStartedAt = 0;
    }
    this.armDeadline();
  }

  private nextDeadline(): { at: number; reason: 'login' | 'command' } | null {
    const limits = this.options.services.config.limits;
    let next: { at: number; reason: 'login' | 'command' } | null = null;
    if (this.session.state === 'not-authenticated') next = { at: this.connectedAt + limits.preLoginSeconds * 1000, reason: 'login' };
    if (this.commandStartedAt) {
      const at = this.commandStartedAt + limits.commandSeconds * 1000 + (this.commandOctets * 1000) / limits.minDataRate;
      if (!next || at < next.at) next = { at, reason: 'command' };
    }
    return next;
  }

  private armDeadline(): void {
    const next = this.nextDeadline();
    if (!next) {
      if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
      this.deadlineTimer = null;
      return;
    }
    if (this.deadlineTimer && this.deadlineDue <= next.at) return; // fires first and re-checks
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.deadlineDue = next.at;
    this.deadlineTimer = setTimeout(() => this.onDeadline(), Math.max(0, next.at - Date.now()));
  }

  private onDeadline(): void {
    this.deadlineTimer = null;
    if (this.closed || this.closing) return;
    // A command still running is ours to finish; the next pump re-arms the timer.
    if (!this.waitingForClient() && !this.upgrading) return;
    const next = this.nextDeadline();
    if (!next) return;
    if (next.at > Date.now()) return this.armDeadline();
    const limits = this.options.services.config.limits;
    this.session.log.info(
      {
        imap: this.session.id,
        peer: this.peer,
        deadline: next.reason === 'login' ? 'limits.preLoginSeconds' : 'limits.commandSeconds',
        seconds: next.reason === 'login' ? limits.preLoginSeconds : limits.commandSeconds,
        received: next.reason === 'command' ? this.commandOctets : undefined,
      },
      'connection cut: deadline passed',
    );
    if (this.upgrading) return this.destroy(); // mid-handshake: nothing can be said in clear
    this.write(
      next.reason === 'login'
        ? `* BYE Login not completed within ${limits.preLoginSeconds} seconds\r\n`
        : `* BYE Command not received within ${limits.commandSeconds} seconds\r\n`,
    );
    this.close();
  }

  /**
   * R14 for pipelined commands (src/imap/store-writes.ts): what is written from now on leaves
   * only once `durable` resolved, and once every earlier such flush did (they return in order).
   * A failed flush sends nothing of what was held: the client is told, and the connection ends.
   */
  holdOutputUntil(durable: Promise<void>): void {
    this.flushesAwaited++;
    durable.then(
      () => {
        if (--this.flushesAwaited === 0) this.sendHeldForFlush();
      },
      (err: unknown) => this.failHeldForFlush(err),
    );
  }

  private sendHeldForFlush(): void {
    const held = this.heldForFlush;
    this.heldForFlush = [];
    this.heldForFlushBytes = 0;
    for (const data of held) this.writeNow(data);
    for (const waiter of this.flushWaiters.splice(0)) waiter();
    if (this.compressAfterFlush) {
      this.compressAfterFlush = false;
      this.startCompression();
    }
    if (this.closeAfterFlush) {
      this.closeAfterFlush = false;
      this.close();
    }
  }

  private failHeldForFlush(err: unknown): void {
    if (this.closed) return;
    this.session.log.error({ imap: this.session.id, peer: this.peer, err }, 'a commit could not be flushed to disk; its answers were not sent');
    this.flushesAwaited = 0;
    this.heldForFlush = [];
    this.heldForFlushBytes = 0;
    this.closeAfterFlush = false;
    this.writeNow('* BYE Server storage failure; your last changes may not be saved\r\n');
    for (const waiter of this.flushWaiters.splice(0)) waiter();
    this.close();
  }

  write(data: string | Buffer): void {
    if (this.closed || this.closing || this.socket.destroyed) return;
    if (this.flushesAwaited > 0) {
      this.heldForFlush.push(data);
      this.heldForFlushBytes += data.length;
      return;
    }
    this.writeNow(data);
  }

  private writeNow(data: string | Buffer): void {
    if (this.closed || this.closing || this.socket.destroyed) return;
    this.lastActivity = Date.now();
    if (this.compression) return this.compression.write(data);
    // Under TLS, the writes of one synchronous run (a FETCH's lines, the pending updates, the
    // tagged completion) leave as one TLS record and one system call instead of one each.
    // Not before STARTTLS: its OK must be on the wire before the handshake takes the socket.
    if (this.secure && this.socket.writableCorked === 0) {
      this.socket.cork();
      // Commands the client pipelined (RFC 3501 section 5.5) already wait in the reader: their
      // answers join this one's in one record and one system call. The pump lets them go once
      // the input runs dry, or as soon as a command waits (for the client, the socket, a commit).
      if (this.busy && this.reader.buffered > 0) this.holdingOutput = true;
      else process.nextTick(uncork, this.socket);
    }
    this.socket.write(data);
    if (this.holdingOutput && this.socket.writableLength >= MAX_HELD_OUTPUT) this.releaseOutput();
  }

  /** Sends what the pipelined commands' answers held back (write()). */
  private releaseOutput(): void {
    if (!this.holdingOutput) return;
    this.holdingOutput = false;
    this.socket.uncork();
  }

  private static releaseIfWaiting(connection: ImapConnection): void {
    if (connection.busy) connection.releaseOutput();
  }

  waitForDrain(): Promise<boolean> {
    if (this.flushesAwaited > 0 && this.heldForFlushBytes >= MAX_HELD_FOR_FLUSH && !this.closed) {
      return new Promise<void>((resolve) => this.flushWaiters.push(resolve)).then(() => this.waitForDrain());
    }
    this.releaseOutput();
    const socket = this.socket;
    if (this.closed || socket.destroyed) return Promise.resolve(false);
    const compression = this.compression;
    if (compression) return compression.drained().then(() => !this.closed && !socket.destroyed);
    if (!socket.writableNeedDrain) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = () => {
        socket.off('drain', done);
        socket.off('close', done);
        resolve(!this.closed && !socket.destroyed);
      };
      socket.on('drain', done);
      socket.on('close', done);
    });
  }

  readLine(): Promise<RawLine | ReaderError | null> {
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => {
      this.lineWaiter = resolve;
      this.pump();
    });
  }

  /**
   * STARTTLS, after the tagged OK went out. Anything the client sent after the command in
   * cleartext is thrown away (a new reader), so nothing injected before the handshake runs inside
   * the TLS session.
   */
  startTls(): Promise<void> {
    this.upgrading = true;
    const plain = this.socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    plain.removeAllListeners('error');
    plain.on('error', () => this.destroy());
    return new Promise((resolve) => {
      const secure = new tls.TLSSocket(plain, { isServer: true, secureContext: this.options.secureContext });
      secure.once('secure', () => {
        this.socket = secure;
        this.secure = true;
        this.reader = this.newReader();
        this.commandStartedAt = 0;
        this.upgrading = false;
        this.attach(secure);
        resolve();
      });
      secure.once('error', () => {
        this.destroy();
        resolve();
      });
    });
  }

  /**
   * COMPRESS DEFLATE (RFC 4978 section 3), after its tagged OK went out in clear: from here both
   * directions are deflated. Whatever the client pipelined after the command was sent before it
   * could know the answer, so it is thrown away (a new reader), as after STARTTLS.
   */
  startCompression(): void {
    if (this.closed || this.closing || this.compression) return;
    if (this.flushesAwaited > 0) {
      this.compressAfterFlush = true; // COMPRESS's OK, held behind a flush, must leave uncompressed
      return;
    }
    this.reader = this.newReader();
    this.compression = new DeflateChannel(
      this.socket,
      (chunk) => this.onPlainData(chunk),
      (err) => {
        this.session.log.info({ imap: this.session.id, peer: this.peer, err: err.message }, 'connection cut: invalid compressed data');
        this.destroy();
      },
    );
  }

  /** Ends the connection once what was written has gone out (BYE lines must arrive). */
  close(): void {
    if (this.closed || this.closing) return;
    if (this.flushesAwaited > 0) {
      this.closeAfterFlush = true; // the held answers (a LOGOUT's BYE and OK among them) go first
      return;
    }
    this.closing = true;
    if (this.compression) this.compression.end(); // the final deflate block, then the socket
    else this.socket.end();
    setTimeout(() => this.destroy(), 2000).unref();
  }

  private destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.options.inactivity.delete(this);
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = null;
    this.compression?.destroy();
    this.socket.destroy();
    const waiter = this.lineWaiter;
    this.lineWaiter = null;
    waiter?.(null);
    this.session.stopIdling();
    this.options.onClose(this.session);
  }
}
