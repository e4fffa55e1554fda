// The router: the one place that decides where a message goes. Front ends (the inbound MTA,
// submission, internal senders) ask it whether a recipient is acceptable at RCPT time, then hand
// it the whole message; it commits the message to every local box, and the remote recipients to
// the outbound queue, in one durable transaction (R14), before the front end answers 250.
//
// It also sends the success DSNs of local deliveries (R12): when a recipient asked for
// NOTIFY=SUCCESS, the report is committed in the same transaction as the delivery it reports,
// to the sender's INBOX when the sender is local, else to the outbound queue.
//
// And it applies the rules of every box a message lands in (R7–R9), in that same transaction, so
// that a 250 covers them too (R14):
// - forwards (R7): a copy to each target, through this router for local boxes and through the
//   outbound queue (kind 'forward') for other operators, from the forwarding box's address, so
//   that bounces go to that box; R1 (and R2, R4) are checked again at use time; our own trace
//   header stops loops (src/delivery/box-rules.ts). A box receives one copy of a message per
//   delivery, however many forwards lead to it;
// - the automatic reply (R8, RFC 3834), once per sender per autoreply.intervalDays, remembered in
//   autoreply_log, sent under the same R1–R4 decisions as submission (a MED box answers only
//   local senders);
// - reception notices (R9): a `notices` row, merged with the others of the same burst, that the
//   notice sender (src/delivery/notices.ts) delivers later: the notification relay never holds up
//   or fails a delivery.
// A rule that fails (a bug, a corrupt setting) is rolled back alone (a savepoint) and logged: the
// delivery itself stands.
import { EventEmitter } from 'node:events';
import { durationMs, type Config } from '../config/schema';
import { analyzeMessage, type HeaderField } from '../mime';
import { isAllowedDestination, isOwnDomain, type TrustSpaceView } from '../policy/routing-rules';
import {
  isDuplicateRecipient,
  isPatientAddress,
  recipientSetRefusal,
  remoteRecipientRefusal,
  senderAddressRefusal,
} from '../policy/submission-rules';
import { buildDsn, isDeliveryReport, wantsNotification, type DsnRecipient } from '../smtp/dsn';
import { newQueueId, rfc5322Date } from '../smtp/trace';
import { listAddresses } from '../store/accounts';
import { listMemberships } from '../store/org-members';
import {
  autoreplySentAt,
  boxRulesOf,
  getAutoreply,
  listForwards,
  receptionNoticeRecipients,
  recordAutoreplySent,
  type BoxRules,
} from '../store/box-rules';
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
  type DeliveryRecord,
} from '../store/messages';
import { queueReceptionNotice } from '../store/notices';
import { enqueueOutbound } from '../store/queue';
import type { Logger } from '../util/log';
import { autoreplyRefusal, buildAutoreply, forwardedCopy, forwardRefusal, forwardTrace } from './box-rules';

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

/** What a commit changed, to announce once it is durable. */
export interface CommitEffects {
  appended: AppendedMessage[];
  queued: boolean;
  /** Notices were queued (R9): the notice sender looks at them. */
  notices?: boolean;
}

/** A message just appended to local boxes, as their rules (R7–R9) look at it. */
interface Arrival {
  /** As stored, trace fields of the final delivery included. */
  raw: Buffer;
  header: readonly HeaderField[];
  messageId: string | null;
  mailFrom: string;
  at: number;
  /** One per box. */
  recipients: ReadonlyArray<{ address: string; box: BoxRef }>;
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
 * can tell their clients at once (RFC 2177 IDLE); and 'notices-queued' after a commit that queued
 * notices (R9), for the notice sender.
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
  /** Where box rules that failed or declined are logged (the daemon sets it). */
  log: Logger | null = null;

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
    const own = addressesOf(this.db, accountId);
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
      const deliveryId = insertDelivery(db, { ...envelope, messageId: analysis.messageId, size: raw.length });
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
      if (accounts.length > 0) {
        const boxes = new Map<number, { address: string; box: BoxRef }>();
        for (const rcpt of envelope.recipients) if (!boxes.has(rcpt.box.accountId)) boxes.set(rcpt.box.accountId, { address: rcpt.address, box: rcpt.box });
        const arrival: Arrival = {
          raw,
          header: analysis.header,
          messageId: analysis.messageId,
          mailFrom: envelope.mailFrom,
          at: envelope.receivedAt,
          recipients: [...boxes.values()],
        };
        this.applyBoxRules(db, arrival, effects, new Set(accounts));
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
      return { rows, effects };
    });
    effects.appended.push(...appended);
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
   * INBOX of local boxes, inside the caller's transaction: its delivery row (source 'internal'),
   * one stored body, the messages, their recipients; then the rules of those boxes. The trace
   * fields of the final delivery (Return-Path, and a Received line unless the message carries its
   * own) go before the message.
   */
  private appendInternal(
    db: Db,
    input: { raw: Buffer; mailFrom: string; recipients: ReadonlyArray<{ address: string; box: BoxRef }>; queueId: string; at: number; received?: boolean; reached?: Set<number> },
    effects: CommitEffects,
  ): { messageId: string | null; size: number } {
    const { at, queueId } = input;
    const trace =
      `Return-Path: <${input.mailFrom}>\r\n` +
      (input.received === false ? '' : `Received: by ${this.config.hostname} (mssd) with local id ${queueId};\r\n\t${rfc5322Date(new Date(at))}\r\n`);
    const raw = Buffer.concat([Buffer.from(trace, 'utf8'), input.raw]);
    const analysis = analyzeMessage(raw);
    const hash = bodyHash(raw);
    const deliveryId = insertDelivery(db, {
      queueId,
      source: 'internal',
      receivedAt: at,
      peerAddress: null,
      helo: null,
      tlsProtocol: null,
      clientDn: null,
      authLogin: null,
      mailFrom: input.mailFrom,
      envid: null,
      ret: null,
      messageId: analysis.messageId,
      size: raw.length,
    });
    retainBody(db, hash, raw, input.recipients.length, at);
    const envelope = JSON.stringify(analysis.envelope);
    const structure = JSON.stringify(analysis.structure);
    for (const rcpt of input.recipients) {
      effects.appended.push(
        appendMessage(db, {
          mailboxId: inboxOf(db, rcpt.box.accountId),
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
      insertDeliveryRecipient(db, deliveryId, { address: rcpt.address, orcpt: null, notify: null, accountId: rcpt.box.accountId, outcome: 'delivered' });
    }
    const reached = input.reached ?? new Set<number>();
    for (const rcpt of input.recipients) reached.add(rcpt.box.accountId);
    this.applyBoxRules(
      db,
      { raw, header: analysis.header, messageId: analysis.messageId, mailFrom: input.mailFrom, at, recipients: input.recipients },
      effects,
      reached,
    );
    return { messageId: analysis.messageId, size: raw.length };
  }

  /**
   * The rules of every box a message just landed in (R7–R9), inside the delivery's transaction.
   * `reached` holds the boxes this delivery already put the message in (a forward skips them).
   */
  private applyBoxRules(db: Db, arrival: Arrival, effects: CommitEffects, reached: Set<number>): void {
    for (const rcpt of arrival.recipients) {
      const rules = boxRulesOf(db, rcpt.box.accountId, arrival.at);
      if (!rules || rules.status === 'suspended') continue;
      if (rules.notifyEach || rules.memberNotices) this.guarded(db, 'notice', rules, () => this.queueReceptionNotices(db, rules, arrival.at, effects));
      if (rules.autoreplyActive) this.guarded(db, 'autoreply', rules, () => this.autoreply(db, arrival, rules, effects));
      if (rules.hasForwards) this.guarded(db, 'forward', rules, () => this.forward(db, arrival, rules, effects, reached));
    }
  }

  /** Runs one rule in a savepoint: when it throws, what it wrote is undone and the delivery stands. */
  private guarded(db: Db, rule: string, rules: BoxRules, work: () => void): void {
    try {
      db.transaction(work)();
    } catch (err) {
      this.log?.error({ rule, box: rules.address, err }, 'box rule failed; the message was delivered without it');
    }
  }

  /** R9: a reception notice for each person the box's settings name, merged with a burst's others. */
  private queueReceptionNotices(db: Db, rules: BoxRules, at: number, effects: CommitEffects): void {
    const windowMs = durationMs(this.config.notifications.mergeWindow);
    for (const recipient of receptionNoticeRecipients(db, rules)) {
      queueReceptionNotice(db, { accountId: rules.accountId, recipient, box: rules.address, at, windowMs });
      effects.notices = true;
    }
  }

  /** Whether a box of type `type` may write to `address` outside this operator (R1, R2, R4). */
  private remoteRefusal(type: BoxType, address: string): string | null {
    const refusal = remoteRecipientRefusal({
      address,
      accountType: type,
      senderType: type,
      destinationAllowed: isAllowedDestination(domainOf(address), {
        ownDomains: [...this.config.domains.mssante, ...this.config.domains.internal],
        patientDomain: this.config.trustSpace.patientDomain,
        trustSpace: this.trustSpace(),
      }),
      patientDomain: this.config.trustSpace.patientDomain,
    });
    return refusal ? `${refusal.code} ${refusal.enhanced} ${refusal.message}` : null;
  }

  /**
   * R8: the automatic reply of a box, when RFC 3834 lets it answer this message and it has not
   * answered this sender within autoreply.intervalDays. It goes to the envelope sender, from the
   * null reverse-path: into a local sender's INBOX, or to the outbound queue (kind 'autoreply')
   * when R1–R4 let the box write to that sender.
   */
  private autoreply(db: Db, arrival: Arrival, rules: BoxRules, effects: CommitEffects): void {
    const settings = getAutoreply(db, rules.accountId);
    if (!settings || arrival.at < settings.startAt || arrival.at >= settings.endAt) return;
    const sender = arrival.mailFrom;
    const refusal = autoreplyRefusal({ mailFrom: sender, header: arrival.header, boxAddresses: addressesOf(db, rules.accountId) });
    if (refusal) {
      this.log?.debug({ rule: 'autoreply', box: rules.address, sender, outcome: refusal }, 'automatic reply not sent');
      return;
    }
    const last = autoreplySentAt(db, rules.accountId, sender);
    if (last !== null && arrival.at - last < this.config.autoreply.intervalDays * 86_400_000) {
      this.log?.debug({ rule: 'autoreply', box: rules.address, sender, outcome: 'already-answered', at: new Date(last).toISOString() }, 'automatic reply not sent');
      return;
    }
    const queueId = newQueueId();
    const raw = buildAutoreply({
      from: rules.address,
      to: sender,
      subject: settings.subject,
      body: settings.body,
      original: arrival.header,
      hostname: this.config.hostname,
      queueId,
      date: new Date(arrival.at),
    });
    let outcome: 'delivered' | 'queued';
    if (isOwnDomain(domainOf(sender), this.config)) {
      const box = findBox(db, sender);
      if (!box || box.status !== 'active' || box.accountId === rules.accountId) {
        this.log?.info({ rule: 'autoreply', box: rules.address, sender, outcome: 'no-local-box' }, 'automatic reply not sent');
        return;
      }
      this.appendInternal(db, { raw, mailFrom: '', recipients: [{ address: sender, box }], queueId, at: arrival.at }, effects);
      outcome = 'delivered';
    } else {
      const refused = this.remoteRefusal(rules.type, sender);
      if (refused) {
        this.log?.info({ rule: 'autoreply', box: rules.address, sender, outcome: 'refused', reason: refused }, 'automatic reply not sent');
        return;
      }
      enqueueOutbound(db, { kind: 'autoreply', queueId, mailFrom: '', recipients: [{ address: sender }], body: { content: raw }, senderAccountId: rules.accountId, now: arrival.at });
      effects.queued = true;
      outcome = 'queued';
    }
    recordAutoreplySent(db, rules.accountId, sender, arrival.at);
    insertAudit(
      db,
      { event: 'autoreply', source: 'internal', queueId, mailFrom: '', recipients: [sender], size: raw.length, outcome, detail: JSON.stringify({ box: rules.address, inReplyTo: arrival.messageId }) },
      arrival.at,
    );
    this.log?.info({ rule: 'autoreply', queueId, box: rules.address, to: sender, outcome }, 'automatic reply sent');
  }

  /**
   * R7: a copy of the message to each forward target of the box, from the box's address (bounces
   * come back to it), unless the message already went through a forward of this box, has been
   * forwarded MAX_FORWARD_HOPS times, or comes from the null sender. Each target is checked again
   * now: a local one must be an active box that this delivery has not reached yet; another
   * operator's must be allowed by R1, and by R2 and R4 for the forwarding box.
   */
  private forward(db: Db, arrival: Arrival, rules: BoxRules, effects: CommitEffects, reached: Set<number>): void {
    const targets = listForwards(db, rules.accountId);
    if (targets.length === 0) return;
    const trace = forwardTrace(arrival.header);
    const declined = forwardRefusal(trace, addressesOf(db, rules.accountId), arrival.mailFrom);
    if (declined) {
      this.log?.info({ rule: 'forward', box: rules.address, messageId: arrival.messageId, outcome: declined, forwardedBy: trace.by }, 'message not forwarded');
      insertAudit(db, { event: 'forward', source: 'internal', mailFrom: rules.address, recipients: targets, messageId: arrival.messageId, outcome: 'not-forwarded', detail: JSON.stringify({ box: rules.address, reason: declined }) }, arrival.at);
      return;
    }
    const local: Array<{ address: string; box: BoxRef }> = [];
    const remote: Array<{ address: string }> = [];
    const skipped: Array<{ target: string; reason: string }> = [];
    for (const target of targets) {
      if (isOwnDomain(domainOf(target), this.config)) {
        const box = findBox(db, target);
        if (!box || box.status !== 'active') skipped.push({ target, reason: 'no active box has this address' });
        else if (box.accountId === rules.accountId) skipped.push({ target, reason: 'an address of the box itself' });
        else if (reached.has(box.accountId) || local.some((other) => other.box.accountId === box.accountId)) {
          skipped.push({ target, reason: 'already received this message' });
        } else local.push({ address: target, box });
        continue;
      }
      const refused = isPatientAddress(target, this.config.trustSpace.patientDomain)
        ? 'a patient address never receives a copy of a box (R4)'
        : this.remoteRefusal(rules.type, target);
      if (refused) skipped.push({ target, reason: refused });
      else remote.push({ address: target });
    }
    const queueId = newQueueId();
    if (local.length > 0 || remote.length > 0) {
      const copy = forwardedCopy(arrival.raw, { by: rules.address, hop: trace.hops + 1, hostname: this.config.hostname, queueId, date: new Date(arrival.at) });
      if (remote.length > 0) {
        enqueueOutbound(db, { kind: 'forward', queueId, mailFrom: rules.address, recipients: remote, body: { content: copy }, senderAccountId: rules.accountId, now: arrival.at });
        effects.queued = true;
      }
      if (local.length > 0) {
        this.appendInternal(db, { raw: copy, mailFrom: rules.address, recipients: local, queueId, at: arrival.at, received: false, reached }, effects);
      }
    }
    const forwarded = [...local.map((rcpt) => rcpt.address), ...remote.map((rcpt) => rcpt.address)];
    insertAudit(
      db,
      {
        event: 'forward',
        source: 'internal',
        queueId: forwarded.length > 0 ? queueId : null,
        mailFrom: rules.address,
        recipients: forwarded,
        messageId: arrival.messageId,
        outcome: forwarded.length === 0 ? 'not-forwarded' : local.length === 0 ? 'queued' : remote.length === 0 ? 'delivered' : 'delivered+queued',
        detail: JSON.stringify({ box: rules.address, hop: trace.hops + 1, skipped }),
      },
      arrival.at,
    );
    this.log?.info(
      { rule: 'forward', queueId, box: rules.address, messageId: arrival.messageId, local: local.map((r) => r.address), remote: remote.map((r) => r.address), skipped },
      forwarded.length > 0 ? 'message forwarded' : 'message not forwarded',
    );
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

/** The addresses of a box (login and MSSanté addresses), as given to the checks that need them. */
function addressesOf(db: Db, accountId: number): string[] {
  return listAddresses(db, accountId).map((row) => row.address);
}

/** An address made safe to echo in one ASCII reply line. */
function printableAddress(address: string): string {
  return address.replace(/[^\x20-\x7e]/g, '?').slice(0, 256);
}
