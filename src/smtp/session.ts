// What the inbound MTA and the submission server share about an smtp-server session: the DSN
// parameters the client gave (RFC 3461 sections 4.3, 4.4 on MAIL FROM; 4.1, 4.2 on RCPT TO), the
// DATA stream read into one Buffer within the size limit, and TCP_NODELAY on every connection.
import type { Socket } from 'node:net';
import type { SMTPServer, SMTPServerAddress, SMTPServerDataStream, SMTPServerOptions, SMTPServerSession } from 'smtp-server';
import type { Config } from '../config/schema';
import { hardenedTlsOptions } from '../tls/server-options';

/** ENVID and RET of MAIL FROM (RFC 3461 sections 4.3 and 4.4). */
export function envelopeDsn(session: SMTPServerSession): { envid: string | null; ret: 'FULL' | 'HDRS' | null } {
  const dsn = (session.envelope as { dsn?: { envid?: string; ret?: string } }).dsn;
  const ret = dsn?.ret === 'FULL' || dsn?.ret === 'HDRS' ? dsn.ret : null;
  return { envid: dsn?.envid ?? null, ret };
}

/** NOTIFY (comma-joined, upper case) and ORCPT of one RCPT TO (RFC 3461 sections 4.1 and 4.2). */
/** The SIZE the client declared on MAIL FROM (RFC 1870), 0 when it did not. */
export function declaredSize(session: SMTPServerSession): number {
  const mailFrom = session.envelope.mailFrom;
  const args = mailFrom ? (mailFrom.args as Record<string, string> | false | undefined) : undefined;
  const size = args ? Number(args.SIZE ?? 0) : 0;
  return Number.isSafeInteger(size) && size > 0 ? size : 0;
}

export function recipientDsn(address: SMTPServerAddress): { notify: string | null; orcpt: string | null } {
  const dsn = (address as { dsn?: { notify?: string[]; orcpt?: string } }).dsn;
  return {
    notify: dsn?.notify?.length ? dsn.notify.map((value) => value.toUpperCase()).join(',') : null,
    orcpt: dsn?.orcpt ?? null,
  };
}

/** Reads the DATA stream into one Buffer, keeping nothing past the size limit (null then). */
export function readMessage(stream: SMTPServerDataStream, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    stream.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length <= limit) chunks.push(chunk);
    });
    stream.on('end', () => resolve(stream.sizeExceeded || length > limit ? null : Buffer.concat(chunks, length)));
    stream.on('error', reject);
  });
}

/**
 * Replies to pipelined commands are small separate writes; with Nagle's algorithm the second one
 * waits for the client's delayed ACK (up to 40 ms) before leaving. Turned off on every connection.
 */
export function disableNagle(server: SMTPServer): void {
  server.server.on('connection', (socket: Socket) => socket.setNoDelay(true));
}

/** The reverse-path of the session's transaction, '' for the null sender. */
export function mailFromOf(session: SMTPServerSession): string {
  return (session.envelope.mailFrom && session.envelope.mailFrom.address) || '';
}

/**
 * smtp-server options both front ends share: the ESMTP extensions announced (PIPELINING RFC 2920,
 * 8BITMIME RFC 6152, SMTPUTF8 RFC 6531, DSN RFC 3461, ENHANCEDSTATUSCODES RFC 2034; SIZE RFC 1870
 * from limits.maxMessageBytes), the connection limits, the timeouts, and TLS 1.2 at least with
 * forward-secret AEAD suites only (src/tls/server-options.ts).
 */
export function sharedServerOptions(config: Config): SMTPServerOptions {
  return {
    name: config.hostname,
    ...hardenedTlsOptions(),
    size: config.limits.maxMessageBytes,
    hideSTARTTLS: false,
    hidePIPELINING: false,
    hide8BITMIME: false,
    hideSMTPUTF8: false,
    hideDSN: false,
    hideENHANCEDSTATUSCODES: false,
    maxClients: config.limits.maxConnections,
    socketTimeout: 5 * 60_000, // RFC 5321 section 4.5.3.2.7: at least 5 minutes
    closeTimeout: config.limits.shutdownGraceSeconds * 1000,
    logger: false,
  };
}
