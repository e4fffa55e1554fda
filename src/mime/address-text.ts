// Address fields in the form SEARCH matches them (FROM, TO, CC, BCC, issue 12), shared by the
// exact check of IMAP SEARCH and the full-text index.
import { decodeHeaderValue } from './decode';
import { parseAddressList } from './envelope';

/**
 * An address field as Dovecot searches it: each address written back as `Name <local@domain>`,
 * comments and obsolete spacing gone, a comment after a bare address taken as its name, a
 * group as `group: ...;`. So FROM "user-from@domain.org" finds `<user-from (x)@ (y) domain.org>`
 * and FROM "RealFrom" finds `user-from@domain.org (RealFrom)` (imaptest search-addresses).
 */
export function addressText(value: string): string {
  const parts: string[] = [];
  for (const address of parseAddressList(value)) {
    if (address.host === null) {
      parts.push(address.mailbox === null ? ';' : `${address.mailbox}:`);
      continue;
    }
    const spec = address.host === '' ? address.mailbox ?? '' : `${address.mailbox ?? ''}@${address.host}`;
    parts.push(address.name ? `${decodeHeaderValue(address.name)} <${spec}>` : spec);
  }
  return parts.join(', ');
}

