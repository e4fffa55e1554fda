// Shared by the IMAP mailbox end-to-end tests: imapflow clients against the daemon (STARTTLS on
// listen.imap or implicit TLS on listen.imaps, the development CA trusted), and mail delivered
// the way a peer MSSanté operator delivers it (the MTA, mutual TLS with an allowlisted DN).
import { readFileSync } from 'node:fs';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { issueCertificate } from '../../src/tls/certificates';
import { readCa, type TestEnv } from './daemon';
import { peerDomain } from './fixtures';

export async function imapClient(env: TestEnv, user: string, pass: string, mode: 'starttls' | 'imaps' = 'starttls'): Promise<ImapFlow> {
  const client = new ImapFlow({
    host: '127.0.0.1',
    port: mode === 'imaps' ? env.ports.imaps : env.ports.imap,
    secure: mode === 'imaps',
    doSTARTTLS: mode === 'starttls' ? true : undefined,
    tls: { ca: readFileSync(env.caFile), servername: 'localhost' },
    auth: { user, pass },
    logger: false,
    // The daemon is local: fail fast rather than wait a minute on a bug.
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  });
  await client.connect();
  return client;
}

let counter = 0;

export function testMessage(to: string, subject: string, from = 'dr.peer@example.org'): Buffer {
  counter++;
  return Buffer.from(
    [
      `From: Dr Émile Peer <${from}>`,
      `To: <${to}>`,
      `Subject: ${subject}`,
      'Date: Sun, 22 Nov 2026 10:00:00 +0100',
      `Message-ID: <mbx.${counter}.${Date.now()}@peer.example>`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
      '',
      `Bonjour, message ${counter} — résultats.`,
      '',
    ].join('\r\n'),
    'utf8',
  );
}

/** A peer operator of the real allowlist sending to `to` through the MTA (STARTTLS, client certificate). */
export function peerSender(env: TestEnv): (to: string, subject: string) => Promise<void> {
  const peer = peerDomain();
  const cert = issueCertificate(readCa(env), { subject: peer.dnFields, usage: 'client', days: 2 });
  const from = `dr.peer@${peer.domain}`;
  return async (to, subject) => {
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: env.ports.smtp,
      secure: false,
      requireTLS: true,
      name: 'mx.peer-operator.example',
      tls: { ca: readFileSync(env.caFile), cert: cert.certPem, key: cert.keyPem },
    });
    try {
      await transport.sendMail({ envelope: { from, to: [to] }, raw: testMessage(to, subject, from) });
    } finally {
      transport.close();
    }
  };
}
