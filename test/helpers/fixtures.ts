// Test fixtures taken from real formats: FINESS numbers with a valid Luhn key, and a peer
// operator (domain + certificate DN) read from the real national allowlist.
import { readFileSync } from 'node:fs';
import { realAllowlist } from './daemon';

/** Appends the Luhn check digit to an 8-digit FINESS prefix. */
export function luhnCompleted(prefix: string): string {
  let sum = 0;
  for (let i = 0; i < prefix.length; i++) {
    let digit = Number(prefix[prefix.length - 1 - i]);
    if (i % 2 === 0) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return prefix + String((10 - (sum % 10)) % 10);
}

export interface PeerOperator {
  domain: string;
  dn: string;
  dnFields: { CN: string; OU?: string; O?: string; ST?: string; C?: string };
}

/** The n-th Domaine of the real allowlist, with the subject DN its operator must present. */
export function peerDomain(index = 1): PeerOperator {
  const xml = readFileSync(realAllowlist, 'utf8');
  const entries = [...xml.matchAll(/<Nom>([^<]+)<\/Nom>[\s\S]*?<DNCertificatOperateur>([^<]+)<\/DNCertificatOperateur>/g)];
  const [, domain, dn] = entries[index];
  const dnFields = Object.fromEntries(dn.split(',').map((rdn) => rdn.split('=').map((s) => s.trim()))) as PeerOperator['dnFields'];
  return { domain, dn, dnFields };
}
