// The router: the one place that decides where a message goes. Front ends (the inbound MTA,
// submission, internal senders) ask it whether a recipient is acceptable at RCPT time, then hand
// it the whole message; it commits the message to every local box in one durable transaction.
import { EventEmitter } from 'node:events';
import type { Config } from '../config/schema';
import { analyzeMessage } from '../mime';
import { findBox, type BoxRef } from '../store/boxes';
import { insertAudit } from '../store/audit';
import type { CommitBatcher } from '../store/commit-batcher';
import type { Db } from '../store/database';
import {
  appendMessage,
  bodyHash,
  inboxOf,
  insertDelivery,
  insertDeliveryRecipient,
  retainBody,
  type AppendedMessage,
} from '../store/messages';

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
  recipients: EnvelopeRecipient[];
}

export interface DeliveryResult {
  messageId: string | null;
  appended: AppendedMessage[];
}

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

/**
 * Emits 'mailbox-changed' (mailboxId) after a commit that changed a mailbox, so IMAP sessions
 * can tell their clients at once (RFC 2177 IDLE).
 */
export class MailboxChanges extends EventEmitter {}

export class Router {
  constructor(
    private readonly db: Db,
    private readonly batcher: CommitBatcher,
    private readonly config: Config,
    readonly changes: MailboxChanges,
  ) {}

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
   * Commits the message to the INBOX of every recipient box, with its envelope and DSN
   * parameters, in one transaction. Resolves only once that transaction is durable (R14).
   * A box reached through several of its addresses receives one copy.
   */
  async deliver(envelope: InboundEnvelope, raw: Buffer): Promise<DeliveryResult> {
    const analysis = analyzeMessage(raw);
    const envelopeJson = JSON.stringify(analysis.envelope);
    const structureJson = JSON.stringify(analysis.structure);
    const hash = bodyHash(raw);
    const accounts = [...new Set(envelope.recipients.map((rcpt) => rcpt.box.accountId))];
    const appended = await this.batcher.run((db) => {
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
      retainBody(db, hash, raw, accounts.length, envelope.receivedAt);
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
      insertAudit(
        db,
        {
          event: 'smtp',
          source: envelope.source,
          queueId: envelope.queueId,
          peer: envelope.peerAddress,
          authLogin: envelope.authLogin,
          mailFrom: envelope.mailFrom,
          recipients: envelope.recipients.map((rcpt) => rcpt.address),
          messageId: analysis.messageId,
          size: raw.length,
          outcome: 'delivered',
        },
        envelope.receivedAt,
      );
      return rows;
    });
    for (const row of appended) this.changes.emit('mailbox-changed', row.mailboxId);
    return { messageId: analysis.messageId, appended };
  }
}
