// DESIGN.md R1 (trust space) as pure decisions: who may hand mail to our MTA, and where mail may
// go. No sockets, no SQL: the SMTP front ends and the router call these with what they know.
//
// Replies follow RFC 5321 §4.2 with RFC 3463 enhanced codes: 5.7.1 "delivery not authorized,
// message refused" for senders outside the trust space, 5.7.0 (with 530, as RFC 3207 uses for
// "TLS required") when mutual TLS is required and no client certificate was presented.
// Messages are one line of printable ASCII (RFC 5321 §4.2 reply text) without a trailing period:
// the front end prefixes the codes, and a peer's bounce may quote the text to its operator.
import type { Config } from '../config/schema';
import { domainOf } from './identity';
import type { Refusal } from './refusal';
import type { TrustSpace } from './trustspace';

/** The part of a TrustSpace these rules consult (a refreshed list can stand behind it). */
export type TrustSpaceView = Pick<TrustSpace, 'hasDomain' | 'isDnAllowedForDomain' | 'isDnListed'>;

export type SenderDecision = { ok: true } | ({ ok: false } & Refusal);

export interface InboundSender {
  /** MAIL FROM address without angle brackets; '' is the null sender (DSNs, RFC 5321 §4.5.5). */
  mailFrom: string;
  /** Subject DN of the peer's client certificate (see dnOfCertificate), or null when none. */
  clientDn: string | null;
  requireClientCertificate: boolean;
  ownDomains: string[];
  trustSpace: TrustSpaceView;
}

export interface DestinationContext {
  ownDomains: string[];
  patientDomain: string;
  trustSpace: TrustSpaceView;
}

function sameDomain(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}

/** Text from the peer (an address or domain) made safe to echo in one ASCII SMTP reply line. */
function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?');
}

/** A DN in one ASCII line and still exact: other bytes as RFC 4514 `\XX` UTF-8 escapes
 * (`ST=Bouches-du-Rh\C3\B4ne (13)`), so the operator can compare it with the list. */
function printableDn(dn: string): string {
  let out = '';
  for (const character of dn) {
    if (/^[\x20-\x7e]$/.test(character)) out += character;
    else for (const byte of Buffer.from(character, 'utf8')) out += `\\${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function refuse(code: number, enhanced: string, message: string): SenderDecision {
  return { ok: false, code, enhanced, message };
}

/** Whether `domain` is one of this operator's domains (domains.mssante or domains.internal). */
export function isOwnDomain(domain: string, config: Pick<Config, 'domains'>): boolean {
  return [...config.domains.mssante, ...config.domains.internal].some((own) => sameDomain(own, domain));
}

/**
 * R1 for the MTA's MAIL FROM. In order:
 * 1. mutual TLS required and no client certificate → 530 5.7.0 (whatever the sender);
 * 2. null sender → accepted when the certificate DN is listed for some domain, or when no
 *    certificate was presented and none is required (development);
 * 3. sender in one of our own domains → 550 5.7.1: our users send through submission, so this is
 *    spoofing (checked before the allowlist, where our domains are listed too);
 * 4. sender domain not in the allowlist → 550 5.7.1;
 * 5. certificate presented whose DN is not listed for the sender domain → 550 5.7.1.
 * Without a certificate (only possible when not required), an allowlisted domain is enough.
 */
export function inboundSenderDecision(sender: InboundSender): SenderDecision {
  const { mailFrom, requireClientCertificate, ownDomains, trustSpace } = sender;
  const clientDn = sender.clientDn || null;

  if (requireClientCertificate && clientDn === null) {
    return refuse(530, '5.7.0', 'A client certificate is required: MSSante operators must present their operator certificate over TLS');
  }

  if (mailFrom === '') {
    if (clientDn === null || trustSpace.isDnListed(clientDn)) return { ok: true };
    return refuse(550, '5.7.1', `Client certificate ${printableDn(clientDn)} is not listed for any domain of the MSSante trust space`);
  }

  const domain = domainOf(mailFrom);
  if (domain === '') {
    return refuse(553, '5.1.7', `Sender address ${printable(mailFrom)} has no domain`);
  }
  if (ownDomains.some((own) => sameDomain(own, domain))) {
    return refuse(550, '5.7.1', `Sender domain ${printable(domain)} belongs to this operator: its users send through the submission service, not from outside`);
  }
  if (!trustSpace.hasDomain(domain)) {
    return refuse(550, '5.7.1', `Sender domain ${printable(domain)} is not in the MSSante trust space (ANS allowlist)`);
  }
  if (clientDn !== null && !trustSpace.isDnAllowedForDomain(domain, clientDn)) {
    return refuse(550, '5.7.1', `Client certificate ${printableDn(clientDn)} is not allowed to send for domain ${printable(domain)} in the MSSante trust space`);
  }
  return { ok: true };
}

/** R1 for outbound mail: a recipient domain is allowed when it is ours, in the allowlist, or the
 * patient domain. Exact, case-insensitive match: subdomains are not included. */
export function isAllowedDestination(domain: string, context: DestinationContext): boolean {
  return (
    context.ownDomains.some((own) => sameDomain(own, domain)) ||
    sameDomain(context.patientDomain, domain) ||
    context.trustSpace.hasDomain(domain)
  );
}
