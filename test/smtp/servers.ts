// The SMTP servers without the daemon: createMta / createSubmission with the real router, commit
// batcher, authenticator and allowlist on a temporary store, listening on a loopback port.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import pino from 'pino';
import type { SMTPServer } from 'smtp-server';
import { Authenticator } from '../../src/auth/authenticator';
import { Router } from '../../src/delivery/router';
import { MailboxChanges } from '../../src/store/mailbox-changes';
import { loadTrustSpaceFile } from '../../src/policy/trustspace';
import { createMta } from '../../src/smtp/mta';
import { createSubmission } from '../../src/smtp/submission';
import { CommitBatcher } from '../../src/store/commit-batcher';
import type { Db } from '../../src/store/database';
import { serverTlsOptions } from '../../src/tls/server-options';
import { realAllowlist } from '../helpers/daemon';
import { freshDb, tempDir, testConfig } from '../jobs/fixtures';

export const DOMAINS = { mssante: ['mssd-test.mssante.fr'], internal: ['hopital-test.fr'] };

export interface SmtpWorld {
  db: Db;
  port: number;
  /** The development CA: clients trust it, peer certificates are issued from it. */
  ca: { certPem: string; keyPem: string };
  /** INBOX contents of a box, oldest first. */
  inbox(login: string): Buffer[];
}

export async function smtpWorld(
  t: { teardown(fn: () => unknown): void },
  kind: 'mta' | 'submission' | 'submissions',
  options: { requireClientCertificate?: boolean } = {},
): Promise<SmtpWorld> {
  const dir = tempDir('mssd-smtp-');
  const db = freshDb(t, dir);
  const config = testConfig(dir, (c) => {
    c.hostname = 'mx.mssd-test.mssante.fr';
    c.domains = { ...c.domains, ...DOMAINS };
    c.trustSpace.allowlistFile = realAllowlist;
    c.limits.maxMessageBytes = 64 * 1024;
    if (options.requireClientCertificate) c.tls.requireClientCertificate = true;
  });
  const log = pino({ level: 'silent' });
  const tlsOptions = serverTlsOptions(config);
  const tls = { key: tlsOptions.key, cert: tlsOptions.cert, ca: tlsOptions.ca };
  const trustSpace = loadTrustSpaceFile(realAllowlist);
  const batcher = new CommitBatcher(db);
  const router = new Router(db, batcher, config, new MailboxChanges(), () => trustSpace);
  const server: SMTPServer =
    kind === 'mta'
      ? createMta({ config, log, router, batcher, trustSpace: () => trustSpace, tls })
      : createSubmission({ config, log, router, batcher, authenticator: new Authenticator(db, log), tls }, kind);
  await new Promise<void>((resolve) => server.server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (server.server.address() as net.AddressInfo).port;
  return {
    db,
    port,
    ca: { certPem: readFileSync(tlsOptions.caFile!, 'utf8'), keyPem: readFileSync(tlsOptions.caFile!.replace(/\.pem$/, '.key'), 'utf8') },
    inbox: (login) =>
      (
        db
          .prepare(
            `SELECT b.content FROM messages m JOIN mailboxes mb ON mb.id = m.mailbox_id JOIN accounts a ON a.id = mb.account_id
             JOIN bodies b ON b.hash = m.body_hash WHERE a.login = ? AND mb.name = 'INBOX' ORDER BY m.uid`,
          )
          .all(login) as Array<{ content: Buffer }>
      ).map((row) => row.content),
  };
}

/** A plain SMTP conversation: the greeting, then each command's complete (multi-line) reply. */
export async function plainConversation(port: number, commands: string[]): Promise<string[]> {
  const socket = net.connect(port, '127.0.0.1');
  let buffer = '';
  let wake: (() => void) | null = null;
  socket.on('data', (chunk) => {
    buffer += chunk.toString('utf8');
    wake?.();
  });
  const reply = async (): Promise<string> => {
    for (;;) {
      const end = /^\d{3} [^\r\n]*\r\n/m.exec(buffer);
      if (end) {
        const text = buffer.slice(0, end.index + end[0].length);
        buffer = buffer.slice(text.length);
        return text;
      }
      await new Promise<void>((resolve) => (wake = resolve));
    }
  };
  try {
    const replies = [await reply()];
    for (const command of commands) {
      socket.write(`${command}\r\n`);
      replies.push(await reply());
    }
    return replies;
  } finally {
    socket.destroy();
  }
}
