// A raw IMAP client for tests that need the exact lines: commands as typed, responses as lines
// (a literal in a response is kept inline with its "{n}" announcement), over implicit TLS or
// STARTTLS against the daemon's development CA.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import type { TestEnv } from './daemon';

export interface Reply {
  /** The tagged line, e.g. "A1 OK [READ-WRITE] SELECT completed". */
  tagged: string;
  /** Every untagged or continuation line before it. */
  untagged: string[];
  /** tagged status: OK, NO or BAD. */
  status: string;
}

export class RawImap {
  private buffer = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  private counter = 0;
  closed = false;
  /** Every line received, for debugging a failed assertion. */
  readonly transcript: string[] = [];

  private constructor(private socket: net.Socket | tls.TLSSocket) {
    this.attach(socket);
  }

  private attach(socket: net.Socket): void {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }

  /** Implicit TLS on listen.imaps; resolves after the greeting. */
  static async imaps(env: TestEnv): Promise<RawImap> {
    const socket = tls.connect({ host: '127.0.0.1', port: env.ports.imaps, ca: readFileSync(env.caFile), servername: 'localhost' });
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', () => resolve());
      socket.once('error', reject);
    });
    const client = new RawImap(socket);
    await client.line();
    return client;
  }

  /** listen.imap, then STARTTLS; resolves after the TLS handshake. */
  static async starttls(env: TestEnv): Promise<RawImap> {
    const plain = net.connect({ host: '127.0.0.1', port: env.ports.imap });
    await new Promise<void>((resolve, reject) => {
      plain.once('connect', () => resolve());
      plain.once('error', reject);
    });
    const client = new RawImap(plain);
    await client.line();
    const reply = await client.command('STARTTLS');
    if (reply.status !== 'OK') throw new Error(`STARTTLS refused: ${reply.tagged}`);
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    const secure = tls.connect({ socket: plain, ca: readFileSync(env.caFile), servername: 'localhost' });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', reject);
    });
    client.socket = secure;
    client.buffer = Buffer.alloc(0);
    client.attach(secure);
    return client;
  }

  /** Logged in over implicit TLS. */
  static async login(env: TestEnv, user: string, pass: string): Promise<RawImap> {
    const client = await RawImap.imaps(env);
    const reply = await client.command(`LOGIN ${JSON.stringify(user)} ${JSON.stringify(pass)}`);
    if (reply.status !== 'OK') throw new Error(`LOGIN failed: ${reply.tagged}`);
    return client;
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** The next line (CRLF removed); a "{n}" literal at its end is read and appended. */
  async line(timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let text = '';
    for (;;) {
      const end = this.buffer.indexOf('\r\n');
      if (end >= 0) {
        const part = this.buffer.subarray(0, end).toString('utf8');
        const literal = /\{(\d+)\}$/.exec(part);
        if (literal && this.buffer.length >= end + 2 + Number(literal[1])) {
          const size = Number(literal[1]);
          text += part + '\r\n' + this.buffer.subarray(end + 2, end + 2 + size).toString('utf8');
          this.buffer = this.buffer.subarray(end + 2 + size);
          continue;
        }
        if (!literal) {
          this.buffer = this.buffer.subarray(end + 2);
          text += part;
          this.transcript.push(text);
          return text;
        }
      }
      if (this.closed) throw new Error(`connection closed; transcript:\n${this.transcript.join('\n')}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no complete line within ${timeoutMs} ms; transcript:\n${this.transcript.join('\n')}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Lines until the one tagged `tag`. */
  async until(tag: string, timeoutMs = 10_000): Promise<Reply> {
    const untagged: string[] = [];
    for (;;) {
      const line = await this.line(timeoutMs);
      if (line.startsWith(`${tag} `)) return { tagged: line, untagged, status: line.split(' ')[1] };
      untagged.push(line);
    }
  }

  nextTag(): string {
    return `T${++this.counter}`;
  }

  /** Sends `TAG text` CRLF and waits for the tagged reply. */
  async command(text: string, timeoutMs = 10_000): Promise<Reply> {
    const tag = this.nextTag();
    this.write(`${tag} ${text}\r\n`);
    return this.until(tag, timeoutMs);
  }

  /** Whether no byte arrives within `ms`. */
  async quiet(ms: number): Promise<boolean> {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return this.buffer.length === 0;
  }

  close(): void {
    this.socket.destroy();
  }
}
