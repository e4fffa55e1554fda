// Box rules as pure decisions and message builders: the copy a forward sends (R7), whether an
// automatic reply may answer a message (R8, RFC 3834) and the reply itself. No SQL, no sockets:
// src/delivery/box-rule-runner.ts looks things up and commits what these functions return.
import { randomBytes } from 'node:crypto';
import { encodeWords } from 'nodemailer/lib/mime-funcs';
import { encode as qpEncode, wrap as qpWrap } from 'nodemailer/lib/qp';
import { getHeader, getHeaders, parseAddressList, type HeaderField } from '../mime';
import { withoutReturnPath } from './dsn';
import { rfc5322Date } from '../mime/date';

// ---------------------------------------------------------------------------------------------
// Forwards (R7)

/**
 * Our own trace header on every forwarded copy, one per pass through a forward of this server:
 * `X-MSSD-Forwarded-By: <box address>; hop=N; <date>`. A box never forwards a message that
 * already carries its own address here (the end of any loop, local or through another operator
 * that keeps our headers), and nobody forwards a message that carries MAX_FORWARD_HOPS of them.
 */
export const FORWARD_TRACE_HEADER = 'X-MSSD-Forwarded-By';
export const MAX_FORWARD_HOPS = 5;

export interface ForwardTrace {
  /** The boxes that already forwarded this message, lower case, oldest last (headers are prepended). */
  by: string[];
  hops: number;
}

export function forwardTrace(header: readonly HeaderField[]): ForwardTrace {
  const by = getHeaders(header, FORWARD_TRACE_HEADER)
    .map((value) => /<([^<>\s]+)>/.exec(value)?.[1] ?? value.split(';')[0].trim())
    .map((address) => address.toLowerCase())
    .filter((address) => address !== '');
  return { by, hops: getHeaders(header, FORWARD_TRACE_HEADER).length };
}

export type ForwardRefusal = 'loop' | 'too-many-hops' | 'null-sender';

/**
 * Whether the message may be forwarded by a box with these addresses: never twice by the same box,
 * never after MAX_FORWARD_HOPS forwards, never a message from the null sender (a delivery report:
 * the bounce of a forwarded copy stays in the forwarding box, RFC 5321 section 4.5.5, and a peer
 * bouncing a forward could otherwise make a loop that no header of ours survives).
 */
export function forwardRefusal(trace: ForwardTrace, boxAddresses: readonly string[], mailFrom: string): ForwardRefusal | null {
  if (mailFrom === '') return 'null-sender';
  const own = new Set(boxAddresses.map((address) => address.toLowerCase()));
  if (trace.by.some((address) => own.has(address))) return 'loop';
  if (trace.hops >= MAX_FORWARD_HOPS) return 'too-many-hops';
  return null;
}

/**
 * The copy a box forwards: our trace header and a Received line, then the message exactly as it
 * was stored, without its Return-Path (a trace of the final delivery; the copy has its own
 * envelope sender, the forwarding box).
 */
export function forwardedCopy(raw: Buffer, input: { by: string; hop: number; hostname: string; queueId: string; date: Date }): Buffer {
  const date = rfc5322Date(input.date);
  const trace =
    `${FORWARD_TRACE_HEADER}: <${input.by}>; hop=${input.hop}; ${date}\r\n` +
    `Received: by ${input.hostname} (mssd) with local id ${input.queueId}\r\n\t(automatic forward of <${input.by}>);\r\n\t${date}\r\n`;
  return Buffer.concat([Buffer.from(trace, 'utf8'), withoutReturnPath(raw)]);
}

// ---------------------------------------------------------------------------------------------
// Automatic replies (R8, RFC 3834)

export type AutoreplyRefusal =
  | 'null-sender'
  | 'auto-submitted'
  | 'bulk'
  | 'list'
  | 'own-address'
  | 'system-sender'
  | 'not-addressed';

/** Local parts of senders that are programs, never people (RFC 3834 section 2, RFC 5230 section 4.6). */
const SYSTEM_SENDERS = /^(mailer-daemon|postmaster|listserv|majordomo|owner-.*|.*-request|ne-pas-repondre|no-?reply|do-?not-?reply)$/i;

/** The addresses of the To, Cc, Bcc and Resent-* fields, lower case. */
function addressedTo(header: readonly HeaderField[]): Set<string> {
  const addresses = new Set<string>();
  for (const key of ['to', 'cc', 'bcc', 'resent-to', 'resent-cc', 'resent-bcc']) {
    for (const value of getHeaders(header, key)) {
      for (const address of parseAddressList(value)) {
        if (address.mailbox !== null && address.host !== null) addresses.add(`${address.mailbox}@${address.host}`.toLowerCase());
      }
    }
  }
  return addresses;
}

/**
 * Why an automatic reply must not answer this message, or null when it may (RFC 3834 section 2):
 * never the null sender; never a message with Auto-Submitted other than "no", with Precedence
 * bulk/list/junk or with List-* fields; never the box itself or a program (mailer-daemon,
 * owner-*, *-request...); and only when one of the box's addresses is named in To, Cc, Bcc or
 * Resent-* (a copy reaching the box through a forward or a list is not answered).
 */
export function autoreplyRefusal(input: { mailFrom: string; header: readonly HeaderField[]; boxAddresses: readonly string[] }): AutoreplyRefusal | null {
  const { mailFrom, header } = input;
  if (mailFrom === '') return 'null-sender';
  const autoSubmitted = getHeader(header, 'auto-submitted');
  if (autoSubmitted !== null && autoSubmitted.split(/[;(]/)[0].trim().toLowerCase() !== 'no') return 'auto-submitted';
  const precedence = (getHeader(header, 'precedence') ?? '').trim().toLowerCase();
  if (precedence === 'bulk' || precedence === 'list' || precedence === 'junk') return 'bulk';
  if (header.some((field) => field.key.startsWith('list-'))) return 'list';
  const own = new Set(input.boxAddresses.map((address) => address.toLowerCase()));
  if (own.has(mailFrom.toLowerCase())) return 'own-address';
  const at = mailFrom.lastIndexOf('@');
  if (SYSTEM_SENDERS.test(at < 0 ? mailFrom : mailFrom.slice(0, at))) return 'system-sender';
  const named = addressedTo(header);
  if (![...own].some((address) => named.has(address))) return 'not-addressed';
  return null;
}

export interface AutoreplyInput {
  /** The box's address: the From of the reply. */
  from: string;
  /** The envelope sender of the message answered. */
  to: string;
  subject: string;
  body: string;
  /** Header of the message answered, for In-Reply-To and References (RFC 3834 section 3.1.4). */
  original: readonly HeaderField[];
  hostname: string;
  queueId: string;
  date: Date;
}

/** The msg-ids of a References or In-Reply-To field, with their angle brackets. */
function msgIds(value: string | null): string[] {
  if (value === null) return [];
  return [...value.matchAll(/<[^<>\s]+>/g)].map((match) => match[0]);
}

/** One header line of printable ASCII for an unstructured value (RFC 2047 words when needed). */
function unstructured(value: string): string {
  const line = value.replace(/[\r\n\t]+/g, ' ').trim();
  return /^[\x20-\x7e]*$/.test(line) ? line : encodeWords(line, 'Q', 52);
}

/**
 * The automatic reply (RFC 3834 section 3): from the box, to the sender, `Auto-Submitted:
 * auto-replied`, In-Reply-To and References naming the message answered, the subject and text set
 * by the box's owner. The router sends it from the null reverse-path, as RFC 3834 and the Sieve
 * vacation extension (RFC 5230; Pigeonhole's default) recommend, so that nothing ever answers or
 * bounces back to it.
 */
export function buildAutoreply(input: AutoreplyInput): Buffer {
  const originalId = msgIds(getHeader(input.original, 'message-id'))[0] ?? null;
  const references = [...msgIds(getHeader(input.original, 'references')), ...(originalId ? [originalId] : [])];
  if (references.length === 0) references.push(...msgIds(getHeader(input.original, 'in-reply-to')));
  const lines = [
    `From: <${input.from}>`,
    `To: <${input.to}>`,
    `Subject: ${unstructured(input.subject)}`,
    `Date: ${rfc5322Date(input.date)}`,
    `Message-ID: <autoreply.${input.queueId}.${randomBytes(6).toString('hex')}@${input.hostname}>`,
  ];
  if (originalId) lines.push(`In-Reply-To: ${originalId}`);
  // Folded one msg-id per line, at most the last 20 (RFC 5322 section 3.6.4 keeps the thread).
  if (references.length > 0) lines.push(`References: ${references.slice(-20).join('\r\n\t')}`);
  lines.push(
    'Auto-Submitted: auto-replied',
    'X-Auto-Response-Suppress: All',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    input.body
      .replace(/\r\n?/g, '\n')
      .split('\n')
      .map((line) => qpWrap(qpEncode(Buffer.from(line, 'utf8')), 76))
      .join('\r\n'),
    '',
  );
  return Buffer.from(lines.join('\r\n'), 'utf8');
}
