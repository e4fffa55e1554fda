// Identity checks of the MSSanté space as pure functions: password policy, national identifiers
// (RPPS, FINESS, INS), address syntax and the default MSSanté address (DESIGN.md "Operator CLI").
// No I/O here: the CLI, the store and the submission server all call these.

/** Longest password accepted: beyond this it is a paste accident, not a passphrase. */
export const MAX_PASSWORD_LENGTH = 256;
export const MIN_PASSWORD_LENGTH = 8;

/**
 * The operator's password policy: at least 8 characters with an upper-case letter, a lower-case
 * letter, a digit and a special character (anything that is neither a letter, a digit nor white
 * space). Letters and digits of any script count. Returns null when acceptable, else the reason.
 */
export function checkPassword(password: string): string | null {
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) return `password must be at least ${MIN_PASSWORD_LENGTH} characters long`;
  if (length > MAX_PASSWORD_LENGTH) return `password must be at most ${MAX_PASSWORD_LENGTH} characters long`;
  if (/\p{Cc}/u.test(password)) return 'password must not contain control characters';
  if (!/\p{Lu}/u.test(password)) return 'password must contain an upper-case letter';
  if (!/\p{Ll}/u.test(password)) return 'password must contain a lower-case letter';
  if (!/\p{Nd}/u.test(password)) return 'password must contain a digit';
  if (!/[^\p{L}\p{N}\s]/u.test(password)) return 'password must contain a special character';
  return null;
}

/** RPPS: exactly 11 digits (the national register assigns them; no public check key). */
export function isValidRpps(rpps: string): boolean {
  return /^\d{11}$/.test(rpps);
}

/** Luhn (mod 10) check of a digit string whose last digit is the key. */
export function luhnValid(digits: string): boolean {
  if (!/^\d+$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let digit = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

/**
 * FINESS: 9 characters, the first two being the department, the last one a Luhn key over the
 * whole number.
 *
 * Corsica (departments 2A and 2B) writes its FINESS numbers with a letter ("2A0001234"), which
 * the Luhn algorithm cannot weigh, and we hold no authoritative statement of how the key is
 * computed for them. Decision: a Corsican FINESS is accepted on its shape alone (2A or 2B followed
 * by 7 digits); refusing a real structure would leave the operator with no way round, whereas a
 * mistyped Corsican number only misstates an identifier that the national directory re-checks.
 */
export function isValidFiness(finess: string): boolean {
  if (/^2[AB]\d{7}$/i.test(finess)) return true;
  return /^\d{9}$/.test(finess) && luhnValid(finess);
}

/**
 * INS (NIR form): 13 characters of NIR + a 2-digit key = 97 − (NIR mod 97). The NIR is digits,
 * except the department of birth of people born in Corsica, written 2A or 2B, which counts as
 * 19 and 18 in the key computation (R4).
 */
export function isValidIns(ins: string): boolean {
  const match = /^(\d{5})(\d{2}|2A|2B)(\d{6})(\d{2})$/i.exec(ins);
  if (!match) return false;
  const department = match[2].toUpperCase();
  const numericDepartment = department === '2A' ? '19' : department === '2B' ? '18' : department;
  const nir = Number(`${match[1]}${numericDepartment}${match[3]}`); // 13 digits: exact in a double
  return Number(match[4]) === 97 - (nir % 97);
}

const DOMAIN_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/i;
/** RFC 5322 atext, plus any non-ASCII character (RFC 6531 SMTPUTF8 local parts). */
const LOCAL_ATOM = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u0080-\u{10FFFF}]+$/u;

/** True when `domain` is a DNS name with at least two labels and an alphabetic (or IDN) top level. */
export function isValidDomain(domain: string): boolean {
  if (domain.length > 253) return false;
  const labels = domain.split('.');
  if (labels.length < 2 || !labels.every((label) => DOMAIN_LABEL.test(label))) return false;
  const top = labels[labels.length - 1];
  return /^[a-z]{2,63}$/i.test(top) || /^xn--[a-z0-9-]+$/i.test(top);
}

/**
 * Practical RFC 5321 mailbox syntax: `local@domain`, a dot-atom local part (UTF-8 allowed, at most
 * 64 octets) and a domain with at least one dot. Quoted local parts, address literals and
 * spaces are refused: no health-care mailbox uses them and they are a classic source of confusion.
 */
export function isValidEmail(address: string): boolean {
  if (Buffer.byteLength(address, 'utf8') > 254) return false;
  const at = address.lastIndexOf('@');
  if (at <= 0) return false;
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (Buffer.byteLength(local, 'utf8') > 64) return false;
  if (!local.split('.').every((atom) => LOCAL_ATOM.test(atom))) return false;
  return isValidDomain(domain);
}

/** The domain of an address (after the last @), lower case; '' when there is none ("postmaster"). */
export function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? '' : address.slice(at + 1).toLowerCase();
}

/** Letters that Unicode decomposition does not reduce to a base letter plus marks. */
const LIGATURES: Record<string, string> = { œ: 'oe', æ: 'ae', ß: 'ss', ø: 'o', ł: 'l', đ: 'd' };

/**
 * One name for an address: lower case, ligatures spelt out (œ→oe, æ→ae, ß→ss), accents removed
 * (NFD then combining marks dropped), spaces and apostrophes to hyphens, anything else that is not
 * a-z, 0-9 or a hyphen dropped, repeated hyphens collapsed, no hyphen at either end.
 */
export function addressWord(name: string): string {
  return name
    .toLowerCase()
    .replace(/[œæßøłđ]/g, (letter) => LIGATURES[letter])
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .replace(/[\s'’ʼ‘`]+/g, '-')
    .replace(/[^a-z0-9-]/g, '')
    .replace(/-{2,}/g, '-')
    .replace(/^-|-$/g, '');
}

/**
 * Local part of the default MSSanté address of a person: `prenom.nom` (DESIGN.md). When one of the
 * names reduces to nothing (e.g. written only in a script we cannot transliterate) the other is
 * used alone; '' when both do, which the caller must refuse.
 */
export function defaultMssanteLocalPart(firstName: string, lastName: string): string {
  return [addressWord(firstName), addressWord(lastName)].filter((word) => word !== '').join('.');
}
