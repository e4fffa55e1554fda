// The router: the one place that decides where a message goes. Front ends (the inbound MTA,
// submission, internal senders) ask it whether a recipient is acceptable at RCPT time, then hand
// it the whole message; it commits the message to every local box, and the remote recipients to
// the outbound queue, in one durable transaction (R14), before the front end answers 250.
//
// It also sends the success DSNs of local deliveries (R12): when a recipient asked for
// NOTIFY=SUCCESS, the report is committed in the same transaction as the delivery it reports,
// to the sender's INBOX when the sender is local, else to the outbound queue.
import { EventEmitter } from 'node:events';
import type { Config } from '../config/schema';
import { analyzeMessage } from '../mime';
import { isAllowedDestination, isOwnDomain, type TrustSpaceView } from '../policy/routing-rules';
import {
  isDuplicateRecipient,
  recipientSetRefusal,
  remoteRecipientRefusal,
  senderAddressRefusal,
} from '../policy/submission-rules';
import { buildDsn, isDeliveryReport, wantsNotification, type DsnRecipient } from '../smtp/dsn';
import { newQueueId, rfc5322Date } from '../smtp/trace';
import { listAddresses, listMemberships } from '../store/accounts';
import { findBox, type BoxRef, type BoxType } from '../store/boxes';
import { insertAudit } from '../store/audit';
import type { CommitBatcher } from '../store/commit-batcher';
import type { Db } from '../store/database';
import {
  appendMessage,
  bodyHash,
  inboxOf,
  insertDelivery,
  insertDeliveryRecipient,
  markDsnSent,
  retainBody,
  type AppendedMessage,
} from '../store/messages';
import { enqueueOutbound } from '../store/queue';

/** A refusal with its SMTP reply code, RFC 3463 enhanced code and a sentence for a human. */
export interface Refusal {
  code: number;
  enhanced: string;
  message: string;
}

export type RecipientCheck = { ok: true; box: BoxRef } | ({ ok: false } & Refusal);

export interface EnvelopeRecipient {
  address: string;
  /** RFC 3461 ORCPT and NOTIFY, kept for the DSN stage. */
  orcpt: string | null;
  notify: string | null;
  box: BoxRef;
}

/** A recipient of another operator (or a patient), committed to the outbound queue. */
export interface RemoteRecipient {
  address: string;
  orcpt: string | null;
  notify: string | null;
}

/** A recipient accepted at RCPT time on submission: a local box, or the outbound queue. */
export type SubmissionRecipient = ({ kind: 'local'; box: BoxRef } | { kind: 'remote' }) & RemoteRecipient;

export type SubmissionRecipientCheck =
  | { ok: true; recipient: SubmissionRecipient; duplicate: boolean }
  | ({ ok: false } & Refusal);

/** Who is submitting: the authenticated person, and the box they send as (MAIL FROM). */
export interface Submitter {
  accountId: number;
  accountType: BoxType;
  /** Type of the box owning MAIL FROM (an ORG when sending as it); the person's type for <>. */
  senderType: BoxType;
}

export interface InboundEnvelope {
  source: 'mta' | 'submission' | 'internal';
  queueId: string;
  receivedAt: number;
  peerAddress: string | null;
  helo: string | null;
  tlsProtocol: string | null;
  clientDn: string | null;
  authLogin: string | null;
  mailFrom: string;
  envid: string | null;
  ret: 'FULL' | 'HDRS' | null;
  /** Local recipients: delivered into their INBOX. */
  recipients: EnvelopeRecipient[];
  /** Remote recipients: one outbound queue entry (kind 'relay') in the same transaction. */
  remote?: RemoteRecipient[];
  senderAccountId?: number | null;
}

export interface DeliveryResult {
  messageId: string | null;
  appended: AppendedMessage[];
  /** The outbound queue entry holding the remote recipients, if any. */
  queued: string | null;
  /** Success DSNs committed with the delivery (R12). */
  reports: number;
}

/** What a commit changed, to announce once it is durable. */
export interface CommitEffects {
  appended: AppendedMessage[];
  queued: boolean;
}

/** A report (DSN) to hand to its recipient, built before the transaction that commits it. */
export interface Report {
  /** Where it goes: the original envelope sender. */
  to: string;
  raw: Buffer;
}

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

/**
 * Emits 'mailbox-changed' (mailboxId) after a commit that changed a mailbox, so IMAP sessions
 * can tell their clients at once (RFC 2177 IDLE).
 */
export class MailboxChanges extends EventEmitter {}

const NO_TRUST_SPACE: TrustSpaceView = {
  hasDomain: () => false,
  isDnAllowedForDomain: () => false,
  isDnListed: () => false,
};

export class Router {
  /** Called after a commit that added outbound queue entries (the relay worker's wake-up). */
  onQueued: (() => void) | null = null;

  constructor(
    private readonly db: Db,
    private readonly batcher: CommitBatcher,
    private readonly config: Config,
    readonly changes: MailboxChanges,
    /** The current allowlist (R1), a function so that a refreshed list applies at once. */
    private readonly trustSpace: () => TrustSpaceView = () => NO_TRUST_SPACE,
  ) {}

  /** Address of the reports this server writes (header From:; the envelope sender is <>). */
  get reportsFrom(): string {
    return `mailer-daemon@${this.config.domains.mssante[0]}`;
  }

  /**
   * RCPT TO on the inbound MTA: other operators may reach this operator's MSSanté addresses only
   * (logins are internal addresses, R2), and only active boxes that may receive from outside.
   */
  checkMtaRecipient(address: string): RecipientCheck {
    const domain = domainOf(address);
    if (!this.config.domains.mssante.includes(domain)) {
      return {
        ok: false,
        code: 550,
        enhanced: '5.7.1',
        message: `Relaying denied: ${domain} is not an MSSanté domain of this operator`,
      };
    }
    const box = findBox(this.db, address);
    if (!box || box.status !== 'active') {
      return { ok: false, code: 550, enhanced: '5.1.1', message: `Mailbox unavailable: <${address}> does not exist here` };
    }
    if (box.type === 'MED') {
      return {
        ok: false,
        code: 550,
        enhanced: '5.7.1',
        message: `<${address}> may only receive mail from users of this operator (BAL MED)`,
      };
    }
    return { ok: true, box };
  }

  /**
   * The addresses an authenticated person may send from (R6): their own (login and MSSanté
   * addresses) and the MSSanté addresses of the active ORG boxes they are linked to. Read at each
   * MAIL FROM, so that unlinking applies to sessions already open.
   */
  sendableAddresses(accountId: number): string[] {
    const own = listAddresses(this.db, accountId).map((row) => row.address);
    const orgs = listMemberships(this.db, accountId)
      .map((membership) => membership.org)
      .filter((org) => findBox(this.db, org)?.status === 'active');
    return [...own, ...orgs];
  }

  /**
   * MAIL FROM on submission: the address must be one the person may send from (553 5.7.1
   * otherwise). Returns the type of the box it belongs to, which R4 judges the sender by.
   */
  checkSubmissionSender(accountId: number, accountType: BoxType, mailFrom: string): ({ ok: true; senderType: BoxType; sendable: string[] }) | ({ ok: false } & Refusal) {
    const sendable = this.sendableAddresses(accountId);
    const refusal = senderAddressRefusal(mailFrom, sendable, 'MAIL FROM');
    if (refusal) return { ok: false, ...refusal };
    const box = mailFrom === '' ? undefined : findBox(this.db, mailFrom);
    return { ok: true, senderType: box && box.accountId !== accountId ? box.type : accountType, sendable };
  }

  /**
   * RCPT TO on submission. Recipients in this operator's domains (logins, MSSanté addresses, ORG
   * addresses) are delivered locally and must be active boxes; others go out through the queue
   * when R1, R2 and R4 allow; R3 and the patient-alone rule (R4) look at the whole set.
   */
  checkSubmissionRecipient(submitter: Submitter, address: string, accepted: readonly SubmissionRecipient[], dsn: { orcpt: string | null; notify: string | null }): SubmissionRecipientCheck {
    const addresses = accepted.map((rcpt) => rcpt.address);
    const domain = domainOf(address);
    let recipient: SubmissionRecipient;
    if (isOwnDomain(domain, this.config)) {
      const box = findBox(this.db, address);
      if (!box || box.status !== 'active') {
        return { ok: false, code: 550, enhanced: '5.1.1', message: `Mailbox unavailable: <${printableAddress(address)}> does not exist at this operator` };
      }
      recipient = { kind: 'local', address, box, ...dsn };
    } else {
      const refusal = remoteRecipientRefusal({
        address,
        accountType: submitter.accountType,
        senderType: submitter.senderType,
        destinationAllowed: isAllowedDestination(domain, {
          ownDomains: [...this.config.domains.mssante, ...this.config.domains.internal],
          patientDomain: this.config.trustSpace.patientDomain,
          trustSpace: this.trustSpace(),
        }),
        patientDomain: this.config.trustSpace.patientDomain,
      });
      if (refusal) return { ok: false, ...refusal };
      recipient = { kind: 'remote', address, ...dsn };
    }
    if (isDuplicateRecipient(address, addresses)) return { ok: true, recipient, duplicate: true };
    const setRefusal = recipientSetRefusal({
      address,
      accepted: addresses,
      maxRecipients: this.config.limits.maxRecipients,
      patientDomain: this.config.trustSpace.patientDomain,
    });
    if (setRefusal) return { ok: false, ...setRefusal };
    return { ok: true, recipient, duplicate: false };
  }

  /**
   * Commits the message to the INBOX of every local recipient box and its remote recipients to
   * the outbound queue, with its envelope and DSN parameters, in one transaction, together with
   * the success DSNs asked for. Resolves only once that transaction is durable (R14). A box
   * reached through several of its addresses receives one copy.
   */
  async deliver(envelope: InboundEnvelope, raw: Buffer): Promise<DeliveryResult> {
    const analysis = analyzeMessage(raw);
    const envelopeJson = JSON.stringify(analysis.envelope);
    const structureJson = JSON.stringify(analysis.structure);
    const hash = bodyHash(raw);
    const accounts = [...new Set(envelope.recipients.map((rcpt) => rcpt.box.accountId))];
    const remote = envelope.remote ?? [];
    const report = this.successReport(envelope, raw);
    const reportedRecipients = report ? report.recipients : [];
    const { rows: appended, effects } = await this.batcher.run((db) => {
      // Built afresh on each run: the batcher may roll a batch back and run each job again.
      const effects: CommitEffects = { appended: [], queued: remote.length > 0 };
      const deliveryId = insertDelivery(db, {
        queueId: envelope.queueId,
        source: envelope.source,
        receivedAt: envelope.receivedAt,
        peerAddress: envelope.peerAddress,
        helo: envelope.helo,
        tlsProtocol: envelope.tlsProtocol,
        clientDn: envelope.clientDn,
        authLogin: envelope.authLogin,
        mailFrom: envelope.mailFrom,
        envid: envelope.envid,
        ret: envelope.ret,
        messageId: analysis.messageId,
        size: raw.length,
      });
      if (accounts.length > 0) retainBody(db, hash, raw, accounts.length, envelope.receivedAt);
      const rows = accounts.map((accountId) =>
        appendMessage(db, {
          mailboxId: inboxOf(db, accountId),
          bodyHash: hash,
          size: raw.length,
          internalDate: envelope.receivedAt,
          arrivedAt: envelope.receivedAt,
          deliveryId,
          messageId: analysis.messageId,
          envelope: envelopeJson,
          structure: structureJson,
        }),
      );
      for (const rcpt of envelope.recipients) {
        insertDeliveryRecipient(db, deliveryId, {
          address: rcpt.address,
          orcpt: rcpt.orcpt,
          notify: rcpt.notify,
          accountId: rcpt.box.accountId,
          outcome: 'delivered',
        });
      }
      for (const rcpt of remote) {
        insertDeliveryRecipient(db, deliveryId, { address: rcpt.address, orcpt: rcpt.orcpt, notify: rcpt.notify, accountId: null, outcome: 'queued' });
      }
      if (remote.length > 0) {
        enqueueOutbound(db, {
          kind: 'relay',
          queueId: envelope.queueId,
          mailFrom: envelope.mailFrom,
          recipients: remote,
          body: accounts.length > 0 ? { hash } : { content: raw, hash },
          deliveryId,
          senderAccountId: envelope.senderAccountId ?? null,
          envid: envelope.envid,
          ret: envelope.ret,
          now: envelope.receivedAt,
        });
      }
      if (report) {
        const reported = this.deliverReport(db, report.report);
        effects.appended.push(...reported.appended);
        effects.queued ||= reported.queued;
        for (const address of reportedRecipients) markDsnSent(db, deliveryId, address);
      }
      insertAudit(
        db,
        {
          event: 'smtp',
          source: envelope.source,
          queueId: envelope.queueId,
          peer: envelope.peerAddress,
          authLogin: envelope.authLogin,
          mailFrom: envelope.mailFrom,
          recipients: [...envelope.recipients.map((rcpt) => rcpt.address), ...remote.map((rcpt) => rcpt.address)],
          messageId: analysis.messageId,
          size: raw.length,
          outcome: remote.length === 0 ? 'delivered' : envelope.recipients.length === 0 ? 'queued' : 'delivered+queued',
        },
        envelope.receivedAt,
      );
      return { rows, effects };
    });
    effects.appended.push(...appended);
    this.announce(effects);
    return { messageId: analysis.messageId, appended, queued: remote.length > 0 ? envelope.queueId : null, reports: report ? 1 : 0 };
  }

  /** Tells IMAP sessions and the relay worker what a durable commit changed. */
  announce(effects: CommitEffects): void {
    for (const row of effects.appended) this.changes.emit('mailbox-changed', row.mailboxId);
    if (effects.queued) this.onQueued?.();
  }

  /**
   * Commits a report (DSN) inside the caller's transaction: into the INBOX of a local sender
   * (an internal delivery from <>), or to the outbound queue (kind 'dsn', from <>) for a sender
   * of another operator that R1 lets mail reach. A report to an address that is neither (a
   * local box that no longer exists, a domain outside the trust space) is dropped.
   */
  deliverReport(db: Db, report: Report): CommitEffects & { outcome: 'delivered' | 'queued' | 'dropped' } {
    const now = Date.now();
    const queueId = newQueueId();
    const domain = domainOf(report.to);
    if (isOwnDomain(domain, this.config)) {
      const box = findBox(db, report.to);
      if (!box || box.status === 'suspended') return { appended: [], queued: false, outcome: 'dropped' };
      const raw = Buffer.concat([
        Buffer.from(`Return-Path: <>\r\nReceived: by ${this.config.hostname} (mssd) with local id ${queueId};\r\n\t${rfc5322Date(new Date(now))}\r\n`),
        report.raw,
      ]);
      const analysis = analyzeMessage(raw);
      const hash = bodyHash(raw);
      const deliveryId = insertDelivery(db, {
        queueId,
        source: 'internal',
        receivedAt: now,
        peerAddress: null,
        helo: null,
        tlsProtocol: null,
        clientDn: null,
        authLogin: null,
        mailFrom: '',
        envid: null,
        ret: null,
        messageId: analysis.messageId,
        size: raw.length,
      });
      retainBody(db, hash, raw, 1, now);
      const appended = appendMessage(db, {
        mailboxId: inboxOf(db, box.accountId),
        bodyHash: hash,
        size: raw.length,
        internalDate: now,
        arrivedAt: now,
        deliveryId,
        messageId: analysis.messageId,
        envelope: JSON.stringify(analysis.envelope),
        structure: JSON.stringify(analysis.structure),
      });
      insertDeliveryRecipient(db, deliveryId, { address: report.to, orcpt: null, notify: null, accountId: box.accountId, outcome: 'delivered' });
      insertAudit(db, { event: 'dsn', source: 'internal', queueId, mailFrom: '', recipients: [report.to], messageId: analysis.messageId, size: raw.length, outcome: 'delivered' }, now);
      return { appended: [appended], queued: false, outcome: 'delivered' };
    }
    const allowed = isAllowedDestination(domain, {
      ownDomains: [...this.config.domains.mssante, ...this.config.domains.internal],
      patientDomain: this.config.trustSpace.patientDomain,
      trustSpace: this.trustSpace(),
    });
    if (!allowed) return { appended: [], queued: false, outcome: 'dropped' };
    enqueueOutbound(db, { kind: 'dsn', queueId, mailFrom: '', recipients: [{ address: report.to }], body: { content: report.raw }, now });
    insertAudit(db, { event: 'dsn', source: 'internal', queueId, mailFrom: '', recipients: [report.to], size: report.raw.length, outcome: 'queued' }, now);
    return { appended: [], queued: true, outcome: 'queued' };
  }

  /**
   * The success DSN (R12) for the local recipients that asked for one (NOTIFY=SUCCESS), or null:
   * never for the null sender nor for a message that is itself a delivery report.
   */
  private successReport(envelope: InboundEnvelope, raw: Buffer): { report: Report; recipients: string[] } | null {
    const asked = envelope.recipients.filter((rcpt) => wantsNotification(rcpt.notify, 'SUCCESS'));
    if (asked.length === 0 || envelope.mailFrom === '' || isDeliveryReport(raw)) return null;
    const now = new Date();
    const recipients: DsnRecipient[] = asked.map((rcpt) => ({
      address: rcpt.address,
      orcpt: rcpt.orcpt,
      action: 'delivered',
      status: '2.0.0',
      diagnostic: null,
      lastAttempt: now,
    }));
    const dsn = buildDsn({
      reportingMta: this.config.hostname,
      from: this.reportsFrom,
      to: envelope.mailFrom,
      envid: envelope.envid,
      ret: envelope.ret,
      arrivalDate: new Date(envelope.receivedAt),
      queueId: envelope.queueId,
      recipients,
      original: raw,
      date: now,
    });
    return { report: { to: envelope.mailFrom, raw: dsn }, recipients: asked.map((rcpt) => rcpt.address) };
  }
}

/** An address made safe to echo in one ASCII reply line. */
function printableAddress(address: string): string {
  return address.replace(/[^\x20-\x7e]/g, '?').slice(0, 256);
}
