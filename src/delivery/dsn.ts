// Delivery status notifications (R12): RFC 3464 reports in an RFC 6522 multipart/report, built
// as bytes ready to store or relay. Three parts:
//   1. a human-readable text/plain part, in French then English;
//   2. message/delivery-status: per-message fields (Reporting-MTA, Original-Envelope-Id,
//      Arrival-Date) then one block per recipient (Final-Recipient, Original-Recipient, Action,
//      Status, Remote-MTA, Diagnostic-Code, Last-Attempt-Date);
//   3. the original message (message/rfc822) or its header only (text/rfc822-headers).
// Decisions: a failure report returns the whole message unless RET=HDRS (RFC 3461 section 4.3);
// success and relayed reports return the header only, whatever RET says (RFC 3461 section 6.2:
// a success DSN should not carry the content). The DSN is sent from the null reverse-path
// (RFC 3461 section 6.2 / RFC 5321 section 4.5.5), so no DSN is ever sent about it.
import { isAscii } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { encodeWords } from 'nodemailer/lib/mime-funcs';
import { encode as qpEncode, wrap as qpWrap } from 'nodemailer/lib/qp';
import { decodeHeaderValue, findHeaderEnd, getHeader, parseHeaderBlock } from '../mime';
import { rfc5322Date } from '../mime/date';

export type DsnAction = 'failed' | 'delayed' | 'delivered' | 'relayed';

export interface DsnRecipient {
  /** The recipient address as we handled it. */
  address: string;
  /** ORCPT as the client gave it ("rfc822;addr", xtext already decoded), or null. */
  orcpt: string | null;
  action: DsnAction;
  /** RFC 3463 status, e.g. "5.1.1", "2.0.0". */
  status: string;
  /** The peer that answered (MX host), or null for local delivery. */
  remoteMta?: string | null;
  /** The peer's reply ("550 5.1.1 No such user") or our own explanation, or null. */
  diagnostic?: string | null;
  lastAttempt?: Date | null;
}

export interface DsnInput {
  /** This server's name (Reporting-MTA). */
  reportingMta: string;
  /** Address the report is from (header only; the envelope sender is <>). */
  from: string;
  /** The original envelope sender: who receives the report. */
  to: string;
  envid: string | null;
  ret: 'FULL' | 'HDRS' | null;
  arrivalDate: Date;
  queueId: string;
  recipients: DsnRecipient[];
  /** The original message as stored (a leading Return-Path is left out of the copy). */
  original: Buffer;
  date?: Date;
}

/** Whether a recipient asked for a report of this kind (RFC 3461 section 4.1; absent = FAILURE). */
export function wantsNotification(notify: string | null, kind: 'SUCCESS' | 'FAILURE' | 'DELAY'): boolean {
  if (notify === null || notify === '') return kind === 'FAILURE';
  const values = notify.toUpperCase().split(',').map((value) => value.trim());
  if (values.includes('NEVER')) return false;
  return values.includes(kind);
}

/** The RFC 3463 status in an SMTP reply, or one derived from its basic code. */
export function statusOfReply(reply: string, fallback: string): string {
  const match = /^([245])\d\d[ -]([245]\.\d{1,3}\.\d{1,3})\b/.exec(reply.trim());
  if (match && match[1] === match[2][0]) return match[2];
  const code = /^([245])\d\d\b/.exec(reply.trim());
  if (code) return `${code[1]}.0.0`;
  return fallback;
}

/** Without the leading Return-Path fields: trace of our final delivery, not part of a copy. */
export function withoutReturnPath(raw: Buffer): Buffer {
  let start = 0;
  while (raw.subarray(start, start + 12).toString('latin1').toLowerCase() === 'return-path:') {
    let end = raw.indexOf(10, start);
    while (end >= 0 && (raw[end + 1] === 0x20 || raw[end + 1] === 0x09)) end = raw.indexOf(10, end + 1);
    if (end < 0) return raw;
    start = end + 1;
  }
  return start === 0 ? raw : raw.subarray(start);
}

/** One header line of printable ASCII: control characters and 8-bit text made harmless. */
function field(value: string): string {
  return value.replace(/\s*[\r\n]+\s*/g, ' ').replace(/\t/g, ' ').replace(/[^\x20-\x7e]/g, '?').trim();
}

function qpText(text: string): string {
  return text
    .split('\n')
    .map((line) => qpWrap(qpEncode(Buffer.from(line.replace(/\r$/, ''), 'utf8')), 76))
    .join('\r\n');
}

const ACTION_TEXT: Record<DsnAction, { fr: string; en: string }> = {
  failed: { fr: 'NON DISTRIBUÉ', en: 'NOT DELIVERED' },
  delayed: { fr: 'retardé, nouvelles tentatives en cours', en: 'delayed, still trying' },
  delivered: { fr: 'distribué dans la boîte du destinataire', en: 'delivered to the recipient’s mailbox' },
  relayed: {
    fr: 'transmis à la messagerie du destinataire, qui n’envoie pas d’accusé de distribution',
    en: 'handed to the recipient’s mail system, which sends no delivery acknowledgement',
  },
};

function subjectOf(recipients: DsnRecipient[]): string {
  if (recipients.some((rcpt) => rcpt.action === 'failed')) return 'Message non distribué / Undelivered message';
  if (recipients.some((rcpt) => rcpt.action === 'delayed')) return 'Message retardé / Delayed message';
  if (recipients.every((rcpt) => rcpt.action === 'relayed')) return 'Message transmis / Message relayed';
  return 'Message distribué / Message delivered';
}

function humanPart(input: DsnInput, subject: string | null): string {
  const failed = input.recipients.some((rcpt) => rcpt.action === 'failed');
  const lines: string[] = [];
  lines.push(`Ceci est un message automatique du serveur ${input.reportingMta}.`);
  lines.push(failed ? 'Votre message n’a pas pu être distribué à tous ses destinataires :' : 'Voici l’état de distribution de votre message :');
  lines.push('');
  if (subject) lines.push(`  Objet : ${subject}`);
  lines.push(`  Envoyé le : ${input.arrivalDate.toISOString()}`);
  lines.push('');
  for (const rcpt of input.recipients) {
    lines.push(`  <${rcpt.address}> : ${ACTION_TEXT[rcpt.action].fr}`);
    if (rcpt.diagnostic) lines.push(`    Réponse : ${field(rcpt.diagnostic)}`);
  }
  if (failed) lines.push('', 'Vérifiez l’adresse ou contactez votre administrateur, puis renvoyez le message.');
  lines.push('', '----', '');
  lines.push(`This is an automatic message from the mail server ${input.reportingMta}.`);
  lines.push(failed ? 'Your message could not be delivered to all its recipients:' : 'Here is the delivery status of your message:');
  lines.push('');
  if (subject) lines.push(`  Subject: ${subject}`);
  lines.push(`  Sent: ${input.arrivalDate.toISOString()}`);
  lines.push('');
  for (const rcpt of input.recipients) {
    lines.push(`  <${rcpt.address}>: ${ACTION_TEXT[rcpt.action].en}`);
    if (rcpt.diagnostic) lines.push(`    Reply: ${field(rcpt.diagnostic)}`);
  }
  if (failed) lines.push('', 'Check the address or contact your administrator, then send the message again.');
  lines.push('', 'Le rapport technique et le message d’origine sont joints.', 'The technical report and the original message are attached.');
  return lines.join('\n');
}

function statusPart(input: DsnInput): string {
  const lines: string[] = [`Reporting-MTA: dns; ${field(input.reportingMta)}`];
  if (input.envid) lines.push(`Original-Envelope-Id: ${field(input.envid)}`);
  lines.push(`X-Mssd-Queue-ID: ${field(input.queueId)}`);
  lines.push(`Arrival-Date: ${rfc5322Date(input.arrivalDate)}`);
  for (const rcpt of input.recipients) {
    lines.push('');
    if (rcpt.orcpt) {
      const semicolon = rcpt.orcpt.indexOf(';');
      const type = semicolon > 0 ? rcpt.orcpt.slice(0, semicolon) : 'rfc822';
      const value = semicolon > 0 ? rcpt.orcpt.slice(semicolon + 1) : rcpt.orcpt;
      lines.push(`Original-Recipient: ${field(type)}; ${field(value)}`);
    }
    lines.push(`Final-Recipient: rfc822; ${field(rcpt.address)}`);
    lines.push(`Action: ${rcpt.action}`);
    lines.push(`Status: ${rcpt.status}`);
    if (rcpt.remoteMta) lines.push(`Remote-MTA: dns; ${field(rcpt.remoteMta)}`);
    if (rcpt.diagnostic) lines.push(`Diagnostic-Code: smtp; ${field(rcpt.diagnostic)}`);
    if (rcpt.lastAttempt) lines.push(`Last-Attempt-Date: ${rfc5322Date(rcpt.lastAttempt)}`);
  }
  return lines.join('\r\n') + '\r\n';
}

/** The whole report, CRLF line ends, ready to deliver with MAIL FROM:<>. */
export function buildDsn(input: DsnInput): Buffer {
  const date = input.date ?? new Date();
  const original = withoutReturnPath(input.original);
  const { bodyStart } = findHeaderEnd(original, 0);
  const originalHeader = parseHeaderBlock(original, 0, bodyStart);
  const rawSubject = getHeader(originalHeader, 'subject');
  const subject = rawSubject === null ? null : decodeHeaderValue(rawSubject);
  const onlyFailures = input.recipients.some((rcpt) => rcpt.action === 'failed' || rcpt.action === 'delayed');
  const headersOnly = input.ret === 'HDRS' || !onlyFailures;
  const boundary = `mssd-dsn-${randomBytes(12).toString('hex')}`;
  const messageId = `<dsn.${input.queueId}.${randomBytes(6).toString('hex')}@${input.reportingMta}>`;

  let returned: Buffer;
  let returnedType: string;
  if (headersOnly) {
    returned = original.subarray(0, bodyStart);
    returnedType = 'Content-Type: text/rfc822-headers';
  } else {
    returned = original;
    returnedType = 'Content-Type: message/rfc822';
  }
  // RFC 2046 section 5.2.1: message/rfc822 is 7bit, 8bit or binary; say 8bit when it is.
  const eightBit = !isAscii(returned);
  const head =
    `From: ${encodeWords('Système de messagerie', 'Q', 52)} <${input.from}>\r\n` +
    `To: <${input.to}>\r\n` +
    `Subject: ${encodeWords(subjectOf(input.recipients), 'Q', 52)}\r\n` +
    `Date: ${rfc5322Date(date)}\r\n` +
    `Message-ID: ${messageId}\r\n` +
    'Auto-Submitted: auto-replied\r\n' +
    'MIME-Version: 1.0\r\n' +
    `Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary="${boundary}"\r\n` +
    '\r\n' +
    'This is a MIME-encapsulated delivery status notification (RFC 3464).\r\n' +
    `\r\n--${boundary}\r\n` +
    'Content-Type: text/plain; charset=utf-8\r\n' +
    'Content-Transfer-Encoding: quoted-printable\r\n' +
    'Content-Language: fr, en\r\n' +
    '\r\n' +
    qpText(humanPart(input, subject)) +
    `\r\n--${boundary}\r\n` +
    'Content-Type: message/delivery-status\r\n' +
    '\r\n' +
    statusPart(input) +
    `\r\n--${boundary}\r\n` +
    `${returnedType}\r\n` +
    (eightBit ? 'Content-Transfer-Encoding: 8bit\r\n' : '') +
    '\r\n';
  const endsWithNewline = returned.length >= 2 && returned[returned.length - 2] === 13 && returned[returned.length - 1] === 10;
  const tail = `${endsWithNewline ? '' : '\r\n'}\r\n--${boundary}--\r\n`;
  return Buffer.concat([Buffer.from(head, 'utf8'), returned, Buffer.from(tail, 'utf8')]);
}

/** True when a message is itself a delivery report (never answered with another report). */
export function isDeliveryReport(raw: Buffer): boolean {
  const { bodyStart } = findHeaderEnd(raw, 0);
  const contentType = getHeader(parseHeaderBlock(raw, 0, bodyStart), 'content-type') ?? '';
  return /^\s*multipart\/report\b/i.test(contentType) && /report-type\s*=\s*"?delivery-status/i.test(contentType);
}
