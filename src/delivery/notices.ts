// Notices (R9) leave here: the notice sender reads the `notices` rows that deliveries, IMAP
// openings and the daily digest committed (src/store/notices.ts), and hands each one to the
// ordinary relay of notifications.smtp with nodemailer.
//
// - Content: which box received something and when (or the day's count, or that a message was
//   opened by all its local recipients), in French then English, as plain text. Never a subject,
//   a sender, a body or an attachment of the health message, and no link: the person opens their
//   usual secure messaging to read. `Auto-Submitted: auto-generated` (RFC 3834) so that no
//   automatic reply answers it.
// - Durability: a notice is marked sent only after the relay's 250; a crash in between sends it
//   once more after the restart (a duplicate, never a loss).
// - Failures: a relay that cannot be reached or answers 4xx postpones the notice after
//   notifications.retryDelays (the last one repeats, forever: a notice is never dropped for a relay
//   that is down); when the connection itself fails, every notice of the pass waits, so a dead
//   relay is not hammered once per notice. A 5xx refusal of the recipient is final: the notice is
//   closed, logged and audited (event 'notice', outcome 'refused').
// - None of this ever touches a delivery: deliveries only insert rows.
import { WakeTimer } from '../util/wake-timer';
import nodemailer, { type Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';
import { randomBytes } from 'node:crypto';
import { encodeWords } from 'nodemailer/lib/mime-funcs';
import { encode as qpEncode, wrap as qpWrap } from 'nodemailer/lib/qp';
import type { Config } from '../config/schema';
import { rfc5322Date } from '../mime/date';
import { insertAudit } from '../store/audit';
import type { CommitBatcher } from '../store/commit-batcher';
import type { Db } from '../store/database';
import {
  dueNotices,
  markNoticeSent,
  nextNoticeDueAt,
  postponeNotice,
  type DigestPayload,
  type Notice,
  type OpeningPayload,
  type ReceptionPayload,
} from '../store/notices';
import type { Logger } from '../util/log';
import { retryDelayMs } from './outbound';

/** The table is looked at least this often (notices queued by another process, clock drift). */
const POLL_MS = 5_000;
/** Notices taken per pass. */
const BATCH = 20;

// ---------------------------------------------------------------------------------------------
// Texts

function formatter(timeZone: string, options: Intl.DateTimeFormatOptions, locale: string): Intl.DateTimeFormat {
  return new Intl.DateTimeFormat(locale, { timeZone, ...options });
}

function when(at: number, timeZone: string, locale: 'fr-FR' | 'en-GB'): string {
  return formatter(timeZone, { dateStyle: 'full', timeStyle: 'short' }, locale).format(new Date(at));
}

function hour(at: number, timeZone: string, locale: 'fr-FR' | 'en-GB'): string {
  return formatter(timeZone, { timeStyle: 'short' }, locale).format(new Date(at));
}

function sameDay(a: number, b: number, timeZone: string): boolean {
  const day = formatter(timeZone, { dateStyle: 'short' }, 'en-CA');
  return day.format(new Date(a)) === day.format(new Date(b));
}

const FOOTER_FR = [
  'Pour le lire, ouvrez votre messagerie sécurisée de santé habituelle.',
  'Ce message est envoyé automatiquement, il ne contient aucune information sur le contenu reçu : merci de ne pas y répondre.',
];
const FOOTER_EN = [
  'To read it, open your usual secure health messaging application.',
  'This message is sent automatically and says nothing about the content received: please do not reply.',
];

interface NoticeText {
  subject: string;
  fr: string[];
  en: string[];
}

function receptionText(payload: ReceptionPayload, zone: string): NoticeText {
  const { box, count, first, last } = payload;
  if (count <= 1) {
    return {
      subject: 'Nouveau message dans votre messagerie sécurisée de santé / New message',
      fr: [`Votre boîte aux lettres MSSanté ${box} a reçu un nouveau message le ${when(first, zone, 'fr-FR')}.`],
      en: [`Your MSSanté mailbox ${box} received a new message on ${when(first, zone, 'en-GB')} (${zone} time).`],
    };
  }
  const fr = sameDay(first, last, zone)
    ? `entre ${hour(first, zone, 'fr-FR')} et ${hour(last, zone, 'fr-FR')} le ${formatter(zone, { dateStyle: 'full' }, 'fr-FR').format(new Date(first))}`
    : `entre le ${when(first, zone, 'fr-FR')} et le ${when(last, zone, 'fr-FR')}`;
  const en = sameDay(first, last, zone)
    ? `between ${hour(first, zone, 'en-GB')} and ${hour(last, zone, 'en-GB')} on ${formatter(zone, { dateStyle: 'full' }, 'en-GB').format(new Date(first))} (${zone} time)`
    : `between ${when(first, zone, 'en-GB')} and ${when(last, zone, 'en-GB')} (${zone} time)`;
  return {
    subject: `${count} nouveaux messages dans votre messagerie sécurisée de santé / ${count} new messages`,
    fr: [`Votre boîte aux lettres MSSanté ${box} a reçu ${count} nouveaux messages ${fr}.`],
    en: [`Your MSSanté mailbox ${box} received ${count} new messages ${en}.`],
  };
}

function digestText(payload: DigestPayload, zone: string): NoticeText {
  const { box, count, since, until } = payload;
  const period = { fr: `entre le ${when(since, zone, 'fr-FR')} et le ${when(until, zone, 'fr-FR')}`, en: `between ${when(since, zone, 'en-GB')} and ${when(until, zone, 'en-GB')} (${zone} time)` };
  if (count === 0) {
    return {
      subject: 'Votre messagerie sécurisée de santé : aucun nouveau message / No new message',
      fr: [`Votre boîte aux lettres MSSanté ${box} n’a reçu aucun nouveau message ${period.fr}.`],
      en: [`Your MSSanté mailbox ${box} received no new message ${period.en}.`],
    };
  }
  return {
    subject: `Votre messagerie sécurisée de santé : ${count} nouveau${count > 1 ? 'x' : ''} message${count > 1 ? 's' : ''} / ${count} new message${count > 1 ? 's' : ''}`,
    fr: [`Votre boîte aux lettres MSSanté ${box} a reçu ${count} nouveau${count > 1 ? 'x' : ''} message${count > 1 ? 's' : ''} ${period.fr}.`],
    en: [`Your MSSanté mailbox ${box} received ${count} new message${count > 1 ? 's' : ''} ${period.en}.`],
  };
}

function openingText(payload: OpeningPayload, zone: string): NoticeText {
  const n = payload.recipients;
  return {
    subject: 'Votre message a été ouvert par tous ses destinataires / Your message was opened by all its recipients',
    fr: [
      `Le message envoyé le ${when(payload.sentAt, zone, 'fr-FR')} depuis votre boîte ${payload.box}`,
      `(identifiant ${payload.messageId}) a été ouvert par ${n > 1 ? `ses ${n} destinataires` : 'son destinataire'} de votre opérateur, en dernier le ${when(payload.openedAt, zone, 'fr-FR')}.`,
      'Les destinataires d’autres messageries sécurisées ne sont pas comptés : leur ouverture ne peut pas être connue.',
    ],
    en: [
      `The message sent on ${when(payload.sentAt, zone, 'en-GB')} from your mailbox ${payload.box}`,
      `(identifier ${payload.messageId}) was opened by ${n > 1 ? `all its ${n} recipients` : 'its recipient'} at your operator, last on ${when(payload.openedAt, zone, 'en-GB')} (${zone} time).`,
      'Recipients at other secure messaging operators are not counted: whether they opened it cannot be known.',
    ],
  };
}

export function noticeText(notice: Notice, timeZone: string): NoticeText {
  switch (notice.kind) {
    case 'reception':
      return receptionText(notice.payload as ReceptionPayload, timeZone);
    case 'digest':
      return digestText(notice.payload as DigestPayload, timeZone);
    case 'opening': {
      const text = openingText(notice.payload as OpeningPayload, timeZone);
      return { ...text, fr: [...text.fr, ''], en: [...text.en, ''] };
    }
  }
}

function qpText(lines: string[]): string {
  return lines.map((line) => qpWrap(qpEncode(Buffer.from(line, 'utf8')), 76)).join('\r\n');
}

/** The notice as an RFC 5322 message, CRLF line ends. */
export function buildNoticeMessage(notice: Notice, config: Pick<Config, 'hostname' | 'notifications' | 'schedules'>, date = new Date()): Buffer {
  const text = noticeText(notice, config.schedules.timezone);
  const footer = notice.kind === 'opening' ? [] : ['', ...FOOTER_FR];
  const footerEn = notice.kind === 'opening' ? [] : ['', ...FOOTER_EN];
  const body = ['Bonjour,', '', ...text.fr, ...footer, '', '----', '', 'Hello,', '', ...text.en, ...footerEn, ''];
  const head = [
    `From: ${encodeWords('Messagerie sécurisée de santé', 'Q', 52)} <${config.notifications.from}>`,
    `To: <${notice.recipient}>`,
    `Subject: ${encodeWords(text.subject, 'Q', 52)}`,
    `Date: ${rfc5322Date(date)}`,
    `Message-ID: <notice.${notice.id}.${randomBytes(6).toString('hex')}@${config.hostname}>`,
    'Auto-Submitted: auto-generated',
    'X-Auto-Response-Suppress: All',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: quoted-printable',
    'Content-Language: fr, en',
    '',
  ];
  return Buffer.from(`${head.join('\r\n')}\r\n${qpText(body)}\r\n`, 'utf8');
}

// ---------------------------------------------------------------------------------------------
// The sender

interface SmtpError extends Error {
  code?: string;
  responseCode?: number;
  response?: string;
}

export interface NoticeSenderDeps {
  config: Config;
  log: Logger;
  db: Db;
  batcher: CommitBatcher;
  /** Tests pass their own transport; default: notifications.smtp. */
  transport?: Transporter<SMTPTransport.SentMessageInfo>;
}

export class NoticeSender {
  private readonly transport: Transporter<SMTPTransport.SentMessageInfo>;
  private readonly wake = new WakeTimer(() => this.run());
  private pass: Promise<void> | null = null;
  private again = false;
  private started = false;
  private stopping = false;

  constructor(private readonly deps: NoticeSenderDeps) {
    const smtp = deps.config.notifications.smtp;
    this.transport =
      deps.transport ??
      nodemailer.createTransport({
        host: smtp.host,
        port: smtp.port,
        secure: smtp.secure,
        name: deps.config.hostname,
        connectionTimeout: 10_000,
        greetingTimeout: 10_000,
        socketTimeout: 60_000,
        tls: { minVersion: 'TLSv1.2' },
        logger: false,
      });
  }

  start(): void {
    this.started = true;
    this.wake.wakeIn(0);
  }

  /** Notices were queued: look at the table now (a notice not yet due sets the next wake-up). */
  kick(): void {
    if (this.started && !this.stopping) this.wake.wakeIn(0);
  }

  private run(): void {
    if (this.stopping) return;
    if (this.pass) {
      this.again = true;
      return;
    }
    let failed = false;
    this.pass = this.sendDue()
      .catch((err: unknown) => {
        failed = true;
        this.deps.log.error({ notices: 'pass', err }, 'notice pass failed');
      })
      .finally(() => {
        this.pass = null;
        if (this.stopping) return;
        if (failed) {
          // The store itself failed (disk, lock): look again later rather than spin.
          this.again = false;
          this.wake.wakeIn(POLL_MS);
          return;
        }
        if (this.again) {
          this.again = false;
          this.wake.wakeIn(0);
          return;
        }
        try {
          const next = nextNoticeDueAt(this.deps.db);
          this.wake.wakeIn(next === null ? POLL_MS : Math.min(POLL_MS, Math.max(0, next - Date.now())));
        } catch (err) {
          this.deps.log.error({ notices: 'scan', err }, 'notice scan failed');
          this.wake.wakeIn(POLL_MS);
        }
      });
  }

  /** Sends what is due, a batch at a time, until nothing is due or the relay is unreachable. */
  private async sendDue(): Promise<void> {
    for (;;) {
      if (this.stopping) return;
      const due = dueNotices(this.deps.db, Date.now(), BATCH);
      if (due.length === 0) return;
      for (const [index, notice] of due.entries()) {
        if (this.stopping) return;
        const outcome = await this.sendOne(notice);
        if (outcome === 'unreachable') {
          // The relay is down: the rest of the batch waits as this one does, without an attempt each.
          await this.postpone(due.slice(index + 1), null);
          return;
        }
      }
    }
  }

  private async sendOne(notice: Notice): Promise<'sent' | 'refused' | 'deferred' | 'unreachable'> {
    const { config, log, batcher } = this.deps;
    const raw = buildNoticeMessage(notice, config);
    try {
      const info = await this.transport.sendMail({ envelope: { from: config.notifications.from, to: [notice.recipient] }, raw });
      const at = Date.now();
      await batcher.run((db) => {
        markNoticeSent(db, notice.id, at);
        insertAudit(db, { event: 'notice', source: notice.kind, mailFrom: config.notifications.from, recipients: [notice.recipient], size: raw.length, outcome: 'sent', detail: JSON.stringify({ notice: notice.id, attempt: notice.attempts + 1 }) }, at);
      });
      log.info({ notices: 'sent', notice: notice.id, kind: notice.kind, to: notice.recipient, attempt: notice.attempts + 1, reply: info.response }, 'notice sent');
      return 'sent';
    } catch (thrown) {
      const err = thrown as SmtpError;
      const reply = (err.response ?? err.message).replace(/\s+/g, ' ').slice(0, 300);
      if (err.responseCode !== undefined && err.responseCode >= 500 && (err.code === 'EENVELOPE' || err.code === 'EMESSAGE')) {
        const at = Date.now();
        await batcher.run((db) => {
          markNoticeSent(db, notice.id, at);
          insertAudit(db, { event: 'notice', source: notice.kind, mailFrom: config.notifications.from, recipients: [notice.recipient], outcome: 'refused', detail: JSON.stringify({ notice: notice.id, reply }) }, at);
        });
        log.warn({ notices: 'refused', notice: notice.id, kind: notice.kind, to: notice.recipient, reply }, 'notice refused for good by the notification relay');
        return 'refused';
      }
      const unreachable = err.responseCode === undefined;
      await this.postpone([notice], reply);
      return unreachable ? 'unreachable' : 'deferred';
    }
  }

  private async postpone(notices: Notice[], reply: string | null): Promise<void> {
    if (notices.length === 0) return;
    const { config, log, batcher } = this.deps;
    const now = Date.now();
    const plan = notices.map((notice) => ({ notice, dueAt: now + retryDelayMs(config.notifications.retryDelays, notice.attempts + 1) }));
    await batcher.run((db) => {
      for (const { notice, dueAt } of plan) postponeNotice(db, notice.id, dueAt);
    });
    for (const { notice, dueAt } of plan) {
      log.warn(
        { notices: 'deferred', notice: notice.id, kind: notice.kind, to: notice.recipient, attempt: notice.attempts + 1, next: new Date(dueAt).toISOString(), reply: reply ?? 'not tried: the relay is unreachable' },
        'notice not sent; will retry',
      );
    }
  }

  /** Takes no new work; a pass under way gets `graceMs`, then the transport is closed. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    this.wake.cancel();
    if (this.pass) {
      let timeout: NodeJS.Timeout | undefined;
      await Promise.race([this.pass, new Promise((resolve) => (timeout = setTimeout(resolve, graceMs)))]);
      if (timeout) clearTimeout(timeout);
    }
    // A send still under way after the grace period is abandoned: its notice stays unsent in the
    // table and goes out after the restart.
    this.transport.close();
  }
}
