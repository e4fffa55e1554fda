// IMAP end-to-end helpers: an imapflow client on the daemon's IMAPS port, a raw IMAP client that
// keeps every response line in order (to check what arrives when), delivery of a message through
// the inbound MTA as a peer operator, and a multipart test message whose pieces are known.
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { issueCertificate } from '../../src/tls/certificates';
import { readCa, TEST_PASSWORD, type TestEnv } from './daemon';
import { peerDomain } from './fixtures';

export function imapClient(env: TestEnv, user: string, pass = TEST_PASSWORD): ImapFlow {
  return new ImapFlow({
    host: '127.0.0.1',
    port: env.ports.imaps,
    secure: true,
    tls: { ca: readFileSync(env.caFile) },
    auth: { user, pass },
    logger: false,
  });
}

/** Connects an imapflow client and closes it when the test ends. */
export async function connectedClient(t: { teardown(fn: () => unknown): void }, env: TestEnv, user: string): Promise<ImapFlow> {
  const client = imapClient(env, user);
  client.on('error', () => undefined);
  await client.connect();
  t.teardown(() => client.logout().catch(() => client.close()));
  return client;
}

/** The peer operator of the real allowlist and a certificate with its DN (R1). */
export function peerOperator(env: TestEnv): { domain: string; cert: { certPem: string; keyPem: string } } {
  const peer = peerDomain();
  return { domain: peer.domain, cert: issueCertificate(readCa(env), { subject: peer.dnFields, usage: 'client', days: 2 }) };
}

/** Delivers `raw` through the MTA (STARTTLS, operator certificate); resolves with the 250 reply. */
export async function deliver(env: TestEnv, from: string, to: string[], raw: Buffer, cert: { certPem: string; keyPem: string }): Promise<string> {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: env.ports.smtp,
    secure: false,
    requireTLS: true,
    name: 'mx.peer-operator.example',
    tls: { ca: readFileSync(env.caFile), cert: cert.certPem, key: cert.keyPem },
  });
  try {
    const info = await transport.sendMail({ envelope: { from, to }, raw });
    return info.response;
  } finally {
    transport.close();
  }
}

/** A multipart message whose parts are known byte for byte (R5: 8-bit UTF-8, X-MSS-*, IHE_XDM.ZIP). */
export interface KnownMessage {
  raw: Buffer;
  header: Buffer;
  body: Buffer;
  /** Each part's MIME header (empty line included) and body, by part number ("1", "3.1"...). */
  mime: Record<string, Buffer>;
  parts: Record<string, Buffer>;
  /** For the message/rfc822 part 3: its header and text. */
  embeddedHeader: Buffer;
  embeddedText: Buffer;
}

export function multipartMessage(from: string, to: string, subject: string, messageId: string): KnownMessage {
  const b = (text: string) => Buffer.from(text, 'utf8');
  const header = b(
    [
      `From: =?utf-8?q?Dr_=C3=89mile_Peer?= <${from}>`,
      `To: Alice Martin <${to}>`,
      `Subject: ${subject}`,
      'Date: Sun, 22 Nov 2026 10:00:00 +0100',
      `Message-ID: <${messageId}>`,
      'MIME-Version: 1.0',
      'X-MSS-MES: FIN',
      'X-MSS-INS: 180017512345678',
      'Content-Type: multipart/mixed; boundary="=_mssd_outer"',
      '',
      '',
    ].join('\r\n'),
  );
  const mime: Record<string, Buffer> = {
    '1': b('Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n'),
    '2': b('Content-Type: application/zip; name="IHE_XDM.ZIP"\r\nContent-Disposition: attachment; filename="IHE_XDM.ZIP"\r\nContent-Transfer-Encoding: base64\r\n\r\n'),
    '3': b('Content-Type: message/rfc822\r\nContent-Disposition: inline\r\n\r\n'),
  };
  const embeddedHeader = b('From: Labo <labo@chu.mssante.fr>\r\nSubject: Bilan sanguin\r\nDate: Sat, 21 Nov 2026 08:00:00 +0100\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n');
  const embeddedText = b('Hémoglobine 11,2 g/dL — contrôle dans 8 jours.\r\n');
  const parts: Record<string, Buffer> = {
    '1': b('Bonjour Alice,\r\nCréatinine normale, hémoglobine basse : voir le compte rendu joint.\r\nCordialement.\r\n'),
    '2': b('UEsDBBQAAAAIAAAAIQBtZXNzYWdlLnR4dAoAAAA=\r\n'),
    '3': Buffer.concat([embeddedHeader, embeddedText]),
  };
  const body = Buffer.concat([
    b('Ceci est un message MIME.\r\n'),
    ...['1', '2', '3'].flatMap((n) => [b('--=_mssd_outer\r\n'), mime[n], parts[n], b('\r\n')]),
    b('--=_mssd_outer--\r\n'),
  ]);
  return { raw: Buffer.concat([header, body]), header, body, mime, parts, embeddedHeader, embeddedText };
}

/** A one-part text message. */
export function textMessage(from: string, to: string, subject: string, text: string, messageId: string): Buffer {
  return Buffer.from(
    [
      `From: <${from}>`,
      `To: <${to}>`,
      `Subject: ${subject}`,
      'Date: Sun, 22 Nov 2026 11:00:00 +0100',
      `Message-ID: <${messageId}>`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
      '',
      text,
      '',
    ].join('\r\n'),
    'utf8',
  );
}

// ---------------------------------------------------------------------------------------------
// A raw client: responses in arrival order, literals kept as octets.

/** One server response: its text with every literal inlined, and the literals apart. */
export interface RawResponse {
  /** The response as received (Latin-1: one character per octet). */
  text: string;
  literals: Buffer[];
  at: number;
}

export class RawImap {
  private buffer = Buffer.alloc(0);
  readonly responses: RawResponse[] = [];
  private waiters: Array<() => void> = [];
  private tagCounter = 0;
  private constructor(private readonly socket: tls.TLSSocket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.parse();
    });
    socket.on('error', () => undefined);
  }

  static async connect(env: TestEnv, user?: string, pass = TEST_PASSWORD): Promise<RawImap> {
    const socket = tls.connect({ host: '127.0.0.1', port: env.ports.imaps, ca: readFileSync(env.caFile), servername: 'localhost' });
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('error', reject);
    });
    const client = new RawImap(socket);
    await client.waitFor((r) => r.text.startsWith('* OK'));
    if (user) {
      const login = await client.command(`LOGIN "${user}" "${pass}"`);
      if (!/^\S+ OK/.test(login.tagged.text)) throw new Error(`login failed: ${login.tagged.text}`);
    }
    return client;
  }

  private parse(): void {
    for (;;) {
      // a response: lines, each possibly ending with {n} followed by n octets
      let pos = 0;
      const literals: Buffer[] = [];
      let complete = false;
      for (;;) {
        const lf = this.buffer.indexOf(0x0a, pos);
        if (lf < 0) break;
        const line = this.buffer.toString('latin1', pos, lf + 1);
        const literal = /\{(\d+)\}\r\n$/.exec(line);
        if (!literal) {
          pos = lf + 1;
          complete = true;
          break;
        }
        const size = Number(literal[1]);
        if (this.buffer.length < lf + 1 + size) break;
        literals.push(this.buffer.subarray(lf + 1, lf + 1 + size));
        pos = lf + 1 + size;
      }
      if (!complete) return;
      this.responses.push({ text: this.buffer.toString('latin1', 0, pos), literals, at: performance.now() });
      this.buffer = this.buffer.subarray(pos);
      for (const waiter of this.waiters.splice(0)) waiter();
    }
  }

  /** Resolves with the first response (from `from` on) matching, or rejects after `ms`. */
  waitFor(match: (response: RawResponse) => boolean, ms = 10_000, from = 0): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching response in ${ms} ms; got:\n${this.responses.slice(from).map((r) => r.text).join('')}`)), ms);
      const check = () => {
        const found = this.responses.slice(from).find(match);
        if (found) {
          clearTimeout(timer);
          resolve(found);
        } else {
          this.waiters.push(check);
        }
      };
      check();
    });
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /**
   * Sends `TAG command` CRLF and resolves with what came back until the tagged response:
   * `untagged` in order, then `tagged`. Literals in the command go as LITERAL+ ({n+}).
   */
  async command(command: string | Buffer, ms = 20_000): Promise<{ untagged: RawResponse[]; tagged: RawResponse; all: string }> {
    const tag = `R${++this.tagCounter}`;
    const from = this.responses.length;
    this.write(Buffer.concat([Buffer.from(`${tag} `), Buffer.isBuffer(command) ? command : Buffer.from(command, 'utf8'), Buffer.from('\r\n')]));
    const tagged = await this.waitFor((r) => r.text.startsWith(`${tag} `), ms, from);
    const index = this.responses.indexOf(tagged);
    const untagged = this.responses.slice(from, index);
    return { untagged, tagged, all: [...untagged, tagged].map((r) => r.text).join('').replace(new RegExp(`^${tag} `, 'm'), 'TAG ') };
  }

  /** Literal for a command: `{n+}` CRLF octets (RFC 7888). */
  static literal(data: Buffer | string): Buffer {
    const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data, 'utf8');
    return Buffer.concat([Buffer.from(`{${bytes.length}+}\r\n`), bytes]);
  }

  close(): void {
    this.socket.destroy();
  }
}
