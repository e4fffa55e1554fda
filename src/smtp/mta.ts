// The inbound MTA (listen.smtp): receives mail from the other MSSanté operators.
// RFC 5321 with STARTTLS (RFC 3207), PIPELINING (RFC 2920), 8BITMIME (RFC 6152), SMTPUTF8
// (RFC 6531), SIZE (RFC 1870), DSN (RFC 3461) and ENHANCEDSTATUSCODES (RFC 2034, 3463).
import type { TLSSocket } from 'node:tls';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import type { Config } from '../config/schema';
import type { EnvelopeRecipient, Router } from '../delivery/router';
import { dnOfCertificate, type TrustSpace } from '../policy/trustspace';
import { inboundSenderDecision } from '../policy/routing-rules';
import { recordAudit } from '../store/audit';
import type { CommitBatcher } from '../store/commit-batcher';
import { toCrlf } from '../mime/crlf';
import { parseHeaderBlock } from '../mime/headers';
import { fromFieldCountRefusal } from '../policy/header-rules';
import type { Logger } from '../util/log';
import { NoiseLog } from '../util/connection-noise';
import { noMetrics, type Metrics } from '../util/metrics';
import { ConnectionLimiter } from '../util/connection-limits';
import { installDeadlines, type SmtpDeadlines } from './deadlines';
import { keepOwnEnhancedCodes, reply, SmtpReply } from './replies';
import { declaredSize, disableNagle, envelopeDsn, readMessage, recipientDsn, sharedServerOptions } from './session';
import { newQueueId } from '../util/queue-id';
import { traceHeaders } from './trace';

/** RFC 5321 section 4.5.3.1.8: a server must accept at least 100 recipients per transaction. */
const MAX_MTA_RECIPIENTS = 100;

export interface MtaDeps {
  config: Config;
  log: Logger;
  router: Router;
  batcher: CommitBatcher;
  /** The current allowlist; a function so that a refreshed list applies without restart. */
  trustSpace: () => TrustSpace;
  tls: { key: string; cert: string; ca: string | undefined };
  /** Counters for GET /metrics (src/util/metrics.ts); none when absent. */
  metrics?: Metrics;
}

/** What the TLS handshake told us about the peer, kept for the whole connection. */
interface PeerTls {
  protocol: string | null;
  cipher: string | null;
  clientDn: string | null;
  certificateTrusted: boolean;
  certificateError: string | null;
}

export function createMta(deps: MtaDeps): SMTPServer {
  const { config, log, router, batcher } = deps;
  const metrics = deps.metrics ?? noMetrics;
  const noise = new NoiseLog(log, { smtp: 'mta' });
  keepOwnEnhancedCodes();
  const limiter = new ConnectionLimiter(config.limits.maxConnectionsPerIp);
  const peers = new Map<string, PeerTls>();
  const recipientsBySession = new Map<string, EnvelopeRecipient[]>();
  const ownDomains = [...config.domains.mssante, ...config.domains.internal];
  let deadlines: SmtpDeadlines | null = null;

  const refuse = (session: SMTPServerSession, stage: string, detail: Record<string, unknown>, err: SmtpReply) => {
    log.info(
      { smtp: 'mta', stage, session: session.id, peer: session.remoteAddress, outcome: 'refused', reply: `${err.responseCode} ${err.message}`, ...detail },
      'smtp transaction refused',
    );
    recordAudit(
      batcher,
      {
        event: 'smtp',
        source: 'mta',
        peer: session.remoteAddress,
        mailFrom: typeof detail.from === 'string' ? detail.from : (session.envelope.mailFrom || undefined)?.address ?? null,
        recipients: typeof detail.to === 'string' ? [detail.to] : undefined,
        outcome: 'refused',
        detail: `${stage}: ${err.responseCode} ${err.message}`,
      },
      (auditErr) => log.error({ err: auditErr }, 'audit write failed'),
    );
    metrics.smtpMessage('mta', 'refused');
    return err;
  };

  const server = new SMTPServer({
    ...sharedServerOptions(config),
    banner: 'mssd MSSanté MTA',
    secure: false,
    key: deps.tls.key,
    cert: deps.tls.cert,
    ca: deps.tls.ca,
    // Ask every peer for its operator certificate; whether it may be missing is decided at MAIL
    // FROM with a proper SMTP reply rather than by a failed handshake.
    requestCert: true,
    rejectUnauthorized: false,
    authOptional: true,
    disabledCommands: ['AUTH'],

    onConnect(session, callback) {
      if (!limiter.tryAcquire(session.remoteAddress)) {
        noise.report('connection-limit', { peer: session.remoteAddress });
        metrics.connectionRefused('mta');
        return callback(new SmtpReply(421, '4.7.0', 'Too many connections from your address, try again later'));
      }
      peers.set(session.id, { protocol: null, cipher: null, clientDn: null, certificateTrusted: false, certificateError: null });
      callback();
    },

    onSecure(socket, session, callback) {
      const tlsSocket = socket as TLSSocket;
      const certificate = tlsSocket.getPeerCertificate();
      const presented = Boolean(certificate && Object.keys(certificate).length > 0);
      peers.set(session.id, {
        protocol: tlsSocket.getProtocol(),
        cipher: tlsSocket.getCipher()?.name ?? null,
        clientDn: presented ? dnOfCertificate(certificate) : null,
        certificateTrusted: presented && tlsSocket.authorized,
        certificateError: presented && !tlsSocket.authorized ? String(tlsSocket.authorizationError) : null,
      });
      deadlines?.secured(tlsSocket, session);
      callback();
    },

    onMailFrom(address, session, callback) {
      const peer = peers.get(session.id);
      const from = address.address;
      // R1: TLS on every port; the trust space is judged on the TLS identity of the peer.
      if (!session.secure || !peer) {
        return callback(refuse(session, 'mail', { from }, new SmtpReply(530, '5.7.0', 'Must issue a STARTTLS command first: this MSSanté server accepts mail over TLS only')));
      }
      if (peer.clientDn && !peer.certificateTrusted) {
        return callback(
          refuse(session, 'mail', { from, clientDn: peer.clientDn }, new SmtpReply(550, '5.7.1', `Your client certificate (${peer.clientDn}) is not issued by a certification authority this operator trusts (${peer.certificateError})`)),
        );
      }
      const decision = inboundSenderDecision({
        mailFrom: from,
        clientDn: peer.clientDn,
        requireClientCertificate: config.tls.requireClientCertificate,
        ownDomains,
        trustSpace: deps.trustSpace(),
      });
      if (!decision.ok) return callback(refuse(session, 'mail', { from, clientDn: peer.clientDn }, reply(decision)));
      recipientsBySession.set(session.id, []);
      deadlines?.identified(session);
      callback();
    },

    onRcptTo(address, session, callback) {
      const recipients = recipientsBySession.get(session.id) ?? [];
      if (recipients.length >= MAX_MTA_RECIPIENTS) {
        return callback(new SmtpReply(452, '4.5.3', `Too many recipients: at most ${MAX_MTA_RECIPIENTS} per message, send the rest in another transaction`));
      }
      const check = router.checkMtaRecipient(address.address, declaredSize(session));
      if (!check.ok) return callback(refuse(session, 'rcpt', { from: session.envelope.mailFrom && session.envelope.mailFrom.address, to: address.address }, reply(check)));
      recipients.push({ address: address.address, ...recipientDsn(address), box: check.box });
      recipientsBySession.set(session.id, recipients);
      callback();
    },

    onData(stream, session, callback) {
      const started = Date.now();
      const peer = peers.get(session.id);
      const recipients = recipientsBySession.get(session.id) ?? [];
      const mailFrom = (session.envelope.mailFrom && session.envelope.mailFrom.address) || '';
      const queueId = newQueueId();
      deadlines?.data(session, stream);
      readMessage(stream, config.limits.maxMessageBytes)
        .then(async (body) => {
          if (!body) {
            return callback(
              refuse(session, 'data', { from: mailFrom }, new SmtpReply(552, '5.3.4', `Message too big: this server accepts at most ${config.limits.maxMessageBytes} bytes`)),
            );
          }
          const message = toCrlf(body);
          // RFC 5322 section 3.6: exactly one From:, or readers may be shown another author.
          const fromFields = parseHeaderBlock(message, 0, message.length).filter((field) => field.key === 'from').length;
          const malformed = fromFieldCountRefusal(fromFields);
          if (malformed) {
            return callback(refuse(session, 'data', { from: mailFrom }, new SmtpReply(malformed.code, malformed.enhanced, malformed.message)));
          }
          const receivedAt = Date.now();
          const trace = traceHeaders({
            mailFrom,
            helo: session.hostNameAppearsAs,
            peerAddress: session.remoteAddress,
            hostname: config.hostname,
            queueId,
            tlsProtocol: peer?.protocol ?? null,
            tlsCipher: peer?.cipher ?? null,
            authenticated: false,
            utf8: Boolean((session.envelope as { utf8?: boolean }).utf8),
            recipients: recipients.map((rcpt) => rcpt.address),
            date: new Date(receivedAt),
          });
          const raw = Buffer.concat([trace, message]);
          const result = await router.deliver(
            {
              source: 'mta',
              queueId,
              receivedAt,
              peerAddress: session.remoteAddress,
              helo: session.hostNameAppearsAs,
              tlsProtocol: peer?.protocol ?? null,
              clientDn: peer?.clientDn ?? null,
              authLogin: null,
              mailFrom,
              ...envelopeDsn(session),
              recipients,
            },
            raw,
          );
          log.info(
            {
              smtp: 'mta',
              queueId,
              messageId: result.messageId,
              peer: session.remoteAddress,
              clientDn: peer?.clientDn ?? null,
              from: mailFrom,
              to: recipients.map((rcpt) => rcpt.address),
              size: raw.length,
              outcome: 'delivered',
              ms: Date.now() - started,
            },
            'message delivered',
          );
          metrics.smtpMessage('mta', 'delivered', (Date.now() - started) / 1000);
          callback(null, `Message accepted as ${queueId}`);
        })
        .catch((err: unknown) => {
          log.error({ smtp: 'mta', queueId, peer: session.remoteAddress, from: mailFrom, outcome: 'failed', err }, 'message not stored');
          metrics.smtpMessage('mta', 'failed', (Date.now() - started) / 1000);
          callback(new SmtpReply(451, '4.3.0', `Local error, the message was not accepted (${queueId}); please try again later`));
        });
    },

    onClose(session) {
      if (peers.delete(session.id)) limiter.release(session.remoteAddress);
      recipientsBySession.delete(session.id);
      deadlines?.closed(session);
    },
  });
  deadlines = installDeadlines(server, { listener: 'mta', implicitTls: false, config, log });
  disableNagle(server);
  // A client's own TLS or socket trouble is one quiet line; anything else needs a human.
  server.on('error', (err) => noise.reportError(err) || log.error({ smtp: 'mta', err }, 'smtp server error'));
  return server;
}
