// What the submission server changes in a message its user sends (RFC 6409 section 8), nothing
// more (R5: X-MSS-* headers, attachments, 8-bit and UTF-8 content pass untouched):
// - Bcc: and Resent-Bcc: fields are removed (RFC 5322 section 3.6.3: the blind recipients are
//   in the envelope; no copy, stored or relayed, may name them);
// - a missing Date: is added (RFC 6409 section 8.2), in UTC;
// - a missing Message-ID: is added (RFC 6409 section 8.3), `<queue id.random@hostname>`.
// Fields are found by the offsets of the one header parse done at ingest (src/mime).
import { randomBytes } from 'node:crypto';
import { parseAddressList, type Address, type HeaderField } from '../mime';
import { rfc5322Date } from '../mime/date';
import type { MessageAddressFields } from '../policy/header-rules';

export interface SubmittedFixes {
  /** Host name for a generated Message-ID. */
  hostname: string;
  queueId: string;
  now: Date;
}

export interface FixedMessage {
  raw: Buffer;
  removedBcc: number;
  addedDate: boolean;
  addedMessageId: boolean;
}

const BLIND = new Set(['bcc', 'resent-bcc']);

export function fixSubmittedMessage(raw: Buffer, header: readonly HeaderField[], fixes: SubmittedFixes): FixedMessage {
  const has = (key: string) => header.some((field) => field.key === key);
  const added: string[] = [];
  const addedDate = !has('date');
  const addedMessageId = !has('message-id');
  if (addedDate) added.push(`Date: ${rfc5322Date(fixes.now)}\r\n`);
  if (addedMessageId) added.push(`Message-ID: <${fixes.queueId}.${randomBytes(6).toString('hex')}@${fixes.hostname}>\r\n`);
  const blind = header.filter((field) => BLIND.has(field.key));
  if (added.length === 0 && blind.length === 0) return { raw, removedBcc: 0, addedDate, addedMessageId };

  const pieces: Buffer[] = [];
  if (added.length > 0) pieces.push(Buffer.from(added.join(''), 'latin1'));
  let from = 0;
  for (const field of blind) {
    pieces.push(raw.subarray(from, field.start));
    from = field.end;
  }
  pieces.push(raw.subarray(from));
  return { raw: Buffer.concat(pieces), removedBcc: blind.length, addedDate, addedMessageId };
}

/** The addresses of an address list (group markers left out), `local@domain`. */
export function mailboxesOf(list: readonly Address[] | null): string[] {
  if (!list) return [];
  return list.filter((address) => address.mailbox !== null && address.host !== null).map((address) => `${address.mailbox}@${address.host}`);
}

/** Each From:, Sender:, Reply-To:, To: and Cc: field parsed, in order (src/policy/header-rules.ts
 * judges them). */
export function addressFieldsOf(header: readonly HeaderField[]): MessageAddressFields {
  const fields: MessageAddressFields = { from: [], sender: [], replyTo: [], to: [], cc: [] };
  const slots: Record<string, Address[][]> = { from: fields.from, sender: fields.sender, 'reply-to': fields.replyTo, to: fields.to, cc: fields.cc };
  for (const field of header) slots[field.key]?.push(parseAddressList(field.value));
  return fields;
}
