// A minimal IMAP client for benchmarks: implicit TLS, one command at a time, responses parsed
// just enough to find where each ends (literals skipped by their announced size) without keeping
// them, so that a FETCH of 100 000 messages costs the client little and the time measured is
// the server's. Untagged responses can be watched (IDLE's EXISTS) with their arrival time.
import tls from 'node:tls';

export interface CommandResult {
  /** Milliseconds from writing the command to reading its tagged response. */
  ms: number;
  /** The tagged response line. */
  status: string;
  /** How many untagged responses came before it. */
  untagged: number;
  /** Octets received for this command. */
  bytes: number;
  /** The untagged response lines (without literal data) when `keep` was asked. */
  lines: string[];
}

export class BenchImapClient {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Octets of literal data still to skip. */
  private skip = 0;
  private tag = 0;
  private current: {
    tag: string;
    text: string;
    start: number;
    untagged: number;
    bytes: number;
    keep: boolean;
    lines: string[];
    resolve: (result: CommandResult) => void;
    reject: (err: Error) => void;
  } | null = null;
  /** Called for each untagged line (literal data excluded) with its arrival time. */
  onUntagged: ((line: string, at: number) => void) | null = null;
  private greeting: Promise<void>;
  private greeted!: () => void;

  private constructor(private readonly socket: tls.TLSSocket) {
    this.greeting = new Promise((resolve) => (this.greeted = resolve));
    socket.on('data', (chunk: Buffer) => this.feed(chunk));
    socket.on('error', (err) => this.current?.reject(err));
    socket.on('close', () => this.current?.reject(new Error(`connection closed during ${this.current.text}`)));
  }

  static async connect(host: string, port: number, ca: string): Promise<BenchImapClient> {
    const socket = tls.connect({ host, port, ca, servername: 'localhost', minVersion: 'TLSv1.2' });
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('error', reject);
    });
    const client = new BenchImapClient(socket);
    await client.greeting;
    return client;
  }

  private feed(chunk: Buffer): void {
    const at = performance.now();
    if (this.current) this.current.bytes += chunk.length;
    let data = chunk;
    if (this.pendingBytes > 0) {
      this.pending.push(chunk);
      data = Buffer.concat(this.pending);
      this.pending = [];
      this.pendingBytes = 0;
    }
    let pos = 0;
    while (pos < data.length) {
      if (this.skip > 0) {
        const take = Math.min(this.skip, data.length - pos);
        this.skip -= take;
        pos += take;
        continue;
      }
      const lf = data.indexOf(0x0a, pos);
      if (lf < 0) break;
      const line = data.toString('latin1', pos, lf - (data[lf - 1] === 0x0d ? 1 : 0));
      pos = lf + 1;
      const literal = /\{(\d+)\}$/.exec(line);
      if (literal) this.skip = Number(literal[1]);
      this.line(line, at, literal !== null);
    }
    if (pos < data.length) {
      const rest = data.subarray(pos);
      this.pending.push(rest);
      this.pendingBytes = rest.length;
    }
  }

  /** One line of a response; `continued` when a literal follows (the response goes on). */
  private line(line: string, at: number, continued: boolean): void {
    const current = this.current;
    if (line.startsWith('* OK') && !current) {
      this.greeted();
    }
    if (current && line.startsWith(`${current.tag} `)) {
      this.current = null;
      current.resolve({ ms: at - current.start, status: line, untagged: current.untagged, bytes: current.bytes, lines: current.lines });
      return;
    }
    if (line.startsWith('* ')) {
      if (current) {
        current.untagged++;
        if (current.keep) current.lines.push(line);
      }
      this.onUntagged?.(line, at);
    } else if (line.startsWith('+ ')) {
      this.onUntagged?.(line, at);
    }
    void continued;
  }

  /** Runs one command; resolves once its tagged response arrived (rejects on NO/BAD if `strict`). */
  command(text: string, options: { keep?: boolean; strict?: boolean } = {}): Promise<CommandResult> {
    const tag = `B${++this.tag}`;
    return new Promise<CommandResult>((resolve, reject) => {
      this.current = {
        tag,
        text: text.slice(0, 60),
        start: performance.now(),
        untagged: 0,
        bytes: 0,
        keep: options.keep ?? false,
        lines: [],
        resolve: (result) => {
          if ((options.strict ?? true) && !/^\S+ OK/.test(result.status)) reject(new Error(`${text.slice(0, 60)}: ${result.status}`));
          else resolve(result);
        },
        reject,
      };
      this.socket.write(`${tag} ${text}\r\n`);
    });
  }

  /** Starts IDLE and resolves once the server's continuation arrived; done() ends it. */
  async idle(): Promise<{ done: () => Promise<CommandResult> }> {
    const tag = `B${++this.tag}`;
    let continued!: () => void;
    const ready = new Promise<void>((resolve) => (continued = resolve));
    const previous = this.onUntagged;
    this.onUntagged = (line, at) => {
      if (line.startsWith('+ ')) continued();
      previous?.(line, at);
    };
    const finished = new Promise<CommandResult>((resolve, reject) => {
      this.current = { tag, text: 'IDLE', start: performance.now(), untagged: 0, bytes: 0, keep: false, lines: [], resolve, reject };
    });
    this.socket.write(`${tag} IDLE\r\n`);
    await ready;
    this.onUntagged = previous;
    return {
      done: () => {
        this.socket.write('DONE\r\n');
        return finished;
      },
    };
  }

  close(): void {
    this.current = null; // a command still running (IDLE) is abandoned, not failed
    this.socket.destroy();
  }
}
