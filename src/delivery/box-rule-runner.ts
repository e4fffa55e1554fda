// The rules of the boxes a message lands in (R7–R9), applied by the router inside the delivery's
// transaction, so that a 250 covers them too (R14):
// - forwards (R7): a copy to each target, through the router's local commit for local boxes and
//   through the outbound queue (kind 'forward') for other operators, from the forwarding box's
//   address, so that bounces go to that box; R1 (and R2, R4) are checked again at use time; our
//   own trace header stops loops (src/delivery/box-rules.ts). A box receives one copy of a message
//   per delivery, however many forwards lead to it;
// - the automatic reply (R8, RFC 3834), once per sender per autoreply.intervalDays, remembered in
//   autoreply_log, sent under the same R1–R4 decisions as submission (a MED box answers only
//   local senders);
// - reception notices (R9): a `notices` row, merged with the others of the same burst, that the
//   notice sender (src/delivery/notices.ts) delivers later: the notification relay never holds up
//   or fails a delivery.
// A rule that fails (a bug, a corrupt setting) is rolled back alone (a savepoint) and logged: the
// delivery itself stands. The pure decisions and message builders are in box-rules.ts; this
// module looks things up and commits what they return.
import { durationMs, type Config } from '../config/schema';
import type { HeaderField } from '../mime';
import { domainOf } from '../policy/identity';
import { isAllowedDestination, isOwnDomain, type TrustSpaceView } from '../policy/routing-rules';
import { isPatientAddress, remoteRecipientRefusal } from '../policy/submission-rules';
import { newQueueId } from '../util/queue-id';
import { listAddresses } from '../store/accounts';
import { insertAudit } from '../store/audit';
import {
  autoreplySentAt,
  boxRulesOf,
  getAutoreply,
  listForwards,
  receptionNoticeRecipients,
  recordAutoreplySent,
  type BoxRules,
} from '../store/box-rules';
import type { BoxType } from '../policy/box-types';
import { findBox, type BoxRef } from '../store/boxes';
import type { Db } from '../store/database';
import type { AppendedMessage } from '../store/messages';
import { queueReceptionNotice } from '../store/notices';
import { enqueueOutbound } from '../store/queue';
import type { Logger } from '../util/log';
import { autoreplyRefusal, buildAutoreply, forwardedCopy, forwardRefusal, forwardTrace } from './box-rules';

/** What a commit changed, to announce once it is durable. */
export interface CommitEffects {
  appended: AppendedMessage[];
  queued: boolean;
  /** Notices were queued (R9): the notice sender looks at them. */
  notices?: boolean;
}

/** A message just appended to local boxes, as their rules (R7–R9) look at it. */
export interface Arrival {
  /** As stored, trace fields of the final delivery included. */
  raw: Buffer;
  header: readonly HeaderField[];
  messageId: string | null;
  mailFrom: string;
  at: number;
  /** One per box. */
  recipients: ReadonlyArray<{ address: string; box: BoxRef }>;
}

/** A message this server writes itself (a report, a forwarded copy, an automatic reply) for local boxes. */
export interface InternalMessage {
  raw: Buffer;
  mailFrom: string;
  /** One per box. */
  recipients: ReadonlyArray<{ address: string; box: BoxRef }>;
  queueId: string;
  at: number;
  /** false: no Received line (a forwarded copy carries its own). */
  received?: boolean;
  /** The boxes this delivery already reached (a forward skips them); the new ones are added. */
  reached?: Set<number>;
}

/** The router's local commit of an internal message, inside the caller's transaction. */
export type CommitInternal = (db: Db, message: InternalMessage, effects: CommitEffects) => { messageId: string | null; size: number };

export class BoxRuleRunner {
  constructor(
    private readonly config: Config,
    /** The current allowlist (R1). */
    private readonly trustSpace: () => TrustSpaceView,
    private readonly commitInternal: CommitInternal,
    /** Where rules that failed or declined are logged (read at use: the daemon sets it late). */
    private readonly log: () => Logger | null,
  ) {}

  /**
   * The rules of every box a message just landed in (R7–R9), inside the delivery's transaction.
   * `reached` holds the boxes this delivery already put the message in (a forward skips them).
   */
  apply(db: Db, arrival: Arrival, effects: CommitEffects, reached: Set<number>): void {
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
      this.log()?.error({ rule, box: rules.address, err }, 'box rule failed; the message was delivered without it');
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
    const refusal = autoreplyRefusal({ mailFrom: sender, header: arrival.header, boxAddresses: listAddresses(db, rules.accountId).map((row) => row.address) });
    if (refusal) {
      this.log()?.debug({ rule: 'autoreply', box: rules.address, sender, outcome: refusal }, 'automatic reply not sent');
      return;
    }
    const last = autoreplySentAt(db, rules.accountId, sender);
    if (last !== null && arrival.at - last < this.config.autoreply.intervalDays * 86_400_000) {
      this.log()?.debug({ rule: 'autoreply', box: rules.address, sender, outcome: 'already-answered', at: new Date(last).toISOString() }, 'automatic reply not sent');
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
        this.log()?.info({ rule: 'autoreply', box: rules.address, sender, outcome: 'no-local-box' }, 'automatic reply not sent');
        return;
      }
      this.commitInternal(db, { raw, mailFrom: '', recipients: [{ address: sender, box }], queueId, at: arrival.at }, effects);
      outcome = 'delivered';
    } else {
      const refused = this.remoteRefusal(rules.type, sender);
      if (refused) {
        this.log()?.info({ rule: 'autoreply', box: rules.address, sender, outcome: 'refused', reason: refused }, 'automatic reply not sent');
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
    this.log()?.info({ rule: 'autoreply', queueId, box: rules.address, to: sender, outcome }, 'automatic reply sent');
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
    const declined = forwardRefusal(trace, listAddresses(db, rules.accountId).map((row) => row.address), arrival.mailFrom);
    if (declined) {
      this.log()?.info({ rule: 'forward', box: rules.address, messageId: arrival.messageId, outcome: declined, forwardedBy: trace.by }, 'message not forwarded');
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
        this.commitInternal(db, { raw: copy, mailFrom: rules.address, recipients: local, queueId, at: arrival.at, received: false, reached }, effects);
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
    this.log()?.info(
      { rule: 'forward', queueId, box: rules.address, messageId: arrival.messageId, local: local.map((r) => r.address), remote: remote.map((r) => r.address), skipped },
      forwarded.length > 0 ? 'message forwarded' : 'message not forwarded',
    );
  }
}
