// Pipelined writes on a real connection (src/imap/store-writes.ts, ImapConnection.holdOutputUntil):
// once a message is committed, the client's next pipelined command runs at once, from the committed
// state, but no answer leaves before the flush of the commits it follows has returned (R14). Flag
// changes wait for no flush of their own.
// fs.fdatasync is held by hand here (test/helpers/flushes.ts), so the order is seen without
// timing anything.
import net from 'node:net';
import tls from 'node:tls';
import Database from 'better-sqlite3';
import t from 'tap';
import { commandHandlers } from '../../src/imap/commands';
import { ImapConnection } from '../../src/imap/connection';
import { InactivitySweep } from '../../src/imap/inactivity';
import { CommitBatcher } from '../../src/store/commit-batcher';
import { appendToMailbox } from '../../src/store/imap-messages';
import { failFlushes, holdFlushes } from '../helpers/flushes';
import type { TapTest } from '../helpers/tap';
import { mailboxId } from '../store/imap-fixtures';
import { JEAN_PASSWORD, loginWorld, loopbackServices } from './commands/messages-world';

/** Jean's INBOX with `count` messages, served over loopback with the group commit; a client logged in with INBOX selected. */
async function selectedClient(t: TapTest, count: number) {
  const { db, jean, authenticator } = await loginWorld(t);
  const inbox = mailboxId(db, jean, 'INBOX');
  for (let i = 1; i <= count; i++) appendToMailbox(db, inbox, Buffer.from(`Subject: ${i}\r\n\r\nbody ${i}\r\n`));
  const batcher = new CommitBatcher(db);
  t.teardown(() => batcher.close());
  const services = loopbackServices({ db, authenticator }, { batcher });
  // `secure: true` on a loopback socket: LOGIN is allowed as over TLS (the TLS layer is not what is tested)
  const server = net.createServer((socket) => {
    const options = { services, handlers: commandHandlers(), secureContext: tls.createSecureContext(), inactivity: new InactivitySweep(60_000), onClose: () => undefined };
    new ImapConnection(socket, true, options).greet();
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
  // Another connection (another process) sees what is committed.
  const reader = new Database(db.name, { readonly: true });
  t.teardown(() => reader.close());
  const flagsOf = (uid: number) => (reader.prepare('SELECT flags FROM messages WHERE mailbox_id = ? AND uid = ?').get(inbox, uid) as { flags: number }).flags;
  const messageCount = () => (reader.prepare('SELECT COUNT(*) AS n FROM messages WHERE mailbox_id = ?').get(inbox) as { n: number }).n;
  return { socket, closed, flagsOf, messageCount, received: () => received };
}

/** An APPEND of a small message with a non-synchronising literal (RFC 7888), pipelined. */
function append(tag: string, subject: string): string {
  const message = `Subject: ${subject}\r\n\r\ncorps\r\n`;
  return `${tag} APPEND INBOX {${Buffer.byteLength(message)}+}\r\n${message}\r\n`;
}

t.test('pipelined APPENDs: both committed while the first flush runs, answered only after it, in order', async (t) => {
  const client = await selectedClient(t, 2);
  const flushes = holdFlushes(t); // from here on, every flush waits until the test lets it go
  const before = client.received().length;
  client.socket.write(`${append('c', 'un')}${append('d', 'deux')}e NOOP\r\n`);

  for (let i = 0; i < 400 && client.messageCount() < 4; i++) await new Promise((resolve) => setTimeout(resolve, 5));
  t.equal(client.messageCount(), 4, 'the second APPEND, sent behind the first, ran and committed while the first flush was held');
  t.ok(flushes.waiting() >= 1, 'a flush is waiting');
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.equal(client.received().slice(before), '', 'no answer left before the flush returned (R14)');

  while (flushes.waiting() > 0 || !client.received().includes('e OK')) {
    flushes.release();
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  t.match(
    client.received().slice(before),
    /^(?:\* [^\r]*\r\n)*c OK \[APPENDUID \d+ 3\][^\r]*\r\n(?:\* [^\r]*\r\n)*d OK \[APPENDUID \d+ 4\][^\r]*\r\n(?:\* [^\r]*\r\n)*e OK [^\r]*\r\n$/,
    'then every answer, in order',
  );
});

t.test('a STORE is answered at its commit, without a flush of its own; behind a held APPEND it waits its turn', async (t) => {
  const client = await selectedClient(t, 2);
  const flushes = holdFlushes(t);
  let before = client.received().length;
  client.socket.write('c STORE 1 +FLAGS (\\Flagged)\r\n');
  for (let i = 0; i < 400 && !client.received().includes('c OK'); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  t.match(client.received().slice(before), /^\* 1 FETCH \(FLAGS \([^)]*\\Flagged[^)]*\)\)\r\nc OK /, 'answered');
  t.equal(flushes.calls(), 0, 'no flush waited for (flags are not messages: R14 holds for APPEND)');
  t.not(client.flagsOf(1), 0, 'committed: other connections see it');

  before = client.received().length;
  client.socket.write(`${append('d', 'trois')}e STORE 2 +FLAGS (\\Answered)\r\n`);
  for (let i = 0; i < 400 && client.flagsOf(2) === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
  t.not(client.flagsOf(2), 0, 'the STORE behind the APPEND ran meanwhile');
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.equal(client.received().slice(before), '', "but its answer does not overtake the APPEND's");
  while (flushes.waiting() > 0 || !client.received().includes('e OK')) {
    flushes.release();
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  t.match(client.received().slice(before), /^(?:\* [^\r]*\r\n)*d OK \[APPENDUID[^\r]*\r\n(?:\* [^\r]*\r\n)*e OK /, 'both, in order');
});

t.test('a failed flush: the held answers are never sent, the client is told and the connection ends', async (t) => {
  const client = await selectedClient(t, 1);
  failFlushes(t);
  const before = client.received().length;
  client.socket.write(append('c', 'perdu'));
  await client.closed;
  const answer = client.received().slice(before);
  t.notMatch(answer, /c OK/, 'the APPEND is never acknowledged');
  t.match(answer, /^\* BYE Server storage failure/, 'the client is told why the connection ends');
});
