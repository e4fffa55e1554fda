// The relay worker (as Haraka's outbound: MX lookup in mx.ts, connections in relay-pool.ts, the
// queue work here): sends the outbound queue (src/store/queue.ts) to the other MSSanté operators
// with nodemailer's SMTP client, over TLS 1.2+ with this operator's client certificate (R1).
//
// - Where: src/delivery/mx.ts (relay.smarthost, else the MX hosts by preference, RFC 5321
//   section 5.1); each MX in turn until one answers.
// - How: one SMTP transaction per (entry, domain) carries all the entry's recipients in that
//   domain, with their own NOTIFY and ORCPT and the entry's RET and ENVID (RFC 3461), over a
//   connection of src/delivery/relay-pool.ts (kept a moment and reused for the same peer; TLS
//   failures with relay.requireTls are temporary: next MX, then retry later).
// - Outcome per recipient: 250 after DATA → 'sent', written to the store right away, before
//   anything else happens, so a recipient the peer accepted is never sent to again. A crash
//   between the peer's 250 and that write (a few milliseconds) makes the next attempt send the
//   message once more to those recipients: at most one duplicate, never a loss (RFC 5321
//   section 6.1 accepts duplicates over losses). 5xx → 'failed' at once. 4xx, network and TLS
//   failures → retried after relay.retryDelays (the last one repeats), until relay.maxAge; then
//   'failed' with status 4.4.7.
// - Failed recipients that did not say NOTIFY=NEVER get one failure DSN (RFC 3464) per attempt,
//   from <> to the envelope sender, through the router (local sender → INBOX, else the queue),
//   committed in the same transaction as the failure. Never about a message from <>.
// - A recipient that asked NOTIFY=SUCCESS, relayed to a peer that does not offer DSN, gets a
//   "relayed" DSN (RFC 3461 section 4.1).
// - One pino line per attempt and peer, with the peer's reply.
// - Shutdown: no new attempt starts; attempts under way get the grace period, then their
//   connections are closed; an attempt cut short this way is not counted, so the entry is due
//   again at once after the restart.
import { WakeTimer } from '../util/wake-timer';
import { isAscii } from 'node:buffer';
import type SMTPConnection from 'nodemailer/lib/smtp-connection';
import { durationMs, type Config } from '../config/schema';
import { buildDsn, statusOfReply, wantsNotification, withoutReturnPath, type DsnRecipient } from './dsn';
import { insertAudit } from '../store/audit';
import type { CommitBatcher } from '../store/commit-batcher';
import type { Db } from '../store/database';
import { readBody, setDeliveryRecipientOutcome } from '../store/messages';
import {
  completeQueueEntry,
  dueQueueEntries,
  markQueueRecipientsSent,
  nextQueueDueAt,
  pendingRecipientCount,
  recordQueueAttempt,
  type QueueRecipient,
  type WorkEntry,
} from '../store/queue';
import type { RelayTlsOptions } from '../tls/server-options';
import type { Logger } from '../util/log';
import { resolveTargets, type MxResolver } from './mx';
import { RelayPool, sendOn, type PeerConnection, type SmtpError } from './relay-pool';
import type { Router } from './router';

/** Entries sent at the same time. */
const MAX_ENTRIES_IN_FLIGHT = 32;
/** The queue is looked at least this often (to see `mssd queue retry` from another process). */
const POLL_MS = 2_000;

/** The delay before attempt number `attempts + 1`, after `attempts` attempts (1-based). */
export function retryDelayMs(retryDelays: readonly string[], attempts: number): number {
  const index = Math.min(Math.max(attempts, 1) - 1, retryDelays.length - 1);
  return durationMs(retryDelays[index]);
}

/** An SMTP reply on one line, as kept in the store and quoted in DSNs. */
function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim().slice(0, 1000);
}

// ---------------------------------------------------------------------------------------------
// The worker

type RecipientOutcome = 'sent' | 'temporary' | 'permanent';

interface RecipientResult {
  recipient: QueueRecipient;
  outcome: RecipientOutcome;
  reply: string;
  remoteMta: string | null;
  /** Sent to a peer that offers no DSN extension (a "relayed" DSN may be due). */
  peerWithoutDsn: boolean;
  /** The attempt was cut short by shutdown: not counted. */
  interrupted: boolean;
}

export interface OutboundDeps {
  config: Config;
  log: Logger;
  db: Db;
  batcher: CommitBatcher;
  router: Router;
  tls: RelayTlsOptions;
  resolveMx?: MxResolver;
}

export class OutboundWorker {
  private readonly inFlight = new Map<number, Promise<void>>();
  private readonly pool: RelayPool;
  private readonly maxAgeMs: number;
  private readonly wake = new WakeTimer(() => this.scan());
  private stopping = false;
  private started = false;

  constructor(private readonly deps: OutboundDeps) {
    this.pool = new RelayPool(deps.config, deps.tls);
    this.maxAgeMs = durationMs(deps.config.relay.maxAge);
  }

  start(): void {
    this.started = true;
    this.wake.wakeIn(0);
  }

  /** Something was queued: look at the queue now. */
  kick(): void {
    if (this.started && !this.stopping) this.wake.wakeIn(0);
  }

  get busy(): number {
    return this.inFlight.size;
  }

  private scan(): void {
    if (this.stopping) return;
    const { db, log } = this.deps;
    const now = Date.now();
    try {
      const room = MAX_ENTRIES_IN_FLIGHT - this.inFlight.size;
      if (room > 0) {
        const skip = new Set(this.inFlight.keys());
        for (const entry of dueQueueEntries(db, now, room, skip)) {
          const work = this.process(entry)
            .catch((err: unknown) => this.postpone(entry, err))
            .finally(() => {
              this.inFlight.delete(entry.rowId);
              this.kick();
            });
          this.inFlight.set(entry.rowId, work);
        }
      }
      if (this.inFlight.size >= MAX_ENTRIES_IN_FLIGHT) return; // a finishing entry kicks
      const next = nextQueueDueAt(db, new Set(this.inFlight.keys()));
      this.wake.wakeIn(next === null ? POLL_MS : Math.min(POLL_MS, Math.max(next - Date.now(), 0)));
    } catch (err) {
      log.error({ relay: 'scan', err }, 'outbound queue scan failed');
      this.wake.wakeIn(POLL_MS);
    }
  }

  /** An attempt that failed in our own code: logged, and the entry waits like after a 4xx. */
  private async postpone(entry: WorkEntry, err: unknown): Promise<void> {
    const { batcher, config, log } = this.deps;
    log.error({ relay: 'attempt', queueId: entry.queueId, err }, 'relay attempt failed unexpectedly');
    const next = Date.now() + retryDelayMs(config.relay.retryDelays, entry.attempts + 1);
    await batcher.run((db) => recordQueueAttempt(db, entry.rowId, [], next)).catch((writeErr: unknown) => log.error({ relay: 'attempt', queueId: entry.queueId, err: writeErr }, 'could not postpone queue entry'));
  }

  private async process(entry: WorkEntry): Promise<void> {
    if (entry.pending.length === 0) {
      await this.deps.batcher.run((db) => {
        if (pendingRecipientCount(db, entry.rowId) === 0) completeQueueEntry(db, entry.rowId);
      });
      return;
    }
    const body = readBody(this.deps.db, entry.bodyHash);
    if (!body) throw new Error(`queue entry ${entry.queueId}: body ${entry.bodyHash} is missing`);
    const message = withoutReturnPath(body);
    const byDomain = new Map<string, QueueRecipient[]>();
    for (const rcpt of entry.pending) {
      const list = byDomain.get(rcpt.domain.toLowerCase()) ?? [];
      list.push(rcpt);
      byDomain.set(rcpt.domain.toLowerCase(), list);
    }
    // With one domain, the sent marks go into the attempt's own commit, the very next write; with
    // several, each domain's marks are committed as soon as its peer answered.
    const markAtOnce = byDomain.size > 1;
    const results = (await Promise.all([...byDomain].map(([domain, recipients]) => this.sendToDomain(entry, domain, recipients, message, markAtOnce)))).flat();
    await this.finish(entry, results, body);
  }

  /** One attempt for the recipients of one domain: every MX in turn until one answers. */
  private async sendToDomain(entry: WorkEntry, domain: string, recipients: QueueRecipient[], message: Buffer, markAtOnce: boolean): Promise<RecipientResult[]> {
    const { config, log, batcher } = this.deps;
    const started = Date.now();
    const result = (outcome: RecipientOutcome, reply: string, remoteMta: string | null, extra: Partial<RecipientResult> = {}) =>
      recipients.map((recipient) => ({ recipient, outcome, reply: oneLine(reply), remoteMta, peerWithoutDsn: false, interrupted: false, ...extra }));
    const logAttempt = (fields: Record<string, unknown>, results: RecipientResult[]) => {
      const outcomes = new Set(results.map((r) => r.outcome));
      log.info(
        {
          relay: 'attempt',
          queueId: entry.queueId,
          kind: entry.kind,
          attempt: entry.attempts + 1,
          domain,
          from: entry.mailFrom,
          to: recipients.map((r) => r.address),
          accepted: results.filter((r) => r.outcome === 'sent').map((r) => r.recipient.address),
          outcome: outcomes.size === 1 ? [...outcomes][0] : 'partial',
          ms: Date.now() - started,
          ...fields,
        },
        'relay attempt',
      );
    };

    const resolved = await resolveTargets(domain, config.relay.smarthost, this.deps.resolveMx);
    if (!resolved.ok) {
      const results = result(resolved.permanent ? 'permanent' : 'temporary', resolved.reply, null);
      logAttempt({ reply: resolved.reply }, results);
      return results;
    }

    let lastError = 'no host to try';
    for (const target of resolved.targets) {
      const peer = `${target.host}:${target.port}`;
      let connection: PeerConnection;
      try {
        connection = await this.pool.acquire(target);
      } catch (err) {
        lastError = `connection to ${peer} failed: ${oneLine((err as Error).message)}`;
        if (this.stopping) break;
        log.info({ relay: 'connect', queueId: entry.queueId, domain, peer, outcome: 'temporary', reply: lastError }, 'relay connection failed');
        continue; // RFC 5321 section 5.1: next MX
      }
      const envelope: SMTPConnection.Envelope = {
        from: entry.mailFrom,
        to: recipients.map((r) => r.address),
        size: message.length,
        use8BitMime: !isAscii(message),
        ...(entry.envid || entry.ret ? { dsn: { envid: entry.envid, ret: entry.ret } } : {}),
      };
      for (const r of recipients) connection.dsn.set(r.address, { notify: r.notify, orcpt: r.orcpt });
      connection.messages++;
      try {
        const info = await sendOn(connection, envelope, message);
        const reply = oneLine(info.response);
        const accepted = new Set(info.accepted.map((a) => a.toLowerCase()));
        // Written before anything else: never send again to a recipient the peer accepted.
        if (markAtOnce) {
          await batcher.run((db) => markQueueRecipientsSent(db, entry.rowId, recipients.filter((r) => accepted.has(r.address.toLowerCase())).map((r) => r.address), reply));
        }
        const rejected = new Map((info.rejectedErrors ?? []).map((e) => [String((e as SmtpError).recipient ?? '').toLowerCase(), e as SmtpError]));
        const results: RecipientResult[] = recipients.map((recipient) => {
          if (accepted.has(recipient.address.toLowerCase())) {
            return { recipient, outcome: 'sent', reply, remoteMta: target.host, peerWithoutDsn: !connection.offersDsn, interrupted: false };
          }
          const refusal = rejected.get(recipient.address.toLowerCase());
          const refusalReply = oneLine(refusal?.response ?? 'recipient refused');
          return { recipient, outcome: (refusal?.responseCode ?? 400) >= 500 ? 'permanent' : 'temporary', reply: refusalReply, remoteMta: target.host, peerWithoutDsn: false, interrupted: false };
        });
        logAttempt({ peer, tls: connection.tlsProtocol, reply }, results);
        this.pool.release(connection, true);
        return results;
      } catch (err) {
        const error = err as SmtpError;
        this.pool.release(connection, false);
        if ((error.code === 'EENVELOPE' || error.code === 'EMESSAGE') && error.responseCode) {
          // The peer answered the transaction (MAIL, RCPT or DATA): that is its verdict.
          const perRecipient = new Map((error.rejectedErrors ?? []).map((e) => [String(e.recipient ?? '').toLowerCase(), e]));
          const results: RecipientResult[] = recipients.map((recipient) => {
            const own = perRecipient.get(recipient.address.toLowerCase()) ?? error;
            const code = own.responseCode ?? error.responseCode ?? 400;
            return { recipient, outcome: code >= 500 ? 'permanent' : 'temporary', reply: oneLine(own.response ?? error.message), remoteMta: target.host, peerWithoutDsn: false, interrupted: false };
          });
          logAttempt({ peer, tls: connection.tlsProtocol, reply: oneLine(error.response ?? error.message) }, results);
          return results;
        }
        if (error.code === 'EMESSAGE' && error.command === 'MAIL FROM') {
          // nodemailer's own check of the peer's SIZE (RFC 1870): the message will never fit.
          const results = result('permanent', `552 5.3.4 ${error.message}`, target.host);
          logAttempt({ peer, reply: error.message }, results);
          return results;
        }
        lastError = `${peer}: ${oneLine(error.message)}`;
        if (this.stopping) break;
        log.info({ relay: 'connect', queueId: entry.queueId, domain, peer, outcome: 'temporary', reply: lastError }, 'relay session failed');
      }
    }
    const results = result('temporary', `451 4.4.1 No peer accepted the connection (${lastError})`, null, { interrupted: this.stopping });
    logAttempt({ reply: results[0]?.reply }, results);
    return results;
  }

  /** Records the attempt, bounces what failed for good, removes the entry when nothing is left. */
  private async finish(entry: WorkEntry, results: RecipientResult[], body: Buffer): Promise<void> {
    const { config, router, batcher } = this.deps;
    const counted = results.filter((r) => !r.interrupted);
    if (counted.length === 0) return; // cut short by shutdown: due again at once after restart
    const now = Date.now();
    const attempts = entry.attempts + 1;
    const expired = now - entry.createdAt >= this.maxAgeMs;
    const failed = counted.filter((r) => r.outcome === 'permanent' || (r.outcome === 'temporary' && expired));
    const pending = counted.filter((r) => r.outcome === 'temporary' && !expired);
    const sent = counted.filter((r) => r.outcome === 'sent');
    const nextAttemptAt = Math.min(now + retryDelayMs(config.relay.retryDelays, attempts), entry.createdAt + this.maxAgeMs);

    const reported: DsnRecipient[] = [];
    for (const r of failed) {
      if (!wantsNotification(r.recipient.notify, 'FAILURE')) continue;
      const status = r.outcome === 'permanent' ? statusOfReply(r.reply, '5.0.0') : '4.4.7';
      const diagnostic = r.outcome === 'permanent' ? r.reply : `${r.reply} (given up after ${config.relay.maxAge}, relay.maxAge)`;
      reported.push({ address: r.recipient.address, orcpt: r.recipient.orcpt, action: 'failed', status, remoteMta: r.remoteMta, diagnostic, lastAttempt: new Date(now) });
    }
    for (const r of sent) {
      if (r.peerWithoutDsn && wantsNotification(r.recipient.notify, 'SUCCESS')) {
        reported.push({ address: r.recipient.address, orcpt: r.recipient.orcpt, action: 'relayed', status: '2.0.0', remoteMta: r.remoteMta, diagnostic: r.reply, lastAttempt: new Date(now) });
      }
    }
    const report =
      entry.mailFrom !== '' && reported.length > 0
        ? buildDsn({
            reportingMta: config.hostname,
            from: router.reportsFrom,
            to: entry.mailFrom,
            envid: entry.envid,
            ret: entry.ret,
            arrivalDate: new Date(entry.createdAt),
            queueId: entry.queueId,
            recipients: reported,
            original: body,
          })
        : null;
    const reportedAddresses = new Set(reported.map((r) => r.address));

    const effects = await batcher.run((db) => {
      for (const r of sent) markQueueRecipientsSent(db, entry.rowId, [r.recipient.address], r.reply, now);
      recordQueueAttempt(
        db,
        entry.rowId,
        [
          ...failed.map((r) => ({ address: r.recipient.address, status: 'failed' as const, reply: r.reply })),
          ...pending.map((r) => ({ address: r.recipient.address, status: 'pending' as const, reply: r.reply })),
        ],
        nextAttemptAt,
        now,
      );
      if (entry.deliveryId !== null) {
        for (const r of sent) setDeliveryRecipientOutcome(db, entry.deliveryId, r.recipient.address, 'relayed', reportedAddresses.has(r.recipient.address));
        for (const r of failed) setDeliveryRecipientOutcome(db, entry.deliveryId, r.recipient.address, 'failed', reportedAddresses.has(r.recipient.address));
      }
      const delivered = report ? router.deliverReport(db, { to: entry.mailFrom, raw: report }) : null;
      insertAudit(
        db,
        {
          event: 'relay',
          source: entry.kind,
          queueId: entry.queueId,
          mailFrom: entry.mailFrom,
          recipients: counted.map((r) => r.recipient.address),
          size: body.length,
          outcome: failed.length > 0 ? 'failed' : pending.length > 0 ? 'deferred' : 'sent',
          detail: JSON.stringify({
            attempt: attempts,
            sent: sent.map((r) => r.recipient.address),
            failed: failed.map((r) => r.recipient.address),
            deferred: pending.map((r) => r.recipient.address),
            dsn: delivered?.outcome ?? null,
          }),
        },
        now,
      );
      const done = pendingRecipientCount(db, entry.rowId) === 0;
      if (done) completeQueueEntry(db, entry.rowId);
      return { appended: delivered?.appended ?? [], queued: delivered?.queued ?? false, done };
    });
    router.announce(effects);
    if (failed.length > 0 || effects.done) {
      this.deps.log.info(
        {
          relay: 'result',
          queueId: entry.queueId,
          failed: failed.map((r) => r.recipient.address),
          pending: pending.map((r) => r.recipient.address),
          dsn: report ? entry.mailFrom : null,
          done: effects.done,
        },
        effects.done ? 'queue entry finished' : 'queue entry partly failed',
      );
    }
  }

  /**
   * Stops taking new work, gives the attempts under way `graceMs`, then closes every connection
   * and waits for the attempts to settle (their bookkeeping is written before this resolves).
   */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    this.wake.cancel();
    const all = () => Promise.allSettled([...this.inFlight.values()]);
    if (this.inFlight.size > 0) {
      let timeout: NodeJS.Timeout | undefined;
      await Promise.race([all(), new Promise((resolve) => (timeout = setTimeout(resolve, graceMs)))]);
      if (timeout) clearTimeout(timeout);
    }
    this.pool.closeAll();
    await all();
  }
}
