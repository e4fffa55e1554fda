// Issue 15 finding 4: one octet a second before login kept an IMAP or SMTP connection open
// indefinitely (the idle timer restarted at every octet). Now a command line must complete within
// limits.commandSeconds, the login within limits.preLoginSeconds, and DATA keep up
// limits.minDataRate. Small limits here; waits are bounded, nothing asserts a speed.
import t from 'tap';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { issueCertificate } from '../../src/tls/certificates';
import { imapClient } from '../helpers/imap';
import { createPer, makeEnv, readCa, startDaemon, TEST_PASSWORD, type RunningDaemon, type TestEnv } from '../helpers/daemon';
import { peerDomain } from '../helpers/fixtures';
import { answered, type TapTest } from '../helpers/tap';

const LIMITS = { commandSeconds: 2, preLoginSeconds: 5, minDataRate: 200 };
/** Far beyond every deadline above: a connection still open then was not cut. */
const GIVE_UP_MS = 30_000;

/** A client that reads everything the server says and can dribble octets one at a time. */
class Dribbler {
  received = '';
  closed = false;
  private stopped = false;
  private readonly closedPromise: Promise<void>;

  constructor(public socket: net.Socket) {
    this.closedPromise = this.watch(socket);
  }

  private watch(socket: net.Socket): Promise<void> {
    socket.on('data', (chunk: Buffer) => (this.received += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    return new Promise((resolve) => socket.once('close', () => {
      this.closed = true;
      resolve();
    }));
  }

  /** Moves onto a TLS socket over the same connection (after STARTTLS was accepted). */
  async upgrade(env: TestEnv, extra: tls.ConnectionOptions = {}): Promise<void> {
    const secure = tls.connect({ socket: this.socket, ca: readFileSync(env.caFile), servername: 'localhost', ...extra });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', reject);
    });
    this.socket.removeAllListeners('data');
    this.socket = secure;
    secure.on('data', (chunk: Buffer) => (this.received += chunk.toString('latin1')));
    secure.on('error', () => undefined);
  }

  async waitFor(pattern: RegExp, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pattern.test(this.received)) {
      if (this.closed || Date.now() > deadline) throw new Error(`never received ${pattern}; got ${JSON.stringify(this.received)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  send(text: string): void {
    this.socket.write(text);
  }

  /** Sends `text` one octet a second (wrapping around) until the server closes or GIVE_UP_MS. */
  async dribbleUntilClosed(text: string): Promise<boolean> {
    const started = Date.now();
    let index = 0;
    while (!this.closed && !this.stopped && Date.now() - started < GIVE_UP_MS) {
      if (!this.socket.destroyed) this.socket.write(text[index++ % text.length]);
      await Promise.race([this.closedPromise, new Promise((resolve) => setTimeout(resolve, 1000))]);
    }
    return this.closed;
  }

  /** Waits (bounded) for the server to close the connection. */
  async closedWithin(ms = GIVE_UP_MS): Promise<boolean> {
    await Promise.race([this.closedPromise, new Promise((resolve) => setTimeout(resolve, ms))]);
    return this.closed;
  }

  destroy(): void {
    this.stopped = true;
    this.socket.destroy();
  }
}

async function connect(port: number): Promise<Dribbler> {
  const socket = net.connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  return new Dribbler(socket);
}

async function cutLogged(t: TapTest, daemon: RunningDaemon, fields: Record<string, unknown>): Promise<void> {
  const matches = () =>
    daemon.logs().some((line) => line.msg === 'connection cut: deadline passed' && line.level === 30 && line.peer === '127.0.0.1' && Object.entries(fields).every(([key, value]) => line[key] === value));
  for (let i = 0; i < 100 && !matches(); i++) await new Promise((resolve) => setTimeout(resolve, 50));
  t.ok(matches(), `logged at info with the peer: ${JSON.stringify(fields)}`);
}

t.test('deadlines', async (t) => {
  const env = await makeEnv({ limits: LIMITS });
  const alice = createPer(env, 'Alice', 'Martin', '10000000001');
  const daemon = await startDaemon(env);
  t.teardown(() => daemon.stop());

  await t.test('IMAP: a command sent one octet a second is cut', async (t) => {
    const client = await connect(env.ports.imap);
    t.teardown(() => client.destroy());
    await client.waitFor(/^\* OK /);
    t.ok(await client.dribbleUntilClosed('a1 CAPABILITY\r\n'.replace('\r\n', ' ')), 'the server closed the connection');
    t.match(client.received, /\* BYE Command not received within 2 seconds\r\n$/);
    await cutLogged(t, daemon, { deadline: 'limits.commandSeconds' });
  });

  await t.test('IMAP: whole commands but no login are cut at the pre-login deadline', async (t) => {
    const client = await connect(env.ports.imap);
    t.teardown(() => client.destroy());
    await client.waitFor(/^\* OK /);
    let n = 0;
    const started = Date.now();
    while (!client.closed && Date.now() - started < GIVE_UP_MS) {
      client.send(`n${++n} NOOP\r\n`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    t.ok(client.closed, 'the server closed the connection');
    t.match(client.received, /n1 OK/, 'commands were answered meanwhile');
    t.match(client.received, /\* BYE Login not completed within 5 seconds\r\n$/);
    await cutLogged(t, daemon, { deadline: 'limits.preLoginSeconds' });
  });

  await t.test('IMAPS: a client that never starts the TLS handshake is dropped', async (t) => {
    const client = await connect(env.ports.imaps);
    t.teardown(() => client.destroy());
    t.ok(await client.closedWithin(), 'the server closed the connection');
  });

  await t.test('IMAP: a logged-in session is not cut by the pre-login deadline', async (t) => {
    const client = imapClient(env, alice.login);
    await client.connect();
    t.teardown(() => client.logout().catch(() => undefined));
    await new Promise((resolve) => setTimeout(resolve, (LIMITS.preLoginSeconds + 1) * 1000));
    const status = answered(await client.status('INBOX', { messages: true }), 'STATUS');
    t.equal(status.messages, 0, 'the session still answers');
  });

  await t.test('submission: a command sent one octet a second is cut with 421 4.4.2', async (t) => {
    const client = await connect(env.ports.submission);
    t.teardown(() => client.destroy());
    await client.waitFor(/^220 /m);
    t.ok(await client.dribbleUntilClosed('EHLO slow.example '), 'the server closed the connection');
    t.match(client.received, /421 4\.4\.2 mx\.mssd-test\.mssante\.fr Command line not completed within 2 seconds, closing connection\r\n$/);
    await cutLogged(t, daemon, { smtp: 'submission', deadline: 'limits.commandSeconds' });
  });

  await t.test('submission: STARTTLS then no AUTH is cut at the pre-login deadline', async (t) => {
    const client = await connect(env.ports.submission);
    t.teardown(() => client.destroy());
    await client.waitFor(/^220 /m);
    client.send('EHLO slow.example\r\n');
    await client.waitFor(/^250 /m);
    client.received = '';
    client.send('STARTTLS\r\n');
    await client.waitFor(/^220 .*\r\n/m);
    await client.upgrade(env);
    client.received = '';
    const started = Date.now();
    while (!client.closed && Date.now() - started < GIVE_UP_MS) {
      client.send('NOOP\r\n'); // slowly: smtp-server closes after 10 commands without AUTH
      await new Promise((resolve) => setTimeout(resolve, 1500));
    }
    t.ok(client.closed, 'the server closed the connection');
    t.match(client.received, /421 4\.4\.2 \S+ Login not completed within 5 seconds, closing connection\r\n$/);
    await cutLogged(t, daemon, { smtp: 'submission', deadline: 'limits.preLoginSeconds' });
  });

  await t.test('submissions: a client that never starts the TLS handshake is dropped', async (t) => {
    const client = await connect(env.ports.submissions);
    t.teardown(() => client.destroy());
    t.ok(await client.closedWithin(), 'the server closed the connection');
    await cutLogged(t, daemon, { smtp: 'submissions', deadline: 'limits.preLoginSeconds' });
  });

  await t.test('MTA: a command sent one octet a second is cut', async (t) => {
    const client = await connect(env.ports.smtp);
    t.teardown(() => client.destroy());
    await client.waitFor(/^220 /m);
    t.ok(await client.dribbleUntilClosed('EHLO slow.example '), 'the server closed the connection');
    t.match(client.received, /421 4\.4\.2 \S+ Command line not completed within 2 seconds/);
    await cutLogged(t, daemon, { smtp: 'mta', deadline: 'limits.commandSeconds' });
  });

  await t.test('MTA: DATA slower than limits.minDataRate is cut, nothing is stored', async (t) => {
    const peer = peerDomain();
    const cert = issueCertificate(readCa(env), { subject: peer.dnFields, usage: 'client', days: 2 });
    const client = await connect(env.ports.smtp);
    t.teardown(() => client.destroy());
    await client.waitFor(/^220 /m);
    client.send('EHLO mx.peer.example\r\n');
    await client.waitFor(/^250 /m);
    client.received = '';
    client.send('STARTTLS\r\n');
    await client.waitFor(/^220 .*\r\n/m);
    await client.upgrade(env, { cert: cert.certPem, key: cert.keyPem });
    client.received = '';
    client.send(`EHLO mx.peer.example\r\nMAIL FROM:<dr.peer@${peer.domain}>\r\nRCPT TO:<${alice.mssante}>\r\nDATA\r\n`);
    await client.waitFor(/^354 /m);
    client.send(`From: <dr.peer@${peer.domain}>\r\nSubject: lent\r\n\r\n`);
    t.ok(await client.dribbleUntilClosed('tres lent '), 'the server closed the connection');
    t.match(client.received, /421 4\.4\.2 \S+ Message data slower than 200 octets per second, closing connection\r\n$/);
    await cutLogged(t, daemon, { smtp: 'mta', deadline: 'limits.minDataRate' });
  });

  await t.test('normal clients are served after all that', async (t) => {
    const client = imapClient(env, alice.login);
    await client.connect();
    const status = answered(await client.status('INBOX', { messages: true }), 'STATUS');
    t.equal(status.messages, 0, 'the slow DATA stored nothing');
    await client.logout();
    const nodemailer = await import('nodemailer');
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: env.ports.submission,
      secure: false,
      requireTLS: true,
      auth: { user: alice.login, pass: TEST_PASSWORD },
      tls: { ca: readFileSync(env.caFile), servername: 'localhost' },
    });
    const info = await transport.sendMail({ from: alice.login, to: alice.login, subject: 'rapide', text: 'ok' });
    transport.close();
    t.match(info.response, /^250 /);
  });
});
