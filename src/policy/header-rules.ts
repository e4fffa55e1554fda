// Originator and destination header fields of a message (RFC 5322 section 3.6), as pure
// decisions over fields already parsed by src/mime. Mail clients show the From: field as the
// author; a message with two of them is shown with either one, so a user could put someone
// else's address after their own (issue 15 finding 3). The table of RFC 5322 section 3.6:
// From exactly once, Sender, Reply-To, To, Cc and Bcc at most once each.
//
// Replies (RFC 5321 section 4.2, RFC 3463): 550 5.6.0 ("other or undefined media error": the
// message itself is malformed) for the structure, 550 5.7.1 for an address the user may not send
// as (R6, see senderAddressRefusal).
import type { Address } from '../mime';
import type { Refusal } from './refusal';
import { printable, senderAddressRefusal } from './submission-rules';

/** The address list of each occurrence of the fields checked, in order. */
export interface MessageAddressFields {
  from: Address[][];
  sender: Address[][];
  replyTo: Address[][];
  to: Address[][];
  cc: Address[][];
}

/** RFC 5322 section 3.4.1 addr-spec, with RFC 6532 UTF-8 allowed in atoms (SMTPUTF8). */
const ATOM = "[A-Za-z0-9!#$%&'*+\\-/=?^_`{|}~\\u0080-\\uffff]+";
const LOCAL_PART = new RegExp(`^(${ATOM}(\\.${ATOM})*|"([^"\\\\]|\\\\.)*")$`);
const DOMAIN = new RegExp(`^(${ATOM}(\\.${ATOM})*|\\[[^\\[\\]\\\\]*\\])$`);

/** Whether a parsed address is a mailbox `local@domain` with a well-formed local part and domain. */
export function isWellFormedMailbox(address: Address): boolean {
  if (address.mailbox === null || address.host === null) return false;
  return LOCAL_PART.test(address.mailbox) && address.host !== '' && DOMAIN.test(address.host);
}

/** The mailboxes of a list, group markers (host null) left out. */
function mailboxes(list: readonly Address[]): Address[] {
  return list.filter((address) => address.host !== null);
}

function shown(address: Address): string {
  return printable(address.host ? `${address.mailbox ?? ''}@${address.host}` : address.mailbox ?? '');
}

function malformed(message: string): Refusal {
  return { code: 550, enhanced: '5.6.0', message };
}

/** The first malformed mailbox of the fields named, as a refusal. */
function syntaxRefusal(field: string, lists: readonly Address[][]): Refusal | null {
  for (const list of lists) {
    for (const address of mailboxes(list)) {
      if (!isWellFormedMailbox(address)) {
        return malformed(`The ${field} header holds "${shown(address)}", which is not an email address (name@domain): correct it in your mail program`);
      }
    }
  }
  return null;
}

/**
 * Exactly one From: field (RFC 5322 section 3.6): what the MTA checks on mail from other
 * operators, whose authors are theirs to vouch for.
 */
export function fromFieldCountRefusal(fromFields: number): Refusal | null {
  if (fromFields === 0) return malformed('The message has no From: header: RFC 5322 section 3.6 requires exactly one');
  if (fromFields > 1) return malformed(`The message has ${fromFields} From: headers: RFC 5322 section 3.6 allows exactly one, so readers could be shown the wrong author`);
  return null;
}

/**
 * The header rules of a submitted message: one From: naming well-formed mailboxes, at most one
 * Sender: with exactly one mailbox (required when From: names several, RFC 5322 section 3.6.2),
 * at most one Reply-To:, To: and Cc:, every address in them well formed; then R6: every From:
 * and Sender: mailbox is one the user may send as (`sendable`). Null when the message may go.
 */
export function submittedHeaderRefusal(fields: MessageAddressFields, sendable: readonly string[]): Refusal | null {
  const count = fromFieldCountRefusal(fields.from.length);
  if (count) return count;
  const authors = mailboxes(fields.from[0]);
  if (authors.length === 0) {
    return malformed('The message has no From: header with an address: your mail program must name you as its author');
  }
  if (fields.sender.length > 1) {
    return malformed(`The message has ${fields.sender.length} Sender: headers: RFC 5322 section 3.6.2 allows at most one`);
  }
  for (const [name, lists] of [['Reply-To:', fields.replyTo], ['To:', fields.to], ['Cc:', fields.cc]] as const) {
    if (lists.length > 1) return malformed(`The message has ${lists.length} ${name} headers: RFC 5322 section 3.6 allows at most one; put every address in one field`);
  }
  const senders = fields.sender.length === 1 ? mailboxes(fields.sender[0]) : [];
  if (fields.sender.length === 1 && senders.length !== 1) {
    return malformed('The Sender: header must name exactly one address (RFC 5322 section 3.6.2)');
  }
  if (authors.length > 1 && senders.length === 0) {
    return malformed('The From: header names several authors: RFC 5322 section 3.6.2 then requires a Sender: header naming who sends it');
  }
  const syntax =
    syntaxRefusal('From:', fields.from) ??
    syntaxRefusal('Sender:', fields.sender) ??
    syntaxRefusal('Reply-To:', fields.replyTo) ??
    syntaxRefusal('To:', fields.to) ??
    syntaxRefusal('Cc:', fields.cc);
  if (syntax) return syntax;
  for (const [where, list] of [['From:', authors], ['Sender:', senders]] as const) {
    for (const address of list) {
      const refusal = senderAddressRefusal(`${address.mailbox}@${address.host}`, sendable, where);
      if (refusal) return { code: 550, enhanced: refusal.enhanced, message: refusal.message };
    }
  }
  return null;
}
