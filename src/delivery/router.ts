// The router: the one place that decides where a message goes. Front ends (the inbound MTA,
// submission, internal senders) ask it whether a recipient is acceptable at RCPT time, then hand
// it the whole message; it commits the message to every local box, and the remote recipients to
// the outbound queue, in one durable transaction (R14), before the front end answers 250.
//
// It also sends the success DSNs of local deliveries (R12): when a recipient asked for
// NOTIFY=SUCCESS, the report is committed in the same transaction as the delivery it reports,
// to the sender's INBOX when the sender is local, else to the outbound queue.
//
// And it has the rules of every box a message lands in (R7–R9: forwards, automatic replies,
// reception notices) applied in that same transaction, by src/delivery/box-rule-runner.ts, so that
// a 250 covers them too (R14). Every local commit — a message received by SMTP, or one this server
// writes itself (a report, a forwarded copy, an automatic reply) — takes one path, commitLocal.
import type { Config } from '../config/schema';
import { analyzeMessage, type MessageAnalysis } from '../mime';
import { quotaExceeded } from '../policy/quota';
import { boxUsage } from '../store/quota';
import { domainOf } from '../policy/identity';
import type { Refusal } from '../policy/refusal';
import { isAllowedDestination, isOwnDomain, type TrustSpaceView } from '../policy/routing-rules';
import {
  isDuplicateRecipient,
  recipientSetRefusal,
  remoteRecipientRefusal,
  senderAddressRefusal,
} from '../policy/submission-rules';
import { buildDsn, isDeliveryReport, wantsNotification, type DsnRecipient } from './dsn';
import { rfc5322Date } from '../mime/date';
import { newQueueId } from '../util/queue-id';
import { listAddresses } from '../store/accounts';
import { listMemberships } from '../store/org-members';
import type { BoxType } from '../policy/box-types';
import { findBox, type BoxRef } from '../store/boxes';
import { insertAudit } from '../store/audit';
import type { MailboxChanges } from '../store/mailbox-changes';
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
  type DeliveryRecord,
} from '../store/messages';
import { enqueueOutbound } from '../store/queue';
import type { Logger } from '../util/log';
import { BoxRuleRunner, type CommitEffects, type InternalMessage } from './box-rule-runner';

export type { CommitEffects } from './box-rule-runner';

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

/** The SMTP envelope of a message handed to the router: what `deliveries` records of it (its
 * Message-ID and size come from the message itself), and its recipients. */
export interface InboundEnvelope extends Omit<DeliveryRecord, 'messageId' | 'size'> {
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

/** A report (DSN) to hand to its recipient, built before the transaction that commits it. */
export interface Report {
  /** Where it goes: the original envelope sender. */
  to: string;
  raw: Buffer;
}

/** What the local commit writes: a message for local boxes, received or written by this server. */
interface LocalCommit {
  delivery: Omit<DeliveryRecord, 'messageId' | 'size'>;
  raw: Buffer;
  analysis: MessageAnalysis;
  hash: string;
  recipients: ReadonlyArray<{ address: string; orcpt: string | null; notify: string | null; box: BoxRef }>;
  /** Remote recipients of the same delivery, recorded as queued. */
  queued?: readonly RemoteRecipient[];
  /** The boxes this delivery already reached (a forward skips them); the new ones are added. */
  reached?: Set<number>;
}



const NO_TRUST_SPACE: TrustSpaceView = {
  hasDomain: () => false,
  isDnAllowedForDomain: () => false,
  isDnListed: () => false,
};

export class Router {
  /** Called after a commit that added outbound queue entries (the relay worker's wake-up). */
  onQueued: (() => void) | null = null;
  /** Where box rules that failed or declined are logged (the daemon sets it). */
  log: Logger | null = null;
  /** Forwards, automatic replies and reception notices of the boxes a message lands in (R7–R9). */
  private readonly rules: BoxRuleRunner;

  constructor(
    private readonly db: Db,
    private readonly batcher: CommitBatcher,
    private readonly config: Config,
    private readonly changes: MailboxChanges,
    /** The current allowlist (R1), a function so that a refreshed list applies at once. */
    private readonly trustSpace: () => TrustSpaceView = () => NO_TRUST_SPACE,
  ) {
    this.rules = new BoxRuleRunner(
      config,
      () => this.trustSpace(),
      (db, message, effects) => this.appendInternal(db, message, effects),
      () => this.log,
    );
  }

  /** Address of the reports this server writes (header From:; the envelope sender is <>). */
  get reportsFrom(): string {
    return `mailer-daemon@${this.config.domains.mssante[0]}`;
  }

  /**
   * RCPT TO on the inbound MTA: other operators may reach this operator's MSSanté addresses only
   * (logins are internal addresses, R2), and only active boxes that may receive from outside.
   */
  checkMtaRecipient(address: string, declaredSize = 0): RecipientCheck {
    const domain = domainOf(address) || address; // the domainless "postmaster" (RFC 5321 section 4.1.1.3) is named as is
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
    const overQuota = this.quotaRefusal(box.accountId, address, declaredSize);
    if (overQuota) return overQuota;
    return { ok: true, box };
  }

  /**
   * QUOTA (RFC 9208, limits.quota*): a box that is full, or that the declared SIZE (RFC 1870)
   * would take past its limit, is refused 452 4.2.2 (RFC 3463 "mailbox full": temporary, the
   * sender retries and the box may be emptied meanwhile); a message larger than a whole box's
   * limit can never fit: 552 5.2.2.
   */
  private quotaRefusal(accountId: number, address: string, declaredSize: number): RecipientCheck | null {
    const limits = { storageBytes: this.config.limits.quotaStorageBytes, messages: this.config.limits.quotaMessages };
    if (limits.storageBytes === 0 && limits.messages === 0) return null;
    if (limits.storageBytes > 0 && declaredSize > limits.storageBytes) {
      return { ok: false, code: 552, enhanced: '5.2.2', message: `Message too large for the mailbox of <${address}>: its quota is ${limits.storageBytes} bytes` };
    }
    if (quotaExceeded(boxUsage(this.db, accountId), limits, { bytes: Math.max(declaredSize, 1), messages: 1 }) === null) return null;
    return { ok: false, code: 452, enhanced: '4.2.2', message: `Mailbox full: <${address}> is over its quota, try again later` };
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
    const hash = bodyHash(raw);
    const remote = envelope.remote ?? [];
    const report = this.successReport(envelope, raw);
    const reportedRecipients = report ? report.recipients : [];
    const { appended, effects } = await this.batcher.run((db) => {
      // Built afresh on each run: the batcher may roll a batch back and run each job again.
      const effects: CommitEffects = { appended: [], queued: remote.length > 0 };
      const { deliveryId, appended } = this.commitLocal(
        db,
        { delivery: envelope, raw, analysis, hash, recipients: envelope.recipients, queued: remote },
        effects,
      );
      if (remote.length > 0) {
        enqueueOutbound(db, {
          kind: 'relay',
          queueId: envelope.queueId,
          mailFrom: envelope.mailFrom,
          recipients: remote,
          body: appended.length > 0 ? { hash } : { content: raw, hash },
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
        effects.notices ||= reported.notices;
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
      return { appended, effects };
    });
    this.announce(effects);
    return { messageId: analysis.messageId, appended, queued: remote.length > 0 ? envelope.queueId : null, reports: report ? 1 : 0 };
  }

  /** Tells IMAP sessions, the relay worker and the notice sender what a durable commit changed. */
  announce(effects: CommitEffects): void {
    for (const row of effects.appended) this.changes.emit('mailbox-changed', row.mailboxId);
    if (effects.queued) this.onQueued?.();
    if (effects.notices) this.changes.emit('notices-queued');
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
      const effects: CommitEffects = { appended: [], queued: false };
      const { messageId, size } = this.appendInternal(db, { raw: report.raw, mailFrom: '', recipients: [{ address: report.to, box }], queueId, at: now }, effects);
      insertAudit(db, { event: 'dsn', source: 'internal', queueId, mailFrom: '', recipients: [report.to], messageId, size, outcome: 'delivered' }, now);
      return { ...effects, outcome: 'delivered' };
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
   * A message this server writes itself (a report, a forwarded copy, an automatic reply) into the
   * INBOX of local boxes, inside the caller's transaction, by the same local commit as a message
   * received (delivery row with source 'internal'). The trace fields of the final delivery
   * (Return-Path, and a Received line unless the message carries its own) go before the message.
   */
  private appendInternal(db: Db, message: InternalMessage, effects: CommitEffects): { messageId: string | null; size: number } {
    const { at, queueId } = message;
    const trace =
      `Return-Path: <${message.mailFrom}>\r\n` +
      (message.received === false ? '' : `Received: by ${this.config.hostname} (mssd) with local id ${queueId};\r\n\t${rfc5322Date(new Date(at))}\r\n`);
    const raw = Buffer.concat([Buffer.from(trace, 'utf8'), message.raw]);
    const analysis = analyzeMessage(raw);
    const delivery: LocalCommit['delivery'] = {
      queueId,
      source: 'internal',
      receivedAt: at,
      peerAddress: null,
      helo: null,
      tlsProtocol: null,
      clientDn: null,
      authLogin: null,
      mailFrom: message.mailFrom,
      envid: null,
      ret: null,
    };
    const recipients = message.recipients.map((rcpt) => ({ ...rcpt, orcpt: null, notify: null }));
    this.commitLocal(db, { delivery, raw, analysis, hash: bodyHash(raw), recipients, reached: message.reached }, effects);
    return { messageId: analysis.messageId, size: raw.length };
  }

  /**
   * The one local commit, inside the caller's transaction: the delivery row, one stored body for
   * all the boxes, one message in the INBOX of each box (a box reached through several of its
   * addresses receives one copy), a delivery_recipients row per recipient ('delivered'; 'queued'
   * for the remote ones of the same delivery), then the rules of the boxes reached (R7–R9). The
   * messages are added to `effects` and returned.
   */
  private commitLocal(db: Db, input: LocalCommit, effects: CommitEffects): { deliveryId: number; appended: AppendedMessage[] } {
    const { raw, analysis, hash } = input;
    const at = input.delivery.receivedAt;
    const deliveryId = insertDelivery(db, { ...input.delivery, messageId: analysis.messageId, size: raw.length });
    const boxes = new Map<number, { address: string; box: BoxRef }>();
    for (const rcpt of input.recipients) if (!boxes.has(rcpt.box.accountId)) boxes.set(rcpt.box.accountId, { address: rcpt.address, box: rcpt.box });
    if (boxes.size > 0) retainBody(db, hash, raw, boxes.size, at, analysis.structure);
    const envelope = JSON.stringify(analysis.envelope);
    const structure = JSON.stringify(analysis.structure);
    const appended = [...boxes.keys()].map((accountId) =>
      appendMessage(db, {
        mailboxId: inboxOf(db, accountId),
        bodyHash: hash,
        size: raw.length,
        internalDate: at,
        arrivedAt: at,
        deliveryId,
        messageId: analysis.messageId,
        envelope,
        structure,
      }),
    );
    effects.appended.push(...appended);
    for (const rcpt of input.recipients) {
      insertDeliveryRecipient(db, deliveryId, { address: rcpt.address, orcpt: rcpt.orcpt, notify: rcpt.notify, accountId: rcpt.box.accountId, outcome: 'delivered' });
    }
    for (const rcpt of input.queued ?? []) {
      insertDeliveryRecipient(db, deliveryId, { address: rcpt.address, orcpt: rcpt.orcpt, notify: rcpt.notify, accountId: null, outcome: 'queued' });
    }
    if (boxes.size > 0) {
      const reached = input.reached ?? new Set<number>();
      for (const accountId of boxes.keys()) reached.add(accountId);
      const arrival = { raw, header: analysis.header, messageId: analysis.messageId, mailFrom: input.delivery.mailFrom, at, recipients: [...boxes.values()] };
      this.rules.apply(db, arrival, effects, reached);
    }
    return { deliveryId, appended };
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
