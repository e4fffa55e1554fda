// A minimal SMTP client for benchmarks: STARTTLS once, then MAIL/RCPT/DATA pipelined (RFC 2920)
// per message, timing the reply to the end of DATA. Much cheaper than a full client library, so
// the machine's cores go to the server being measured.
import net from 'node:net';
import tls from 'node:tls';

export interface ClientTls {
  ca: string;
  cert?: string;
  key?: string;
}

class ReplyReader {
  private buffer = '';
  private waiters: Array<(reply: string) => void> = [];
  private replies: string[] = [];

  feed(chunk: string): void {
    this.buffer += chunk;
    let end: number;
    // A reply ends with a line "NNN " (a space after the code, RFC 5321 section 4.2.1).
    while ((end = this.findReplyEnd()) >= 0) {
      const reply = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end);
      const waiter = this.waiters.shift();
      if (waiter) waiter(reply);
      else this.replies.push(reply);
    }
  }

  private findReplyEnd(): number {
    let start = 0;
    for (;;) {
      const newline = this.buffer.indexOf('\r\n', start);
      if (newline < 0) return -1;
      if (this.buffer[start + 3] === ' ' || newline - start === 3) return newline + 2;
      start = newline + 2;
    }
  }

  next(): Promise<string> {
    const ready = this.replies.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

export class BenchSmtpClient {
  private socket!: net.Socket | tls.TLSSocket;
  private reader = new ReplyReader();

  /** `implicitTls`: TLS from the first byte (465-style); `auth`: AUTH PLAIN once under TLS. */
  static async connect(
    host: string,
    port: number,
    options: { tls: ClientTls; helo: string; implicitTls?: boolean; auth?: { user: string; pass: string } },
  ): Promise<BenchSmtpClient> {
    const client = options.implicitTls ? await BenchSmtpClient.connectTls(host, port, options) : await BenchSmtpClient.connectStartTls(host, port, options);
    if (options.auth) {
      const token = Buffer.from(`\0${options.auth.user}\0${options.auth.pass}`).toString('base64');
      await client.command(`AUTH PLAIN ${token}`, 235);
    }
    return client;
  }

  private static async connectTls(host: string, port: number, options: { tls: ClientTls; helo: string }): Promise<BenchSmtpClient> {
    const client = new BenchSmtpClient();
    const secure = tls.connect({ host, port, servername: 'localhost', ca: options.tls.ca, cert: options.tls.cert, key: options.tls.key, minVersion: 'TLSv1.2' });
    secure.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', reject);
    });
    client.attach(secure);
    await client.expect(220);
    await client.command(`EHLO ${options.helo}`, 250);
    return client;
  }

  private static async connectStartTls(host: string, port: number, options: { tls: ClientTls; helo: string }): Promise<BenchSmtpClient> {
    const client = new BenchSmtpClient();
    const plain = net.connect(port, host);
    plain.setNoDelay(true);
    client.attach(plain);
    await client.expect(220);
    await client.command(`EHLO ${options.helo}`, 250);
    await client.command('STARTTLS', 220);
    plain.removeAllListeners('data');
    const secure = tls.connect({ socket: plain, servername: 'localhost', ca: options.tls.ca, cert: options.tls.cert, key: options.tls.key, minVersion: 'TLSv1.2' });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', reject);
    });
    client.reader = new ReplyReader();
    client.attach(secure);
    await client.command(`EHLO ${options.helo}`, 250);
    return client;
  }

  private attach(socket: net.Socket | tls.TLSSocket): void {
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.reader.feed(chunk));
  }

  private async expect(code: number): Promise<string> {
    const reply = await this.reader.next();
    if (!reply.startsWith(String(code))) throw new Error(`expected ${code}, got ${reply.trim()}`);
    return reply;
  }

  private async command(line: string, code: number): Promise<string> {
    this.socket.write(`${line}\r\n`);
    return this.expect(code);
  }

  /**
   * Sends one message (body already CRLF and dot-stuffed, ending with CRLF). Returns the
   * milliseconds between the end of DATA and the 250 reply.
   */
  async send(from: string, to: string, body: Buffer): Promise<number> {
    this.socket.write(`MAIL FROM:<${from}>\r\nRCPT TO:<${to}>\r\nDATA\r\n`);
    await this.expect(250);
    await this.expect(250);
    await this.expect(354);
    this.socket.write(body);
    const start = process.hrtime.bigint();
    this.socket.write('.\r\n');
    await this.expect(250);
    return Number(process.hrtime.bigint() - start) / 1e6;
  }

  async quit(): Promise<void> {
    this.socket.write('QUIT\r\n');
    await this.reader.next().catch(() => undefined);
    this.socket.end();
  }
}
