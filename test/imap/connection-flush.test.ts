// Pipelined writes on a real connection (src/imap/store-writes.ts, ImapConnection.holdOutputUntil):
// once a write is committed, the client's next pipelined command runs at once, from the committed
// state, but no answer leaves before the flush of the commits it follows has returned (R14).
// fs.fdatasync is held by hand here, so the order is seen without timing anything.
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import Database from 'better-sqlite3';
import pino from 'pino';
import t from 'tap';
import type { Authenticator } from '../../src/auth/authenticator';
import { loadConfig } from '../../src/config/load';
import { commandHandlers } from '../../src/imap/commands';
import { ImapConnection } from '../../src/imap/connection';
import { IdleWatchers } from '../../src/imap/idle-watchers';
import { InactivitySweep } from '../../src/imap/inactivity';
import { CommitBatcher } from '../../src/store/commit-batcher';
import { appendToMailbox } from '../../src/store/imap-messages';
import { MailboxChanges } from '../../src/store/mailbox-changes';
import { ConnectionLimiter } from '../../src/util/connection-limits';
import { mailboxId } from '../store/imap-fixtures';
import { JEAN_PASSWORD, loginWorld } from './commands/messages-world';

type Fdatasync = typeof fs.fdatasync;

t.test('pipelined STOREs: both committed while the first flush runs, answered only after it, in order', async (t) => {
  const { db, jean, authenticator } = await loginWorld(t);
  const inbox = mailboxId(db, jean, 'INBOX');
  for (let i = 1; i <= 2; i++) appendToMailbox(db, inbox, Buffer.from(`Subject: ${i}\r\n\r\nbody ${i}\r\n`));
  const batcher = new CommitBatcher(db);
  t.teardown(() => batcher.close());
  const server = net.createServer((socket) => {
    const connection = new ImapConnection(socket, true, {
      services: {
        config: loadConfig(),
        db,
        log: pino({ level: 'silent' }),
        authenticator: authenticator as Authenticator,
        changes: new MailboxChanges(),
        accountSessions: new ConnectionLimiter(100),
        idleWatchers: new IdleWatchers(),
        batcher,
      },
      handlers: commandHandlers(),
      secureContext: tls.createSecureContext(),
      inactivity: new InactivitySweep(60_000),
      onClose: () => undefined,
    });
    connection.greet();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const socket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  t.teardown(() => socket.destroy());
  let received = '';
  socket.on('data', (chunk) => (received += chunk.toString('latin1')));
  const until = async (text: string) => {
    while (!received.includes(text)) await new Promise((resolve) => setTimeout(resolve, 5));
  };
  socket.write(`a LOGIN jean.dupont@hopital.fr "${JEAN_PASSWORD}"\r\nb SELECT INBOX\r\n`);
  await until('b OK');

  // From here on, every flush waits until the test lets it go.
  const original = fs.fdatasync;
  const held: Array<() => void> = [];
  (fs as { fdatasync: Fdatasync }).fdatasync = ((fd: number, callback: (err: NodeJS.ErrnoException | null) => void) => {
    held.push(() => original(fd, callback));
  }) as Fdatasync;
  t.teardown(() => {
    (fs as { fdatasync: Fdatasync }).fdatasync = original;
  });
  const before = received.length;
  socket.write('c STORE 1 +FLAGS (\\Flagged)\r\nd STORE 2 +FLAGS (\\Answered)\r\ne NOOP\r\n');

  // Another connection (another process) sees what is committed.
  const reader = new Database(db.name, { readonly: true });
  t.teardown(() => reader.close());
  const flagsOf = (uid: number) => (reader.prepare('SELECT flags FROM messages WHERE mailbox_id = ? AND uid = ?').get(inbox, uid) as { flags: number }).flags;
  for (let i = 0; i < 400 && flagsOf(2) === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
  t.not(flagsOf(1), 0, 'the first STORE is committed');
  t.not(flagsOf(2), 0, 'the second STORE, sent behind it, ran and committed while the first flush was held');
  t.ok(held.length >= 1, 'a flush is waiting');
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.equal(received.slice(before), '', 'no answer left before the flush returned (R14)');

  while (held.length > 0 || !received.includes('e OK')) {
    held.shift()?.();
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const answers = received.slice(before);
  t.match(answers, /^\* 1 FETCH \(FLAGS \([^)]*\\Flagged[^)]*\)\)\r\nc OK [^\r]*\r\n\* 2 FETCH \(FLAGS \([^)]*\\Answered[^)]*\)\)\r\nd OK [^\r]*\r\ne OK [^\r]*\r\n$/, 'then every answer, in order');
});

t.test('a failed flush: the held answers are never sent, the client is told and the connection ends', async (t) => {
  const { db, jean, authenticator } = await loginWorld(t);
  const inbox = mailboxId(db, jean, 'INBOX');
  appendToMailbox(db, inbox, Buffer.from('Subject: 1\r\n\r\nbody\r\n'));
  const batcher = new CommitBatcher(db);
  t.teardown(() => batcher.close());
  const server = net.createServer((socket) => {
    new ImapConnection(socket, true, {
      services: {
        config: loadConfig(),
        db,
        log: pino({ level: 'silent' }),
        authenticator: authenticator as Authenticator,
        changes: new MailboxChanges(),
        accountSessions: new ConnectionLimiter(100),
        idleWatchers: new IdleWatchers(),
        batcher,
      },
      handlers: commandHandlers(),
      secureContext: tls.createSecureContext(),
      inactivity: new InactivitySweep(60_000),
      onClose: () => undefined,
    }).greet();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const socket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  t.teardown(() => socket.destroy());
  let received = '';
  socket.on('data', (chunk) => (received += chunk.toString('latin1')));
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  const until = async (text: string) => {
    while (!received.includes(text)) await new Promise((resolve) => setTimeout(resolve, 5));
  };
  socket.write(`a LOGIN jean.dupont@hopital.fr "${JEAN_PASSWORD}"\r\nb SELECT INBOX\r\n`);
  await until('b OK');
  const original = fs.fdatasync;
  (fs as { fdatasync: Fdatasync }).fdatasync = ((_fd: number, callback: (err: NodeJS.ErrnoException | null) => void) => {
    const err: NodeJS.ErrnoException = new Error('EIO: i/o error, fdatasync');
    err.code = 'EIO';
    process.nextTick(callback, err);
  }) as Fdatasync;
  t.teardown(() => {
    (fs as { fdatasync: Fdatasync }).fdatasync = original;
  });
  const before = received.length;
  socket.write('c STORE 1 +FLAGS (\\Flagged)\r\n');
  await closed;
  const answer = received.slice(before);
  t.notMatch(answer, /c OK/, 'the STORE is never acknowledged');
  t.match(answer, /^\* BYE Server storage failure/, 'the client is told why the connection ends');
});
