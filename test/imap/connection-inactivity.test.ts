// The inactivity timers of RFC 3501 section 5.4 through the shared sweep (src/imap/inactivity.ts)
// on real connections over loopback: a client logged in and idling (RFC 2177: it should re-issue
// IDLE within 29 minutes) stays connected until 30 minutes without an octet either way, then gets
// BYE and is closed; before login the limit is one minute. The sweep is driven with a clock moved
// forward by hand, so nothing here depends on how fast the machine is.
import net from 'node:net';
import tls from 'node:tls';
import t from 'tap';
import { commandHandlers } from '../../src/imap/commands';
import { AUTHENTICATED_IDLE_MS, ImapConnection, UNAUTHENTICATED_IDLE_MS } from '../../src/imap/connection';
import { IdleWatchers } from '../../src/imap/idle-watchers';
import { InactivitySweep } from '../../src/imap/inactivity';
import type { TapTest } from '../helpers/tap';
import { JEAN_PASSWORD, loginWorld, loopbackServices } from './commands/messages-world';

interface Client {
  socket: net.Socket;
  /** Resolves with everything received once `text` appears in it. */
  until(text: string): Promise<string>;
  closed: Promise<void>;
}

async function setup(t: TapTest) {
  const { db, authenticator } = await loginWorld(t);
  const sweep = new InactivitySweep(60_000); // its own timer never fires during the test
  const watchers = new IdleWatchers();
  const open = new Set<ImapConnection>();
  const whenEmpty: Array<() => void> = [];
  /** Resolves once the server side has closed every connection. */
  const allClosed = () => new Promise<void>((resolve) => (open.size === 0 ? resolve() : whenEmpty.push(resolve)));
  const services = loopbackServices({ db, authenticator }, { idleWatchers: watchers });
  const server = net.createServer((socket) => {
    // `secure: true` on a loopback socket: LOGIN is allowed as over TLS (the TLS layer is not what is tested)
    const connection = new ImapConnection(socket, true, {
      services,
      handlers: commandHandlers(),
      secureContext: tls.createSecureContext(),
      inactivity: sweep,
      onClose: (session) => {
        open.delete(connection);
        session.stopIdling();
        if (open.size === 0) for (const resolve of whenEmpty.splice(0)) resolve();
      },
    });
    open.add(connection);
    connection.greet();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const connect = async (): Promise<Client> => {
    const socket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    let received = '';
    const waiters: Array<() => void> = [];
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
      for (const waiter of waiters.splice(0)) waiter();
    });
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    t.teardown(() => socket.destroy());
    const until = async (text: string) => {
      while (!received.includes(text)) {
        const more = new Promise<void>((resolve) => waiters.push(resolve));
        const ended = closed.then(() => {
          throw new Error(`connection closed before "${text.trim()}"; received:\n${received}`);
        });
        await Promise.race([more, ended]);
      }
      return received;
    };
    await until('* OK');
    return { socket, until, closed };
  };
  return { sweep, watchers, open, connect, allClosed };
}

t.test('a client in IDLE stays 30 minutes without an octet, then gets BYE and is closed', async (t) => {
  const { sweep, watchers, open, connect, allClosed } = await setup(t);
  const client = await connect();
  client.socket.write(`a LOGIN jean.dupont@hopital.fr "${JEAN_PASSWORD}"\r\nb SELECT INBOX\r\nc IDLE\r\n`);
  await client.until('+ idling');
  t.equal(watchers.size, 1, 'in IDLE');
  const [connection] = open;
  const idleSince = connection.lastActivity;

  sweep.sweep(idleSince + 29 * 60_000); // RFC 2177: a client re-issues IDLE within 29 minutes
  sweep.sweep(idleSince + AUTHENTICATED_IDLE_MS - 1);
  t.equal(open.size, 1, 'still connected just before the limit');

  // any octet restarts the timer (once the clock has moved on by a millisecond at least)
  while (Date.now() <= idleSince) await new Promise((resolve) => setImmediate(resolve));
  client.socket.write('DONE\r\n');
  await client.until('c OK IDLE terminated');
  client.socket.write('d IDLE\r\n');
  await client.until('c OK IDLE terminated\r\n+ idling');
  sweep.sweep(idleSince + AUTHENTICATED_IDLE_MS);
  t.equal(open.size, 1, 'the DONE and the new IDLE restarted the timer');

  sweep.sweep(connection.lastActivity + AUTHENTICATED_IDLE_MS);
  const received = await client.until('* BYE');
  t.match(received, /\* BYE Autologout: idle for too long\r\n$/, 'BYE says why (RFC 3501 section 7.1.5)');
  await client.closed;
  await allClosed();
  t.equal(open.size, 0, 'the connection is closed');
  t.equal(watchers.size, 0, 'and no longer woken by deliveries');
});

t.test('before login the limit is one minute', async (t) => {
  const { sweep, open, connect, allClosed } = await setup(t);
  const client = await connect();
  const [connection] = open;
  sweep.sweep(connection.lastActivity + UNAUTHENTICATED_IDLE_MS - 1);
  t.equal(open.size, 1);
  sweep.sweep(connection.lastActivity + UNAUTHENTICATED_IDLE_MS);
  t.match(await client.until('* BYE'), /\* BYE Autologout: idle for too long\r\n$/);
  await client.closed;
  await allClosed();
  t.equal(sweep.size, 0, 'the sweep no longer watches it');
});
