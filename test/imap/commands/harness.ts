// A session without a socket for command tests: the real dispatch, handlers, store and selected
// mailbox view, with the client's side reduced to the lines it would receive.
import pino from 'pino';
import { Authenticator } from '../../../src/auth/authenticator';
import { commandHandlers } from '../../../src/imap/commands';
import { runCommand } from '../../../src/imap/dispatch';
import { IdleWatchers } from '../../../src/imap/idle-watchers';
import { CommandReader, type RawLine } from '../../../src/imap/protocol/reader';
import { SelectedMailbox } from '../../../src/imap/selected';
import { ImapSession, type SessionIo } from '../../../src/imap/session';
import { loadConfig } from '../../../src/config/load';
import type { CommitBatcher } from '../../../src/store/commit-batcher';
import { MailboxChanges } from '../../../src/store/mailbox-changes';
import { ConnectionLimiter } from '../../../src/util/connection-limits';
import type { Db } from '../../../src/store/database';
import { resolveMailbox } from '../../../src/store/mailbox-view';

export class FakeIo implements SessionIo {
  readonly chunks: Buffer[] = [];
  secure = true;
  closed = false;
  tlsStarted = false;
  /** Lines the client sends while a command runs (AUTHENTICATE answers, IDLE's DONE). */
  private readonly pending: string[] = [];
  private waiting: ((line: RawLine | null) => void) | null = null;

  write(data: string | Buffer): void {
    this.chunks.push(Buffer.isBuffer(data) ? data : Buffer.from(data, 'utf8'));
  }

  waitForDrain(): Promise<boolean> {
    return Promise.resolve(true);
  }

  /** The client sends one raw line to a command that waits for it. */
  send(text: string): void {
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = null;
      resolve({ type: 'line', text });
    } else {
      this.pending.push(text);
    }
  }

  readLine(): Promise<RawLine | null> {
    const next = this.pending.shift();
    if (next !== undefined) return Promise.resolve({ type: 'line', text: next });
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => (this.waiting = resolve));
  }

  startTls(): Promise<void> {
    this.tlsStarted = true;
    this.secure = true;
    return Promise.resolve();
  }

  close(): void {
    this.closed = true;
    this.waiting?.(null);
    this.waiting = null;
  }

  /** Everything written since the last call, as one Buffer. */
  take(): Buffer {
    const all = Buffer.concat(this.chunks);
    this.chunks.length = 0;
    return all;
  }
}

export interface TestSession {
  session: ImapSession;
  io: FakeIo;
  changes: MailboxChanges;
  /**
   * Runs one command line (literals as `{n}` CRLF octets) and returns the response read as
   * Latin-1 (one character per octet), its tag replaced by TAG.
   */
  run(line: string | Buffer): Promise<string>;
  runRaw(line: string | Buffer): Promise<Buffer>;
  /** Selects a mailbox the way SELECT will (read-write) or EXAMINE (read-only). */
  select(name: string, readOnly?: boolean): void;
}

const handlers = commandHandlers();
const config = loadConfig();
let tagCounter = 0;

/** A session logged in as `accountId`, in the authenticated state. */
export function testSession(db: Db, accountId: number, changes = new MailboxChanges(), batcher?: CommitBatcher, idleWatchers?: IdleWatchers): TestSession {
  const test = connectedSession(db, { changes, batcher, idleWatchers });
  test.session.user = { accountId, login: `account-${accountId}`, type: 'PER', method: 'account' };
  test.session.state = 'authenticated';
  return test;
}

export interface ConnectedOptions {
  changes?: MailboxChanges;
  /** The password check LOGIN and AUTHENTICATE use; none by default. */
  authenticator?: Authenticator;
  /** Whether the connection is under TLS (IMAPS, or after STARTTLS); true by default. */
  secure?: boolean;
  /** Sessions per account (limits.maxConnectionsPerAccount). */
  accountSessions?: ConnectionLimiter;
  /** The daemon's group commit; without it each write commits alone. */
  batcher?: CommitBatcher;
  /** Sessions in IDLE by mailbox; share one between sessions to wake them as the server does. */
  idleWatchers?: IdleWatchers;
}

/** A session as a client finds it on connecting: not authenticated. */
export function connectedSession(db: Db, options: ConnectedOptions = {}): TestSession {
  const changes = options.changes ?? new MailboxChanges();
  const io = new FakeIo();
  io.secure = options.secure ?? true;
  const session = new ImapSession(
    {
      config,
      db,
      log: pino({ level: 'silent' }),
      // Every command re-checks a logged-in session's credentials (R16): a real Authenticator by default.
      authenticator: options.authenticator ?? new Authenticator(db, pino({ level: 'silent' })),
      changes,
      accountSessions: options.accountSessions ?? new ConnectionLimiter(100),
      batcher: options.batcher,
      idleWatchers: options.idleWatchers ?? new IdleWatchers(),
    },
    io,
    '127.0.0.1',
    'test',
  );
  const runRaw = async (line: string | Buffer): Promise<Buffer> => {
    const reader = new CommandReader({ maxLiteralSize: config.limits.maxMessageBytes, utf8QuotedStrings: true });
    const tag = `T${++tagCounter}`;
    reader.push(Buffer.concat([Buffer.from(`${tag} `), Buffer.isBuffer(line) ? line : Buffer.from(line, 'utf8'), Buffer.from('\r\n')]));
    for (;;) {
      const event = reader.next();
      if (!event) throw new Error(`incomplete command: ${line.toString()}`);
      if (event.type === 'continue') continue;
      if (event.type === 'error') return Buffer.from(`${event.tag ?? '*'} ${event.kind} ${event.text}\r\n`);
      const completion = await runCommand(session, event, handlers);
      if (completion.after) await completion.after(); // as the connection does (STARTTLS, LOGOUT)
      return io.take();
    }
  };
  return {
    session,
    io,
    changes,
    runRaw,
    run: async (line) => (await runRaw(line)).toString('latin1').replace(/^T\d+ /gm, 'TAG '),
    select(name: string, readOnly = false) {
      if (!session.user) throw new Error('select needs a logged-in session');
      const resolved = resolveMailbox(db, session.user.accountId, name);
      if (!resolved) throw new Error(`no mailbox ${name}`);
      const selected = SelectedMailbox.open(db, resolved.mailboxId, resolved.viewName, readOnly);
      if (!selected) throw new Error(`cannot open ${name}`);
      session.selected = selected;
      session.state = 'selected';
    },
  };
}
