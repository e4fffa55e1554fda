// A session without a socket for command tests: the real dispatch, handlers, store and selected
// mailbox view, with the client's side reduced to the lines it would receive.
import pino from 'pino';
import { Authenticator } from '../../../src/auth/authenticator';
import { commandHandlers } from '../../../src/imap/commands';
import { runCommand } from '../../../src/imap/dispatch';
import { CommandReader } from '../../../src/imap/protocol/reader';
import { SelectedMailbox } from '../../../src/imap/selected';
import { ImapSession, type SessionIo } from '../../../src/imap/session';
import { loadConfig } from '../../../src/config/load';
import { MailboxChanges } from '../../../src/store/mailbox-changes';
import { ConnectionLimiter } from '../../../src/util/connection-limits';
import type { Db } from '../../../src/store/database';
import { resolveMailbox } from '../../../src/store/mailbox-view';

export class FakeIo implements SessionIo {
  readonly chunks: Buffer[] = [];
  secure = true;

  write(data: string | Buffer): void {
    this.chunks.push(Buffer.isBuffer(data) ? data : Buffer.from(data, 'utf8'));
  }

  waitForDrain(): Promise<boolean> {
    return Promise.resolve(true);
  }

  readLine(): Promise<null> {
    return Promise.resolve(null);
  }

  startTls(): Promise<void> {
    return Promise.resolve();
  }

  close(): void {}

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

export function testSession(db: Db, accountId: number, changes = new MailboxChanges()): TestSession {
  const io = new FakeIo();
  const session = new ImapSession(
    {
      config,
      db,
      log: pino({ level: 'silent' }),
      // Sessions here are logged in by hand; the authenticator re-checks their account before each command.
      authenticator: new Authenticator(db, pino({ level: 'silent' })),
      changes,
      accountSessions: new ConnectionLimiter(100),
    },
    io,
    '127.0.0.1',
    'test',
  );
  session.user = { accountId, login: `account-${accountId}`, type: 'PER', method: 'account' };
  session.state = 'authenticated';
  const runRaw = async (line: string | Buffer): Promise<Buffer> => {
    const reader = new CommandReader({ maxLiteralSize: config.limits.maxMessageBytes, utf8QuotedStrings: false });
    const tag = `T${++tagCounter}`;
    reader.push(Buffer.concat([Buffer.from(`${tag} `), Buffer.isBuffer(line) ? line : Buffer.from(line, 'utf8'), Buffer.from('\r\n')]));
    for (;;) {
      const event = reader.next();
      if (!event) throw new Error(`incomplete command: ${line.toString()}`);
      if (event.type === 'continue') continue;
      if (event.type === 'error') return Buffer.from(`${event.tag ?? '*'} ${event.kind} ${event.text}\r\n`);
      await runCommand(session, event, handlers);
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
      const resolved = resolveMailbox(db, accountId, name);
      if (!resolved) throw new Error(`no mailbox ${name}`);
      const selected = SelectedMailbox.open(db, resolved.mailboxId, resolved.viewName, readOnly);
      if (!selected) throw new Error(`cannot open ${name}`);
      session.selected = selected;
      session.state = 'selected';
    },
  };
}
