// Fuzzing the protocol front ends over the network, on the real daemon: mutated command streams
// (test/fuzz/corpus/imap and smtp) sent in random chunks to IMAPS (half the time after a real
// login), the MTA, and submission over implicit TLS (half the time after AUTH PLAIN). For every
// stream: after it, a probe command must get an answer, or the server must close the connection,
// within a bounded wait (no hang; small deadlines make a half-sent literal or DATA end quickly).
// After the run: the daemon is alive, logged no error, and serves a normal client.
// The fuzzing connections come from 127.0.0.2 so that the failed logins they cause do not
// throttle the normal client at the end (127.0.0.1). FUZZ_SEED and FUZZ_SECONDS as for the reader.
import t from 'tap';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import nodemailer from 'nodemailer';
import { createPer, makeEnv, startDaemon, TEST_PASSWORD, type TestEnv } from '../helpers/daemon';
import { imapClient } from '../helpers/imap';
import { answered } from '../helpers/tap';
import { FUZZ_MS, FUZZ_SEED, generator, loadCorpus, Mutator, showInput } from './mutate';

const FUZZ_SOURCE = '127.0.0.2';
/** A probe unanswered and a connection still open after this is a hang. */
const ANSWER_MS = 15_000;
const PARALLEL = 3;

const IMAP_TOKENS = ['{0}\r\n', '{5}\r\n', '{3+}\r\n', '{99999}\r\n', '{99999+}\r\n', '\r\n', '\n', ' ', '(', ')', '((((((((((((', '[', ']', '"', '\\', '*', 'BODY[', 'a1 ', 'DONE\r\n', 'é', '\u0000', '&AOk-', '1:*', 'IDLE\r\n', 'AUTHENTICATE PLAIN\r\n', 'APPEND INBOX {10}\r\n'];
const SMTP_TOKENS = ['\r\n', '\n', '\r', '\r\n.\r\n', '.\r\n', ' ', '<', '>', ':', '@', 'MAIL FROM:<a@b.fr>\r\n', 'RCPT TO:<x@y.fr>\r\n', 'DATA\r\n', 'BDAT 5\r\n', 'AUTH PLAIN\r\n', 'STARTTLS\r\n', 'SIZE=99999999999', 'é', '\u0000', 'A'.repeat(600)];

type Target = { name: string; protocol: 'imap' | 'smtp'; port: number; implicitTls: boolean; login: ((socket: Conversation) => Promise<void>) | null };

/** One connection: everything received, and whether it closed. */
class Conversation {
  received = '';
  closed = false;
  private waiters: Array<() => void> = [];

  constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.received += chunk.toString('latin1');
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  /** Waits until `done()` holds or the connection closes; false after `ms`. */
  async until(done: () => boolean, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!done() && !this.closed) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return true;
  }
}

async function open(env: TestEnv, target: Target): Promise<Conversation> {
  const socket = target.implicitTls
    ? // tls.connect takes net.connect's options too (localAddress), which its type does not list.
      tls.connect({ host: '127.0.0.1', port: target.port, localAddress: FUZZ_SOURCE, ca: readFileSync(env.caFile), servername: 'localhost' } as tls.ConnectionOptions)
    : net.connect({ host: '127.0.0.1', port: target.port, localAddress: FUZZ_SOURCE });
  const conversation = new Conversation(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once(target.implicitTls ? 'secureConnect' : 'connect', () => resolve());
    socket.once('error', reject);
  });
  const greeted = await conversation.until(() => /\r\n/.test(conversation.received), ANSWER_MS);
  if (!greeted) throw new Error(`${target.name}: no greeting`);
  return conversation;
}

t.test(`protocol front ends: mutated command streams (seed ${FUZZ_SEED}, ${FUZZ_MS} ms per listener)`, async (t) => {
  const env = await makeEnv({ limits: { commandSeconds: 2, preLoginSeconds: 8, minDataRate: 1000, maxConnectionsPerIp: 20 } });
  const fuzzUser = createPer(env, 'Fanny', 'Fuzz', '10000000009');
  const normalUser = createPer(env, 'Nora', 'Normal', '10000000008');
  const daemon = await startDaemon(env);
  t.teardown(() => daemon.stop());

  const imapLogin = async (c: Conversation) => {
    c.socket.write(`L1 LOGIN "${fuzzUser.login}" "${TEST_PASSWORD}"\r\nL2 SELECT INBOX\r\n`);
    await c.until(() => /^L2 /m.test(c.received), ANSWER_MS);
  };
  const smtpAuth = async (c: Conversation) => {
    const plain = Buffer.from(`\u0000${fuzzUser.login}\u0000${TEST_PASSWORD}`).toString('base64');
    c.socket.write(`EHLO fuzz.example\r\nAUTH PLAIN ${plain}\r\n`);
    await c.until(() => /^235 /m.test(c.received), ANSWER_MS);
  };
  const targets: Target[] = [
    { name: 'IMAPS', protocol: 'imap', port: env.ports.imaps, implicitTls: true, login: imapLogin },
    { name: 'MTA', protocol: 'smtp', port: env.ports.smtp, implicitTls: false, login: null },
    { name: 'submissions', protocol: 'smtp', port: env.ports.submissions, implicitTls: true, login: smtpAuth },
  ];

  for (const [targetIndex, target] of targets.entries()) {
    await t.test(target.name, async (t) => {
      const corpus = loadCorpus(target.protocol);
      const counts = { streams: 0, answered: 0, closed: 0 };
      const failures: string[] = [];
      const started = Date.now();
      // One generator per worker: the streams each worker sends depend on FUZZ_SEED only.
      const worker = async (workerIndex: number) => {
        const next = generator(FUZZ_SEED * 100 + targetIndex * 10 + workerIndex);
        const mutator = new Mutator(next, corpus.map((seed) => seed.data), target.protocol === 'imap' ? IMAP_TOKENS : SMTP_TOKENS);
        while (Date.now() - started < FUZZ_MS && failures.length === 0) {
          const input = mutator.input();
          const loggedIn = target.login !== null && next() < 0.5;
          counts.streams++;
          let conversation: Conversation;
          try {
            conversation = await open(env, target);
          } catch (err) {
            failures.push(`connect: ${(err as Error).message}`);
            return;
          }
          try {
            if (loggedIn) await target.login!(conversation);
            for (const chunk of mutator.chunks(input)) {
              if (conversation.closed) break;
              conversation.socket.write(chunk);
              if (next() < 0.3) await new Promise((resolve) => setImmediate(resolve));
            }
            // The probe: a command on a line of its own; anything new from the server, or the
            // close, shows the connection is not stuck.
            const before = conversation.received.length;
            if (!conversation.closed) conversation.socket.write(target.protocol === 'imap' ? '\r\nZZ9 NOOP\r\n' : '\r\nNOOP\r\n');
            const ok = await conversation.until(() => conversation.received.length > before, ANSWER_MS);
            if (!ok) failures.push(`no answer and no close within ${ANSWER_MS} ms after ${showInput(input)}${loggedIn ? ' (logged in)' : ''}`);
            else if (conversation.closed && conversation.received.length === before) counts.closed++;
            else counts.answered++;
          } finally {
            conversation.socket.destroy();
          }
        }
      };
      await Promise.all(Array.from({ length: PARALLEL }, (_, workerIndex) => worker(workerIndex)));
      t.comment(JSON.stringify(counts));
      t.same(failures, [], `FUZZ_SEED=${FUZZ_SEED}: every stream was answered or closed`);
      t.ok(counts.streams >= 10, `${counts.streams} streams sent`);
      t.equal(daemon.process.exitCode, null, 'the daemon is still running');
    });
  }

  await t.test('after the fuzzing: no error logged, a normal client is served', async (t) => {
    // A failed TLS handshake (garbage after STARTTLS) is the client's fault; taking those lines
    // below error level is the ops helper's change (issue of the logs), so they are left out here.
    const tlsHandshake = (line: Record<string, unknown>) => /^ERR_(SSL|TLS)_/.test(String((line.err as { code?: unknown } | undefined)?.code ?? ''));
    const errors = daemon.logs().filter((line) => typeof line.level === 'number' && line.level >= 50 && !tlsHandshake(line));
    t.same(errors, [], 'nothing at error level or above (TLS handshake failures aside)');
    const client = imapClient(env, normalUser.login);
    await client.connect();
    const status = answered(await client.status('INBOX', { messages: true }), 'STATUS');
    t.type(status.messages, 'number', 'IMAP answers');
    await client.logout();
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: env.ports.submission,
      secure: false,
      requireTLS: true,
      auth: { user: normalUser.login, pass: TEST_PASSWORD },
      tls: { ca: readFileSync(env.caFile), servername: 'localhost' },
    });
    const info = await transport.sendMail({ from: normalUser.login, to: normalUser.login, subject: 'après le fuzzing', text: 'ok' });
    transport.close();
    t.match(info.response, /^250 /, 'submission answers');
  });
});
