// The submission server (RFC 6409): the operator's own users' mail clients send here, on
// listen.submission (587-style, STARTTLS required before AUTH, RFC 3207) and listen.submissions
// (465-style, implicit TLS, RFC 8314). Extensions as on the MTA (PIPELINING, 8BITMIME, SMTPUTF8,
// SIZE, DSN, ENHANCEDSTATUSCODES) plus AUTH PLAIN and LOGIN (RFC 4954), offered only under TLS.
//
// Who may send what (DESIGN.md R1–R6) is decided by the router and src/policy; this file only
// speaks SMTP:
// - AUTH: src/auth/authenticator.ts (shared with IMAP), replies per RFC 4954 section 6;
// - MAIL FROM must be an address the person may send from (own, or an ORG they are linked to);
// - RCPT TO: each recipient judged at once, with the refusal's own code and sentence;
// - DATA: one From: and at most one Sender: (RFC 5322 section 3.6), whose addresses must be
//   theirs too, well-formed To:/Cc:; Bcc is removed, Date and
//   Message-ID added when missing; then one durable commit (local boxes + outbound queue) before
//   the 250 (R14).
//
// Decision: a From: that is not the user's is refused after DATA with 550 5.7.1, not 553: RFC 5321
// section 4.3.2 lists 550 (policy) among the replies to the end of DATA and 553 only for MAIL/RCPT.
import type { TLSSocket } from 'node:tls';
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import type { AuthenticatedAccount, Authenticator } from '../auth/authenticator';
import type { Config } from '../config/schema';
import type { EnvelopeRecipient, RemoteRecipient, Router, SubmissionRecipient, Submitter } from '../delivery/router';
import { analyzeMessage } from '../mime';
import { toCrlf } from '../mime/crlf';
import type { BoxType } from '../policy/box-types';
import { submittedHeaderRefusal } from '../policy/header-rules';
import { printable } from '../policy/submission-rules';
import { recordAudit } from '../store/audit';
import type { CommitBatcher } from '../store/commit-batcher';
import type { Logger } from '../util/log';
import { NoiseLog } from '../util/connection-noise';
import { noMetrics, type Metrics } from '../util/metrics';
import { installAuthAfterTls } from './auth-after-tls';
import { oauthErrorJson } from '../auth/login-texts';
import { submissionAuthRefusal } from './auth-replies';
import { installOAuthBearer, OAUTH_FAILURE_TEXT, type SessionWithOAuthFailure } from './sasl-oauth';
import { ConnectionLimiter } from '../util/connection-limits';
import { newQueueId } from '../util/queue-id';
import { installDeadlines } from './deadlines';
import { reply, SmtpReply } from './replies';
import { disableNagle, envelopeDsn, mailFromOf, readMessage, recipientDsn, sharedServerOptions } from './session';
import { addressFieldsOf, fixSubmittedMessage } from './submitted-message';
import { traceHeaders } from './trace';

export interface SubmissionDeps {
  config: Config;
  log: Logger;
  router: Router;
  batcher: CommitBatcher;
  authenticator: Authenticator;
  tls: { key: string; cert: string; ca: string | undefined };
  /** Counters for GET /metrics (src/util/metrics.ts); none when absent. */
  metrics?: Metrics;
}

/** 'submission': plain connection, STARTTLS then AUTH. 'submissions': TLS from the first byte. */
export type SubmissionMode = 'submission' | 'submissions';

interface SessionState {
  tlsProtocol: string | null;
  tlsCipher: string | null;
  /** Set at MAIL FROM: who the message is sent as, and every address the person may use. */
  sender: { senderType: BoxType; sendable: string[] } | null;
  recipients: SubmissionRecipient[];
}

function accountOf(session: SMTPServerSession): AuthenticatedAccount | null {
  const user = session.user as unknown;
  return user && typeof user === 'object' && 'accountId' in user ? (user as AuthenticatedAccount) : null;
}

export function createSubmission(deps: SubmissionDeps, mode: SubmissionMode): SMTPServer {
  const { config, log, router, batcher, authenticator } = deps;
  const metrics = deps.metrics ?? noMetrics;
  const noise = new NoiseLog(log, { smtp: mode });
  installAuthAfterTls();
  installOAuthBearer();
  const limiter = new ConnectionLimiter(config.limits.maxConnectionsPerIp);
  const states = new Map<string, SessionState>();
  const stateOf = (session: SMTPServerSession): SessionState => {
    let state = states.get(session.id);
    if (!state) {
      state = { tlsProtocol: null, tlsCipher: null, sender: null, recipients: [] };
      states.set(session.id, state);
    }
    return state;
  };

  const refuse = (session: SMTPServerSession, stage: string, detail: { from?: string; to?: string }, err: SmtpReply): SmtpReply => {
    const account = accountOf(session);
    log.info(
      { smtp: mode, stage, session: session.id, peer: session.remoteAddress, login: account?.login ?? null, outcome: 'refused', reply: `${err.responseCode} ${err.message}`, ...detail },
      'submission refused',
    );
    recordAudit(
      batcher,
      {
        event: 'smtp',
        source: 'submission',
        peer: session.remoteAddress,
        authLogin: account?.login ?? null,
        mailFrom: detail.from ?? null,
        recipients: detail.to !== undefined ? [detail.to] : undefined,
        outcome: 'refused',
        detail: `${stage}: ${err.responseCode} ${err.message}`,
      },
      (auditErr) => log.error({ err: auditErr }, 'audit write failed'),
    );
    metrics.smtpMessage(mode, 'refused');
    return err;
  };

  const options: SMTPServerOptions & { authAfterTls: boolean } = {
    ...sharedServerOptions(config),
    banner: 'mssd MSSanté submission',
    secure: mode === 'submissions',
    key: deps.tls.key,
    cert: deps.tls.cert,
    ca: deps.tls.ca,
    authAfterTls: true,
    // Bearer tokens (R16) only when an issuer is configured.
    authMethods: ['PLAIN', 'LOGIN', ...(authenticator.acceptsTokens ? ['OAUTHBEARER', 'XOAUTH2'] : [])],
    authOptional: false,
    authRequiredMessage: '5.7.0 Authentication required: use STARTTLS, then sign in with your login and password (AUTH) before sending',

    onConnect(session, callback) {
      if (!limiter.tryAcquire(session.remoteAddress)) {
        noise.report('connection-limit', { peer: session.remoteAddress });
        metrics.connectionRefused(mode);
        return callback(new SmtpReply(421, '4.7.0', 'Too many connections from your address, try again later'));
      }
      stateOf(session);
      callback();
    },

    onSecure(socket, session, callback) {
      const tlsSocket = socket as TLSSocket;
      const state = stateOf(session);
      state.tlsProtocol = tlsSocket.getProtocol();
      state.tlsCipher = tlsSocket.getCipher()?.name ?? null;
      deadlines.secured(tlsSocket, session);
      callback();
    },

    onAuth(auth, session, callback) {
      if (!session.secure) return callback(new SmtpReply(538, '5.7.11', 'Encryption required for requested authentication mechanism: issue STARTTLS first'));
      const bearer = auth.method === 'XOAUTH2' || (auth.method as string) === 'OAUTHBEARER';
      const login = auth.username ?? '';
      // RFC 4954 section 4 (as IMAP does): an authorization identity other than the one
      // authenticated is refused, not ignored.
      const authzid = (auth as { authzid?: string }).authzid ?? '';
      const authcid = (auth as { authcid?: string }).authcid ?? '';
      if (auth.method === 'PLAIN' && authzid !== '' && authcid !== '' && authzid.toLowerCase() !== authcid.toLowerCase()) {
        log.info({ smtp: mode, peer: session.remoteAddress, login: printable(authcid), authzid: printable(authzid), outcome: 'refused' }, 'authorization identity refused');
        return callback(new SmtpReply(535, '5.7.8', `Signing in on behalf of another user (${printable(authzid)}) is not allowed: leave the authorization identity empty`));
      }
      const attempt = bearer
        ? authenticator.authenticateToken(login, (auth as { accessToken?: string }).accessToken ?? '', session.remoteAddress, 'submission')
        : authenticator.authenticate(login, auth.password ?? '', session.remoteAddress, 'submission');
      attempt
        .then((result) => {
          if (result.ok) return callback(null, { user: result.account });
          const refusal = submissionAuthRefusal(result, login, authenticator.passwordLogins);
          if (bearer && refusal.responseCode === 535) {
            // RFC 7628 section 3.2.2: the error JSON first, our sentence in the final 535.
            (session as SessionWithOAuthFailure)[OAUTH_FAILURE_TEXT] = refusal.message;
            return callback(null, { data: oauthErrorJson(authenticator.tokenIssuer) } as never);
          }
          return callback(refusal);
        })
        .catch((err: unknown) => {
          log.error({ smtp: mode, peer: session.remoteAddress, err }, 'authentication error');
          callback(new SmtpReply(454, '4.7.0', 'Temporary authentication failure, try again later'));
        });
    },

    onMailFrom(address, session, callback) {
      const account = accountOf(session);
      const state = stateOf(session);
      state.sender = null;
      state.recipients = [];
      const from = address.address;
      if (!account) return callback(new SmtpReply(530, '5.7.0', 'Authentication required'));
      // R16: a device revoked or an account suspended since AUTH sends nothing more.
      const invalid = authenticator.stillValid(account);
      if (invalid) {
        const why = invalid === 'device-revoked' ? 'This device was revoked: sign in again with a valid device password' : 'Your account is no longer active: contact your administrator';
        return callback(refuse(session, 'mail', { from }, new SmtpReply(550, '5.7.1', why)));
      }
      const check = router.checkSubmissionSender(account.accountId, account.type, from);
      if (!check.ok) return callback(refuse(session, 'mail', { from }, reply(check)));
      state.sender = { senderType: check.senderType, sendable: check.sendable };
      callback();
    },

    onRcptTo(address, session, callback) {
      const account = accountOf(session);
      const state = stateOf(session);
      const from = mailFromOf(session);
      if (!account || !state.sender) return callback(new SmtpReply(503, '5.5.1', 'Error: need MAIL command'));
      const submitter: Submitter = { accountId: account.accountId, accountType: account.type, senderType: state.sender.senderType };
      const check = router.checkSubmissionRecipient(submitter, address.address, state.recipients, recipientDsn(address));
      if (!check.ok) return callback(refuse(session, 'rcpt', { from, to: address.address }, reply(check)));
      if (!check.duplicate) state.recipients.push(check.recipient);
      callback();
    },

    onData(stream, session, callback) {
      const started = Date.now();
      const account = accountOf(session);
      const state = stateOf(session);
      const mailFrom = mailFromOf(session);
      const queueId = newQueueId();
      deadlines.data(session, stream);
      readMessage(stream, config.limits.maxMessageBytes)
        .then(async (received) => {
          if (!received) {
            return callback(refuse(session, 'data', { from: mailFrom }, new SmtpReply(552, '5.3.4', `Message too big: this server accepts at most ${config.limits.maxMessageBytes} bytes`)));
          }
          if (!account || !state.sender) return callback(new SmtpReply(503, '5.5.1', 'Error: need MAIL command'));
          const body = toCrlf(received);
          const analysis = analyzeMessage(body);
          // RFC 5322 section 3.6 and R6: one From:, at most one Sender:, well-formed To:/Cc:, and
          // only addresses the person may send as (src/policy/header-rules.ts).
          const refusal = submittedHeaderRefusal(addressFieldsOf(analysis.header), state.sender.sendable);
          if (refusal) return callback(refuse(session, 'data', { from: mailFrom }, new SmtpReply(refusal.code, refusal.enhanced, refusal.message)));
          const receivedAt = Date.now();
          const fixed = fixSubmittedMessage(body, analysis.header, { hostname: config.hostname, queueId, now: new Date(receivedAt) });
          const recipients = state.recipients;
          const trace = traceHeaders({
            mailFrom,
            helo: session.hostNameAppearsAs,
            peerAddress: session.remoteAddress,
            hostname: config.hostname,
            queueId,
            tlsProtocol: state.tlsProtocol,
            tlsCipher: state.tlsCipher,
            authenticated: true,
            utf8: Boolean((session.envelope as { utf8?: boolean }).utf8),
            recipients: recipients.map((rcpt) => rcpt.address),
            date: new Date(receivedAt),
          });
          const raw = Buffer.concat([trace, fixed.raw]);
          const local: EnvelopeRecipient[] = [];
          const remote: RemoteRecipient[] = [];
          for (const rcpt of recipients) {
            if (rcpt.kind === 'local') local.push({ address: rcpt.address, orcpt: rcpt.orcpt, notify: rcpt.notify, box: rcpt.box });
            else remote.push({ address: rcpt.address, orcpt: rcpt.orcpt, notify: rcpt.notify });
          }
          const result = await router.deliver(
            {
              source: 'submission',
              queueId,
              receivedAt,
              peerAddress: session.remoteAddress,
              helo: session.hostNameAppearsAs,
              tlsProtocol: state.tlsProtocol,
              clientDn: null,
              authLogin: account.login,
              mailFrom,
              ...envelopeDsn(session),
              recipients: local,
              remote,
              senderAccountId: account.accountId,
            },
            raw,
          );
          log.info(
            {
              smtp: mode,
              queueId,
              messageId: result.messageId,
              peer: session.remoteAddress,
              login: account.login,
              from: mailFrom,
              local: local.map((rcpt) => rcpt.address),
              remote: remote.map((rcpt) => rcpt.address),
              size: raw.length,
              removedBcc: fixed.removedBcc,
              addedDate: fixed.addedDate,
              addedMessageId: fixed.addedMessageId,
              outcome: remote.length === 0 ? 'delivered' : local.length === 0 ? 'queued' : 'delivered+queued',
              ms: Date.now() - started,
            },
            'message submitted',
          );
          metrics.smtpMessage(mode, 'delivered', (Date.now() - started) / 1000);
          callback(null, `Message accepted as ${queueId}`);
        })
        .catch((err: unknown) => {
          log.error({ smtp: mode, queueId, peer: session.remoteAddress, login: account?.login ?? null, from: mailFrom, outcome: 'failed', err }, 'message not stored');
          metrics.smtpMessage(mode, 'failed', (Date.now() - started) / 1000);
          callback(new SmtpReply(451, '4.3.0', `Local error, the message was not accepted (${queueId}); please try again later`));
        });
    },

    onClose(session) {
      if (states.delete(session.id)) limiter.release(session.remoteAddress);
      deadlines.closed(session);
    },
  };
  const server = new SMTPServer(options);
  const deadlines = installDeadlines(server, { listener: mode, implicitTls: mode === 'submissions', config, log });
  disableNagle(server);
  // A client's own TLS or socket trouble is one quiet line; anything else needs a human.
  server.on('error', (err) => noise.reportError(err) || log.error({ smtp: mode, err }, 'smtp server error'));
  return server;
}
