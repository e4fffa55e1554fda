// What the IMAP benchmarks that compare with the anchors' Dovecot share: a minimal pipelining
// IMAP client over TLS, and the messages of the anchors' test.mbox.
import { readFileSync } from 'node:fs';
import tls from 'node:tls';

/** A minimal IMAP client: sends tagged commands, waits for their tagged replies (literals skipped). */
export class PipelinedClient {
  private buffer = Buffer.alloc(0);
  private literal = 0;
  private waiting = new Map<string, (line: string) => void>();
  private greeted: Promise<void>;
  private next = 1;
  /**
   * The untagged lines received (literal data left out) once the caller set this to an array;
   * null by default, so that a benchmark's thousands of FETCH lines are not kept.
   */
  untagged: string[] | null = null;

  constructor(private readonly socket: tls.TLSSocket) {
    let greet: () => void;
    this.greeted = new Promise((resolve) => (greet = resolve));
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      for (;;) {
        if (this.literal > 0) {
          const take = Math.min(this.literal, this.buffer.length);
          this.buffer = this.buffer.subarray(take);
          this.literal -= take;
          if (this.literal > 0) return;
        }
        const end = this.buffer.indexOf('\r\n');
        if (end < 0) return;
        const line = this.buffer.subarray(0, end).toString('latin1');
        this.buffer = this.buffer.subarray(end + 2);
        const literal = /\{(\d+)\}$/.exec(line);
        if (literal) this.literal = Number(literal[1]);
        if (line.startsWith('* OK') && greet) greet();
        if (this.untagged && line.startsWith('* ')) this.untagged.push(line);
        const tag = line.slice(0, line.indexOf(' '));
        const done = this.waiting.get(tag);
        if (done) {
          this.waiting.delete(tag);
          done(line);
        }
      }
    });
  }

  static connect(port: number): Promise<PipelinedClient> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
        const client = new PipelinedClient(socket);
        void client.greeted.then(() => resolve(client));
      });
      socket.once('error', reject);
    });
  }

  /** Sends one command (an APPEND's message goes as a LITERAL+ literal) and resolves with its tagged reply. */
  send(command: string, literal?: Buffer): Promise<string> {
    const tag = `X${this.next++}`;
    const reply = new Promise<string>((resolve) => this.waiting.set(tag, resolve));
    if (literal) {
      this.socket.write(Buffer.concat([Buffer.from(`${tag} ${command} {${literal.length}+}\r\n`), literal, Buffer.from('\r\n')]));
    } else {
      this.socket.write(`${tag} ${command}\r\n`);
    }
    return reply;
  }

  async must(command: string, literal?: Buffer): Promise<void> {
    const reply = await this.send(command, literal);
    if (!/^X\d+ OK/.test(reply)) throw new Error(`${command.slice(0, 60)}: ${reply}`);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** The first `count` messages of an mbox file, with CRLF line ends (what an IMAP APPEND sends). */
export function mboxMessages(file: string, count: number): Buffer[] {
  const text = readFileSync(file, 'latin1');
  // each message keeps the empty line before the next "From " line, as imaptest's own APPENDs
  // do (imaptest checks that a Message-ID always comes back with the same RFC822.SIZE)
  const messages = text.split(/(?<=\n)(?=From )/).slice(0, count);
  return messages.map((message) => Buffer.from(message.replace(/^From [^\n]*\n/, '').replace(/\r?\n/g, '\r\n'), 'latin1'));
}
