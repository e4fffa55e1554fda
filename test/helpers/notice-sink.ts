// The notification relay in tests (notifications.smtp): a plain smtp-server on loopback that keeps
// every message it accepts, parsed, and can be stopped and started again on the same port to stand
// for a relay that is down for a while.
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface SinkMessage {
  from: string;
  to: string[];
  raw: Buffer;
  subject: string;
  text: string;
  headers: Map<string, unknown>;
  receivedAt: number;
}

export interface NoticeSink {
  port: number;
  messages: SinkMessage[];
  /** Messages to this envelope recipient (case-insensitive). */
  to(address: string): SinkMessage[];
  /** Resolves once `check` holds (checked after every accepted message), or rejects after `ms`. */
  until(what: string, check: (messages: SinkMessage[]) => boolean, ms?: number): Promise<SinkMessage[]>;
  /** Stops listening (the relay is "down"); `start` listens again on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function startNoticeSink(port = 0): Promise<NoticeSink> {
  const messages: SinkMessage[] = [];
  const waiters = new Set<() => void>();
  let server: SMTPServer | null = null;
  const make = () =>
    new SMTPServer({
      name: 'relay.notices.example',
      secure: false,
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      hideSTARTTLS: true,
      logger: false,
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks);
          simpleParser(raw)
            .then((parsed) => {
              messages.push({
                from: (session.envelope.mailFrom && session.envelope.mailFrom.address) || '',
                to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
                raw,
                subject: parsed.subject ?? '',
                text: parsed.text ?? '',
                headers: parsed.headers as Map<string, unknown>,
                receivedAt: Date.now(),
              });
              callback(null, 'Queued by the notice relay');
              for (const waiter of [...waiters]) waiter();
            })
            .catch((err: Error) => callback(err));
        });
      },
    });
  const sink: NoticeSink = {
    port,
    messages,
    to: (address) => messages.filter((m) => m.to.some((rcpt) => rcpt.toLowerCase() === address.toLowerCase())),
    until(what, check, ms = 30_000) {
      return new Promise((resolve, reject) => {
        const done = () => {
          if (!check(messages)) return;
          clearTimeout(timer);
          waiters.delete(done);
          resolve(messages);
        };
        const timer = setTimeout(() => {
          waiters.delete(done);
          reject(new Error(`notice sink: timed out waiting for ${what} (${messages.length} message(s) so far)`));
        }, ms);
        waiters.add(done);
        done();
      });
    },
    async stop() {
      const current = server;
      server = null;
      if (current) await new Promise<void>((resolve) => current.close(() => resolve()));
    },
    async start() {
      const next = make();
      next.on('error', () => undefined);
      await new Promise<void>((resolve, reject) => {
        next.server.once('error', reject);
        next.listen(sink.port, '127.0.0.1', () => resolve());
      });
      sink.port = (next.server.address() as { port: number }).port;
      server = next;
    },
  };
  await sink.start();
  return sink;
}
