// A peer MSSanté operator for relay tests: a small smtp-server with STARTTLS (its server
// certificate from a test CA) that asks for the client certificate and records, for every
// message it accepts, the envelope with its DSN parameters, the TLS facts and the bytes.
// `respond` decides replies per stage, so a test can make the peer refuse or defer.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { SMTPServer, type SMTPServerAddress, type SMTPServerSession } from 'smtp-server';
import { createCertificateAuthority, issueCertificate, type CertificateAndKey } from '../../src/tls/certificates';
import { dnOfCertificate } from '../../src/policy/trustspace';

export interface PeerRecipient {
  address: string;
  notify: string[] | null;
  orcpt: string | null;
}

export interface PeerMessage {
  from: string;
  to: PeerRecipient[];
  envid: string | null;
  ret: string | null;
  raw: Buffer;
  clientDn: string | null;
  clientAuthorized: boolean;
  tlsProtocol: string | null;
  receivedAt: number;
}

export type PeerStage = 'mail' | 'rcpt' | 'data';

export class PeerReply extends Error {
  responseCode: number;
  constructor(code: number, text: string) {
    super(text);
    this.responseCode = code;
  }
}

/** Returns a reply to refuse with, or null to accept. */
export type PeerResponder = (stage: PeerStage, detail: { from: string; to?: string; session: SMTPServerSession; count: number }) => PeerReply | null;

export interface Peer {
  port: number;
  messages: PeerMessage[];
  /** Every connection's TLS facts, including those that sent nothing. */
  connections: number;
  respond: PeerResponder;
  close(): Promise<void>;
  /** Resolves once `n` messages were accepted in all (or rejects after `ms`). */
  waitFor(n: number, ms?: number): Promise<PeerMessage[]>;
}

/** A CA standing for the IGC-Santé in tests, and the certificates the daemon and the peer use. */
export interface TestPki {
  ca: CertificateAndKey;
  caFile: string;
  /** The daemon's operator certificate (client), as files for relay.certFile/keyFile. */
  daemonCertFile: string;
  daemonKeyFile: string;
  daemonDn: string;
  /** The peer's server certificate (127.0.0.1 and localhost). */
  peerServer: CertificateAndKey;
}

export function makeTestPki(dir: string): TestPki {
  const ca = createCertificateAuthority({ CN: 'IGC-Sante Test CA', O: 'Tests', C: 'FR' }, 2);
  const daemon = issueCertificate(ca, { subject: { CN: 'mx.mssd-test.mssante.fr', O: 'MSSD Test', C: 'FR' }, usage: 'client', days: 2 });
  const peerServer = issueCertificate(ca, { subject: { CN: 'mx.peer.example' }, altNames: ['127.0.0.1', 'localhost'], usage: 'server', days: 2 });
  const caFile = path.join(dir, 'test-ca.pem');
  const daemonCertFile = path.join(dir, 'relay-client.pem');
  const daemonKeyFile = path.join(dir, 'relay-client.key');
  writeFileSync(caFile, ca.certPem);
  writeFileSync(daemonCertFile, daemon.certPem);
  writeFileSync(daemonKeyFile, daemon.keyPem);
  return { ca, caFile, daemonCertFile, daemonKeyFile, daemonDn: 'CN=mx.mssd-test.mssante.fr,O=MSSD Test,C=FR', peerServer };
}

export interface PeerOptions {
  pki: TestPki;
  port?: number;
  /** No STARTTLS offered at all (a peer that cannot do TLS). */
  noTls?: boolean;
  /** No DSN extension offered. */
  hideDsn?: boolean;
  respond?: PeerResponder;
}

export async function startPeer(options: PeerOptions): Promise<Peer> {
  const messages: PeerMessage[] = [];
  const tlsBySession = new Map<string, { dn: string | null; authorized: boolean; protocol: string | null }>();
  const counts = { mail: 0, rcpt: 0, data: 0 };
  const waiters: Array<() => void> = [];
  let connections = 0;
  const peer: Peer = {
    port: 0,
    messages,
    get connections() {
      return connections;
    },
    respond: options.respond ?? (() => null),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    waitFor(n, ms = 20_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`peer got ${messages.length} message(s), expected ${n}`)), ms);
        const check = () => {
          if (messages.length >= n) {
            clearTimeout(timer);
            resolve(messages);
          } else {
            waiters.push(check);
          }
        };
        check();
      });
    },
  };
  const server = new SMTPServer({
    name: 'mx.peer.example',
    secure: false,
    key: options.pki.peerServer.keyPem,
    cert: options.pki.peerServer.certPem,
    ca: options.pki.ca.certPem,
    requestCert: true,
    rejectUnauthorized: false,
    minVersion: 'TLSv1.2',
    authOptional: true,
    disabledCommands: options.noTls ? ['AUTH', 'STARTTLS'] : ['AUTH'],
    hideSTARTTLS: options.noTls ?? false,
    hideDSN: options.hideDsn ?? false,
    logger: false,
    onConnect(_session, callback) {
      connections++;
      callback();
    },
    onSecure(socket, session, callback) {
      const tls = socket as TLSSocket;
      const cert = tls.getPeerCertificate();
      const presented = Boolean(cert && Object.keys(cert).length > 0);
      tlsBySession.set(session.id, { dn: presented ? dnOfCertificate(cert) : null, authorized: presented && tls.authorized, protocol: tls.getProtocol() });
      callback();
    },
    onMailFrom(address, session, callback) {
      const tls = tlsBySession.get(session.id);
      if (!options.noTls && (!tls || !tls.authorized)) return callback(new PeerReply(550, '5.7.1 Operator certificate required'));
      counts.mail++;
      callback(peer.respond('mail', { from: address.address, session, count: counts.mail }) ?? undefined);
    },
    onRcptTo(address, session, callback) {
      counts.rcpt++;
      callback(peer.respond('rcpt', { from: (session.envelope.mailFrom && session.envelope.mailFrom.address) || '', to: address.address, session, count: counts.rcpt }) ?? undefined);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        counts.data++;
        const from = (session.envelope.mailFrom && session.envelope.mailFrom.address) || '';
        const refusal = peer.respond('data', { from, session, count: counts.data });
        if (refusal) return callback(refusal);
        const tls = tlsBySession.get(session.id);
        const dsn = (session.envelope as { dsn?: { envid?: string; ret?: string } }).dsn;
        messages.push({
          from,
          to: session.envelope.rcptTo.map((rcpt: SMTPServerAddress) => {
            const params = (rcpt as { dsn?: { notify?: string[]; orcpt?: string } }).dsn;
            return { address: rcpt.address, notify: params?.notify ?? null, orcpt: params?.orcpt ?? null };
          }),
          envid: dsn?.envid ?? null,
          ret: dsn?.ret ?? null,
          raw: Buffer.concat(chunks),
          clientDn: tls?.dn ?? null,
          clientAuthorized: tls?.authorized ?? false,
          tlsProtocol: tls?.protocol ?? null,
          receivedAt: Date.now(),
        });
        callback(null, 'Queued at the peer');
        for (const waiter of waiters.splice(0)) waiter();
      });
    },
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  peer.port = (server.server.address() as { port: number }).port;
  return peer;
}
