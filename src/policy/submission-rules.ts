// What a user of this operator may send, to whom (DESIGN.md R1–R4, R6), as pure decisions. No
// sockets, no SQL: the router looks the boxes up and asks these functions.
//
// Replies are RFC 5321 section 4.2 codes with RFC 3463 enhanced codes, and one line of printable
// ASCII a user can act on (mail clients show it as is, README "Client quirks"):
// - 550 5.7.1 "delivery not authorized": R1 (domain outside the trust space), R2 (MED writing
//   outside), R4 (sender type, patient with other recipients);
// - 550 5.1.3 "bad destination mailbox address syntax": a patient address whose INS is malformed
//   or whose key is wrong;
// - 452 4.5.3 "too many recipients" (RFC 5321 section 4.5.3.1.10): R3;
// - 553 5.7.1 for a sender address that is not the user's (RFC 5321 section 4.2.3: "mailbox name
//   not allowed").
import type { BoxType } from './box-types';
import { domainOf, isValidIns } from './identity';
import type { Refusal } from './refusal';

/** Text from the client made safe to echo in one ASCII reply line. */
export function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 256);
}

function localPartOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? address : address.slice(0, at);
}

function same(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

// ---------------------------------------------------------------------------------------------
// Who may send as whom (R6)

/**
 * MAIL FROM (or a From: address) must be one of `sendable`: the person's own addresses and those
 * of the active ORG boxes they are linked to. The null reverse-path is allowed (RFC 8098 MDNs are
 * sent from it); the From: header still names the person then.
 */
export function senderAddressRefusal(address: string, sendable: readonly string[], where: 'MAIL FROM' | 'From:' | 'Sender:'): Refusal | null {
  if (address === '' && where === 'MAIL FROM') return null;
  if (sendable.some((own) => same(own, address))) return null;
  return {
    code: 553,
    enhanced: '5.7.1',
    message: `Sender address rejected: <${printable(address)}> (${where}) is not one of your addresses nor of an organisational box (BAL ORG) you are linked to`,
  };
}

// ---------------------------------------------------------------------------------------------
// Where a recipient may be reached (R1, R2, R4)

export interface RemoteRecipientInput {
  address: string;
  /** Type of the authenticated person (R2 looks at who writes, whatever address they use). */
  accountType: BoxType;
  /** Type of the box the message is sent as: the person, or an ORG they send as (R4). */
  senderType: BoxType;
  /** Whether R1 lets mail leave towards the recipient's domain (ours, allowlisted or patient). */
  destinationAllowed: boolean;
  patientDomain: string;
}

/** True when the address is in the patient domain (R4), whatever its local part. */
export function isPatientAddress(address: string, patientDomain: string): boolean {
  return same(domainOf(address), patientDomain);
}

/**
 * A recipient outside this operator: refused when the writer is a MED (R2), when its domain is
 * outside the trust space (R1), or for a patient address (R4) with a malformed INS or a wrong
 * key, or a sender that is neither PER nor ORG. Null when it may be sent to.
 */
export function remoteRecipientRefusal(input: RemoteRecipientInput): Refusal | null {
  const address = printable(input.address);
  const domain = printable(domainOf(input.address));
  if (input.accountType === 'MED') {
    return {
      code: 550,
      enhanced: '5.7.1',
      message: `<${address}> refused: a BAL MED account may only write to users of this operator, not to ${domain}`,
    };
  }
  if (!input.destinationAllowed) {
    return {
      code: 550,
      enhanced: '5.7.1',
      message: `<${address}> refused: ${domain} is not in the MSSante trust space (ANS allowlist); mail cannot leave towards it`,
    };
  }
  if (isPatientAddress(input.address, input.patientDomain)) {
    const ins = localPartOf(input.address);
    if (!/^\d{5}(\d{2}|2A|2B)\d{8}$/i.test(ins)) {
      return {
        code: 550,
        enhanced: '5.1.3',
        message: `<${address}> is not a patient address: the part before @ must be the patient's INS (15 characters, 2A/2B allowed for Corsica)`,
      };
    }
    if (!isValidIns(ins)) {
      return {
        code: 550,
        enhanced: '5.1.3',
        message: `<${address}> is not a patient address: the key of INS ${printable(ins)} (its last two digits) is wrong; check the number`,
      };
    }
    if (input.senderType !== 'PER' && input.senderType !== 'ORG') {
      return {
        code: 550,
        enhanced: '5.7.1',
        message: `<${address}> refused: only a personal PER box or an organisational ORG box may write to a patient, not a BAL ${input.senderType}`,
      };
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// The recipients of one message together (R3, R4)

export interface RecipientSetInput {
  address: string;
  /** Addresses already accepted in this transaction, in order. */
  accepted: readonly string[];
  maxRecipients: number;
  patientDomain: string;
}

/** True when the address is already among the accepted ones (RCPT TO repeated, any case). */
export function isDuplicateRecipient(address: string, accepted: readonly string[]): boolean {
  return accepted.some((other) => same(other, address));
}

/**
 * A new recipient against those already accepted: a message to a patient has that patient as its
 * only recipient (R4), and at most `maxRecipients` recipients (R3; To, Cc and Bcc are all envelope
 * recipients). Call after isDuplicateRecipient: a repeated address is not a new recipient.
 */
export function recipientSetRefusal(input: RecipientSetInput): Refusal | null {
  const address = printable(input.address);
  if (input.accepted.length > 0) {
    const patient = input.accepted.find((other) => isPatientAddress(other, input.patientDomain));
    if (patient) {
      return {
        code: 550,
        enhanced: '5.7.1',
        message: `<${address}> refused: a message to a patient must have the patient as its only recipient, and <${printable(patient)}> is one; send a separate message`,
      };
    }
    if (isPatientAddress(input.address, input.patientDomain)) {
      return {
        code: 550,
        enhanced: '5.7.1',
        message: `<${address}> refused: a message to a patient must have the patient as its only recipient, and this message already has other recipients; send a separate message`,
      };
    }
  }
  if (input.accepted.length >= input.maxRecipients) {
    return {
      code: 452,
      enhanced: '4.5.3',
      message: `Too many recipients: at most ${input.maxRecipients} per message (To, Cc and Bcc together); <${address}> was not added`,
    };
  }
  return null;
}
